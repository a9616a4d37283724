"""Steering: does a merge on command keep the network's accuracy? (issue 23's measure: "a merge
from the GUI on the demo network keeps validation accuracy within 0.5 points of an unmerged twin
at the end").

    .venv/bin/python benchmarks/steered_merge_accuracy.py [--epochs 3] [--merges 3] [--seeds 0]

Per seed, two `tensorviz train` runs of the demo network (the poster's, on the embedded digits
mnist-5k) with the same seed: the twin untouched, the other sent --merges merge commands during
its first epoch, each "conv1:F" with no partner named, which is what the Training Control's
Merge Picked Filter sends for a picked filter F when the training picks the partner (its
best-correlated filter); they apply at that epoch's end. Printed: each run's validation and test
accuracy after the last epoch, from `tensorviz info --json`, and the difference in points.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tensorviz_pv.store.lock import live_writer  # noqa: E402
from tensorviz_pv.store.run_dir import RunDir  # noqa: E402
from tensorviz_pv.store.steering import SteeringChannel  # noqa: E402

TENSORVIZ = os.path.join(os.path.dirname(sys.executable), "tensorviz")


def train(run_dir, epochs, seed, merges):
    """Train one run, sending `merges` merge commands (filters 1, 3, 5, ... of conv1) once its
    channel is open; returns (final evaluation row, the answers' reasons)."""
    argv = [TENSORVIZ, "train", run_dir, "--dataset", "mnist-5k", "--epochs", str(epochs),
            "--seed", str(seed)]
    training = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sent = []
    if merges:
        while training.poll() is None and (live_writer(RunDir(run_dir).store) is None or
                                           not os.path.isdir(RunDir(run_dir).steering)):
            time.sleep(0.1)
        channel = SteeringChannel(run_dir).open()
        sent = [channel.send("merge", {"layer": "conv1", "remove": 2 * i + 1})
                for i in range(merges)]
    if training.wait() != 0:
        raise SystemExit(f"{run_dir}: tensorviz train failed")
    answers = [SteeringChannel(run_dir).outcome(seq) for seq in sent]
    info = json.loads(subprocess.run([TENSORVIZ, "info", run_dir, "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    return info["evaluation"][-1], [f"{a['status']}: {a['reason']}" for a in answers]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--merges", type=int, default=3)
    parser.add_argument("--seeds", default="0", help="comma-separated")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        for seed in (int(s) for s in args.seeds.split(",")):
            twin, _ = train(os.path.join(workdir, f"twin-{seed}"), args.epochs, seed, 0)
            merged, said = train(os.path.join(workdir, f"merged-{seed}"), args.epochs, seed,
                                 args.merges)
            for line in said:
                print(f"seed {seed}: merge {line}")
            for key in ("val_accuracy", "test_accuracy"):
                print(f"seed {seed}: {key}: twin {twin[key]:.4f}, merged {merged[key]:.4f}, "
                      f"difference {100 * (merged[key] - twin[key]):+.2f} points")


if __name__ == "__main__":
    main()
