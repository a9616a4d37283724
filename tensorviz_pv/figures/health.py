"""Fig. 7 and Fig. 8 (beyond the poster): training health of the first layer with histograms.
Fig. 7: its weights', gradients' and updates' histograms at every recorded step (step down,
value across, log counts); Fig. 8: each filter's gradient norm over the steps and its dead
fraction at the activation snapshots."""

from paraview import simple

from ..store import format as F
from ..store.reader import RunReader
from ..algorithms.filter_health import ARRAYS
from ..analysis.figure_layout import short_number
from ..analysis.health import alerts
from .camera import data_bounds, flat_camera
from .colour import GLYPH_WIDTH, colour
from .outputs import field_value
from .text import LABEL_PX, title
from .views import render_view, show_image


INDEX_SIZE = 13  # points: the filter numbers


def health_layer(run):
    """The first layer with histograms (None in runs of an older TensorViz)."""
    stored = run.stored
    return next((name for name in stored.layers if stored.has_series(name, F.HISTOGRAM)), None)


def image_panel(run, view, source, array, preset, bar_title, heading, scale, labels,
                limits=None, left_px=70):
    """An image output drawn `scale`d to a square-ish panel, coloured (on `limits` when given),
    titled; `labels`: [(text, (x, y), justification)] in the image's own pixel units;
    `left_px`: screen pixels left of the image for the labels there."""
    display = show_image(source, view)
    display.Scale = [scale[0], scale[1], 1.0]
    colour(display, view, array, preset, bar_title, limits)
    for text, (x, y), justification in labels:
        run.labels.at(view, text, (x * scale[0], y * scale[1], 0.0), 13,
                      justification=justification)
    if heading:
        title(view, heading, 16)
    bounds = data_bounds((source, 0), scale=(scale[0], scale[1], 1.0))
    # room for the title (or the dashboard's alerts), the row labels and the labels below
    flat_camera(view, bounds, margin=1.2, legend_room=0.28, text_px=(50, left_px, LABEL_PX))


def step_labels(steps):
    """A few (text, position) along the step axis: first, middle, last."""
    picks = sorted({0, len(steps) // 2, len(steps) - 1})
    return [(f"step {int(steps[i])}", i + 0.5) for i in picks]


def render(run):
    """fig7_distributions.png: the layer's weights', gradients' and updates' histograms."""
    layer = health_layer(run)
    if layer is None:
        return run.skipped("fig7", "no histograms were recorded (a run of an older TensorViz)")
    steps = run.stored.series_steps(layer, F.HISTOGRAM)
    layout = simple.CreateLayout("Fig. 7")
    layout.SplitHorizontal(0, 0.33)
    layout.SplitHorizontal(2, 0.5)
    for cell, (index, name) in zip((1, 5, 6), enumerate(F.HISTOGRAM_OF)):
        view = render_view(run.size, place=(layout, cell))
        view.ViewTime = run.steps[-1]
        source = simple.DistributionOverTime(Input=run.reader, Layer=layer, Quantity=index,
                                             registrationName=f"{layer} {name} over time")
        source.UpdatePipeline(run.steps[-1])
        r = field_value(source, "range")
        bins = F.HISTOGRAM_BINS
        scale = (1.0, bins / max(len(steps), 1))
        below = -len(steps) - 0.06 * len(steps)
        labels = [(short_number(-r), (0, below), "Left"), ("0", (bins / 2, below), "Center"),
                  (short_number(r), (bins, below), "Right")]
        labels += [(text, (-1, -row), "Right") for text, row in step_labels(steps)]
        image_panel(run, view, source, "log_count", "Inferno (matplotlib)", "log10(1+count)",
                    f"{layer} {name}: histogram at each recorded step\n(step down, value across)",
                    scale, labels)
    run.save("fig7_distributions.png", layout, (run.size[0] * 3, run.size[1]))


NO_ALERTS = "no alerts"


def alerts_text(store, most=4):
    """The run's alerts as a few lines for a view ("no alerts" when there are none)."""
    with RunReader(store) as stored:
        found = alerts(**stored.health_inputs())
    if not found:
        return NO_ALERTS
    lines = [alert.headline for alert in found[:most]]
    if len(found) > most:
        lines.append(f"and {len(found) - most} more: tensorviz info")
    return "\n".join(lines)


def health_panel(run, view, layer, statistic=0, caption=True, aspect=1.0):
    """Each filter's gradient norm (log10) at every step (statistic 0), or its fraction of
    zero outputs at the activation snapshots (2); filter 0 at the top, time to the right; no
    title without `caption` (the dashboard's view is named, and shows the alerts there).
    `aspect`: the image's width over its height (a wide, low view: more than 1)."""
    name = {0: "gradient norm (log10)", 2: "fraction of zero outputs (dead: 1)"}[statistic]
    source = simple.FilterHealth(Input=run.reader, Layer=layer, Statistic=statistic,
                                 registrationName=f"{layer} {name}")
    source.UpdatePipeline(run.steps[-1])
    steps = run.stored.series_steps(layer, F.FILTER_NORMS if statistic == 0 else
                                    F.ACTIVATION_STATS)
    filters, columns = run.entries[layer]["filters"], len(steps)
    how = "white: no gradient, or merged away" if statistic == 0 else \
        "at the activation snapshots; white: merged away"
    image_panel(run, view, source, ARRAYS[statistic], "Viridis (matplotlib)" if statistic == 0
                else "Inferno (matplotlib)", "log10 |gradient|" if statistic == 0 else "zero outputs",
                f"{layer}: each filter's {name}\n(filter down, step across; {how})"
                if caption else "",
                (aspect * filters / max(columns, 1), 1.0),
                [(f"step {int(steps[0])}", (0, -filters - 1.5), "Left"),
                 (f"step {int(steps[-1])}", (columns, -filters - 1.5), "Right")],
                None if statistic == 0 else (0.0, 1.0),
                left_px=GLYPH_WIDTH * INDEX_SIZE * len(str(filters - 1)) + 16)  # filter numbers
    run.labels.index(view, filters, rows=True, size=INDEX_SIZE)
    return source


def render_health(run):
    """fig8_health.png: the layer's filter health, gradient norms | zero outputs."""
    layer = health_layer(run)
    if layer is None:
        return run.skipped("fig8", "no filter health was recorded (a run of an older TensorViz)")
    statistics = [index for index, series in ((0, F.FILTER_NORMS), (2, F.ACTIVATION_STATS))
                  if run.stored.has_series(layer, series)]
    if not statistics:
        return run.skipped("fig8", f"{layer}: no filter norms or activation statistics")
    layout = simple.CreateLayout("Fig. 8")
    layout.SplitHorizontal(0, 0.5)
    for cell, statistic in zip((1, 2), statistics):
        view = render_view(run.size, place=(layout, cell))
        view.ViewTime = run.steps[-1]
        health_panel(run, view, layer, statistic)
    run.save("fig8_health.png", layout, (run.size[0] * 2, run.size[1]))
