"""The house style of every figure and of the dashboard: white pages, dark text, one colour per
run or layer, colour bars on the right, 2D views framed from straight above."""

from paraview import servermanager, simple

from ..algorithms.base import LAYER_FIELD
from ..errors import FigureError

TEXT = [0.1, 0.1, 0.1]
TITLE_PX = 44  # screen pixels of a two-line title at 14 pt, with its padding
LABEL_PX = 18  # one line of a 12 pt label
HIGHLIGHT = [0.9, 0.1, 0.9]  # the picked filter's outline: a colour no colour map here uses
GREY = [0.62, 0.62, 0.62]  # "no value" (a dead or merged-away filter's correlation)
# one colour per layer (norm charts) or per run (comparisons)
PALETTE = [[0.85, 0.1, 0.1], [0.1, 0.3, 0.85], [0.1, 0.6, 0.2], [0.6, 0.3, 0.8],
           [0.9, 0.5, 0.1], [0.3, 0.3, 0.3]]


def field_value(source, name, port=0, row=0):
    """A one-value field-data array of a proxy's output (its data information; of a longer
    array, row 0 is the lowest value, row 1 the highest); FigureError when the view made no
    output (it said why in the output messages)."""
    info = source.GetDataInformation(port).DataInformation.GetFieldDataInformation()
    array = info.GetArrayInformation(name)
    if array is None:
        raise FigureError(f"{source.GetXMLLabel()} made no output (the message above says why)")
    return array.GetComponentRange(0)[row]


def array_range(source, name, port=0):
    """(lowest, highest) of a cell array of a proxy's output; FigureError when it has none."""
    info = source.GetDataInformation(port).DataInformation.GetCellDataInformation()
    array = info.GetArrayInformation(name)
    if array is None:
        raise FigureError(f"{source.GetXMLLabel()} made no output (the message above says why)")
    return array.GetComponentRange(0)


def has_preset(name):
    manager = servermanager.vtkSMTransferFunctionPresets
    presets = manager.GetInstance() if hasattr(manager, "GetInstance") else manager()
    return presets.HasPreset(name)


def place_view(view, place):
    """Put a view into a cell of a layout, `place` = (layout, cell) or None. Before anything is
    shown in it: the GUI resets a chart's series visibility when its view joins a layout."""
    if place is not None:
        simple.AssignViewToLayout(view=view, layout=place[0], hint=place[1])
    return view


def render_view(size, name=None, place=None):
    """A white render view (named in the GUI's pipeline and view lists when `name` is given),
    in `place` (layout, cell) when given."""
    view = place_view(simple.CreateView("RenderView", **({"registrationName": name} if name else {})),
                      place)
    view.ViewSize = list(size)
    view.Background = [1.0, 1.0, 1.0]
    if hasattr(view, "UseColorPaletteForBackground"):
        view.UseColorPaletteForBackground = 0
    view.OrientationAxesVisibility = 0
    return view


def chart_view(size, title, x_title, y_title, log_y=False, legend="TopLeft", place=None):
    """A line chart (size None: the layout it goes into decides), named by its title, in
    `place` (layout, cell) when given."""
    chart = place_view(simple.CreateView("XYChartView", registrationName=title), place)
    if size is not None:
        chart.ViewSize = list(size)
    chart.ChartTitle, chart.ChartTitleFontSize = title, 18
    chart.LeftAxisTitle, chart.BottomAxisTitle = y_title, x_title
    chart.LeftAxisLogScale = int(log_y)
    chart.LegendLocation = legend
    return chart


def chart_type_sizes(chart, compact=False):
    """The type of a chart: readable in a figure at half size, or in a dashboard's panel;
    returns the legend's size. (The sizes between: 13 to 16 points leave stray bits of other
    labels' glyphs beside tick labels in ParaView 5.11's charts; 11, 12, 17 and up do not.)"""
    title_size, axis_size, label_size = (14, 12, 11) if compact else (22, 20, 18)
    chart.ChartTitleFontSize = title_size
    chart.LeftAxisTitleFontSize = chart.BottomAxisTitleFontSize = axis_size
    chart.LeftAxisLabelFontSize = chart.BottomAxisLabelFontSize = label_size
    chart.LegendFontSize = legend_size = 11 if compact else 17
    return legend_size


