"""Fig. 5: which of the first (or a chosen) conv layer's filters group together (r >= 0.85, transitively) at
each activation snapshot, one colour per group; filters merged away by filter reduction and
dead filters in two greys, each snapshot row labelled with its step."""

from paraview import simple

from .camera import data_bounds, flat_camera
from .colour import TEXT
from .outputs import array_range, field_value
from .text import title
from .views import render_view, show_image

# group colours that tell neighbours apart (Okabe-Ito, then Tableau), cycled past 16
GROUP_COLOURS = [[0.90, 0.62, 0.00], [0.34, 0.71, 0.91], [0.00, 0.62, 0.45],
                 [0.94, 0.89, 0.26], [0.00, 0.45, 0.70], [0.84, 0.37, 0.00],
                 [0.80, 0.47, 0.65], [0.45, 0.20, 0.55], [0.60, 0.65, 0.05],
                 [0.55, 0.30, 0.15], [0.10, 0.15, 0.45], [1.00, 0.75, 0.80],
                 [0.10, 0.35, 0.15], [0.55, 0.85, 0.75], [0.85, 0.10, 0.45],
                 [0.60, 0.55, 1.00]]  # Okabe-Ito's seven, then nine more: any two far apart
MERGED, DEAD = [0.35, 0.35, 0.35], [0.78, 0.78, 0.78]


def categorical(lut, groups):
    """One colour per group id 0..groups-1, the two greys for -2 and -1, no blending."""
    lut.InterpretValuesAsCategories = 1
    annotations, colours = ["-2", "merged away", "-1", "dead"], MERGED + DEAD
    for group in range(groups):
        annotations += [str(group), f"group {group}"]
        colours += GROUP_COLOURS[group % len(GROUP_COLOURS)]
    lut.Annotations, lut.IndexedColors = annotations, colours


def render(run, layer=None):
    """fig5_groups.png: the filter groups of the first conv layer (or of `layer`)."""
    if not run.activation_layers:
        return run.skipped("fig5", "no probe activations were recorded")
    if layer and layer not in run.activation_layers:
        return run.skipped("fig5", f"no probe activations were recorded for {layer}")
    layer = layer or run.activation_layers[0]
    run.require(layer, "activation")
    groups = simple.FilterGroups(Input=run.reader, Layer=layer,
                                registrationName=f"{layer} filter groups")
    groups.UpdatePipeline(run.steps[-1])
    # the rows' steps: the activation snapshots
    steps = [int(s) for s in run.stored.series_steps(layer, "activation")]
    view = render_view(run.size)
    view.ViewTime = run.steps[-1]  # a Show updates at the view's time: the run's end
    image = show_image(groups, view, 1)
    simple.ColorBy(image, ("CELLS", "group"))
    lut = simple.GetColorTransferFunction("group")
    most = int(array_range(groups, "group", port=1)[1]) + 1
    categorical(lut, most)
    bar = simple.GetScalarBar(lut, view)
    bar.Title, bar.ComponentTitle = "", ""
    bar.LabelColor, bar.LabelFontSize = TEXT, 14
    bar.TextPosition = "Ticks left/bottom, annotations right/top"  # the names clear of the data
    legend_width = 150.0  # pixels: the bar and "merged away"
    bar.WindowLocation, bar.ScalarBarLength = "Any Location", 0.8
    bar.Position = [1.0 - legend_width / run.size[0], 0.1]
    bar.Visibility = 1
    filters = run.entries[layer]["filters"]
    # rows taller when there are few snapshots: the figure about as tall as wide
    row_height = float(min(3.0, max(1.0, 0.6 * filters / len(steps))))
    image.Scale = [1.0, row_height, 1.0]
    run.labels.index(view, filters, rows=False, height=len(steps), row_height=row_height)
    run.labels.index(view, len(steps), rows=True, texts=[f"step {step}" for step in steps],
                     row_height=row_height)
    merged = groups.GetDataInformation(0).DataInformation.GetFieldDataInformation() \
        .GetArrayInformation("merge_step").GetNumberOfTuples()
    now = int(field_value(groups, "filters_now"))
    lineage = f"; {filters} -> {now} filters by reduction" if merged else ""
    title(view, f"{layer}: filter groups at r >= 0.85{lineage}\n"
                "one colour per group of correlated filters, at each activation snapshot", 17)
    run.labels.at(view, "filter", (filters / 2, -len(steps) * row_height - 2.0, 0.0), 14)
    bounds = data_bounds((groups, 1), scale=(1.0, row_height, 1.0))
    flat_camera(view, [bounds[0] - 6, bounds[1], bounds[2] - 2.5, bounds[3]] + bounds[4:],
                margin=1.1, legend_room=(legend_width + 20) / run.size[0])
    run.save("fig5_groups.png", view)
