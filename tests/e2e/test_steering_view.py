"""A live `tensorviz train` steered from ParaView's Training Control (issue 23): its buttons
pressed the way the GUI presses them (vtkSMProxy::InvokeCommand), in pvpython and through a
pvserver; the trainer's answers read back from the run directory's channel by this process.
One training serves every test of the module (a TensorFlow start costs ~10 s)."""

import json
import os
import signal
import socket
import subprocess
import time

import numpy as np
import pytest

from live import start_training
from tensorviz_cli.launch import ROOT, command, paraview_env, private_display
from tensorviz_cli.launch import run as run_paraview
from tensorviz_pv.store import format as F
from tensorviz_pv.store.steering import SteeringChannel

NEW_RATE = 0.0037  # not the default 0.05 of sgd, nor a float32 neighbour of it

# Run in pvpython, optionally connected to a pvserver (argv[3]: its port, or 0 for none).
STEER = """
import json, sys, time
from paraview import servermanager, simple
store, out, port, plan = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if port:
    simple.Connect("127.0.0.1", port)
    simple.LoadPlugin(sys.argv[5], remote=True, ns=vars(simple))
reader = simple.TensorVizReader(FileName=store)
control = simple.TrainingControl(Input=reader)
said = {"steps": [], "tables": {}}

def newest():
    simple.ReloadFiles(reader)
    return int(reader.TimestepValues[-1])

def table():
    control.UpdatePipeline(newest())
    data = servermanager.Fetch(control)
    return [[data.GetColumnByName(c).GetValue(i) for c in ("command", "detail", "outcome")]
            for i in range(data.GetNumberOfRows())]

def press(button, wait=30):
    # what the button does; then the table, once the command's outcome is no longer pending
    control.SMProxy.InvokeCommand(button)
    deadline = time.time() + wait
    while True:
        rows = table()
        if rows[-1][2] != "pending" or time.time() > deadline:
            said["tables"][button] = rows
            return rows

for step in plan.split(","):
    if step == "hold":  # the newest step, twice, 1.5 s apart (a live store flushes each 0.75 s)
        said["steps"].append([newest(), time.sleep(1.5) or newest()])
    elif step == "grow":  # the newest step, then once a newer one is there (30 s at most)
        first, deadline = newest(), time.time() + 30
        while newest() == first and time.time() < deadline:
            time.sleep(0.2)
        said["steps"].append([first, newest()])
    elif step.startswith("lr="):
        control.LearningRate = float(step[3:])
        press("ApplyLearningRate")
    else:
        press(step)
norms = simple.NormTimeSeries(Input=reader)
norms.UpdatePipeline(newest())
fetched = servermanager.Fetch(norms, idx=1)
events = fetched.GetFieldData().GetArray("event_steps")
said["marks"] = [int(events.GetTuple1(i)) for i in range(events.GetNumberOfTuples())]
labels = fetched.GetFieldData().GetAbstractArray("event_labels")
said["labels"] = [labels.GetValue(i) for i in range(labels.GetNumberOfTuples())]
steps = servermanager.Fetch(norms)
said["learning_rate"] = [[steps.GetColumnByName("step").GetValue(i),
                          steps.GetColumnByName("learning_rate").GetValue(i)]
                         for i in range(steps.GetNumberOfRows())]
json.dump(said, open(out, "w"))
if port:
    simple.Disconnect()
"""


@pytest.fixture(scope="module")
def training(tmp_path_factory):
    """A tiny training, long enough for the module (killed at its end: a stop's checkpoint
    would cost seconds, and stop is the trainer's tests' to check)."""
    run_dir = tmp_path_factory.mktemp("steered") / "run"
    trainer = start_training(run_dir, epochs=60, appears="steering")
    try:
        yield run_dir, trainer
    finally:
        trainer.send_signal(signal.SIGKILL)
        trainer.wait()


