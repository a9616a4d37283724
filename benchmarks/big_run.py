"""A million-step run in ParaView (issue 15's budgets): opening it (the time steps declared),
the norm table (drawn at MaxRows, every extreme kept), and the time-slider step of the views,
each next to a raw h5py read of the same bytes in the same run, and one tick of `--follow`
(the store grew: reopen, last step, norm table, alerts). Budgets: open < 0.5 s, norm table
< 0.5 s, step switch < 10 ms; a follow tick every 2 s should take well under a second.

    pvpython benchmarks/big_run.py [--steps 1000000]      (PYTHONPATH = the checkout)
"""

import argparse
import os
import sys
import tempfile
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pv_timing import median_seconds, paraview_simple, raw_step_table  # noqa: E402
from tensorviz_pv.store import format as F  # noqa: E402
from tensorviz_pv.store.synthetic import write_long_run  # noqa: E402


def follow_tick(simple, reader, path):
    """Seconds of one tick of `tensorviz paraview --follow` after the store grew: the reader
    reopened, the time moved to the last step, the norm chart's table redrawn there, the alerts
    line recomputed (the GUI then renders; pvpython has no view to render)."""
    from tensorviz_pv.figures.dashboard import Follower
    from tensorviz_pv.figures.health import alerts_text
    table = simple.NormTimeSeries(Input=reader)
    follower = Follower(reader)

    def tick(_):
        now = time.time_ns()
        os.utime(path, ns=(now, now))  # as a flush of the trainer changes it
        assert follower.tick()
        table.UpdatePipeline(float(reader.TimestepValues[-1]))
        alerts_text(path)

    seconds = median_seconds(tick, 5)
    simple.Delete(table)
    return seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--switches", type=int, default=40)
    args = parser.parse_args()
    simple = paraview_simple()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "run.tvz")
        started = time.perf_counter()
        write_long_run(path, args.steps)
        print(f"synthetic run: {args.steps:,} steps, {os.path.getsize(path) / 1e6:.0f} MB, "
              f"written in {time.perf_counter() - started:.0f} s")

        def raw_steps(_):
            with h5py.File(path, "r", locking=False) as f:
                f[F.steps_path(F.STEP)][:]

        def raw_table(_):
            raw_step_table(path)

        def open_run(_):
            reader = simple.TensorVizReader(FileName=path)
            reader.UpdatePipelineInformation()
            simple.Delete(reader)

        reader = simple.TensorVizReader(FileName=path)
        listed = reader.GetProperty("TimestepValues").SMProperty.GetNumberOfElements()

        def norm_table(_):
            table = simple.NormTimeSeries(Input=reader)
            table.UpdatePipeline(float(args.steps))
            simple.Delete(table)

        rows = [("open (time steps)", median_seconds(open_run), median_seconds(raw_steps), 0.5),
                ("norm table (MaxRows 10,000)", median_seconds(norm_table), median_seconds(raw_table), 0.5)]
        rng = np.random.default_rng(0)
        times = rng.integers(0, args.steps, args.switches).astype(float)
        for name, view in (("reader", reader),
                           ("Weight Glyphs conv1", simple.WeightGlyphs(Input=reader, Layer="conv1")),
                           ("Activation Maps conv1", simple.ActivationMaps(Input=reader, Layer="conv1")),
                           ("Filter Correlation conv1", simple.FilterCorrelation(Input=reader, Layer="conv1"))):
            view.UpdatePipeline(0.0)
            rows.append((f"step switch: {name}", median_seconds(lambda i: view.UpdatePipeline(times[i]),
                                                                args.switches), None, 0.010))
        rows.append(("follow: one tick", follow_tick(simple, reader, path), None, 0.5))
        print(f"time steps declared: {listed:,} of {args.steps + 1:,} (every snapshot among them)")
        print(f"{'':34s} {'seconds':>8s} {'raw read':>9s} {'ratio':>7s} {'budget':>7s}")
        for name, seconds, raw, budget in rows:
            print(f"{name:34s} {seconds:8.4f} " + (f"{raw:9.4f} {seconds / raw:7.1f}" if raw else
                                                  f"{'':9s} {'':7s}") + f" {budget:7.3f}")


if __name__ == "__main__":
    main()
