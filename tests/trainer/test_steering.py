"""A live `tensorviz train` steered from `tensorviz steer`: the learning rate changes exactly
after the answered step, a pause holds the steps while the process lives, resume goes on, stop
ends the training with exit 0; bad values and a run with no training are said in one line."""

import json
import os
import signal
import subprocess
import time

import keras
import numpy as np
import pytest

from conftest import tensorviz, tensorviz_command
from tensorviz_pv.store import format as F
from tensorviz_pv.store.lock import live_writer
from tensorviz_pv.store.reader import RunReader
from tensorviz_pv.store.runs import RunSet
from tensorviz_pv.store.steering import SteeringChannel


def applied_step(result):
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split("applied at step ")[1].split()[0])


def wait_until_live(run_dir, training):
    deadline = time.monotonic() + 120
    while live_writer(str(run_dir / "run.tvz")) is None or not (run_dir / "steering").exists():
        assert training.poll() is None and time.monotonic() < deadline, training.stderr.read()
        time.sleep(0.1)


def refused(result, why):
    assert result.returncode == 1 and why in result.stderr, result.stderr


def test_a_live_training_is_steered_from_the_command_line(tmp_path):
    """learning rate, checkpoint, merge (at the epoch's end), pause, resume, stop; bad values
    and impossible merges refused while the training goes on; every outcome in the store and
    in `info --json`; then a fork of the stopped run opens as its child."""
    run_dir = tmp_path / "live"
    training = subprocess.Popen(tensorviz_command("train", run_dir, "--max-samples", 4000,
                                                  "--epochs", 20, "--budget", "none"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_live(run_dir, training)
        bad = tensorviz("steer", run_dir, "--lr", "-1", check=False)
        assert bad.returncode == 2 and "positive finite" in bad.stderr
        bad = tensorviz("steer", run_dir, "--merge", "conv1:3,", check=False)
        assert bad.returncode == 2 and "LAYER:KEEP,REMOVE" in bad.stderr
        changed = applied_step(tensorviz("steer", run_dir, "--lr", "0.01"))
        refused(tensorviz("steer", run_dir, "--merge", "dense:0,1", check=False),
                "no conv layer 'dense' to merge filters in (layers: conv1, conv2)")
        refused(tensorviz("steer", run_dir, "--merge", "conv1:3,16", check=False),
                "conv1 has no filter 16 (filters 0-15)")
        saved = applied_step(tensorviz("steer", run_dir, "--checkpoint"))
        with open(run_dir / "checkpoints" / f"step-{saved:08d}.json") as f:
            assert json.load(f)["step"] == saved
        paused = applied_step(tensorviz("steer", run_dir, "--pause"))
        with RunReader(str(run_dir / "run.tvz")) as run:
            held = run.last_step()
        time.sleep(1.5)
        with RunReader(str(run_dir / "run.tvz")) as run:
            assert run.last_step() == held == paused  # flushed, and holding
        assert training.poll() is None  # alive, holding its lock
        refused(tensorviz("steer", run_dir, "--pause", check=False), "already paused")
        # two merges accepted while paused, applied together at the next epoch's end
        channel = SteeringChannel(str(run_dir)).open()
        first = channel.send("merge", {"layer": "conv1", "keep": 3, "remove": 7})
        merge = subprocess.Popen(tensorviz_command("steer", run_dir, "--merge", "conv2:5"),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while len(channel.rows()) < 8:  # into its best-correlated filter: sent
            time.sleep(0.05)
        resumed = channel.wait(channel.send("resume"), 30)["step"]
        assert resumed == paused
        out, err = merge.communicate(timeout=120)
        merged = applied_step(subprocess.CompletedProcess([], merge.returncode, out, err))
        assert merged % 80 == 0 and "the model was rebuilt there" in out  # an epoch's end
        assert channel.outcome(first)["step"] == merged
        partner = int(out.split("its best-correlated filter, filter ")[1].split()[0])
        refused(tensorviz("steer", run_dir, "--merge", "conv1:7,2", check=False),
                "filter 7 of conv1 was merged away already")
        # held, then three at once, answered in order: a merge waits for the epoch's end,
        channel.send("pause")  # which the stop comes before
        late = channel.send("merge", {"layer": "conv1", "keep": 0, "remove": 1})
        stop = channel.send("stop")
        stopped = channel.wait(stop, 30)["step"]
        assert training.wait(120) == 0
        assert channel.outcome(late)["reason"] == ("the training ended before the epoch's end "
                                                   "this merge waited for")
    finally:
        training.kill()
        training.wait()
    with open(run_dir / "checkpoints" / f"step-{stopped:08d}.json") as f:
        assert json.load(f)["step"] == stopped  # stop's checkpoint, at the stop step
    with RunReader(str(run_dir / "run.tvz")) as run:
        last_epoch = int(run.step_table()[F.EPOCH][-1])
    with open(run_dir / "checkpoints" / f"epoch-{last_epoch + 1:04d}.json") as f:
        assert json.load(f)["step"] == stopped  # Keras ended the epoch there: --resume goes on
    with RunReader(str(run_dir / "run.tvz")) as run:
        table = run.step_table()
        assert run.last_step() == stopped < 20 * 80
        rates = dict(zip(table[F.STEP], table[F.LEARNING_RATE]))
        np.testing.assert_allclose([rates[s] for s in range(1, changed + 1)], 0.05, rtol=1e-6)
        np.testing.assert_allclose([rates[s] for s in range(changed + 1, stopped + 1)], 0.01,
                                   rtol=1e-6)  # the rebuilt model's optimizer kept it
        alive = [run.alive_at("conv1", s) for s in (merged, merged + 1, stopped)]
        assert alive[0].all() and np.flatnonzero(~alive[1]).tolist() == [7]
        assert np.flatnonzero(~alive[2]).tolist() == [7]
        kernel = run.tensor_at("conv1", F.KERNEL, stopped)[1]
        assert np.isnan(kernel[..., 7]).all() and np.isfinite(np.delete(kernel, 7, -1)).all()
        merges = run.merges()
        assert (merges["step"].tolist(), merges["kept"].tolist(), merges["removed"].tolist()) \
            == ([merged, merged], [3, partner], [7, 5])
        activation = run.tensor_at("conv2", F.ACTIVATION, merged)[1]  # before the merge
        r = np.corrcoef(activation.reshape(-1, activation.shape[-1]).T)[5]
        r[5] = -np.inf
        assert partner == int(np.nanargmax(r))
    summary = json.loads(tensorviz("info", run_dir, "--json").stdout)
    assert [layer["filters_now"] for layer in summary["layers"][:2]] == [15, 31]
    outcomes = [(e["command"], e["status"], e["step"]) for e in summary["steering"]]
    assert outcomes == [("learning_rate", "applied", changed), ("merge", "refused", None),
                        ("merge", "refused", None), ("checkpoint", "applied", saved),
                        ("pause", "applied", paused), ("pause", "refused", None),
                        ("resume", "applied", resumed),
                        ("merge", "applied", merged), ("merge", "applied", merged),
                        ("merge", "refused", None), ("pause", "applied", stopped),
                        ("stop", "applied", stopped), ("merge", "refused", None)]
    assert summary["steering"][-1]["answered_step"] == stopped
    assert summary["steering"][7]["value"] == {"layer": "conv1", "keep": 3, "remove": 7}
    assert summary["steering"][8]["value"] == {"layer": "conv2", "keep": None, "remove": 5}
    assert summary["steering"][1]["answered_step"] >= changed
    history = tensorviz("steer", run_dir).stdout
    assert "no training running; 13 command(s)" in history
    assert "pause  refused: already paused" in history
    ended = tensorviz("steer", run_dir, "--lr", "0.1", check=False)
    assert ended.returncode == 1 and "no training is running there" in ended.stderr
    fork_is_a_child(run_dir, stopped, last_epoch, tmp_path / "fork 'ü\"; $(x) -lr")


def fork_is_a_child(parent, stopped, last_epoch, child):
    """A fork of the stopped run from its stop checkpoint, one epoch with another optimizer and
    learning rate: its store names its parent and step, and its steps go on from there."""
    started = tensorviz("steer", parent, "--fork", stopped, child, "--lr", "0.02",
                        "--optimizer", "momentum", "--epochs", last_epoch + 1)
    assert f"fork {child} trains from the newest checkpoint at or before step {stopped}" \
        in started.stdout
    again = tensorviz("steer", parent, "--fork", stopped, child, check=False)
    assert again.returncode == 2 and "exists and is not an empty folder" in again.stderr
    deadline = time.monotonic() + 120
    while "steps in" not in (child / "train.log").read_text():
        assert time.monotonic() < deadline and "Error" not in (child / "train.log").read_text()
        time.sleep(0.2)
    summary = json.loads(tensorviz("info", child, "--json").stdout)
    assert summary["parent"] == {"run": str(parent), "step": stopped, "epoch": last_epoch}
    assert summary["steps"]["first"] == stopped + 1
    assert summary["steps"]["last"] == stopped + 80  # its epoch in progress, run in full
    assert summary["last"]["learning_rate"] == pytest.approx(0.02)
    assert summary["layers"][0]["filters_now"] == 15  # the merged model goes on
    assert summary["hyperparameters"]["optimizer"] == "momentum"
    optimizer = keras.models.load_model(
        child / "checkpoints" / f"epoch-{last_epoch + 1:04d}.keras").optimizer
    assert optimizer.momentum == pytest.approx(0.9)  # the parent's was plain SGD
    text = tensorviz("info", child).stdout
    assert f"parent     {parent} at step {stopped}" in text and "a fork: its parent" in text
    with RunSet([str(parent), str(child)]) as runs:  # one step axis: the global steps
        (_, parent_run), (label, child_run) = runs.runs
        assert label == child.name
        assert parent_run.step_table()[F.STEP][-1] == stopped
        assert child_run.step_table()[F.STEP][0] == stopped + 1


class Slow(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        time.sleep(0.02)  # steps slow enough for the channel's watcher to see commands


def test_your_own_fit_with_a_schedule_and_bad_commands(tmp_path):
    """A user's model.fit with the callbacks: a schedule is replaced from the answered step;
    garbage and another user's command are refused with the reason while training goes on."""
    from trainer.recording import TensorVizCallback
    from trainer.recording.steering import SteeringCallback
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, name="conv"),
                              keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    model.compile(optimizer=keras.optimizers.SGD(schedule),
                  loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.random((320, 8, 8, 1), dtype=np.float32), rng.integers(0, 3, 320)
    run_dir = str(tmp_path / "own")
    channel = SteeringChannel(run_dir).open(create=True)
    with open(f"{channel.path}/00000001.json", "w") as f:
        f.write("not json")
    channel.send("learning_rate", 0.003)
    if os.getuid() == 0:
        other = channel.send("stop")
        os.chown(f"{channel.path}/{other:08d}.json", 4321, 4321)
    merge = channel.send("merge", {"layer": "conv", "keep": 0, "remove": 1})
    saved = channel.send("checkpoint")
    too_early = channel.send("fork", {"step": 0, "run_dir": str(tmp_path / "a")})
    not_ours = channel.send("fork", {"step": 10 ** 6, "run_dir": str(tmp_path / "c"),
                                     "start": True})  # as the Training Control sends it
    now = channel.send("fork", {"step": 10 ** 6, "run_dir": str(tmp_path / "b"), "lr": 0.1})
    recording = TensorVizCallback(run_dir, conv_every=1)  # every step: kernel and gradient
    model.fit(x, y, batch_size=8, epochs=1, verbose=0,
              callbacks=[recording, SteeringCallback(run_dir, recording), Slow()])
    answers = {command[0] if isinstance(command, tuple) else command.seq: answer
               for command, answer in channel.history()}
    assert answers[1]["status"] == "refused" and "unreadable" in answers[1]["reason"]
    assert answers[2]["status"] == "applied" and "replacing the schedule" in answers[2]["reason"]
    if os.getuid() == 0:
        assert "only the user who runs the training" in answers[other]["reason"]
    assert "needs `tensorviz train`" in answers[merge]["reason"]
    step = answers[2]["step"]  # all arrived before the first step boundary: answered there
    checkpoint = f"checkpoints/step-{step:08d}.keras"
    assert answers[saved]["checkpoint"] == {"path": checkpoint, "step": step, "epoch": 0}
    assert os.path.exists(os.path.join(run_dir, checkpoint))
    assert answers[too_early]["reason"] == "no checkpoint at or before step 0"
    assert answers[now]["status"] == "applied" and answers[now]["checkpoint"]["step"] == step
    assert answers[not_ours]["status"] == "applied"  # the checkpoint; the fork not started:
    assert "not started: " in answers[not_ours]["reason"] and \
        "was not trained by `tensorviz train`" in answers[not_ours]["reason"]
    assert not os.path.exists(tmp_path / "c")
    with RunReader(run_dir) as run:
        events = run.steering_events()  # each outcome in the store, as the channel says it
        assert [e["source"] for e in events] == ["store"] * len(answers)
        assert [(e["seq"], e["status"], e["step"], e["reason"]) for e in events] == \
            [(seq, a["status"], a["step"], a["reason"]) for seq, a in sorted(answers.items())]
        assert events[0]["command"] is None and events[1]["value"] == 0.003
        assert events[merge - 1]["value"] == {"layer": "conv", "keep": 0, "remove": 1}
        assert events[-1]["value"] == {"step": 10 ** 6, "run_dir": str(tmp_path / "b"),
                                       "lr": 0.1}
        assert all(e["answered_step"] == step for e in events)
        table = run.step_table()
        assert len(table[F.STEP]) == 40  # never stopped by another user's command
        after = table[F.STEP] > answers[2]["step"]
        np.testing.assert_allclose(table[F.LEARNING_RATE][after], 0.003, rtol=1e-6)
        assert (table[F.LEARNING_RATE][~after] > 0.003).all()  # the schedule's, before
        # the rate the optimizer used, from the weights (plain SGD: w(s) = w(s-1) - lr g(s))
        kernel_steps = run.series_steps("conv", F.KERNEL)
        used = {}
        for s in (step, step + 1, step + 2):
            before, now = (run.series_value("conv", F.KERNEL, int(np.flatnonzero(
                kernel_steps == t)[0])) for t in (s - 1, s))
            gradient = run.tensor_at("conv", F.KERNEL_GRADIENT, s)[1]
            used[s] = float(np.sum((before - now) * gradient) / np.sum(gradient ** 2))
        rates = dict(zip(table[F.STEP], table[F.LEARNING_RATE]))
        assert used[step] == pytest.approx(rates[step], rel=1e-3) and rates[step] > 0.0031
        assert used[step + 1] == pytest.approx(0.003, rel=1e-3)
        assert used[step + 2] == pytest.approx(0.003, rel=1e-3)


def test_a_killed_training_resumed_does_not_apply_a_command_again(tmp_path):
    """SIGKILL after a command was applied: `--resume` goes on from the last epoch's checkpoint,
    the command keeps its one answer and its one event in the store, and is not applied again
    (the learning rate after the resume step is the checkpoint's)."""
    run_dir = tmp_path / "killed"
    options = ("--max-samples", 2000, "--epochs", 4, "--budget", "none")
    training = subprocess.Popen(tensorviz_command("train", run_dir, *options),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_live(run_dir, training)
        changed = applied_step(tensorviz("steer", run_dir, "--lr", "0.02"))
        answer = (run_dir / "steering" / "00000001.ack.json").read_text()
    finally:
        training.send_signal(signal.SIGKILL)
        training.wait()
    resumed = tensorviz("train", run_dir, "--resume", *options)
    start = int(resumed.stderr.split("resuming from the checkpoint of step ")[1].split()[0])
    assert (run_dir / "steering" / "00000001.ack.json").read_text() == answer  # answered once
    assert sorted(os.listdir(run_dir / "steering")) == ["00000001.ack.json", "00000001.json"]
    with RunReader(str(run_dir / "run.tvz")) as run:
        events = run.steering_events()
        table = run.step_table()
    assert [(e["seq"], e["status"], e["step"], e["source"]) for e in events] == \
        [(1, "applied", changed, "store")]
    assert table[F.STEP].tolist() == list(range(1, 4 * 40 + 1))  # contiguous, once each
    rates, steps = table[F.LEARNING_RATE], table[F.STEP]
    np.testing.assert_allclose(rates[steps <= min(changed, start)], 0.05, rtol=1e-6)
    np.testing.assert_allclose(rates[(steps > changed) & (steps <= start)], 0.02, rtol=1e-6)
    # after the resume: the checkpoint's rate, the command not applied again
    np.testing.assert_allclose(rates[steps > start], 0.02 if start >= changed else 0.05,
                               rtol=1e-6)
    undone = f"steering command 1 (learning_rate 0.02), applied at step {changed}, is undone"
    assert (undone in resumed.stderr) == (changed > start)
