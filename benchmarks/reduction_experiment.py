"""The poster's Fig. 5 experiment: the same network trained with and without filter reduction
(same seed, same data), side by side.

    .venv/bin/python benchmarks/reduction_experiment.py --dataset mnist-5k --epochs 16 \
        [--reduce-every 4] [--threshold 0.85] [--min-filters 4] [--out runs/reduction]

Prints the filters per layer over the steps, the test accuracy of both runs and their
difference, their parameter counts and their time per step.
"""

import argparse
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tensorviz_pv.store import format as F  # noqa: E402
from tensorviz_pv.store.reader import RunReader  # noqa: E402


def train(run_dir, args, extra):
    command = [os.path.join(os.path.dirname(sys.executable), "tensorviz"), "train", run_dir,
               "--dataset", args.dataset, "--epochs", str(args.epochs), "--seed", str(args.seed),
               "--overwrite"] + extra
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    match = re.search(r"(\d+) steps in ([\d.]+) s", result.stdout)
    steps, seconds = (int(match.group(1)), float(match.group(2))) if match else (0, time.time() - started)
    return result.stdout, seconds / max(steps, 1)


def describe(run_dir):
    import keras
    with RunReader(run_dir) as run:
        evaluation = run.evaluation()
        conv = [e["name"] for e in run.info["layers"] if e["kind"] == F.CONV]
        last = int(run.step_table()[F.STEP][-1])
        timeline = []
        for step in sorted(set([0] + [int(s) for s in run.merges()["step"]] + [last])):
            timeline.append((step, {name: int(run.alive_at(name, step + 1).sum()) for name in conv}))
        test_accuracy = float(evaluation["test_accuracy"][-1])
    checkpoints = sorted(n for n in os.listdir(os.path.join(run_dir, F.CHECKPOINT_DIR)) if n.endswith(".keras"))
    model = keras.models.load_model(os.path.join(run_dir, F.CHECKPOINT_DIR, checkpoints[-1]))
    return {"test_accuracy": test_accuracy, "timeline": timeline, "parameters": model.count_params()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="mnist-5k")
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reduce-every", type=int, default=4)
    parser.add_argument("--threshold", type=float, default=0.85)
    parser.add_argument("--min-filters", type=int, default=4)
    parser.add_argument("--layers", default="conv1")
    parser.add_argument("--out", default="runs/reduction")
    args = parser.parse_args()
    base_dir = os.path.join(args.out, f"{os.path.basename(args.dataset)}-baseline")
    reduced_dir = os.path.join(args.out, f"{os.path.basename(args.dataset)}-reduced")
    _, base_step = train(base_dir, args, [])
    _, reduced_step = train(reduced_dir, args, ["--reduce", "--reduce-every", str(args.reduce_every),
                                                "--reduce-threshold", str(args.threshold),
                                                "--min-filters", str(args.min_filters),
                                                "--reduce-layers", args.layers])
    base, reduced = describe(base_dir), describe(reduced_dir)
    print(f"{args.dataset}, {args.epochs} epochs, seed {args.seed}; reduction of {args.layers} "
          f"every {args.reduce_every} epochs at r >= {args.threshold}, at least {args.min_filters} filters")
    print("filters over training (reduced run):")
    for step, counts in reduced["timeline"]:
        print(f"  after step {step:>6}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"{'':<10} {'test acc':>9} {'params':>10} {'ms/step':>8}")
    print(f"{'baseline':<10} {100 * base['test_accuracy']:8.2f}% {base['parameters']:>10,} {1000 * base_step:8.2f}")
    print(f"{'reduced':<10} {100 * reduced['test_accuracy']:8.2f}% {reduced['parameters']:>10,} {1000 * reduced_step:8.2f}")
    print(f"difference: {100 * (reduced['test_accuracy'] - base['test_accuracy']):+.2f} points")


if __name__ == "__main__":
    main()
