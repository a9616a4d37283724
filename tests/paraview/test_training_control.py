"""The Training Control's buttons (pressed as the GUI presses them: vtkSMProxy::InvokeCommand) on
a synthetic run that this process holds as its writer; a thread plays the training's side of
the channel. The live `tensorviz train` is steered in tests/e2e/test_steering_view.py."""

import json
import os
import threading
import time

import numpy as np
import pytest

from paraview import servermanager, simple

from tensorviz_pv.analysis.steering_marks import mark_labels
from tensorviz_pv.store.lock import WriterLock
from tensorviz_pv.store.steering import SteeringChannel
from tensorviz_pv.store.synthetic import expected_activation, write_synthetic_run

HOSTILE = 'run "$(touch PWNED)"\n\'; rm -rf ~'  # a run directory's name: data, never code


@pytest.fixture
def live(tmp_path):
    """(run_dir, channel, reader, control) of a run this process writes, its lock held."""
    run_dir = tmp_path / HOSTILE
    run_dir.mkdir()
    store = str(run_dir / "run.tvz")
    _, writer = write_synthetic_run(store, steps=10, every=5, close=False)
    lock = WriterLock(store).acquire()
    channel = SteeringChannel(str(run_dir)).open(create=True)
    reader = simple.TensorVizReader(FileName=store)
    control = simple.TrainingControl(Input=reader)
    yield run_dir, channel, reader, control
    simple.Delete(control)
    simple.Delete(reader)
    lock.release()
    writer.close()


def answer_soon(channel, step, skip=()):
    """The training's side: answer the commands sent within the next second (applied at
    `step`), except those of the kinds in `skip`, left pending."""
    def answer():
        deadline = time.time() + 1.0
        while time.time() < deadline:
            for command in channel.unanswered():
                if command.kind not in skip:
                    channel.answer(command.seq, "applied", step=step)
            time.sleep(0.05)
    thread = threading.Thread(target=answer)
    thread.start()
    return thread


def table(control, time=10.0):
    control.UpdatePipeline(time)
    data = servermanager.Fetch(control)
    rows = [[data.GetColumnByName(c).GetValue(i) for c in ("command", "detail", "outcome")]
            for i in range(data.GetNumberOfRows())]
    field = data.GetFieldData()
    return rows, field.GetAbstractArray("state").GetValue(0), \
        field.GetAbstractArray("answer").GetValue(0)


def test_a_button_sends_and_the_table_shows_the_answer(live):
    run_dir, channel, reader, control = live
    rows, state, _ = table(control)
    assert rows == [["(training)", "live, lr 0.01", ""]] and state == "live"
    thread = answer_soon(channel, 7, skip=("checkpoint",))
    control.SMProxy.InvokeCommand("Pause")
    control.SMProxy.InvokeCommand("Checkpoint")  # unanswered: the button gives up after a second
    thread.join()
    rows, state, answer = table(control)
    assert state == "paused"
    assert rows[1:] == [["pause", "", "applied at step 7"], ["checkpoint", "", "pending"]]
    assert answer == "checkpoint: sent as command 2, pending"
    control.LearningRate = 0.25
    thread = answer_soon(channel, 9)
    control.SMProxy.InvokeCommand("ApplyLearningRate")
    thread.join()
    rows, _, answer = table(control)
    assert rows[-1] == ["learning_rate", "0.25", "applied at step 9"]
    assert answer == "learning_rate: applied at step 9"
    # the Norm Time Series marks the steps where commands took effect
    norms = simple.NormTimeSeries(Input=reader)
    norms.UpdatePipeline(10.0)
    marks = servermanager.Fetch(norms, idx=1)
    events = marks.GetFieldData().GetArray("event_steps")
    labels = marks.GetFieldData().GetAbstractArray("event_labels")
    assert [events.GetValue(i) for i in range(events.GetNumberOfTuples())] == [7, 9]
    assert [labels.GetValue(i) for i in range(labels.GetNumberOfTuples())] == ["pause", "checkpoint, lr 0.25"]  # the checkpoint answered at 9 too
    strokes = [marks.GetColumnByName(c) for c in ("step", "steering event")]
    assert [[s.GetValue(i) for i in range(s.GetNumberOfTuples())] for s in strokes] == \
        [[7, 7, 7, 9, 9, 9], [0, 1, 0, 0, 1, 0]]
    simple.Delete(norms)


def test_merge_picked_goes_into_the_best_correlated_filter(live):
    run_dir, channel, _, control = live
    activations = expected_activation(10).reshape(-1, 4)  # filter 2 is dead there (constant)
    alive = np.flatnonzero(activations.std(axis=0) > 0)
    r = np.corrcoef(activations[:, alive], rowvar=False)
    for picked in (3, 1):
        control.Highlight = picked
        control.UpdatePipeline(10.0)
        control.SMProxy.InvokeCommand("MergePicked")
        row = channel.rows()[-1]
        own = list(alive).index(picked)
        partners = [f for f in range(len(alive)) if f != own]
        best = alive[max(partners, key=lambda f: r[own, f])]
        assert row["value"] == {"layer": "conv1", "keep": int(best), "remove": picked}


