"""Run comparison's speed in ParaView: opening a folder of 10 runs (the TensorViz Runs reader:
every run's time steps and layers), the Norm Comparison table of all 10, matching conv2's 32
filters between two runs (Filter Matching), and a step switch of the matching; each next to a
raw h5py read of the same runs' step tables (a ratio, measured in the same run). Goal (issue
14): open and match < 1 s each.

    pvpython benchmarks/comparison_latency.py [--runs 10] [--steps 2000]   (PYTHONPATH = the checkout)
"""

import argparse
import os
import sys
import tempfile
import time

import h5py

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pv_timing import median_seconds, paraview_simple  # noqa: E402
from tensorviz_pv.store import format as F  # noqa: E402
from tensorviz_pv.store.synthetic import write_poster_shaped_run  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    simple = paraview_simple()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        stores = []
        for i in range(args.runs):
            os.makedirs(os.path.join(folder, f"run-{i}"))
            stores.append(os.path.join(folder, f"run-{i}", F.STORE_FILENAME))
            # one seed: the same probe images (matching compares responses to the same inputs)
            write_poster_shaped_run(stores[-1], args.steps, activations_every=200)
        print(f"{args.runs} synthetic poster-shaped runs of {args.steps} steps, written in "
              f"{time.perf_counter() - started:.1f} s")

        def raw_open(_):
            for store in stores:
                with h5py.File(store, "r", locking=False) as f:
                    f[F.steps_path(F.STEP)][:]

        def open_folder(_):
            reader = simple.TensorVizRuns(FileNames=[folder])
            reader.UpdatePipelineInformation()
            assert len(reader.GetProperty("RunNames")) == args.runs
            simple.Delete(reader)

        reader = simple.TensorVizRuns(FileNames=[folder])
        last = float(args.steps)

        def norm_table(_):
            table = simple.NormComparison(Input=reader)
            table.UpdatePipeline(last)
            simple.Delete(table)

        def match(i):
            matching = simple.FilterMatching(Input=reader, RunA="run-0", RunB=f"run-{1 + i % (args.runs - 1)}",
                                             Layer="conv2")
            matching.UpdatePipeline(last)
            assert matching.GetDataInformation().GetNumberOfRows() == 32
            simple.Delete(matching)

        switching = simple.FilterMatching(Input=reader, RunA="run-0", RunB="run-1", Layer="conv2")
        snapshot_steps = list(range(0, args.steps + 1, 200))

        def switch(i):
            switching.UpdatePipeline(float(snapshot_steps[i % len(snapshot_steps)]))

        raw = median_seconds(raw_open)
        rows = [("open a folder of runs", median_seconds(open_folder), 1.0),
                ("Norm Comparison of every run", median_seconds(norm_table), 1.0),
                ("match conv2's 32 filters (two runs)", median_seconds(match), 1.0),
                ("matching: step switch (a new snapshot)", median_seconds(switch, 20), 1.0)]
        print(f"raw h5py read of the {args.runs} step columns: {raw * 1000:.1f} ms")
        print(f"{'':44s} {'seconds':>8s} {'/ goal':>7s} {'/ raw read':>10s}")
        for name, seconds, goal in rows:
            print(f"{name:44s} {seconds:8.3f} {seconds / goal:7.2f} {seconds / raw:10.1f}")
        simple.Delete(switching)
        simple.Delete(reader)


if __name__ == "__main__":
    main()