def show_columns(source, chart, columns):
    """Show a table's columns in a line chart against its `step` column."""
    display = simple.Show(source, chart)
    display.UseIndexForXAxis = 0
    display.XArrayName = "step"
    display.SeriesVisibility = list(columns)
    return display


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


def label_format(limits):
    """One printf format for every label of a colour bar spanning `limits`."""
    largest = max(abs(float(v)) for v in limits) if limits is not None else 1.0
    if largest == 0 or 0.01 <= largest < 1000:
        digits = 2 if largest < 10 else 1 if largest < 100 else 0
        return f"%-#.{digits}f" if digits else "%-.0f"
    return "%-#.1e"


# labels drawn as polygons (parallel renders): (view, transform, pixels, anchor, justification,
# vertical, bounds of the text at scale 1); fit_polygon_labels sizes them once cameras are set
POLYGON_LABELS = []
CAP_HEIGHT = 0.72  # a font's capital letters: this share of its size in pixels


def parallel_render():
    """Whether the views render on several MPI ranks (pvbatch or pvserver under mpiexec)."""
    return servermanager.ActiveConnection.GetNumberOfDataPartitions() > 1


def label_at(view, text, position, size=14, justification="Center", vertical="Center"):
    """Text anchored at a point of the data (a billboard: it always faces the camera). In a
    parallel render, where ParaView 5.11 draws no billboard text, polygon text instead."""
    if parallel_render():
        return _polygon_label(view, text, position, size, justification, vertical)
    source = simple.Text(Text=text, registrationName=f"label: {text}")
    display = simple.Show(source, view)
    display.TextPropMode = "Billboard 3D Text"
    display.BillboardPosition = [float(v) for v in position]
    display.FontSize = size
    display.Justification = justification
    display.VerticalJustification = vertical
    display.Color = TEXT
    return source


def _polygon_label(view, text, position, size, justification, vertical):
    """A label as polygons (vector text) in the view's text colour, flat; its size in world
    units follows the camera, so fit_polygon_labels places it when the figure is saved."""
    source = simple.a3DText(Text=text, registrationName=f"label: {text}")
    source.UpdatePipeline()
    bounds = source.GetDataInformation().GetBounds()[:4]
    moved = simple.Transform(Input=source, registrationName=f"label: {text} (placed)")
    moved.Transform = "Transform"
    display = simple.Show(moved, view)
    display.AmbientColor = display.DiffuseColor = TEXT
    display.Ambient, display.Diffuse = 1.0, 0.0
    POLYGON_LABELS.append((view, moved, size, position, justification, vertical, bounds))
    return source


def fit_polygon_labels():
    """Size and anchor the polygon labels of the views there are to their cameras now: a
    capital letter CAP_HEIGHT x the font size in pixels, justified at its anchor."""
    views = set(simple.GetViews())
    POLYGON_LABELS[:] = [label for label in POLYGON_LABELS if label[0] in views]
    for view, moved, size, position, justification, vertical, (x0, x1, y0, y1) in POLYGON_LABELS:
        per_pixel = 2.0 * view.GetActiveCamera().GetParallelScale() / max(view.ViewSize[1], 1)
        scale = CAP_HEIGHT * size * per_pixel  # vector text's capitals are about 1 unit high
        width, height = (x1 - x0) * scale, (y1 - y0) * scale
        shift_x = {"Left": 0.0, "Center": width / 2, "Right": width}[justification]
        shift_y = {"Bottom": 0.0, "Center": height / 2, "Top": height}[vertical]
        moved.Transform.Scale = [scale, scale, scale]
        moved.Transform.Translate = [position[0] - shift_x - x0 * scale,
                                     position[1] - shift_y - y0 * scale, position[2]]


