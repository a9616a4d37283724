"""Fig. 3 left: the layers' weight norms (solid) and gradient norms (dashed) over the steps:
every layer of a small network, six spread over the depth of a large one."""

from paraview import simple

from ..store import format as F
from .style import PALETTE, chart_view, show_columns

MOST_LAYERS = 6  # lines of one colour each, more would not read


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


def norm_chart(run, size=None):
    """A line chart of the run's Norm Time Series, one colour per layer; returns the chart."""
    layers = chart_layers(run)
    shown = "" if len(layers) == len(run.layers) else \
        f" ({len(layers)} of {len(run.layers)} layers)"
    chart = chart_view(size, "L2 norms over training" + shown, "training step", "L2 norm",
                       log_y=True)
    names = [f"{layer} {what} norm" for what in ("weight", "gradient") for layer in layers]
    display = show_columns(simple.NormTimeSeries(Input=run.reader), chart, names)
    colours, styles = [], []
    for index, name in enumerate(names):
        colour = PALETTE[(index % len(layers)) % len(PALETTE)]
        colours += [name] + [str(c) for c in colour]
        styles += [name, "1" if "weight" in name else "2"]  # gradients dashed
    display.SeriesColor = colours
    display.SeriesLineStyle = styles
    return chart


def render(run):
    run.save("fig3_norms.png", norm_chart(run, run.size))
