"""The reduction overview (beyond the poster): how many filters each conv layer of a run has
at the start and after each filter reduction, one row per layer, coloured by the share left."""

from paraview import simple

from ..algorithms.reduction_overview import filters_over_reductions
from .camera import data_bounds, flat_camera
from .colour import colour

WIDTH = 3.0  # a stage's column, in rows' heights: room for "step 12,345"
LIGHT = [1.0, 1.0, 1.0]
from .text import title
from .views import render_view, show_image


def render(run):
    """reduction_overview.png; skipped for a run without filter reduction."""
    stages, layers, counts, originals = filters_over_reductions(run.stored)
    if len(stages) < 2:
        return run.skipped("reduction", "the run has no filter reduction (tensorviz train "
                                        "--reduce)")
    overview = simple.ReductionOverview(Input=run.reader, registrationName="reduction overview")
    overview.UpdatePipeline(run.steps[-1])
    view = render_view(run.size)
    view.ViewTime = run.steps[-1]
    display = show_image(overview, view, 1)
    display.Scale = [WIDTH, 1.0, 1.0]
    colour(display, view, "share", "Blues", "share of the\nlayer's filters", (0.0, 1.0))
    share = counts / originals[:, None]
    for row, name in enumerate(layers):  # every layer named: these rows are the point
        run.labels.at(view, name, (-0.3, -row - 0.5, 0.0), 12, justification="Right")
        for column in range(len(stages)):
            label = run.labels.at(view, str(counts[row, column]),
                                  ((column + 0.5) * WIDTH, -row - 0.5, 0.0), 12)
            if share[row, column] < 0.35:  # dark blue under it: white text reads
                simple.GetDisplayProperties(label, view).Color = LIGHT
    for column, step in enumerate(stages):
        run.labels.at(view, "start" if column == 0 else f"step {step}",
                      ((column + 0.5) * WIDTH, -len(layers) - 0.7, 0.0), 12)
    before, after = int(originals.sum()), int(counts[:, -1].sum())
    title(view, "filters per conv layer at the start and after each reduction\n"
                f"{before} -> {after} conv filters in all; colour: the share of each layer's "
                "filters left", 16)
    bounds = data_bounds((overview, 1), scale=(WIDTH, 1.0, 1.0))
    flat_camera(view, [bounds[0] - 6.0, bounds[1], bounds[2] - 1.5, bounds[3] + 2.0]
                + list(bounds[4:]), margin=1.05, legend_room=0.2)
    run.save("reduction_overview.png", view)
