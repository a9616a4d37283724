"""The views the figures draw in: white render views and line charts in the house type sizes,
put into a layout's cell; a table's columns and an image's pixels shown in them."""

from paraview import simple

from ..analysis.figure_layout import integer_ticks


def place_view(view, place):
    """Put a view into a cell of a layout, `place` = (layout, cell) or None. Before anything is
    shown in it: the GUI resets a chart's series visibility when its view joins a layout."""
    if place is not None:
        simple.AssignViewToLayout(view=view, layout=place[0], hint=place[1])
    return view


def on_resize(view, key, callback):
    """Call `callback(view, (width, height))` now, at the view's size, and again whenever the
    view is rendered at another size: a view is shown at sizes its figure cannot know when it
    is made (a cell of the GUI's window, a view of the web page), and what is fitted to its
    pixels (a camera framed around fixed-size text) is fitted again. One callback per `key`
    and view (a later one replaces it); the "camera" one first, the others may read it."""
    proxy = view.SMProxy
    fitted = getattr(proxy, "_tensorviz_fitted", None)
    if fitted is None:  # one observer per view, calling every fit in turn
        fitted = proxy._tensorviz_fitted = {"size": tuple(view.ViewSize), "fits": {}}

        def refit(*_):  # before the view updates its representations and renders
            size = tuple(view.ViewSize)
            if min(size) > 1 and size != fitted["size"]:
                fitted["size"] = size
                _fit_all(view, fitted["fits"], size)
        proxy.AddObserver("StartEvent", refit)
    fitted["fits"][key] = callback
    _fit_all(view, fitted["fits"], fitted["size"])


def _fit_all(view, fits, size):
    for key in sorted(fits, key=lambda key: key != "camera"):
        fits[key](view, size)


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


def step_axis(chart, first, last):
    """The bottom axis of a chart over training steps, from `first` to `last`, its ticks at
    whole steps only (ParaView's own put half steps on a short run)."""
    chart.BottomAxisUseCustomRange = 1
    chart.BottomAxisRangeMinimum, chart.BottomAxisRangeMaximum = float(first), float(last)
    chart.BottomAxisUseCustomLabels = 1
    chart.BottomAxisLabels = [text for tick in integer_ticks(first, last)
                              for text in (repr(float(tick)), str(tick))]  # (position, label) pairs


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


def show_image(source, view, port=0):
    """An image made by set_image, its pixels drawn flat: as they are, unlit, not blended."""
    display = simple.Show(simple.OutputPort(source, port), view)
    display.Representation = "Surface"
    display.Ambient, display.Diffuse = 1.0, 0.0
    return display
