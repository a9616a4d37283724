"""Steering events in the store (format version 3): each answered command is a row of the
steering table, readable after the writer was killed; text is kept whole or cut on a
character; a version-2 store opens without the table and lists its channel's commands."""

import json
import multiprocessing
import os

import h5py

from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader
from tensorviz_pv.store.run_dir import RunDir
from tensorviz_pv.store.steering import SteeringChannel
from tensorviz_pv.store.summary import run_summary
from tensorviz_pv.store.synthetic import write_synthetic_run

HOSTILE = "runs/ü'\"; rm -rf ~ $(x)/fork"
LONG = "é" * 400  # 800 bytes of UTF-8: cut to 256 characters (512 bytes)


def record_and_die(store):
    """A training that answers two commands, flushes, and is killed (no close)."""
    _, writer = write_synthetic_run(store, steps=20, close=False)
    writer.add_steering_event(seq=1, kind="fork", value=json.dumps({"step": 5, "run_dir": HOSTILE}),
                              status="applied", step=12, reason="fork from step 5",
                              answered=1700000000.25)
    writer.add_steering_event(seq=2, kind="learning_rate", value="-1.0", status="refused",
                              step=13, reason=LONG, answered=1700000001.5)
    writer.flush()
    os._exit(0)


def test_events_survive_a_killed_writer_and_keep_their_text(tmp_path):
    store = str(tmp_path / F.STORE_FILENAME)
    child = multiprocessing.get_context("fork").Process(target=record_and_die, args=(store,))
    child.start()
    child.join()
    with RunReader(store) as run:
        assert int(run.file.attrs[F.ATTR_VERSION]) == 3
        events = run.steering_events()
    assert events[0] == {"seq": 1, "command": "fork", "value": {"step": 5, "run_dir": HOSTILE},
                         "status": "applied", "step": 12, "reason": "fork from step 5",
                         "answered_step": 12, "answered": 1700000000.25, "source": "store"}
    assert (events[1]["status"], events[1]["step"], events[1]["answered_step"]) == \
        ("refused", None, 13)  # where refused: the step it was answered at, not applied
    assert events[1]["value"] == -1.0 and events[1]["reason"] == "é" * 256


def test_a_version_2_store_opens_and_lists_its_channel(tmp_path):
    store = RunDir(tmp_path).store
    write_synthetic_run(store, steps=10)
    with h5py.File(store, "r+") as f:  # as TensorViz wrote it before steering events
        del f[F.STEERING_GROUP]
        f.attrs[F.ATTR_VERSION] = 2
    with RunReader(store) as run:
        assert run.steering_events() == []  # never steered
    channel = SteeringChannel(tmp_path).open(create=True)
    seq = channel.send("learning_rate", 0.5)
    channel.answer(seq, "applied", step=4, reason="learning rate 0.5 from the next step")
    channel.send("pause")
    summary = run_summary(store)
    assert summary["format_version"] == 2
    assert summary["steering"] == [
        {"seq": 1, "command": "learning_rate", "value": 0.5, "status": "applied", "step": 4,
         "reason": "learning rate 0.5 from the next step", "answered_step": None,
         "answered": None},
        {"seq": 2, "command": "pause", "value": None, "status": "pending", "step": None,
         "reason": None, "answered_step": None, "answered": None}]
