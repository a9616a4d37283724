"""Text in the figures: titles (one that names the layer its view draws, also after the Layer
is changed by hand), and the labels of a set of figures, anchored at points of the data:
billboards, or polygons where a parallel render draws no billboard text."""

import math
from collections import namedtuple

from paraview import servermanager, simple

from ..algorithms.base import LAYER_FIELD
from .colour import GLYPH_WIDTH, TEXT
from .views import on_resize

TITLE_PX = 44  # screen pixels of a two-line title at 14 pt, with its padding
LABEL_PX = 18  # one line of a 12 pt label
CAP_HEIGHT = 0.72  # a font's capital letters: this share of its size in pixels
LINE_HEIGHT = 1.2  # a line of text: this share of its font size in pixels
TITLE_PADDING = 6  # pixels above a title (ParaView's) and below it (ours)


def title_px(text, size):
    """Screen pixels from a view's top edge to the bottom of a title of `text` (its lines)
    at `size` points: what the data framed below it must leave free."""
    return int(round((text.count("\n") + 1) * LINE_HEIGHT * size)) + 2 * TITLE_PADDING


def title(view, text, size=22, location="Upper Center", follow=None, layer=None):
    """A line of text in the view; returns its source, named by its text in the pipeline
    browser. With `follow`, a TensorViz view's source (or (source, port)) showing `layer`: the
    text names the layer that source draws, also after its Layer is changed by hand (a Python
    Annotation of the 'layer' field array every TensorViz view puts out); else a Text source
    (set .Text to change it)."""
    name = "title: " + text.split("\n")[0][:48]
    if follow is None:
        source = simple.Text(Text=text, registrationName=name)
    else:
        source = simple.PythonAnnotation(Input=simple.OutputPort(*follow) if isinstance(
            follow, tuple) else follow, ArrayAssociation="Field Data",
            Expression=_naming_the_layer(text, layer), registrationName=name)
    display = simple.Show(source, view)
    display.WindowLocation = location
    display.FontSize = size
    display.Color = TEXT
    return source


def _naming_the_layer(text, layer):
    """A Python Annotation expression: `text` with `layer` replaced by the one in its input's
    'layer' field array (`layer` itself where there is none: an MPI rank that drew nothing)."""
    mark = "\x00"
    return (f"{text.replace(layer, mark)!r}.replace({mark!r}, input.FieldData[{LAYER_FIELD!r}]"
            f".GetValue(0) if {LAYER_FIELD!r} in input.FieldData.keys() else {layer!r})")


def parallel_render():
    """Whether the views render on several MPI ranks (pvbatch or pvserver under mpiexec)."""
    return servermanager.ActiveConnection.GetNumberOfDataPartitions() > 1


def label_stride(apart, need, per_pixel):
    """Show every k-th of labels `apart` data units apart, each `need` pixels long, at
    `per_pixel` data units per screen pixel: returns k (1: all of them)."""
    return max(1, math.ceil(need * per_pixel / max(apart, 1e-12)))


def _thin(view, labels, apart, need, pixels_high):
    """Show every k-th of a row or column of labels, as many as the view's camera leaves room
    for (views.on_resize calls this after the camera is framed)."""
    per_pixel = 2.0 * view.GetActiveCamera().GetParallelScale() / max(pixels_high, 1)
    stride = label_stride(apart, need, per_pixel)
    for i, label in enumerate(labels):
        display = simple.GetDisplayProperties(label, view)
        visible = int(i % stride == 0)
        if display.Visibility != visible:
            display.Visibility = visible


# a label drawn as polygons: its view, its Transform, its size in pixels, anchor, justification,
# vertical justification and the bounds (x0, x1, y0, y1) of its text at scale 1
_Polygon = namedtuple("_Polygon", "view moved size position justification vertical bounds")


