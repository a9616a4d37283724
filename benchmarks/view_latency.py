"""ParaView-side speed: opening a 10,000-step run, building the norm table, and the step-switch
latency of every view, each next to a raw h5py read of the same bytes (a ratio, measured in
the same run). Budgets (DESIGN.md): open < 0.5 s, norm table < 50 ms, step switch < 10 ms;
the whole Distribution Over Time image < 100 ms.

    pvpython benchmarks/view_latency.py [--steps 10000]      (PYTHONPATH = the checkout)
"""

import argparse
import os
import sys
import tempfile
import time

import h5py

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pv_timing import median_seconds, paraview_simple, raw_step_table  # noqa: E402
from tensorviz_pv.store import format as F  # noqa: E402
from tensorviz_pv.store.synthetic import POSTER_LAYERS, write_poster_shaped_run  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--switches", type=int, default=100)
    args = parser.parse_args()
    simple = paraview_simple()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "run.tvz")
        started = time.perf_counter()
        write_poster_shaped_run(path, args.steps)
        print(f"synthetic poster-shaped run: {args.steps} steps, "
              f"{os.path.getsize(path) / 1e6:.0f} MB, written in {time.perf_counter() - started:.1f} s")

        def raw_open(_):
            with h5py.File(path, "r", locking=False) as f:
                f[F.steps_path(F.STEP)][:]
                for layer in POSTER_LAYERS:
                    f[F.series_path(layer["name"], F.KERNEL, F.SERIES_STEP)][:]

        def open_run(_):
            reader = simple.TensorVizReader(FileName=path)
            reader.UpdatePipelineInformation()
            count = len(reader.TimestepValues)
            assert count == args.steps + 1, count
            simple.Delete(reader)

        rows = []
        rows.append(("open run (time steps)", median_seconds(open_run, 5),
                     median_seconds(raw_open, 5), 0.5))
        reader = simple.TensorVizReader(FileName=path)

        def raw_norms(_):
            raw_step_table(path)

        # the table is built once per run change: time the algorithm itself, fresh each time
        from tensorviz_pv.algorithms.norm_time_series import NormTimeSeries
        from tensorviz_pv.algorithms.reader import TensorVizReader
        vtk_reader = TensorVizReader()
        vtk_reader.SetFileName(path)
        table_builder = NormTimeSeries()
        table_builder.SetInputConnection(vtk_reader.GetOutputPort())
        table_builder.Update()
        assert table_builder.GetOutputDataObject(0).GetNumberOfRows() == args.steps

        def build_norms(i):
            table_builder.Modified()
            table_builder.Update()

        rows.append(("norm table (all steps)", median_seconds(build_norms, 10),
                     median_seconds(raw_norms, 10), 0.05))

        views = [
            ("Weight Glyphs conv1", simple.WeightGlyphs(Input=reader, Layer="conv1"), "conv1", F.KERNEL),
            ("Weight Glyphs conv2", simple.WeightGlyphs(Input=reader, Layer="conv2"), "conv2", F.KERNEL),
            ("Weight Trajectory conv2", simple.WeightTrajectory(Input=reader, Layer="conv2"), "conv2", F.KERNEL),
            ("Activation Maps conv1", simple.ActivationMaps(Input=reader, Layer="conv1"), "conv1", F.ACTIVATION),
            ("Filter Correlation conv1", simple.FilterCorrelation(Input=reader, Layer="conv1"), "conv1", F.ACTIVATION),
            ("Filter Correlation conv2", simple.FilterCorrelation(Input=reader, Layer="conv2"), "conv2", F.ACTIVATION),
            ("Distribution Over Time conv2", simple.DistributionOverTime(Input=reader, Layer="conv2"), "conv2", F.HISTOGRAM),
            ("Filter Health conv2", simple.FilterHealth(Input=reader, Layer="conv2"), "conv2", F.FILTER_NORMS),
        ]
        raw_file = h5py.File(path, "r", locking=False)
        for label, view, layer, quantity in views:
            every = {F.KERNEL: 10, F.ACTIVATION: 100}.get(quantity, 1)
            view.UpdatePipeline(0.0)  # first execution: caches (colour range, path) built once
            times = [float(every * (i + 1)) for i in range(args.switches)]
            times = [t % args.steps for t in times]
            values = raw_file[F.series_path(layer, quantity, F.SERIES_VALUE)]
            first = 1 if every == 1 else 0  # per-step series start at step 1
            rows.append((f"step switch: {label}",
                         median_seconds(lambda i: view.UpdatePipeline(times[i] + first), args.switches),
                         median_seconds(lambda i: values[int(times[i]) // every], args.switches),
                         0.01))
        # the whole step x bin image, built afresh (a new run, or another quantity)
        from tensorviz_pv.algorithms.distribution_over_time import DistributionOverTime
        distribution = DistributionOverTime()
        distribution.SetInputConnection(vtk_reader.GetOutputPort())
        distribution.SetLayer("conv2")

        def build_distribution(i):
            distribution._cache = {}
            distribution.Modified()
            distribution.Update()

        def raw_histograms(_):
            raw = h5py.File(path, "r", locking=False)
            raw[F.series_path("conv2", F.HISTOGRAM, F.SERIES_VALUE)][:]
            raw[F.series_path("conv2", F.HISTOGRAM_RANGE, F.SERIES_VALUE)][:]
            raw.close()

        rows.append(("Distribution Over Time image (all)", median_seconds(build_distribution, 5),
                     median_seconds(raw_histograms, 5), 0.1))
        raw_file.close()
        fc = simple.WeightGlyphs(Input=reader, Layer="fc1")
        fc_time = median_seconds(lambda i: (fc.UpdatePipeline(float(args.steps * (i % 2))),
                                            fc.MarkModified(fc)), 3)
        print(f"\n{'what':<36} {'ms':>9} {'raw h5py ms':>12} {'ratio':>8} {'budget ms':>10}")
        for label, seconds, raw, budget in rows:
            print(f"{label:<36} {1000 * seconds:9.2f} {1000 * raw:12.3f} {seconds / raw:8.1f} "
                  f"{1000 * budget:10.0f}")
        print(f"{'Weight Glyphs fc1 (1.6 M boxes)':<36} {1000 * fc_time:9.0f} {'':>12} {'':>8} {2000:10.0f}")


if __name__ == "__main__":
    main()
