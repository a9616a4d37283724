"""Filter Health: one statistic of every filter of a layer at every recorded step, as a
filter x step image (a filter that dies is a row that goes dark and stays so), and its values
at the current step as a table."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkTable

from ..analysis.decimate import column_means, column_starts
from ..errors import SettingError, StoreError
from ..store import format as F
from .convert import add_field, add_image_array, set_image, vtk_array
from .highlight import FilterView, filter_ids, image_row

# (name, series, row of the series' value, drawn as log10); each its own array name, so that
# each gets a colour map of its own
ARRAYS = ["log10_gradient_norm", "log10_weight_norm", "dead_fraction", "mean_activation"]
STATISTICS = [("gradient norm", F.FILTER_NORMS, 1, True), ("weight norm", F.FILTER_NORMS, 0, True),
              ("dead fraction", F.ACTIVATION_STATS, F.ZERO_FRACTION, False),
              ("mean activation", F.ACTIVATION_STATS, F.ACTIVATION_STAT_ROWS.index("mean"), False)]


class FilterHealth(FilterView):
    """Port 0: an image, x = recorded step (of the statistic's series; beyond MAX_COLUMNS
    records, a column per block of steps, each filter's mean over them), y = filter (filter 0
    at the top), cell array ARRAYS[Statistic] (log10 of a norm: a zero norm is NaN, drawn as
    "no value"; NaN for merged-away filters) and `filter`; field data `steps` (each column's
    first step), `current_column`, `log10`.
    Port 1: filter, value at the current step. Port 2: the highlighted filter's row outlined."""

    def __init__(self):
        FilterView.__init__(self, "vtkImageData", "vtkTable")
        self._statistic = 0
        self._cache = {}

    def SetStatistic(self, index):
        if not 0 <= int(index) < len(STATISTICS):
            raise SettingError(f"Statistic {index}: 0-{len(STATISTICS) - 1} "
                               f"({', '.join(s[0] for s in STATISTICS)})")
        self.set_value("_statistic", int(index))

    def shows_layer(self, entry):
        run = self.run()
        return run is None or run.has_series(entry["name"], F.FILTER_NORMS) \
            or run.has_series(entry["name"], F.ACTIVATION_STATS)

    def values(self, run, layer):
        """(steps, column steps, (filters, columns) image values): a long run's image has a
        column per block of steps (each filter's mean over them), read a chunk at a time."""
        name, series, row, log = STATISTICS[self._statistic]
        if not run.has_series(layer, series):
            raise StoreError(f"{run.path}: no {name} was recorded for {layer}"
                             + (" (filter norms: layers of at most 262,144 weights)"
                                if series == F.FILTER_NORMS else " (it comes with the atlas)"))
        steps = run.series_steps(layer, series)
        key = (run.path, layer, self._statistic, len(steps))
        if key not in self._cache:
            starts = column_starts(len(steps))
            values = column_means(lambda a, b: run.series_rows(layer, series, a, b)[:, row],
                                  len(steps), starts).T  # (filters, columns)
            self._cache = {key: (steps, steps[starts], self.drawn(values))}
        return self._cache[key]

    def drawn(self, values):
        """The statistic as drawn: log10 of a norm (a zero norm NaN: "no value")."""
        if not STATISTICS[self._statistic][3]:
            return np.asarray(values, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(values > 0, np.log10(values), np.nan)

    def image_shapes(self, run):
        _, _, values = self.values(run, self.current_layer(run))
        return {0: values.shape}

    def produce(self, run, outputs):
        layer = self.current_layer(run)
        steps, columns, values = self.values(run, layer)
        if not len(steps):
            raise StoreError(f"{run.path}: {layer} has no {STATISTICS[self._statistic][0]} yet")
        _, series, row, _ = STATISTICS[self._statistic]
        step = self.requested_step(outputs, steps)
        now = self.drawn(np.asarray(run.series_value(layer, series, int(np.searchsorted(steps, step))),
                                    dtype=np.float64)[row])
        column = int(np.searchsorted(columns, step, side="right") - 1)
        picture = vtkImageData.GetData(outputs, 0)
        set_image(picture, values, ARRAYS[self._statistic])
        add_image_array(picture, "filter", filter_ids(values.shape, 0))
        picture.GetCellData().SetActiveScalars(ARRAYS[self._statistic])
        add_field(picture, "steps", np.asarray(columns, dtype=np.int64))
        add_field(picture, "current_column", np.int64(column))
        add_field(picture, "current_step", np.int64(step))
        add_field(picture, "log10", np.int64(STATISTICS[self._statistic][3]))
        table = vtkTable.GetData(outputs, 1)
        table.AddColumn(vtk_array("filter", np.arange(values.shape[0], dtype=np.int64)))
        table.AddColumn(vtk_array("value", now))
        add_field(table, "current_step", np.int64(step))
        self.outline_filter(outputs, len(values), lambda f: [image_row(f, values.shape[1])])
