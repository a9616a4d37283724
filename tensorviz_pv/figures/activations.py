"""Fig. 4: a conv layer's activation maps for a probe image beside the Pearson correlation
heatmap of its filters, for the first two conv layers; the panels serve the dashboard too."""

from paraview import simple

from .style import axes, colour, data_bounds, field_value, flat_camera, render_view, title


def activation_panel(run, view, layer, step, probe_image):
    """A layer's activation maps for one probe image, the image itself on the left."""
    maps = simple.ActivationMaps(Input=run.reader, Layer=layer, ProbeImage=probe_image)
    maps.UpdatePipeline(step)
    tiles = simple.Show(maps, view)
    tiles.Representation = "Slice"
    colour(tiles, view, "activation", "Inferno (matplotlib)", "activation", association="POINTS")
    picture = simple.Show(simple.OutputPort(maps, 1), view)
    picture.Representation = "Slice"
    simple.ColorBy(picture, ("POINTS", "input"))
    gray = simple.GetColorTransferFunction("input")
    gray.ApplyPreset("Grayscale", True)
    gray.RescaleTransferFunction(0.0, 1.0)
    simple.HideScalarBarIfNotNeeded(gray, view)
    label = int(field_value(maps, "label"))
    title(view, f"{layer} activations, probe image {probe_image} (label {label})", 16)
    view.ViewTime = step
    # the input image sits left of the tiles: frame both
    flat_camera(view, data_bounds((maps, 0), (maps, 1)), run.size)
    return maps


def correlation_panel(run, view, layer, step):
    """The Pearson correlation heatmap of a layer's filters."""
    correlation = simple.FilterCorrelation(Input=run.reader, Layer=layer)
    heat = simple.Show(simple.OutputPort(correlation, 1), view)
    heat.Representation = "Slice"
    colour(heat, view, "correlation", "Cool to Warm", "Pearson r", (-1.0, 1.0),
           association="POINTS")
    correlation.UpdatePipeline(step)
    title(view, f"{layer} filter correlation", 16)
    view.ViewTime = step
    axes(view, "filter (row 0 at the top)", "", label_y=False)
    flat_camera(view, data_bounds((correlation, 1)), run.size, margin=1.45)
    return correlation


def render(run, probe_image=0):
    """fig4_<layer>.png for the first two conv layers, at the last step."""
    step = run.steps[-1]
    if not run.activation_layers:
        run.skipped("fig4", "no probe activations were recorded")
    for layer in run.activation_layers[:2]:
        layout = simple.CreateLayout(f"Fig. 4 {layer}")
        layout.SplitHorizontal(0, 0.5)
        view = render_view(run.size)
        simple.AssignViewToLayout(view=view, layout=layout, hint=1)
        activation_panel(run, view, layer, step, probe_image)
        heat_view = render_view(run.size)
        simple.AssignViewToLayout(view=heat_view, layout=layout, hint=2)
        correlation = correlation_panel(run, heat_view, layer, step)
        groups = int(field_value(correlation, "groups", 1))
        title(view, f"step {int(step)}", 16, "Lower Center")
        title(heat_view, f"step {int(step)}: {groups} groups at r >= 0.85", 16, "Lower Center")
        run.save(f"fig4_{layer}.png", layout, (run.size[0] * 2, run.size[1]))