class Labels:
    """The labels of one set of figures, each anchored at a point of the data (a FigureRun or a
    Comparison owns one, `labels`, and saves its figures through it). A label is a billboard,
    which always faces the camera; in a parallel render, where ParaView 5.11 draws no billboard
    text, it is polygon text instead, whose size in world units follows the camera: fit() sizes
    and anchors those once the cameras are set."""

    def __init__(self):
        self._polygons = []

    def at(self, view, text, position, size=14, justification="Center", vertical="Center"):
        """Text anchored at `position` in the view; returns its source."""
        if parallel_render():
            return self._polygon(view, text, position, size, justification, vertical)
        source = simple.Text(Text=text, registrationName=f"label: {text}")
        display = simple.Show(source, view)
        display.TextPropMode = "Billboard 3D Text"
        display.BillboardPosition = [float(v) for v in position]
        display.FontSize = size
        display.Justification = justification
        display.VerticalJustification = vertical
        display.Color = TEXT
        return source

    def index(self, view, count, rows, height=None, texts=None, size=13, row_height=1.0):
        """Numbers (or `texts`) beside the pixel rows of an image made by set_image (left of
        x = 0) or under its columns (below its `height` rows), at the pixel centres: every one
        up to 16, else about 16 of them. `row_height`: the image's rows drawn that many times
        as tall."""
        every = 1 if count <= 16 else -(-count // 16)
        shown = []
        for i in range(0, count, every):
            text = str(i) if texts is None else texts[i]
            if rows:
                shown.append(self.at(view, text, (-0.4, (-i - 0.5) * row_height, 0.0), size,
                                     justification="Right"))
            else:
                shown.append(self.at(view, text, (i + 0.5, -(height or count) * row_height - 0.7,
                                                  0.0), size))
        # in a small view the rows are closer than a line of text: only every k-th label
        apart = row_height * every if rows else every  # data units between two labels
        need = size if rows else GLYPH_WIDTH * size * max(
            len(str(count - 1)), *(len(t) for t in texts or [""])) + 4
        if not parallel_render():
            on_resize(view, ("index", rows), lambda view, pixels: _thin(
                view, shown, apart, need, pixels[1]))

    def _polygon(self, view, text, position, size, justification, vertical):
        """A label as polygons (vector text) in the view's text colour, flat; fit() places it."""
        source = simple.a3DText(Text=text, registrationName=f"label: {text}")
        source.UpdatePipeline()
        bounds = source.GetDataInformation().GetBounds()[:4]
        moved = simple.Transform(Input=source, registrationName=f"label: {text} (placed)")
        moved.Transform = "Transform"
        display = simple.Show(moved, view)
        display.AmbientColor = display.DiffuseColor = TEXT
        display.Ambient, display.Diffuse = 1.0, 0.0
        self._polygons.append(_Polygon(view, moved, size, position, justification, vertical,
                                       bounds))
        return source

    def fit(self):
        """Size and anchor the polygon labels of the views there still are to their cameras
        now (before a figure is saved): a capital letter CAP_HEIGHT x the font size in pixels,
        justified at its anchor."""
        views = set(simple.GetViews())
        self._polygons = [label for label in self._polygons if label.view in views]
        for view, moved, size, position, justification, vertical, bounds in self._polygons:
            x0, x1, y0, y1 = bounds
            per_pixel = 2.0 * view.GetActiveCamera().GetParallelScale() / max(view.ViewSize[1], 1)
            scale = CAP_HEIGHT * size * per_pixel  # vector text's capitals are about 1 unit high
            width, height = (x1 - x0) * scale, (y1 - y0) * scale
            shift_x = {"Left": 0.0, "Center": width / 2, "Right": width}[justification]
            shift_y = {"Bottom": 0.0, "Center": height / 2, "Top": height}[vertical]
            moved.Transform.Scale = [scale, scale, scale]
            moved.Transform.Translate = [position[0] - shift_x - x0 * scale,
                                         position[1] - shift_y - y0 * scale, position[2]]
