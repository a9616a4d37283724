"""Several runs side by side (the poster's hyper-parameter study, `tensorviz sweep`): a layer's
weight norm and the smoothed training accuracy over the steps, one line per run, coloured by
its swept value on a sequential scale (dark: the smallest), one legend for both charts."""

import os

import numpy as np
from paraview import simple

from .session import ensure_plugin, save_screenshot
from .style import chart_type_sizes, chart_view, show_columns

# Viridis from its dark end to its green (its light yellow end would not read on white)
SEQUENTIAL = [(0.0, (0.267, 0.005, 0.329)), (0.25, (0.231, 0.322, 0.545)),
              (0.5, (0.129, 0.569, 0.553)), (0.75, (0.369, 0.788, 0.384)),
              (0.85, (0.55, 0.83, 0.25))]


def swept_value(label):
    """The number a sweep label ends with ("lr 0.05" -> 0.05), None when it has none."""
    try:
        return float(label.split()[-1])
    except (ValueError, IndexError):
        return None


def run_colours(labels):
    """{label: (r, g, b)}: the runs in order of their swept value (given order when a label has
    none) spread over the sequential scale."""
    values = [swept_value(label) for label in labels]
    order = sorted(range(len(labels)), key=lambda i: values[i]) \
        if None not in values else list(range(len(labels)))
    positions = np.linspace(0.0, SEQUENTIAL[-1][0], len(labels)) if len(labels) > 1 else [0.0]
    anchors = np.array([at for at, _ in SEQUENTIAL])
    rgb = np.array([colour for _, colour in SEQUENTIAL])
    return {labels[i]: tuple(float(np.interp(at, anchors, rgb[:, c])) for c in range(3))
            for i, at in zip(order, positions)}


def render(stores, labels, out_dir, size, layer="conv1"):
    """sweep.png in `out_dir`: two charts of `size` side by side; returns its path."""
    ensure_plugin()
    layout = simple.CreateLayout("Comparison")
    layout.SplitHorizontal(0, 0.5)
    norm_chart = chart_view(size, f"{layer}: L2 norm of the weights", "training step", "L2 norm",
                            place=(layout, 1))
    norm_chart.ShowLegend = 0  # one legend, in the accuracy chart's empty upper left
    accuracy_chart = chart_view(size, "training accuracy (smoothed)", "training step",
                                "accuracy", place=(layout, 2))
    accuracy_chart.LeftAxisUseCustomRange = 1
    accuracy_chart.LeftAxisRangeMinimum, accuracy_chart.LeftAxisRangeMaximum = 0.0, 1.0
    for chart in (norm_chart, accuracy_chart):
        chart_type_sizes(chart)
    colours = run_colours(labels)
    ordered = sorted(zip(stores, labels), key=lambda run: list(colours).index(run[1]))
    for store, label in ordered:  # the legend lists the runs in order of value
        norms = simple.NormTimeSeries(Input=simple.TensorVizReader(FileName=store),
                                      registrationName=label)
        colour = [str(c) for c in colours[label]]
        for chart, column in ((norm_chart, f"{layer} weight norm"),
                              (accuracy_chart, "accuracy (smoothed)")):
            display = show_columns(norms, chart, [column])
            display.SeriesLabel = [column, label]
            display.SeriesColor = [column] + colour
            display.SeriesLineThickness = [column, "2"]
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "sweep.png")
    save_screenshot(path, layout, [size[0] * 2, size[1]])
    print(f"wrote {path}", flush=True)
    return path
