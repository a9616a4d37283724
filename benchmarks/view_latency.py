"""ParaView-side speed: opening a 10,000-step run, building the norm table, and the step-switch
latency of every view, each next to a raw h5py read of the same bytes (a ratio, measured in
the same run). Budgets (DESIGN.md): open < 0.5 s, norm table < 50 ms, step switch < 10 ms.

    pvpython benchmarks/view_latency.py [--steps 10000]      (PYTHONPATH = the checkout)
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tensorviz_pv import store_format as F  # noqa: E402
from tensorviz_pv.store import RunWriter, SeriesSpec  # noqa: E402

# the poster's network, and the default cadence of `tensorviz train`
LAYERS = [
    {"name": "conv1", "kind": F.CONV, "kernel_shape": [3, 3, 1, 16], "bias_shape": [16], "filters": 16,
     "activation_shape": [28, 28, 16]},
    {"name": "conv2", "kind": F.CONV, "kernel_shape": [3, 3, 16, 32], "bias_shape": [32], "filters": 32,
     "activation_shape": [14, 14, 32]},
    {"name": "fc1", "kind": F.DENSE, "kernel_shape": [1568, 1024], "bias_shape": [1024], "filters": 1024},
]
ACTIVATION_SHAPES = {"conv1": (16, 28, 28, 16), "conv2": (16, 14, 14, 32)}


def write_poster_shaped_run(path, steps, conv_every=10, activations_every=100):
    rng = np.random.default_rng(0)
    variables = [f"{l['name']}/kernel" for l in LAYERS] + [f"{l['name']}/bias" for l in LAYERS]
    specs = [SeriesSpec(l["name"], F.KERNEL, l["kernel_shape"]) for l in LAYERS]
    specs += [SeriesSpec(n, F.ACTIVATION, s) for n, s in ACTIVATION_SHAPES.items()]
    probe = rng.random((16, 28, 28, 1), dtype=np.float32), np.arange(16) % 10
    writer = RunWriter.create(path, {"layers": LAYERS}, variables, specs, *probe)
    kernels = {l["name"]: rng.normal(0, 0.1, l["kernel_shape"]).astype(np.float32) for l in LAYERS}
    for step in range(steps + 1):
        if step:
            norms = rng.random(len(variables))
            writer.add_step(step, step // 1100, 1.0 / step, 0.9, 0.05, norms, norms / 2)
        for layer in LAYERS:
            every = conv_every if layer["kind"] == F.CONV else steps
            if step % every == 0:
                kernels[layer["name"]] += rng.normal(0, 0.001, layer["kernel_shape"]).astype(np.float32)
                writer.add_tensor(layer["name"], F.KERNEL, step, kernels[layer["name"]])
        if step % activations_every == 0:
            for name, shape in ACTIVATION_SHAPES.items():
                act = np.maximum(rng.normal(size=shape), 0).astype(np.float32)
                writer.add_tensor(name, F.ACTIVATION, step, act)
        if step % 500 == 0:
            writer.flush()
    writer.close()


def median_seconds(function, repeats):
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        function(i)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--switches", type=int, default=100)
    args = parser.parse_args()
    from paraview import simple
    plugin = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "plugin", "TensorViz.xml")
    if not hasattr(simple, "TensorVizReader"):
        simple.LoadPlugin(plugin, ns=vars(simple))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "run.tvz")
        started = time.perf_counter()
        write_poster_shaped_run(path, args.steps)
        print(f"synthetic poster-shaped run: {args.steps} steps, "
              f"{os.path.getsize(path) / 1e6:.0f} MB, written in {time.perf_counter() - started:.1f} s")

        def raw_open(_):
            with h5py.File(path, "r", swmr=True) as f:
                f[F.steps_path(F.STEP)][:]
                for layer in LAYERS:
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
            with h5py.File(path, "r", swmr=True) as f:
                for column in F.STEP_COLUMNS:
                    f[F.steps_path(column)][:]
                f[F.norms_path(F.WEIGHT_NORM)][:]
                f[F.norms_path(F.GRADIENT_NORM)][:]

        # the table is built once per run change: time the algorithm itself, fresh each time
        from tensorviz_pv.norm_time_series import NormTimeSeries
        from tensorviz_pv.reader import TensorVizReader
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
        ]
        raw_file = h5py.File(path, "r", swmr=True)
        for label, view, layer, quantity in views:
            every = 10 if quantity == F.KERNEL else 100
            view.UpdatePipeline(0.0)  # first execution: caches (colour range, path) built once
            times = [float(every * (i + 1)) for i in range(args.switches)]
            times = [t % args.steps for t in times]
            values = raw_file[F.series_path(layer, quantity, F.SERIES_VALUE)]
            rows.append((f"step switch: {label}",
                         median_seconds(lambda i: view.UpdatePipeline(times[i]), args.switches),
                         median_seconds(lambda i: values[int(times[i]) // every], args.switches),
                         0.01))
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
