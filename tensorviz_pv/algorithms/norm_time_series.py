"""Norm Time Series: a table over every step (the poster's Fig. 3 left) with power-law fits."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkTable

from ..analysis.decimate import envelope
from ..analysis.norms import layer_norms, power_law_fit, running_mean, smoothing_window
from ..analysis.steering_marks import applied_marks
from ..store import format as F
from .base import TensorVizView
from .convert import add_field, string_array, vtk_array


DEFAULT_MAX_ROWS = 10000  # a chart's line has fewer pixels; a million rows took a second


def step_columns(run):
    """(steps, [(column name, values)], smoothing window) of a run: loss, accuracy, learning rate
    and the other step columns, every metric Keras tracks, the smoothed loss and accuracy, and
    each layer's weight and gradient norm."""
    table = run.step_table()
    steps = table[F.STEP]
    columns = [(column, table[column]) for column in F.STEP_COLUMNS[1:]]
    names, values = run.metrics()  # each output's loss and metrics, as Keras names them
    columns += [(name, values[:, index]) for index, name in enumerate(names)
                if name not in F.STEP_COLUMNS]
    window = smoothing_window(steps)
    for column in (F.LOSS, F.ACCURACY):  # per-batch values are noisy: a smoothed copy
        raw = table[column].astype(np.float64)
        smoothed = running_mean(np.nan_to_num(raw, nan=0.0), window) if np.isfinite(raw).any() \
            else raw  # not recorded (no accuracy compiled): NaN, never a line at 0
        columns.append((f"{column} (smoothed)", smoothed))
    weights, gradients = run.norms(F.WEIGHT_NORM), run.norms(F.GRADIENT_NORM)
    for layer in run.layers:
        for label, norms in (("weight", weights), ("gradient", gradients)):
            columns.append((f"{layer} {label} norm", layer_norms(norms, run.variables, layer)))
    return steps, columns, window


class RowLimit:
    """MaxRows for a table over every step: a longer run's columns are drawn as their envelope
    at that many rows (analysis/decimate.py: each extreme kept); 0: every step."""

    _max_rows = DEFAULT_MAX_ROWS

    def SetMaxRows(self, rows):
        self.set_value("_max_rows", max(int(rows), 0))

    def limited(self, output, steps, columns):
        """Fill `output` (a vtkTable) with the step column and `columns` ({name: values}) at
        most MaxRows rows; field data `steps_in_run` says how many steps they stand for.
        Returns the steps drawn."""
        drawn_steps, drawn = envelope(steps, columns, self._max_rows)
        output.AddColumn(vtk_array(F.STEP, drawn_steps))
        for name, values in drawn.items():
            output.AddColumn(vtk_array(name, values))
        add_field(output, "steps_in_run", np.int64(len(steps)))
        return drawn_steps


class NormTimeSeries(RowLimit, TensorVizView):
    """Columns: step, epoch, loss, accuracy, learning_rate, every other metric Keras tracks
    ('out_a_loss', 'out_a_accuracy'...), 'loss (smoothed)' and 'accuracy (smoothed)' (trailing
    mean over 2.5% of the steps), and per layer '<layer> weight norm' and '<layer> gradient
    norm', each with its '(power-law fit)' column. Field data '<layer> weight norm fit' =
    (coefficient, exponent) of norm ~ coefficient * step ** exponent, fitted to every step.
    A run of more than MaxRows steps is drawn as its envelope (RowLimit). Port 1: the
    steering events (steering_marks)."""

    def __init__(self):
        TensorVizView.__init__(self, "vtkTable", "vtkTable")

    def produce(self, run, outputs):
        steps, columns, window = step_columns(run)
        output = vtkTable.GetData(outputs, 0)
        fits = {name: power_law_fit(steps, values) for name, values in columns
                if name.endswith(" norm")}
        drawn_steps = self.limited(output, steps, dict(columns))
        for name, fit in fits.items():
            add_field(output, f"{name} fit", np.array(fit))
            add_field(output, f"{name} fit exponent", np.float64(fit[1]))
            with np.errstate(divide="ignore", invalid="ignore"):  # step 0 has no fit value
                curve = fit[0] * np.asarray(drawn_steps, np.float64) ** fit[1]
            output.AddColumn(vtk_array(f"{name} (power-law fit)", curve))
        add_field(output, "smoothing window", np.int64(window))
        steering_marks(vtkTable.GetData(outputs, 1), applied_marks(run.steering_events()))


MARK = "steering event"  # the column of a mark's line, 0 at the bottom of a chart, 1 at its top


def steering_marks(output, marks):
    """A table of the steering commands applied, [(step, label)], drawn on a time axis: columns
    step and MARK go up and down at each mark's step (0, 1, 0: one line of vertical strokes,
    joined along the bottom, for a chart whose MARK axis runs from 0 to 1); field data
    event_steps and event_labels, one per mark."""
    steps = np.repeat(np.array([step for step, _ in marks], dtype=np.float64), 3)
    output.AddColumn(vtk_array(F.STEP, steps))
    output.AddColumn(vtk_array(MARK, np.tile([0.0, 1.0, 0.0], len(marks))))
    add_field(output, "event_steps", np.array([step for step, _ in marks], dtype=np.int64))
    output.GetFieldData().AddArray(string_array("event_labels", [label for _, label in marks]))