def test_nothing_picked_sends_nothing(live):
    run_dir, channel, _, control = live
    control.UpdatePipeline(10.0)
    control.SMProxy.InvokeCommand("MergePicked")
    assert channel.rows() == []
    assert table(control)[2] == "merge: pick a filter of conv1 first"


def test_fork_from_the_step_shown_names_the_run_as_data(live):
    run_dir, channel, _, control = live
    control.UpdatePipeline(5.0)
    control.SMProxy.InvokeCommand("Fork")
    with open(os.path.join(channel.path, "00000001.json")) as f:
        sent = json.load(f)
    assert sent["value"] == {"step": 5, "run_dir": str(run_dir) + "-fork-at-5", "start": True}
    assert not os.path.exists(os.path.join(str(run_dir.parent), "PWNED"))


def test_no_live_training_sends_nothing(tmp_path):
    run_dir = tmp_path / "ended"
    run_dir.mkdir()
    write_synthetic_run(str(run_dir / "run.tvz"), steps=10, every=5)
    channel = SteeringChannel(str(run_dir)).open(create=True)
    reader = simple.TensorVizReader(FileName=str(run_dir / "run.tvz"))
    control = simple.TrainingControl(Input=reader)
    control.SMProxy.InvokeCommand("Stop")
    rows, state, answer = table(control)
    assert channel.rows() == [] and state == "ended"
    assert answer == f"stop: no training is writing {run_dir / 'run.tvz'}"
    simple.Delete(control)
    simple.Delete(reader)


def test_mark_labels_are_numbered_when_they_would_collide():
    marks = [(100, "lr 0.01"), (300, "pause"), (320, "lr 0.1")]
    # 1000 steps over 500 px, 6 px a character: 300 and 320 are 10 px apart
    assert mark_labels(marks, 0, 1000, 500, 6) == (["1", "2", "3"],
                                                   "1 lr 0.01   2 pause   3 lr 0.1")
    assert mark_labels(marks[:2], 0, 1000, 500, 6) == (["lr 0.01", "pause"], "")


def test_fig3_marks_the_steps_where_commands_took_effect(tmp_path):
    """The chart's own settings: a dotted series on the top and right axes at the applied
    steps, labelled there (a refused command and a pending one are not marked)."""
    from tensorviz_pv.figures.norms import norm_chart
    from tensorviz_pv.figures.session import FigureRun, dropped_afterwards
    store = str(tmp_path / "run.tvz")
    write_synthetic_run(store, steps=30, every=10)
    channel = SteeringChannel(str(tmp_path)).open(create=True)
    for kind, value, answer in (("learning_rate", 0.2, ("applied", 4)), ("pause", None, None),
                                ("stop", None, ("refused", None)), ("resume", None, ("applied", 25))):
        seq = channel.send(kind, value)
        if answer:
            channel.answer(seq, answer[0], step=answer[1], reason="why" if answer[1] is None else None)
    sources = set(simple.GetSources().values())
    with dropped_afterwards(), FigureRun(store, size=(800, 500)) as run:
        chart = norm_chart(run, "weight", run.size)
        assert list(chart.TopAxisLabels) == ["4.0", "lr 0.2", "25.0", "resume"]
        assert (chart.TopAxisRangeMinimum, chart.TopAxisRangeMaximum) == \
            (chart.BottomAxisRangeMinimum, chart.BottomAxisRangeMaximum)
        marks = simple.GetDisplayProperties(simple.OutputPort(simple.FindSource("weight norms"), 1),
                                            chart)
        assert list(marks.SeriesVisibility) == ["steering event"]
        assert list(marks.SeriesPlotCorner)[-2:] == ["steering event", "2"]
    for source in set(simple.GetSources().values()) - sources:  # its file goes with tmp_path
        simple.Delete(source)


def test_the_web_page_steers_only_when_allowed_and_only_with_its_buttons(live):
    """tensorviz serve's training control (web/steering.py): read-only without --steer; with
    it, only the page's button names reach the control, and a learning rate must be a
    positive number before anything is sent."""
    from tensorviz_pv.web.steering import Steering
    _, channel, _, control = live
    read_only = Steering(control, allowed=False)
    assert not read_only.available and "read-only" in read_only.press("pause")
    steering = Steering(control, allowed=True)
    assert steering.press("Delete") == "no button 'Delete'"
    for bad in ("nan", "-1", "0", "1e400", "0.1; rm -rf ~", None):
        assert "give a positive number" in steering.press("learning_rate", bad)
    assert channel.rows() == []  # nothing was sent
    thread = answer_soon(channel, 7)
    assert steering.press("learning_rate", "0.02") == "learning_rate: applied at step 7"
    thread.join()
    thread = answer_soon(channel, 8)
    assert steering.press("pause") == "pause: applied at step 8"
    thread.join()
    assert [(row["command"], row["value"]) for row in channel.rows()] == [
        ("learning_rate", 0.02), ("pause", None)]
    assert steering.status()[0] == "training paused, lr 0.01"
