"""Fig. 4: a conv layer's activation maps for a probe image beside the Pearson correlation
heatmap of its filters, for the first two conv layers; the panels serve the dashboard too."""

from paraview import simple

from ..algorithms.filter_correlation import DRAWN
from ..analysis.tiles import strip_stretch
from .camera import data_bounds, flat_camera
from .colour import GREY, colour
from .outputs import field_value
from .text import title, title_px
from .views import render_view, show_image


def activation_panel(run, view, layer, step, probe_image):
    """A layer's activation maps for one probe image, the image itself on the left, on one
    colour scale for every step (the layer's range over all its snapshots)."""
    maps = simple.ActivationMaps(Input=run.reader, Layer=layer, ProbeImage=probe_image,
                                 registrationName=f"{layer} activation maps")
    view.ViewTime = step  # before anything is shown: a Show updates at the view's time
    maps.UpdatePipeline(step)
    tiles = show_image(maps, view)
    limits = (field_value(maps, "activation_range", row=0), field_value(maps, "activation_range", row=1))
    colour(tiles, view, "activation", "Inferno (matplotlib)", "activation", limits,
           association="CELLS")
    picture = show_image(maps, view, 1)
    simple.ColorBy(picture, ("CELLS", "input"))
    gray = simple.GetColorTransferFunction("input")
    gray.ApplyPreset("Grayscale", True)
    gray.RescaleTransferFunction(0.0, 1.0)
    simple.HideScalarBarIfNotNeeded(gray, view)
    label = int(field_value(maps, "label"))
    merged = int(field_value(maps, "merged_filters"))
    heading = f"{layer} activations\nprobe image {probe_image} (label {label})" + (
        f"\n(blank: {merged} filters merged away)" if merged else "")
    title(view, heading, 16, follow=maps, layer=layer)
    # the input image sits left of the tiles: frame both, a 1-D layer's strips stretched
    tiles.Scale, picture.Scale = strip_scales(run, layer, maps)
    boxes = [data_bounds((maps, port), scale=scale) for port, scale in
             enumerate((tiles.Scale, picture.Scale))]
    flat_camera(view, [min(a, b) if i % 2 == 0 else max(a, b)
                       for i, (a, b) in enumerate(zip(*boxes))], text_px=(title_px(heading, 16), 0))
    return maps


def strip_scales(run, layer, maps):
    """The display scales of Activation Maps' tiles and input picture: a 1-D layer's (one
    filter per row of pixels) stretched up to a readable height, the input as tall as the
    tiles; as they are for any other layer."""
    if len(run.entries[layer].get("activation_shape", ())) != 2:
        return [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]
    tiles, picture = (maps.GetDataInformation(port).GetExtent() for port in (0, 1))
    rows = tiles[3] - tiles[2]
    stretch = strip_stretch(rows, tiles[1] - tiles[0])
    return [1.0, stretch, 1.0], [1.0, stretch * rows / max(picture[3] - picture[2], 1), 1.0]


def correlation_panel(run, view, layer, step):
    """The Pearson correlation heatmap of a layer's filters, -1..1, filter numbers on both
    axes; pairs with no correlation (a dead or merged-away filter) grey."""
    correlation = simple.FilterCorrelation(Input=run.reader, Layer=layer,
                                           registrationName=f"{layer} filter correlation")
    view.ViewTime = step  # before anything is shown: a Show updates at the view's time
    correlation.UpdatePipeline(step)
    heat = show_image(correlation, view, 1)
    lut = colour(heat, view, DRAWN, "Cool to Warm", "Pearson r", (-1.0, 1.0),
                 association="CELLS")
    lut.NanColor = GREY
    dead = field_value(correlation, "dead_filters", port=1, row=1) >= 0
    merged = field_value(correlation, "merged_filters", port=1) > 0
    why = " or ".join(["merged away"] * merged + ["dead"] * dead)
    title(view, f"{layer} filter correlation" + (f"\n(grey: no value, the filter is {why})"
                                                  if why else ""), 16,
          follow=(correlation, 1), layer=layer)
    filters = run.entries[layer]["filters"]
    run.labels.index(view, filters, rows=True)
    run.labels.index(view, filters, rows=False)
    bounds = data_bounds((correlation, 1))
    flat_camera(view, [bounds[0] - 2, bounds[1], bounds[2] - 2, bounds[3]] + bounds[4:],
                margin=1.35)
    return correlation


def render(run, probe_image=0):
    """fig4_<layer>.png for the first two conv layers, at the last step."""
    step = run.steps[-1]
    if not run.activation_layers:
        run.skipped("fig4", "no probe activations were recorded")
    for layer in run.activation_layers[:2]:
        run.require(layer, "activation")
        layout = simple.CreateLayout(f"Fig. 4 {layer}")
        layout.SplitHorizontal(0, 0.5)
        view = render_view(run.size, place=(layout, 1))
        activation_panel(run, view, layer, step, probe_image)
        heat_view = render_view(run.size, place=(layout, 2))
        correlation = correlation_panel(run, heat_view, layer, step)
        groups = int(field_value(correlation, "groups", 1))
        title(view, f"step {int(step)}", 16, "Lower Center")
        title(heat_view, f"step {int(step)}: {groups} groups at r >= 0.85", 16, "Lower Center")
        run.save(f"fig4_{layer}.png", layout, (run.size[0] * 2, run.size[1]))
