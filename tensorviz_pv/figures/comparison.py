"""Several runs side by side (the poster's hyper-parameter study, `tensorviz sweep`): a layer's
weight norm and the smoothed training accuracy over the steps, one line (one colour) per run."""

import os

from paraview import simple

from .session import ensure_plugin
from .style import PALETTE, chart_view, show_columns


def render(stores, labels, out_dir, size, layer="conv1"):
    """sweep.png in `out_dir`: two charts of `size` side by side; returns its path."""
    ensure_plugin()
    layout = simple.CreateLayout("Comparison")
    layout.SplitHorizontal(0, 0.5)
    charts = []
    for cell, (column, chart_title, axis, legend) in zip((1, 2), [
            (f"{layer} weight norm", f"{layer}: L2 norm of the weights", "L2 norm", "BottomRight"),
            ("accuracy (smoothed)", "training accuracy (smoothed)", "accuracy", "TopLeft")]):
        chart = chart_view(size, chart_title, "training step", axis, legend=legend,
                           place=(layout, cell))
        charts.append((chart, column))
    for index, (store, label) in enumerate(zip(stores, labels)):
        norms = simple.NormTimeSeries(Input=simple.TensorVizReader(FileName=store))
        colour = [str(c) for c in PALETTE[index % len(PALETTE)]]
        for chart, column in charts:
            display = show_columns(norms, chart, [column])
            display.SeriesLabel = [column, label]
            display.SeriesColor = [column] + colour
            display.SeriesLineThickness = [column, "2"]
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "sweep.png")
    simple.SaveScreenshot(path, layout, ImageResolution=[size[0] * 2, size[1]])
    print(f"wrote {path}", flush=True)
    return path
