"""What the store's Fletcher32 checksums cost: writing a poster-shaped run, and reading the
snapshots a time-slider step reads, with and without them (ratios, interleaved repetitions).

    python benchmarks/checksum_cost.py [--steps 2000] [--reps 5]   (venv or pvpython)
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tensorviz_pv.store import format as F  # noqa: E402
from tensorviz_pv.store.reader import RunReader  # noqa: E402
from tensorviz_pv.store.synthetic import write_poster_shaped_run  # noqa: E402


def read_snapshots(path):
    """Every snapshot of conv1/conv2 kernels and activations and the FC kernel: seconds per read."""
    with RunReader(path) as run:
        reads, started = 0, time.perf_counter()
        for layer, quantity in (("conv1", F.KERNEL), ("conv2", F.KERNEL), ("conv1", F.ACTIVATION),
                                ("conv2", F.ACTIVATION), ("fc1", F.KERNEL)):
            for index in range(len(run.series_steps(layer, quantity))):
                run._last_value.clear()  # a step switch reads from the file
                run.series_value(layer, quantity, index)
                reads += 1
        return (time.perf_counter() - started) / reads


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    write, read = {True: [], False: []}, {True: [], False: []}
    with tempfile.TemporaryDirectory() as folder:
        for rep in range(args.reps):
            for checksums in (True, False) if rep % 2 == 0 else (False, True):
                path = os.path.join(folder, f"run-{checksums}-{rep}.tvz")
                started = time.perf_counter()
                write_poster_shaped_run(path, args.steps, checksums=checksums)
                write[checksums].append((time.perf_counter() - started) / args.steps)
                read[checksums].append(read_snapshots(path))
                os.remove(path)
    w = {k: statistics.median(v) for k, v in write.items()}
    r = {k: statistics.median(v) for k, v in read.items()}
    print(f"{args.steps}-step poster-shaped run, {args.reps} interleaved repetitions")
    print(f"written step   {1e6 * w[False]:8.1f} us without, {1e6 * w[True]:8.1f} us with "
          f"checksums: ratio {w[True] / w[False]:.3f}")
    print(f"snapshot read  {1e6 * r[False]:8.1f} us without, {1e6 * r[True]:8.1f} us with "
          f"checksums: ratio {r[True] / r[False]:.3f}")


if __name__ == "__main__":
    main()
