"""Where the figures look from: 2D data framed from straight above with room for its text and
colour bar, and the axes under a 2D plot."""

import itertools
import math

from ..analysis.figure_layout import fit_into
from .colour import TEXT
from .views import on_resize


def data_bounds(*outputs, scale=(1.0, 1.0, 1.0)):
    """The bounds around the outputs ((proxy, port) pairs), each axis multiplied by `scale`."""
    boxes = [source.GetDataInformation(port).GetBounds() for source, port in outputs]
    union = [min(b[i] for b in boxes) if i % 2 == 0 else max(b[i] for b in boxes)
             for i in range(6)]
    return [value * scale[i // 2] for i, value in enumerate(union)]


def flat_camera(view, bounds, margin=1.15, legend_room=0.2, text_px=(0, 0)):
    """Look straight down at 2D data within `bounds`, leaving `legend_room` of the width, at
    the right edge, to the legend, and `text_px` = (top, left[, bottom]) screen pixels beside
    the data for text of a fixed size (a title, row labels, labels under it); framed for the view's size now and again
    whenever it is shown at another (views.on_resize)."""
    view.InteractionMode = "2D"
    view.ResetCamera(False)
    view.GetActiveCamera().SetParallelProjection(True)
    on_resize(view, "camera", lambda view, size: frame(view.GetActiveCamera(), size, bounds,
                                                       margin, legend_room, text_px))


def frame(camera, size, bounds, margin, legend_room, text_px):
    """Point a parallel camera at `bounds` for a view of `size` pixels (see flat_camera);
    returns the data units per screen pixel."""
    width, height = bounds[1] - bounds[0], bounds[3] - bounds[2]
    pixels_wide, pixels_high = size
    top_px, left_px, bottom_px = (tuple(text_px) + (0,))[:3]
    shown = width / (1.0 - legend_room)  # the data's width and the legend's
    # data units per screen pixel: the data (with margin) and the text's pixels both fit
    unit = max(margin * shown / max(pixels_wide - margin * left_px, 1),
               margin * height / max(pixels_high - margin * (top_px + bottom_px), 1))
    camera.SetParallelScale(unit * pixels_high / 2)
    cx = bounds[0] - left_px * unit + (left_px * unit + shown) / 2
    cy = bounds[2] + (height + (top_px - bottom_px) * unit) / 2
    camera.SetFocalPoint(cx, cy, 0)
    camera.SetPosition(cx, cy, 100)
    camera.SetViewUp(0, 1, 0)
    return unit


def screen_box(view, bounds):
    """(x0, x1, y0, y1) of the corners of `bounds`, seen by the view's camera, in normalized
    view coordinates (-1..1 across and up the view)."""
    width, height = view.ViewSize
    matrix = view.GetActiveCamera().GetCompositeProjectionTransformMatrix(width / height, -1, 1)
    seen = []
    for corner in itertools.product(bounds[0:2], bounds[2:4], bounds[4:6]):
        x, y, _, w = matrix.MultiplyPoint(list(corner) + [1.0])
        seen.append((x / w, y / w))
    xs, ys = zip(*seen)
    return min(xs), max(xs), min(ys), max(ys)


def fit_camera(view, bounds, target, rounds=3):
    """Zoom and pan a perspective camera until the data within `bounds` fills `target`
    (x0, x1, y0, y1 in normalized view coordinates: the room the title and legend leave)."""
    camera = view.GetActiveCamera()
    width, height = view.ViewSize
    for _ in range(rounds):  # points at other depths than the focal point's move a bit less
        scale, dx, dy = fit_into(screen_box(view, bounds), target)
        camera.Zoom(scale)
        half_high = camera.GetDistance() * math.tan(math.radians(camera.GetViewAngle() / 2))
        right = camera.GetViewTransformMatrix()
        shift = [-(dx * half_high * width / height) * right.GetElement(0, i)
                 - dy * half_high * right.GetElement(1, i) for i in range(3)]
        focal, position = camera.GetFocalPoint(), camera.GetPosition()
        camera.SetFocalPoint(*[f + d for f, d in zip(focal, shift)])
        camera.SetPosition(*[p + d for p, d in zip(position, shift)])


def axes(view, x_title, y_title, scale=(1.0, 1.0, 1.0)):
    """Axes under a 2D plot, labelled once: x at the bottom, y at the left."""
    grid = view.AxesGrid
    grid.Visibility = 1
    # the mask names the edges that carry labels: for the -Z face, 0x02 the bottom, 0x01 the left
    grid.AxesToLabel = 0x01 | 0x02
    grid.XTitle, grid.YTitle = x_title, y_title
    grid.DataScale = list(scale)
    grid.ShowEdges = 0
    grid.FacesToRender = 4  # the -Z face only (bit 4): one set of axes under a 2D plot
    for attribute in ("XTitleColor", "YTitleColor", "XLabelColor", "YLabelColor", "GridColor"):
        setattr(grid, attribute, TEXT)
    grid.XTitleFontSize = grid.YTitleFontSize = 16
    grid.XLabelFontSize = grid.YLabelFontSize = 14
