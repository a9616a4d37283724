"""Norm Comparison: every run's loss, accuracy and per-layer norms in one table over the
union of their steps, for a Line Chart View (one line per run and quantity)."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkTable

from .comparison_view import ComparisonView, layer_differences
from .convert import add_field, string_array
from .norm_time_series import RowLimit, step_columns


class NormComparison(RowLimit, ComparisonView):
    """Columns: step, then '<run>: <column>' of each run's Norm Time Series columns (loss,
    accuracy, their smoothed copies, '<layer> weight norm'...), NaN at the steps a run did
    not record (past its end); more than MaxRows steps drawn as their envelope (RowLimit).
    Field data: runs (their labels, in order), and differences (the layers each run does not
    share with the first)."""

    def __init__(self):
        ComparisonView.__init__(self, "vtkTable")

    def produce(self, run, outputs):
        runs = self.all_runs()
        tables = [(label, step_columns(one)) for label, one in runs]
        steps = np.unique(np.concatenate([columns[0] for _, columns in tables])).astype(np.int64) \
            if tables else np.zeros(0, dtype=np.int64)
        output = vtkTable.GetData(outputs, 0)
        spread = {}
        for label, (own_steps, columns, _) in tables:
            rows = np.searchsorted(steps, own_steps)  # every run's steps are among them
            for name, values in columns:
                spread[f"{label}: {name}"] = np.full(len(steps), np.nan)
                spread[f"{label}: {name}"][rows] = values
        self.limited(output, steps, spread)
        output.GetFieldData().AddArray(string_array("runs", [label for label, _ in runs]))
        first = runs[0][1].info["layers"] if runs else []
        differences = [f"{label}: {note}" for label, one in runs[1:]
                       for note in layer_differences(first, one.info["layers"])]
        output.GetFieldData().AddArray(string_array("differences", differences or ["none"]))
        add_field(output, "run_count", np.int64(len(runs)))
