"""A live `tensorviz train` steered from `tensorviz steer`: the learning rate changes exactly
after the answered step, a pause holds the steps while the process lives, resume goes on, stop
ends the training with exit 0; bad values and a run with no training are said in one line."""

import os
import subprocess
import time

import keras
import numpy as np

from conftest import tensorviz, tensorviz_command
from tensorviz_pv.store import format as F
from tensorviz_pv.store.lock import live_writer
from tensorviz_pv.store.reader import RunReader


def applied_step(result):
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split("applied at step ")[1].split()[0])


def test_a_live_training_is_steered_from_the_command_line(tmp_path):
    run_dir = tmp_path / "live"
    training = subprocess.Popen(tensorviz_command("train", run_dir, "--max-samples", 4000,
                                                  "--epochs", 20, "--budget", "none"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while live_writer(str(run_dir / "run.tvz")) is None or not (run_dir / "steering").exists():
            assert training.poll() is None and time.monotonic() < deadline, training.stderr.read()
            time.sleep(0.1)
        bad = tensorviz("steer", run_dir, "--lr", "-1", check=False)
        assert bad.returncode == 2 and "positive finite" in bad.stderr
        changed = applied_step(tensorviz("steer", run_dir, "--lr", "0.01"))
        paused = applied_step(tensorviz("steer", run_dir, "--pause"))
        assert paused >= changed
        with RunReader(str(run_dir / "run.tvz")) as run:
            held = run.last_step()
        time.sleep(1.5)
        with RunReader(str(run_dir / "run.tvz")) as run:
            assert run.last_step() == held == paused  # flushed, and holding
        assert training.poll() is None  # alive, holding its lock
        again = tensorviz("steer", run_dir, "--pause", check=False)
        assert again.returncode == 1 and "already paused" in again.stderr
        resumed = applied_step(tensorviz("steer", run_dir, "--resume"))
        assert resumed == paused
        stopped = applied_step(tensorviz("steer", run_dir, "--stop"))
        assert training.wait(120) == 0
    finally:
        training.kill()
        training.wait()
    with RunReader(str(run_dir / "run.tvz")) as run:
        table = run.step_table()
        assert run.last_step() == stopped < 20 * 80
        rates = dict(zip(table[F.STEP], table[F.LEARNING_RATE]))
        np.testing.assert_allclose([rates[s] for s in range(1, changed + 1)], 0.05, rtol=1e-6)
        np.testing.assert_allclose([rates[s] for s in range(changed + 1, stopped + 1)], 0.01,
                                   rtol=1e-6)
    history = tensorviz("steer", run_dir).stdout
    assert "no training running; 5 command(s)" in history
    assert "pause  refused: already paused" in history
    ended = tensorviz("steer", run_dir, "--lr", "0.1", check=False)
    assert ended.returncode == 1 and "no training is running there" in ended.stderr


class Slow(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        time.sleep(0.02)  # steps slow enough for the channel's watcher to see commands


def test_your_own_fit_with_a_schedule_and_bad_commands(tmp_path):
    """A user's model.fit with the callbacks: a schedule is replaced from the answered step;
    garbage and another user's command are refused with the reason while training goes on."""
    from tensorviz_pv.store.steering import SteeringChannel
    from trainer.recording import TensorVizCallback
    from trainer.recording.steering import SteeringCallback
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, name="conv"),
                              keras.layers.Flatten(), keras.layers.Dense(3)])
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
    channel.send("merge", {"layer": "conv", "keep": 0, "remove": 1})
    recording = TensorVizCallback(run_dir)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0,
              callbacks=[recording, SteeringCallback(run_dir, recording), Slow()])
    answers = {command[0] if isinstance(command, tuple) else command.seq: answer
               for command, answer in channel.history()}
    assert answers[1]["status"] == "refused" and "unreadable" in answers[1]["reason"]
    assert answers[2]["status"] == "applied" and "replacing the schedule" in answers[2]["reason"]
    if os.getuid() == 0:
        assert "only the user who runs the training" in answers[other]["reason"]
    assert "not built yet" in answers[max(answers)]["reason"]
    with RunReader(run_dir) as run:
        table = run.step_table()
        assert len(table[F.STEP]) == 40  # never stopped by another user's command
        after = table[F.STEP] > answers[2]["step"]
        np.testing.assert_allclose(table[F.LEARNING_RATE][after], 0.003, rtol=1e-6)
        assert (table[F.LEARNING_RATE][~after] > 0.003).all()  # the schedule's, before
