"""Steering: command to effect, and what an idle command channel costs (issue 23).

    .venv/bin/python benchmarks/steering_latency.py [--commands 20] [--reps 5] [--epochs 2]

latency   a live `tensorviz train` (the poster's network on the embedded digits) is sent
          --commands learning-rate commands, one at a time at random moments (0-0.3 s after
          the last answer): the seconds from send to the training's answer (the command has
          taken effect at the answered step: it applies from the next one), median and max, and
          the steps the training made meanwhile (latency x its step rate). The budget (DESIGN.md):
          at most one step or 0.5 s, whichever is longer; the channel's watcher looks for new
          commands every 0.2 s (trainer/recording/steering.py: POLL_SECONDS).
overhead  the same fit recorded with and without a SteeringCallback whose channel stays idle,
          interleaved --reps times (recording_overhead.py's clock and rotation): the ratio of
          the steady time per step and of the whole fit (the budget: within noise of 1).
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from recording_overhead import StepClock, interleaved, ratios  # noqa: E402

from tensorviz_pv.store.lock import live_writer  # noqa: E402
from tensorviz_pv.store.run_dir import RunDir  # noqa: E402
from tensorviz_pv.store.steering import SteeringChannel  # noqa: E402

TENSORVIZ = os.path.join(os.path.dirname(sys.executable), "tensorviz")


def latencies(workdir, commands):
    """[(seconds from send to answer, answered step, when answered)] of `commands`
    learning-rate commands."""
    run_dir = os.path.join(workdir, "live")
    training = subprocess.Popen([TENSORVIZ, "train", run_dir, "--max-samples", "4000",
                                 "--epochs", "100", "--budget", "none"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while live_writer(RunDir(run_dir).store) is None or \
                not os.path.isdir(RunDir(run_dir).steering):
            time.sleep(0.1)
        time.sleep(2)  # past the first steps' tracing
        channel = SteeringChannel(run_dir).open()
        measured = []
        for index in range(commands):
            time.sleep(random.uniform(0, 0.3))
            sent = time.perf_counter()
            seq = channel.send("learning_rate", 0.05 if index % 2 else 0.04)
            answer = channel.wait(seq, 30, poll=0.005)
            measured.append((time.perf_counter() - sent, answer["step"], time.perf_counter()))
        channel.wait(channel.send("stop"), 30)
        training.wait(60)
    finally:
        training.kill()
        training.wait()
    return measured


def steering_fit(arm, rep, data, epochs, workdir):
    """(steady s/step, fit s) of the poster network recorded, with an idle SteeringCallback in
    the "idle channel" arm."""
    import keras

    from trainer.checkpoints import RunCheckpoints
    from trainer.model import poster_model
    from trainer.recording.callback import TensorVizCallback
    from trainer.recording.steering import SteeringCallback

    keras.utils.set_random_seed(0)
    model = poster_model(data.x_train.shape[1:], data.classes)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    run_dir = os.path.join(workdir, f"{arm.replace(' ', '-')}-{rep}")
    recording = TensorVizCallback(run_dir, probe=(data.x_test, data.y_test),
                                  test_data=(data.x_test, data.y_test))
    callbacks = [recording, RunCheckpoints(run_dir)]
    if arm == "idle channel":
        callbacks.append(SteeringCallback(run_dir, recording))
    clock = StepClock(epochs - 1)
    started = time.perf_counter()
    model.fit(data.x_train, data.y_train, batch_size=50, epochs=epochs, verbose=0,
              validation_data=(data.x_val, data.y_val), callbacks=callbacks + [clock])
    return clock.per_step, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=20)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    random.seed(0)
    with tempfile.TemporaryDirectory() as workdir:
        measured = latencies(workdir, args.commands)
        seconds = [s for s, _, _ in measured]
        rate = (measured[-1][1] - measured[0][1]) / (measured[-1][2] - measured[0][2])
        print(f"command to effect over {len(seconds)} learning-rate commands: median "
              f"{statistics.median(seconds):.3f} s, max {max(seconds):.3f} s; the training ran "
              f"about {rate:.0f} steps/s: median {statistics.median(seconds) * rate:.1f} steps, "
              f"max {max(seconds) * rate:.1f} steps (budget: 1 step or 0.5 s, the longer)")
        print("each (s): " + " ".join(f"{s:.2f}" for s in sorted(seconds)))

        from trainer.datasets import load_dataset
        data = load_dataset("mnist-5k").limited(4000)
        results = interleaved(["recording", "idle channel"], args.reps,
                              lambda arm, rep: steering_fit(arm, rep, data, args.epochs, workdir))
        print(f"{'arm':<14} {'s/step':>8} {'step ratio':>10} {'fit s':>7} {'fit ratio':>9}")
        for arm, step, step_ratio, fit, fit_ratio in ratios(results, base="recording"):
            print(f"{arm:<14} {step:8.4f} {step_ratio:10.3f} {fit:7.2f} {fit_ratio:9.3f}")
        spread = [r[0] for r in results["recording"]]
        print(f"noise: the recording arm's steady s/step over {args.reps} reps spans "
              f"{min(spread):.4f}-{max(spread):.4f} ({max(spread) / min(spread) - 1:.1%})")


if __name__ == "__main__":
    main()