def steer(run_dir, tmp_path, plan, port=0):
    script, out = tmp_path / "steer.py", tmp_path / "steer.json"
    script.write_text(STEER)
    args = [str(script), str(run_dir / F.STORE_FILENAME), str(out), str(port), plan]
    if port:
        args.append(os.path.join(ROOT, "plugin", "TensorViz.xml"))
    # through a server: only the server has tensorviz and loads the plugin's classes
    env = {"PYTHONPATH": "", "PV_PLUGIN_PATH": ""} if port else {}
    result = run_paraview("pvpython", args, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(out.read_text())


def applied(run_dir, kind):
    """The steps at which the channel says commands of `kind` were applied (read here, in the
    venv, not by the view)."""
    return [row["step"] for row in SteeringChannel(str(run_dir)).rows()
            if row["command"] == kind and row["status"] == "applied"]


def check_learning_rate(said, step):
    """The recorded learning rate is the new one from the step after the acknowledged one."""
    table = np.array(said["learning_rate"], dtype=np.float64)
    before, after = table[table[:, 0] <= step, 1], table[table[:, 0] > step, 1]
    assert len(after) > 0, "no step recorded after the change"
    assert not np.isclose(before[-1], NEW_RATE, rtol=1e-6)
    assert np.allclose(after, NEW_RATE, rtol=1e-6), after[:5]


def test_pause_resume_and_a_learning_rate_from_the_control(training, tmp_path):
    run_dir, trainer = training
    said = steer(run_dir, tmp_path, f"Pause,hold,Resume,grow,lr={NEW_RATE},grow,grow")
    assert trainer.poll() is None  # it lived throughout
    paused, going = said["steps"][0], said["steps"][1]
    assert paused[0] == paused[1] and going[1] > going[0], said["steps"]
    (pause,), (resume,), (rate,) = applied(run_dir, "pause"), applied(run_dir, "resume"), \
        applied(run_dir, "learning_rate")
    assert paused[0] == pause  # held at the step it acknowledged
    # the table the control shows: the training's row, then the commands with their outcomes
    rows = said["tables"]["ApplyLearningRate"]
    assert rows[-1][:2] == ["learning_rate", f"{NEW_RATE:g}"]
    assert rows[-1][2].startswith(f"applied at step {rate}")
    assert said["tables"]["Pause"][0][1].startswith("paused")
    assert said["tables"]["Resume"][0][1].startswith("live")
    check_learning_rate(said, rate)
    # the markers of Norm Time Series at the acknowledged steps, one per step
    assert said["marks"] == sorted({pause, resume, rate})
    assert f"lr {NEW_RATE:g}" in said["labels"][-1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_control_through_a_pvserver(training, tmp_path):
    """The control runs on the server (the training's machine): its commands land there."""
    run_dir, trainer = training
    port = free_port()
    server = subprocess.Popen(command("pvserver", [f"--server-port={port}", "--hostname=127.0.0.1"]),
                              env=dict(paraview_env(), PV_PLUGIN_PATH=""),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(2)
        said = steer(run_dir, tmp_path, "Pause,hold,Checkpoint,Resume", port)
    finally:
        server.kill()
        output = server.communicate()[0]
    assert "Client connected" in output
    assert trainer.poll() is None
    paused = said["steps"][0]
    assert paused[0] == paused[1] == applied(run_dir, "pause")[-1]
    assert said["tables"]["Resume"][-1][2].startswith("applied at step")
    # checkpoint's outcome is whatever the trainer answered, shown as the channel holds it
    checkpoint = [row for row in SteeringChannel(str(run_dir)).rows()
                  if row["command"] == "checkpoint"][-1]
    assert said["tables"]["Checkpoint"][-1][2].startswith(checkpoint["status"])
    assert checkpoint["status"] != "pending"


# ParaView's own GUI test player (QtTesting) clicks the Pause button of the Properties panel,
# which shows the Training Control: the dashboard makes it the active source of a live run.
CLICK_PAUSE = """<?xml version="1.0" ?>
<pqevents>
  <pqevent object="pqClientMainWindow/propertiesDock/propertiesPanel/scrollArea/qt_scrollarea_viewport/scrollAreaWidgetContents/PropertiesFrame/ProxyPanel/Pause/1QPushButton0" command="activate" arguments="" />
</pqevents>
"""


def test_a_click_on_pause_in_the_gui(training, tmp_path):
    run_dir, trainer = training
    before = len(applied(run_dir, "pause"))
    clicks = tmp_path / "click.xml"
    clicks.write_text(CLICK_PAUSE)
    env = dict(paraview_env(), TENSORVIZ_RUN=str(run_dir / F.STORE_FILENAME),
               HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    argv = command("paraview", ["--dr", "--script=" + os.path.join(
        ROOT, "tensorviz_pv", "figures", "gui_dashboard.py"), "--test-script=" + str(clicks),
        "--exit"])
    with private_display("-screen 0 1600x1000x24") as display:
        result = subprocess.run(argv, env=dict(env, DISPLAY=display), capture_output=True,
                                text=True, timeout=150)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    deadline = time.time() + 30  # the click waited a second for the answer at most
    while len(applied(run_dir, "pause")) == before and time.time() < deadline:
        time.sleep(0.2)
    assert len(applied(run_dir, "pause")) == before + 1
    assert trainer.poll() is None
