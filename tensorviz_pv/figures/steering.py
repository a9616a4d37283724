"""Steering on the time axis of a chart over training steps: a grey stroke at each step where a
command to the live training took effect (Norm Time Series's port 1), labelled on the chart's
top axis ("lr 0.01", "pause"), or numbered there with a key as that axis's title when the labels
would run into each other; the last of them in a view's corner; and the Training Control of a
live run as a dashboard panel."""

from paraview import simple

from ..algorithms.norm_time_series import MARK
from ..analysis.steering_marks import mark_labels
from .colour import TEXT
from .views import place_view, step_axis

MARK_COLOUR = ["0.45", "0.45", "0.45"]
CHARACTER_SHARE = 0.6  # of the type size: an average character's width
PLOT_SHARE = 0.8  # of a chart's width: its plot, less the axes' labels and margins
TOP_RIGHT = "2"  # vtkChart's corner of the top and right axes: clear of the norms' own


def show_marks(table, chart, width):
    """Draw the steering marks of a Norm Time Series proxy (`table`) in `chart`, whose step axis
    (its bottom axis's custom range) is about `width` pixels long, labelled in the legend's type
    size; returns the marks' display, or None when no command took effect."""
    first, last = chart.BottomAxisRangeMinimum, chart.BottomAxisRangeMaximum
    label_size = chart.LegendFontSize
    marks = table_marks(table)
    if not marks:
        return None
    port = simple.OutputPort(table, 1)
    display = simple.Show(port, chart)
    display.UseIndexForXAxis = 0
    display.XArrayName = "step"
    display.SeriesVisibility = [MARK]
    display.SeriesColor = [MARK] + MARK_COLOUR
    display.SeriesLabel = [MARK, "steering"]
    display.SeriesLineStyle = [MARK, "3"]  # dotted: not a curve
    display.SeriesLineThickness = [MARK, "1"]
    display.SeriesPlotCorner = [MARK, TOP_RIGHT]
    ticks, key = mark_labels(marks, first, last, width * PLOT_SHARE, label_size * CHARACTER_SHARE)
    chart.TopAxisUseCustomRange = 1
    chart.TopAxisRangeMinimum, chart.TopAxisRangeMaximum = float(first), float(last)
    chart.TopAxisUseCustomLabels = 1
    chart.TopAxisLabels = [text for (step, _), tick in zip(marks, ticks)
                           for text in (repr(float(step)), tick)]
    chart.TopAxisLabelFontSize = chart.TopAxisTitleFontSize = label_size
    chart.TopAxisLabelColor = chart.TopAxisTitleColor = TEXT
    chart.TopAxisTitle = key
    chart.ShowTopAxisGrid = 0
    chart.RightAxisUseCustomRange = 1
    chart.RightAxisRangeMinimum, chart.RightAxisRangeMaximum = 0.0, 1.0
    chart.ShowRightAxisLabels = chart.ShowRightAxisGrid = 0
    chart.RightAxisUseCustomLabels, chart.RightAxisLabels = 1, []  # no ticks either
    return display


def control_panel(run, place, layer):
    """The Training Control of a live run in a spreadsheet view in `place` (layout, cell), its
    Layer the dashboard's when that layer can be merged in; returns (control, view)."""
    view = place_view(simple.CreateView("SpreadSheetView", registrationName="training control"),
                      place)
    control = simple.TrainingControl(Input=run.reader, registrationName="Training Control")
    if layer in list(control.GetProperty("LayerNames")):
        control.Layer = layer
    simple.Show(control, view)
    view.FieldAssociation = "Row Data"  # a table's; the default (points) has none
    view.CellFontSize = view.HeaderFontSize = 9
    return control, view


def table_marks(table):
    """[(step, label)] of the steering marks of a Norm Time Series proxy (its port 1's field
    data, as last updated in this process)."""
    data = table.GetClientSideObject().GetOutputDataObject(1)
    fields = data.GetFieldData() if data is not None else None
    steps = fields.GetArray("event_steps") if fields is not None else None
    if steps is None:
        return []
    labels = fields.GetAbstractArray("event_labels")
    return [(int(steps.GetTuple1(i)), labels.GetValue(i)) for i in range(steps.GetNumberOfTuples())]


def steering_text(table, most=3):
    """The last `most` steering marks of a Norm Time Series proxy, for a view's corner:
    "steered: 101 lr 0.01 · 293 pause" ("" when none)."""
    marks = table_marks(table)[-most:]
    return "steered: " + " · ".join(f"{step} {label}" for step, label in marks) if marks else ""


class SteeringShown:
    """What a dashboard shows of the steering: the commands taken in a Text source, and marked
    on a chart drawn from a Norm Time Series proxy `table`; update() after the run reloaded."""

    def __init__(self, text, table, chart, width):
        self.text, self.table, self.chart, self.width = text, table, chart, width

    def update(self, newest=None):
        """After the run reloaded: the chart's step axis out to the `newest` step (a followed
        run's curves and marks grow with it), the marks and the text redrawn."""
        if newest is not None and newest > self.chart.BottomAxisRangeMaximum:
            step_axis(self.chart, self.chart.BottomAxisRangeMinimum, newest)
        self.table.UpdatePipeline(self.chart.BottomAxisRangeMaximum)
        self.text.Text = steering_text(self.table)
        show_marks(self.table, self.chart, self.width)
