"""Fig. 2: a layer's weight glyphs (one box per weight, height = weight) at three steps chosen
where the weights have visibly moved, and the glyph set-up that the animation and the dashboard
share."""

import numpy as np
from paraview import simple

from ..store import format as F
from .camera import data_bounds, fit_camera
from .colour import TEXT, colour
from .outputs import field_value
from .text import title
from .views import render_view

HEIGHT_SCALE = 4.0  # conv weights are ~0.1-0.5: taller boxes read better
GLYPH_ROOM = (-0.95, 0.6, -0.92, 0.8)  # the grid's share of the view: the title above, the legend right


def telling_steps(stored, layer, steps):
    """Three snapshot steps (of the store `stored`, a RunReader) where the weights have visibly
    moved: the first, the one where the distance from the first has come halfway to the last's,
    and the last (the poster showed 0, 4k and 8k of a long run). First, middle and last of
    `steps` when there is no kernel."""
    steps = sorted(steps)
    fallback = [steps[0], steps[len(steps) // 2], steps[-1]]
    quantity = F.shown_variable(stored.layer_info(layer))  # the glyphs' Weights
    if quantity is None or not stored.has_series(layer, quantity) or len(stored.series_steps(layer, quantity)) < 3:
        return fallback
    snapshots = stored.series_steps(layer, quantity)
    first = np.nan_to_num(stored.series_value(layer, quantity, 0))
    moved = np.array([np.linalg.norm(np.nan_to_num(stored.series_value(layer, quantity, i)) - first)
                      for i in range(len(snapshots))])
    halfway = int(np.argmax(moved >= moved[-1] / 2)) if moved[-1] > 0 else len(snapshots) // 2
    halfway = min(max(halfway, 1), len(snapshots) - 2)
    return [float(snapshots[0]), float(snapshots[halfway]), float(snapshots[-1])]


def glyphs(run, layer=None):
    """(Weight Glyphs of `layer` (default: the first), its layer name, the run's largest
    |weight|, which the colour scale spans)."""
    proxy = simple.WeightGlyphs(Input=run.reader, HeightScale=HEIGHT_SCALE,
                                registrationName=f"{layer or 'first layer'} weight glyphs")
    if layer:
        proxy.Layer = layer
    proxy.UpdatePipeline(run.steps[-1])
    return proxy, proxy.Layer[0], field_value(proxy, "colour_limit")


def oblique_camera(view, *sources):
    """Look at the grid from the front and above, low enough that the boxes that hang below
    the plane (negative weights) show as well as those that stand on it; the boxes and their
    labels (`sources`: (proxy, port)s) fill the room the title and the colour legend leave."""
    bounds = data_bounds(*sources)
    cx, cy = (bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2
    size = max(bounds[1] - bounds[0], bounds[3] - bounds[2])
    camera = view.GetActiveCamera()
    camera.SetFocalPoint(cx, cy, 0)
    camera.SetPosition(cx, cy - 1.4 * size, 1.1 * size)
    camera.SetViewUp(0, 0.62, 0.78)
    view.ResetCamera(False)
    fit_camera(view, bounds, GLYPH_ROOM)


def show_glyphs(view, proxy, limit):
    """Glyphs in a view, coloured blue-white-red over the whole run's range, their filter
    numbers above them, seen from the front and above."""
    display = simple.Show(proxy, view)
    colour(display, view, "kernel", "Cool to Warm", "weight", (-limit, limit))
    labels = simple.Show(simple.OutputPort(proxy, 1), view)
    labels.ColorArrayName = ["POINTS", ""]
    labels.AmbientColor = labels.DiffuseColor = TEXT
    oblique_camera(view, (proxy, 0), (proxy, 1))
    return display


def render(run, layer=None, steps=None):
    """fig2_weights.png (three steps side by side) and fig2_step<N>.png for each."""
    proxy, layer, limit = glyphs(run, layer)
    chosen = steps or telling_steps(run.stored, layer, run.steps)
    layout = simple.CreateLayout("Fig. 2")
    layout.SplitHorizontal(0, 1.0 / 3.0)
    layout.SplitHorizontal(2, 0.5)
    for cell, step in zip((1, 5, 6), chosen):
        view = render_view(run.size, place=(layout, cell))
        proxy.UpdatePipeline(step)
        merged = int(field_value(proxy, "merged_filters"))
        title(view, f"{layer} weights, step {int(step)}"
              + (f" ({merged} filters merged away)" if merged else ""))
        view.ViewTime = step
        show_glyphs(view, proxy, limit)
        run.save(f"fig2_step{int(step)}.png", view)
    run.save("fig2_weights.png", layout, (run.size[0] * len(chosen), run.size[1]))
