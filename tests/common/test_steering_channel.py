"""The command channel of a live training (store/steering.py): commands sent at once by several
processes get distinct numbers and are never read half-written; each is answered once; bad
commands, garbage and another user's files are refused with the reason."""

import json
import multiprocessing
import os
import stat

import pytest

from tensorviz_pv.errors import SettingError
from tensorviz_pv.store.steering import APPLIED, REFUSED, Command, SteeringChannel

SENDERS, EACH = 4, 25


def send_many(run_dir, barrier):
    channel = SteeringChannel(run_dir).open()
    barrier.wait()
    for index in range(EACH):
        channel.send("learning_rate", 0.001 * (index + 1))


def test_commands_sent_at_once_get_distinct_numbers_and_read_whole(tmp_path):
    channel = SteeringChannel(tmp_path).open(create=True)
    assert stat.S_IMODE(os.stat(channel.path).st_mode) == 0o700  # private to its user
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(SENDERS)
    senders = [context.Process(target=send_many, args=(str(tmp_path), barrier))
               for _ in range(SENDERS)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(60)
    commands = channel.unanswered()
    assert [c.seq for c in commands] == list(range(1, SENDERS * EACH + 1))
    assert all(isinstance(c, Command) and c.kind == "learning_rate" for c in commands)
    assert sorted(c.value for c in commands) == sorted(
        0.001 * (i + 1) for i in range(EACH) for _ in range(SENDERS))
    assert not [name for name in os.listdir(channel.path) if name.startswith(".")]


def test_each_command_is_answered_once_in_order(tmp_path):
    channel = SteeringChannel(tmp_path).open(create=True)
    first = channel.send("pause")
    second = channel.send("learning_rate", "0.01")
    assert channel.outcome(first) is None and channel.wait(first, 0.1) is None
    channel.answer(first, APPLIED, step=12)
    assert [c.seq for c in channel.unanswered()] == [second]  # never applied again
    channel.answer(second, REFUSED, reason="paused")
    assert channel.wait(second, 1.0)["reason"] == "paused"
    assert [(c.kind, c.value, a["status"], a["step"]) for c, a in channel.history()] == [
        ("pause", None, APPLIED, 12), ("learning_rate", 0.01, REFUSED, None)]


@pytest.mark.parametrize("kind,value,said", [
    ("learning_rate", "nan", "positive finite"), ("learning_rate", -1, "positive finite"),
    ("learning_rate", "fast", "give a number"), ("jump", None, "unknown command 'jump'"),
    ("merge", {"layer": "conv1", "keep": 3, "remove": 3}, "two different filters"),
    ("merge", {"layer": "conv1", "keep": -1, "remove": 3}, "two different filters"),
    ("merge", {"layer": "conv1", "keep": 3}, "two different filters"),
    ("fork", {"step": 4, "run_dir": "x", "lr": 0}, "positive finite"),
    ("fork", {"step": -1, "run_dir": "x"}, "a step and a new run directory"),
    ("pause", 5, "takes no value"),
])
def test_a_bad_command_is_refused_before_it_is_sent(tmp_path, kind, value, said):
    channel = SteeringChannel(tmp_path).open(create=True)
    with pytest.raises(SettingError, match=said):
        channel.send(kind, value)
    assert channel.history() == []


def test_garbage_and_another_users_commands_are_refused_with_the_reason(tmp_path):
    channel = SteeringChannel(tmp_path).open(create=True)
    with open(os.path.join(channel.path, "00000001.json"), "w") as f:
        f.write("{half a comm")
    with open(os.path.join(channel.path, "00000002.json"), "w") as f:
        json.dump({"kind": "learning_rate", "value": "1e400"}, f)
    name = 'a\n"quoted"; $(touch PWNED)'
    seq = channel.send("fork", {"step": 10, "run_dir": name})
    other = channel.send("stop")
    if os.getuid() == 0:
        os.chown(os.path.join(channel.path, f"{other:08d}.json"), 12345, 12345)
    found = channel.unanswered()
    assert found[0][0] == 1 and "unreadable command" in found[0][1]
    assert found[1][0] == 2 and "positive finite" in found[1][1]
    assert found[2] == Command(seq, "fork", {"step": 10, "run_dir": name}, os.getuid(),
                               found[2].sent)  # a name stays data
    if os.getuid() == 0:
        assert found[3] == (other, "sent by uid 12345: only the user who runs the training "
                                   "steers it")
    assert not os.path.exists("PWNED")


def test_steering_a_run_without_a_channel_is_said(tmp_path):
    with pytest.raises(SettingError, match="no steering channel"):
        SteeringChannel(tmp_path).open()


def test_a_merge_without_keep_and_a_fork_with_a_rate_are_sent_as_given(tmp_path):
    """keep None: the training picks the best-correlated partner; a fork's lr is checked."""
    channel = SteeringChannel(tmp_path).open(create=True)
    channel.send("merge", {"layer": "conv1", "remove": 7})
    channel.send("fork", {"step": 4, "run_dir": "b", "lr": "0.5"})
    assert [(c.kind, c.value) for c in channel.unanswered()] == [
        ("merge", {"layer": "conv1", "keep": None, "remove": 7}),
        ("fork", {"step": 4, "run_dir": "b", "lr": 0.5})]