def index_labels(view, count, rows, height=None, texts=None, size=13, row_height=1.0):
    """Numbers (or `texts`) beside the pixel rows of an image made by set_image (left of x = 0)
    or under its columns (below its `height` rows), at the pixel centres: every one up to 16,
    else about 16 of them. `row_height`: the image's rows drawn that many times as tall."""
    every = 1 if count <= 16 else -(-count // 16)
    for i in range(0, count, every):
        text = str(i) if texts is None else texts[i]
        if rows:
            label_at(view, text, (-0.4, (-i - 0.5) * row_height, 0.0), size, justification="Right")
        else:
            label_at(view, text, (i + 0.5, -(height or count) * row_height - 0.7, 0.0), size)


def show_image(source, view, port=0):
    """An image made by set_image, its pixels drawn flat: as they are, unlit, not blended."""
    display = simple.Show(simple.OutputPort(source, port), view)
    display.Representation = "Surface"
    display.Ambient, display.Diffuse = 1.0, 0.0
    return display


def bar_position(view):
    """Where a colour bar's lower left corner goes: near the right edge, with room for its
    labels and title (about 110 pixels)."""
    return [min(0.86, max(0.78, 1.0 - 110.0 / view.ViewSize[0])), 0.1]


def colour(display, view, array, preset, bar_title, limits=None, association="CELLS"):
    """Colour a display by an array with a preset (fixed to `limits` when given), and show its
    colour bar at the right edge, every label in one number format."""
    simple.ColorBy(display, (association, array))
    lut = simple.GetColorTransferFunction(array)
    lut.ApplyPreset(preset, True)
    if limits is not None:
        lut.RescaleTransferFunction(*limits)
        lut.AutomaticRescaleRangeMode = "Never"
    lut.NanColor = [1.0, 1.0, 1.0]
    bar = simple.GetScalarBar(lut, view)
    bar.Title, bar.ComponentTitle = bar_title, ""
    bar.TitleColor = bar.LabelColor = TEXT
    bar.TitleFontSize, bar.LabelFontSize = 18, 16
    bar.WindowLocation = "Any Location"
    bar.Position = bar_position(view)
    bar.ScalarBarLength = 0.6
    bar.AutomaticLabelFormat = 0
    bar.LabelFormat = bar.RangeLabelFormat = label_format(limits)
    bar.Visibility = 1
    return lut


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


def data_bounds(*outputs, scale=(1.0, 1.0, 1.0)):
    """The bounds around the outputs ((proxy, port) pairs), each axis multiplied by `scale`."""
    boxes = [source.GetDataInformation(port).GetBounds() for source, port in outputs]
    union = [min(b[i] for b in boxes) if i % 2 == 0 else max(b[i] for b in boxes)
             for i in range(6)]
    return [value * scale[i // 2] for i, value in enumerate(union)]


def flat_camera(view, bounds, margin=1.15, legend_room=0.2, text_px=(0, 0)):
    """Look straight down at 2D data within `bounds` in the view's size (its panel's size:
    render_view sets it, also for a view that a layout will size), leaving `legend_room` of
    the width, at the right edge, to the legend, and `text_px` = (top, left) screen pixels
    beside the data for text of a fixed size (a title, row labels) at any view size."""
    view.InteractionMode = "2D"
    view.ResetCamera(False)
    camera = view.GetActiveCamera()
    camera.SetParallelProjection(True)
    width, height = bounds[1] - bounds[0], bounds[3] - bounds[2]
    pixels_wide, pixels_high = view.ViewSize
    top_px, left_px = text_px
    shown = width / (1.0 - legend_room)  # the data's width and the legend's
    # data units per screen pixel: the data (with margin) and the text's pixels both fit
    unit = max(margin * shown / max(pixels_wide - margin * left_px, 1),
               margin * height / max(pixels_high - margin * top_px, 1))
    camera.SetParallelScale(unit * pixels_high / 2)
    cx = bounds[0] - left_px * unit + (left_px * unit + shown) / 2
    cy = bounds[2] + (height + top_px * unit) / 2
    camera.SetFocalPoint(cx, cy, 0)
    camera.SetPosition(cx, cy, 100)
    camera.SetViewUp(0, 1, 0)
