"""The page's training control (`tensorviz serve --steer` on a live run): the Training Control
proxy that the dashboard builds for a live run (figures/steering.py), its buttons pressed as the
GUI presses them (vtkSMProxy::InvokeCommand), its answer and the training's state shown.

The page sends a button's name and, for the learning rate, a number: only the names in BUTTONS
reach the control, and the page has the buttons only when the server was started with --steer.
Without it the page is read-only whatever it sends."""

import math

from paraview import servermanager, simple

from ..messages import logger

LOG = logger("web")
# the page's buttons: (name the page sends, the control's command, the button's label)
BUTTONS = (("pause", "Pause", "pause"), ("resume", "Resume", "resume"),
           ("checkpoint", "Checkpoint", "checkpoint"), ("stop", "Stop", "stop"),
           ("merge", "MergePicked", "merge picked filter"),
           ("fork", "Fork", "fork at this step"))
COMMANDS = {name: command for name, command, _ in BUTTONS}


class Steering:
    """The Training Control of a Board (None when its run is not live: nothing to steer), if
    `allowed` (--steer)."""

    def __init__(self, control, allowed):
        self.control = control if allowed else None

    @property
    def available(self):
        return self.control is not None

    def press(self, name, learning_rate=None):
        """Press button `name` (or, for "learning_rate", set `learning_rate` and apply it);
        returns the answer shown on the page."""
        if self.control is None:
            return "read-only: start `tensorviz serve --steer` on a live run to steer it"
        if name == "learning_rate":
            try:
                value = float(learning_rate)
            except (TypeError, ValueError):
                value = math.nan
            if not (math.isfinite(value) and value > 0):
                return f"learning rate {learning_rate!r}: give a positive number"
            self.control.LearningRate = value
            command = "ApplyLearningRate"
        elif name in COMMANDS:
            command = COMMANDS[name]
        else:
            return f"no button {name!r}"
        self.control.SMProxy.InvokeCommand(command)  # waits for the training's answer (<= 1 s)
        return self.status()[1]

    def status(self):
        """(the training's state and learning rate, the last button's answer), as the control
        shows them at the page's step."""
        if self.control is None:
            return "", ""
        self.control.UpdatePipeline(simple.GetTimeKeeper().Time)
        table = servermanager.Fetch(self.control)
        fields = table.GetFieldData()
        state = fields.GetAbstractArray("state").GetValue(0)
        rate = fields.GetArray("learning_rate").GetTuple1(0)
        answer = fields.GetAbstractArray("answer").GetValue(0)
        return f"training {state}, lr {rate:g}", answer
