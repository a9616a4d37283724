"""TensorViz Training Control: the state of a live training (live / paused / ended, its newest
step and learning rate, the last commands and their answers) and the buttons that steer it
(Pause, Resume, Checkpoint, Stop, a learning rate, merge the picked filter, fork from the time
shown). A button writes a command into the run directory's channel (store/steering.py), so it
works wherever the algorithm runs: in the GUI's process or in a pvserver on the training
machine. It waits for the answer at most ANSWER_WAIT seconds (the GUI stays responsive): a
slower one is shown as pending, and the table says the outcome at its next update."""

import logging
import math
import os

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkTable

from ..analysis.steering_marks import MOST_SHOWN, outcome_text, training_state
from ..errors import SettingError, TensorVizError
from ..store import format as F
from ..store.lock import live_writer
from ..store.steering import SteeringChannel
from .base import requested_time
from .convert import add_field, string_array, vtk_array
from .correlation_view import CorrelationView
from .highlight import NO_FILTER

ANSWER_WAIT = 1.0  # seconds a button waits for the training's answer
LOG = logging.getLogger("tensorviz.steering")


def merge_partner(r, picked, usable):
    """The filter best correlated with `picked` (r: the layer's C x C correlation; usable: the
    filters alive and not dead), itself left out; None when there is none. A dead filter has
    no correlation (its row is 0): it goes into the first usable filter."""
    candidates = np.flatnonzero(usable & (np.arange(len(r)) != picked))
    if len(candidates) == 0:
        return None
    return int(candidates[np.argmax(r[picked, candidates])])


def fork_directory(run_dir, step):
    """A new run directory beside `run_dir`, named after it and the step: RUN-fork-at-STEP
    (then -2, -3... when taken)."""
    base = f"{os.path.abspath(run_dir).rstrip(os.sep)}-fork-at-{step}"
    candidate, n = base, 1
    while os.path.exists(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


class TrainingControl(CorrelationView):
    """Port 0: a table (command, detail, outcome, step, seq): first the training's own row
    (command "(training)", detail its state and learning rate as last recorded, outcome what
    the last button got, step the newest recorded), then its last MOST_SHOWN commands (step:
    where applied, -1 before); field data state, newest_step, learning_rate, shown_step (the
    step at the time asked) and answer. Port 1: the Highlight outline (none drawn). Layer and
    Highlight name the filter that "Merge the picked filter" merges (the dashboard links
    Highlight to its picked filter); it goes into its best-correlated partner on the probe
    activations at the step shown."""

    def __init__(self):
        CorrelationView.__init__(self, "vtkTable")
        self._learning_rate = 0.0
        self._answer = ""
        self._shown_step = None  # the step at the time asked, at the last update

    # ---- the buttons (panel_widget="command_button": ParaView calls them with no argument)
    def Pause(self):
        self.send("pause")

    def Resume(self):
        self.send("resume")

    def Checkpoint(self):
        self.send("checkpoint")

    def Stop(self):
        self.send("stop")

    def SetLearningRate(self, value):
        self._learning_rate = float(value)  # sent by ApplyLearningRate only, not on a state load

    def ApplyLearningRate(self):
        self.send("learning_rate", self._learning_rate)

    def MergePicked(self):
        try:
            command = self._merge_command()
        except (TensorVizError, OSError, KeyError, ValueError) as error:
            return self._said(f"merge: {error}")
        return self.send(*command)

    def Fork(self):
        """Fork the training at the step shown into a new run beside it: the training answers
        with the checkpoint and starts the fork's training itself (ParaView's Python has no
        TensorFlow to train with)."""
        run = self.run()
        if run is None or self._shown_step is None:
            return self._said("fork: no run shown yet (update the view first)")
        run_dir, step = os.path.dirname(run.path), int(self._shown_step)
        child = fork_directory(run_dir, step)
        return self.send("fork", {"step": step, "run_dir": child, "start": True})

    def send(self, kind, value=None):
        """Send one command, wait for its answer a moment; returns the answer text."""
        run = self.run()
        if run is None:
            return self._said(f"{kind}: no run upstream")
        if live_writer(run.path) is None:
            return self._said(f"{kind}: no training is writing {run.path}")
        try:
            channel = SteeringChannel(os.path.dirname(run.path)).open()
            seq = channel.send(kind, value)
        except (SettingError, OSError) as error:
            return self._said(f"{kind}: {error}")
        answer = channel.wait(seq, ANSWER_WAIT)
        if answer is None:
            return self._said(f"{kind}: sent as command {seq}, pending")
        return self._said(f"{kind}: " + outcome_text(answer))

    def _said(self, text):
        LOG.info("TensorViz steering: %s", text)
        self._answer = text
        self.Modified()  # the table shows it at the next update
        return text

    def _merge_command(self):
        """("merge", {layer, keep, remove}) of the picked filter into its partner; SettingError
        when there is nothing to merge."""
        run = self.run()
        if run is None:
            raise SettingError("no run upstream")
        picked = self._highlight
        layer = self.current_layer(run)
        if picked == NO_FILTER:
            raise SettingError(f"pick a filter of {layer} first")
        steps = self.basis_steps(run, layer)
        step = self._shown_step if self._shown_step is not None else int(steps[-1])
        index = run.snapshot_index(layer, self.basis_quantity(run, layer), step)
        r, dead, _, alive = self.correlate(run, layer, index)
        if not 0 <= picked < len(r) or not alive[picked]:
            raise SettingError(f"{layer} has no filter {picked} left to merge")
        keep = merge_partner(r, picked, alive & ~dead)
        if keep is None:
            raise SettingError(f"{layer} has no other filter to merge {picked} into")
        return "merge", {"layer": layer, "keep": keep, "remove": int(picked)}

    # ---- the table
    def produce(self, run, outputs):
        table = vtkTable.GetData(outputs, 0)
        # every step has a row: the time asked, floored, is the step shown (no need to list
        # the run's time steps, a long run's would take a while at every time change)
        shown = requested_time(outputs.GetInformationObject(0), float(run.last_step()))
        self._shown_step = int(min(max(math.floor(shown + 1e-6), 0), run.last_step()))
        rows = run.steering_events()
        state = training_state(rows, live_writer(run.path) is not None)
        newest = run.step_row(run.last_step()) if run.step_count() else {}
        learning_rate = float(newest.get(F.LEARNING_RATE, np.nan))
        # the first row: the training itself, then its last commands
        said = [{"seq": 0, "command": "(training)", "detail": f"{state}, lr {learning_rate:g}",
                 "outcome": self._answer, "step": run.last_step()}]
        said += [dict(row, detail=_detail_text(row["value"]), outcome=outcome_text(row))
                 for row in rows[-MOST_SHOWN:]]
        # a spreadsheet orders columns by name: command, detail, outcome, seq, step
        for column in ("command", "detail", "outcome"):
            table.AddColumn(string_array(column, [str(row[column]) for row in said]))
        table.AddColumn(vtk_array("step", np.array(
            [-1 if row["step"] is None else row["step"] for row in said], np.int64)))
        table.AddColumn(vtk_array("seq", np.array([row["seq"] for row in said], np.int64)))
        table.GetFieldData().AddArray(string_array("state", [state]))
        add_field(table, "newest_step", np.int64(run.last_step()))
        add_field(table, "shown_step", np.int64(self._shown_step))
        add_field(table, "learning_rate", np.float64(learning_rate))
        table.GetFieldData().AddArray(string_array("answer", [self._answer]))


def _detail_text(value):
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{key} {item}" for key, item in value.items())
    return f"{value:g}" if isinstance(value, float) else str(value)
