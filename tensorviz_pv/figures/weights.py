"""Fig. 2: a layer's weight glyphs (one box per weight, height = weight) at three steps, and the
glyph set-up that the animation and the dashboard share."""

from paraview import simple

from .style import colour, field_value, render_view, title

HEIGHT_SCALE = 4.0  # conv weights are ~0.1-0.5: taller boxes read better


def three_steps(steps):
    """First, middle and last of the recorded steps (the poster shows 0, 4k and 8k)."""
    steps = sorted(steps)
    return [steps[0], steps[len(steps) // 2], steps[-1]]


def glyphs(run, layer=None):
    """(Weight Glyphs of `layer` (default: the first), its layer name, the run's largest
    |weight|, which the colour scale spans)."""
    proxy = simple.WeightGlyphs(Input=run.reader, HeightScale=HEIGHT_SCALE)
    if layer:
        proxy.Layer = layer
    proxy.UpdatePipeline(run.steps[-1])
    return proxy, proxy.Layer[0], field_value(proxy, "colour_limit")


def oblique_camera(view, source):
    """Look down at the grid from the front and a little above, as the poster does."""
    bounds = source.GetDataInformation().GetBounds()
    cx, cy = (bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2
    size = max(bounds[1] - bounds[0], bounds[3] - bounds[2])
    camera = view.GetActiveCamera()
    camera.SetFocalPoint(cx, cy, 0)
    camera.SetPosition(cx, cy - 1.1 * size, 1.5 * size)
    camera.SetViewUp(0, 0.8, 0.6)
    view.ResetCamera(False)
    camera.Zoom(1.1)
    shift = 0.14 * size  # slide right: the right edge is the colour legend's
    focal, position = camera.GetFocalPoint(), camera.GetPosition()
    camera.SetFocalPoint(focal[0] + shift, focal[1], focal[2])
    camera.SetPosition(position[0] + shift, position[1], position[2])


def show_glyphs(view, proxy, limit):
    """Glyphs in a view, coloured blue-white-red over the whole run's range, from above."""
    display = simple.Show(proxy, view)
    colour(display, view, "kernel", "Cool to Warm", "weight", (-limit, limit))
    oblique_camera(view, proxy)
    return display


def render(run, layer=None, steps=None):
    """fig2_weights.png (three steps side by side) and fig2_step<N>.png for each."""
    proxy, layer, limit = glyphs(run, layer)
    chosen = steps or three_steps(run.steps)
    layout = simple.CreateLayout("Fig. 2")
    layout.SplitHorizontal(0, 1.0 / 3.0)
    layout.SplitHorizontal(2, 0.5)
    for cell, step in zip((1, 5, 6), chosen):
        view = render_view(run.size)
        simple.AssignViewToLayout(view=view, layout=layout, hint=cell)
        proxy.UpdatePipeline(step)
        title(view, f"{layer} weights, step {int(step)}")
        view.ViewTime = step
        show_glyphs(view, proxy, limit)
        run.save(f"fig2_step{int(step)}.png", view)
    run.save("fig2_weights.png", layout, (run.size[0] * len(chosen), run.size[1]))
