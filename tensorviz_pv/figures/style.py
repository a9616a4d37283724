"""The house style of every figure and of the dashboard: white pages, dark text, one colour per
run or layer, colour bars on the right, 2D views framed from straight above."""

from paraview import servermanager, simple

from ..errors import TensorVizError

TEXT = [0.1, 0.1, 0.1]
# one colour per layer (norm charts) or per run (comparisons)
PALETTE = [[0.85, 0.1, 0.1], [0.1, 0.3, 0.85], [0.1, 0.6, 0.2], [0.6, 0.3, 0.8],
           [0.9, 0.5, 0.1], [0.3, 0.3, 0.3]]


def field_value(source, name, port=0):
    """The first value of a field-data array of a proxy's output (its data information);
    FigureError when the view made no output (it said why in the output messages)."""
    info = source.GetDataInformation(port).DataInformation.GetFieldDataInformation()
    array = info.GetArrayInformation(name)
    if array is None:
        raise FigureError(f"{source.GetXMLLabel()} made no output (the message above says why)")
    return array.GetComponentRange(0)[0]


class FigureError(TensorVizError):
    """A figure that cannot be drawn from this run."""


def has_preset(name):
    manager = servermanager.vtkSMTransferFunctionPresets
    presets = manager.GetInstance() if hasattr(manager, "GetInstance") else manager()
    return presets.HasPreset(name)


def render_view(size):
    view = simple.CreateView("RenderView")
    view.ViewSize = list(size)
    view.Background = [1.0, 1.0, 1.0]
    if hasattr(view, "UseColorPaletteForBackground"):
        view.UseColorPaletteForBackground = 0
    view.OrientationAxesVisibility = 0
    return view


def chart_view(size, title, x_title, y_title, log_y=False, legend="TopLeft"):
    """A line chart (size None: the layout it goes into decides)."""
    chart = simple.CreateView("XYChartView")
    if size is not None:
        chart.ViewSize = list(size)
    chart.ChartTitle, chart.ChartTitleFontSize = title, 18
    chart.LeftAxisTitle, chart.BottomAxisTitle = y_title, x_title
    chart.LeftAxisLogScale = int(log_y)
    chart.LegendLocation = legend
    return chart


def show_columns(source, chart, columns):
    """Show a table's columns in a line chart against its `step` column."""
    display = simple.Show(source, chart)
    display.UseIndexForXAxis = 0
    display.XArrayName = "step"
    display.SeriesVisibility = list(columns)
    return display


def title(view, text, size=22, location="Upper Center"):
    """A line of text in the view; returns its Text source (set .Text to change it)."""
    source = simple.Text(Text=text)
    display = simple.Show(source, view)
    display.WindowLocation = location
    display.FontSize = size
    display.Color = TEXT
    return source


def colour(display, view, array, preset, bar_title, limits=None, association="CELLS"):
    """Colour a display by an array with a preset (fixed to `limits` when given), and show its
    colour bar at the right edge."""
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
    bar.WindowLocation = "Any Location"
    bar.Position = [0.86, 0.1]
    bar.ScalarBarLength = 0.6
    bar.Visibility = 1
    return lut


def axes(view, x_title, y_title, scale=(1.0, 1.0, 1.0), label_y=True):
    """Axes under a 2D plot. Images put row 0 at the top, at y = 0, -1, -2...: their y values
    would read negative, so label_y=False leaves them to the title."""
    grid = view.AxesGrid
    grid.Visibility = 1
    # the mask names the edges that carry labels: for the -Z face, 0x02/0x10 label x
    grid.AxesToLabel = 0x3F if label_y else 0x02 | 0x10
    grid.XTitle, grid.YTitle = x_title, y_title
    grid.DataScale = list(scale)
    grid.ShowEdges = 0
    grid.FacesToRender = 4  # the -Z face only (bit 4): one set of axes under a 2D plot
    for attribute in ("XTitleColor", "YTitleColor", "XLabelColor", "YLabelColor", "GridColor"):
        setattr(grid, attribute, TEXT)


def data_bounds(*outputs, scale=(1.0, 1.0, 1.0)):
    """The bounds around the outputs ((proxy, port) pairs), each axis multiplied by `scale`."""
    boxes = [source.GetDataInformation(port).GetBounds() for source, port in outputs]
    union = [min(b[i] for b in boxes) if i % 2 == 0 else max(b[i] for b in boxes)
             for i in range(6)]
    return [value * scale[i // 2] for i, value in enumerate(union)]


def flat_camera(view, bounds, size, margin=1.15):
    """Look straight down at 2D data within `bounds` in a view of `size` (the panel's size,
    also where a layout resizes the view), leaving the right edge to the legend."""
    view.InteractionMode = "2D"
    view.ResetCamera(False)
    camera = view.GetActiveCamera()
    camera.SetParallelProjection(True)
    width, height = bounds[1] - bounds[0], bounds[3] - bounds[2]
    aspect = size[0] / size[1]
    camera.SetParallelScale(margin * max(height, width / aspect * 1.25) / 2)
    cx, cy = (bounds[0] + bounds[1]) / 2 + 0.12 * width, (bounds[2] + bounds[3]) / 2
    camera.SetFocalPoint(cx, cy, 0)
    camera.SetPosition(cx, cy, 100)
    camera.SetViewUp(0, 1, 0)
