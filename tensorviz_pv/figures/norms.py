"""Fig. 3 left: the layers' weight norms and gradient norms over the steps, in two panels with
one colour per layer (a small network's every layer, six spread over a large one's depth), each
with its power-law fit dashed, the current step marked, and the steps where a live training
was steered (figures/steering.py)."""

import math

from paraview import simple

from ..store import format as F
from .colour import PALETTE
from .outputs import field_value
from .steering import show_marks
from .views import chart_type_sizes, chart_view, show_columns, step_axis

MOST_LAYERS = 6  # lines of one colour each, more would not read
PANEL_HEIGHT = 330  # pixels, about, of a dashboard panel at ParaView's default window size
PANEL_WIDTH = 450


def chart_layers(run):
    """The layers drawn: all, or MOST_LAYERS of those with filters or units (not
    normalization layers), evenly spread from the first to the last."""
    if len(run.layers) <= MOST_LAYERS:
        return list(run.layers)
    candidates = [name for name in run.layers
                  if F.layer_kind(run.entries[name]).layout != "vector"] or list(run.layers)
    last = len(candidates) - 1
    picks = sorted({round(i * last / (MOST_LAYERS - 1)) for i in range(MOST_LAYERS)})
    return [candidates[i] for i in picks]


def norm_chart(run, what, size=None, place=None, compact=False):
    """A line chart of one kind of norm ("weight" or "gradient") of the chosen layers, one
    colour per layer; the weights' with their power-law fits dashed and the legend in the room
    left above the lines; in `place` (layout, cell) when given; returns the chart. Compact (a
    dashboard's panel): smaller type and no fits, whose legend entries would cover the lines."""
    layers = chart_layers(run)
    shown = "" if len(layers) == len(run.layers) else f", {len(layers)} of {len(run.layers)} layers"
    weights = what == "weight"
    chart = chart_view(size, f"L2 norm of the {what}s{shown}" + ("" if weights else
                       " (colours as the weights')"), "training step", "L2 norm", log_y=True,
                       place=place)
    legend_size = chart_type_sizes(chart, compact)
    chart.LeftAxisLabelNotation = "Mixed"
    chart.ShowLegend = int(weights)
    chart.HideTimeMarker = 0  # the current step: a vertical line
    table = simple.NormTimeSeries(Input=run.reader, registrationName=f"{what} norms")
    table.UpdatePipeline(run.steps[-1])
    names = [f"{layer} {what} norm" for layer in layers]
    fitted = weights and not compact
    fits = [f"{name} (power-law fit)" for name in names] if fitted else []
    display = show_columns(table, chart, names + fits)
    colours, styles, labels, widths = [], [], [], []
    for index, (layer, name) in enumerate(zip(layers, names)):
        colour = [str(c) for c in PALETTE[index % len(PALETTE)]]
        colours += [name] + colour
        labels += [name, layer]
        widths += [name, "2"]
        if fitted:
            fit, exponent = f"{name} (power-law fit)", field_value(table, f"{name} fit exponent")
            colours += [fit] + colour
            styles += [fit, "2"]  # dashed
            labels += [fit, f"{layer} fit ~ step^{exponent:.2f}"]
            widths += [fit, "1"]
    display.SeriesColor, display.SeriesLineStyle = colours, styles
    display.SeriesLabel, display.SeriesLineThickness = labels, widths
    low, high = column_range(table, names)
    low, high = low / 1.5, high * 1.5
    if weights:  # the legend in the room left above the lines
        plot_height = (size[1] if size else PANEL_HEIGHT) - 120  # less title and x axis
        high = legend_headroom(low, high, (len(names) + len(fits)) * legend_size * 1.25 / plot_height)
        chart.LegendLocation = "TopRight"  # clear of the y axis and its labels
    chart.LeftAxisUseCustomRange = 1
    chart.LeftAxisRangeMinimum, chart.LeftAxisRangeMaximum = low, high
    chart.LeftAxisUseCustomLabels = 1  # the log axis's own labels overlap at its ticks
    chart.LeftAxisLabels = [text for value in log_labels(low, high)
                            for text in (repr(value), f"{value:g}")]  # (position, label) pairs
    step_axis(chart, run.steps[0], run.steps[-1])
    show_marks(table, chart, size[0] if size else PANEL_WIDTH)  # a live training's steering
    chart.ViewTime = run.steps[-1]
    return chart


def legend_headroom(low, high, share):
    """The top of a log axis that leaves the legend, `share` of the plot's height, above data
    reaching `high` (the legend at most half the height)."""
    share = min(0.5, 0.04 + share)
    span = max(high / low, 3.0)  # flat lines still get a readable axis
    return low * span ** (1 / (1 - share))


def log_labels(low, high):
    """1, 2, 5, 10, 20... between low and high; over more than three decades only 1, 10,
    100... (1-2-5 labels would crowd)."""
    steps = (1, 2, 5) if high / low <= 1e3 else (1,)
    values, decade = [], 10.0 ** math.floor(math.log10(low))
    while decade <= high:
        values += [m * decade for m in steps if low <= m * decade <= high]
        decade *= 10
    return values


def column_range(source, names):
    """(lowest, highest) positive value over some columns of a table proxy's output."""
    info = source.GetDataInformation().DataInformation.GetRowDataInformation()
    ranges = [info.GetArrayInformation(name).GetComponentRange(0) for name in names
              if info.GetArrayInformation(name) is not None]
    low = min((r[0] for r in ranges if r[0] > 0), default=1e-3)
    return low, max((r[1] for r in ranges), default=1.0)


def render(run):
    """fig3_norms.png: weights left, gradients right."""
    layout = simple.CreateLayout("Fig. 3 norms")
    layout.SplitHorizontal(0, 0.5)
    for cell, what in zip((1, 2), ("weight", "gradient")):
        norm_chart(run, what, run.size, (layout, cell))
    run.save("fig3_norms.png", layout, (run.size[0] * 2, run.size[1]))
