"""Fig. 3 left: every layer's weight norm (solid) and gradient norm (dashed) over the steps."""

from paraview import simple

from .style import PALETTE, chart_view, show_columns


def norm_chart(run, size=None):
    """A line chart of the run's Norm Time Series, one colour per layer; returns the chart."""
    chart = chart_view(size, "L2 norms over training", "training step", "L2 norm", log_y=True)
    names = [f"{layer} {what} norm" for what in ("weight", "gradient") for layer in run.layers]
    display = show_columns(simple.NormTimeSeries(Input=run.reader), chart, names)
    colours, styles = [], []
    for index, name in enumerate(names):
        colour = PALETTE[(index % len(run.layers)) % len(PALETTE)]
        colours += [name] + [str(c) for c in colour]
        styles += [name, "1" if "weight" in name else "2"]  # gradients dashed
    display.SeriesColor = colours
    display.SeriesLineStyle = styles
    return chart


def render(run):
    run.save("fig3_norms.png", norm_chart(run, run.size))
