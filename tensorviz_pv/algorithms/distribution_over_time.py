"""Distribution Over Time: a layer's histograms of its weights, gradients or updates at every
recorded step (or of its probe activations at every activation snapshot), as a step x bin image
of log counts on one set of bins, and the current step's histogram as a table."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkTable

from ..analysis.decimate import column_starts
from ..analysis.health import bin_centres, distribution, histograms_of
from ..errors import SettingError, StoreError
from ..store import format as F
from .base import TensorVizView
from .convert import add_field, set_image, vtk_array


class DistributionOverTime(TensorVizView):
    """Port 0: an image, x = bin over [-r, r] (r: the widest range the run needed), y = recorded
    step (the first at the top; beyond MAX_COLUMNS records, a row per block of steps, their
    histograms summed), cell array `log_count` = log10(1 + count); field data `steps` (each
    row's first step), `range`, `current_row` (the row of the current step). Port 1: the
    current step's histogram on its own bins: bin_centre, count."""

    def __init__(self):
        TensorVizView.__init__(self, "vtkImageData", "vtkTable")
        self._quantity = 0
        self._cache = {}

    def SetQuantity(self, index):
        if not 0 <= int(index) <= len(F.HISTOGRAM_OF):
            raise SettingError(f"Quantity {index}: 0 weights, 1 gradients, 2 updates or "
                               "3 activations")
        self.set_value("_quantity", int(index))

    @property
    def activations(self):
        return self._quantity == len(F.HISTOGRAM_OF)

    def shows_layer(self, entry):
        run = self.run()
        return run is None or run.has_series(entry["name"], F.ACTIVATION if self.activations
                                             else F.HISTOGRAM)

    def histograms(self, run, layer):
        """(steps, ranges, image, widest r, column steps, counts or None) of the layer's
        records; a long run's image has a column per block of steps (their histograms summed)
        and its counts are read a step at a time."""
        series = F.ACTIVATION if self.activations else F.HISTOGRAM
        if not run.has_series(layer, series):
            raise StoreError(f"{run.path}: no {'probe activations' if self.activations else 'histograms'}"
                             f" were recorded for {layer}")
        steps = run.series_steps(layer, series)
        key = (run.path, layer, self._quantity, len(steps))
        if key not in self._cache:
            counts = None
            if self.activations:  # histogrammed here, from the snapshots
                counts, ranges = histograms_of(
                    run.series_value(layer, F.ACTIVATION, i) for i in range(len(steps)))
            else:
                _, ranges = run.series_all(layer, F.HISTOGRAM_RANGE)
                ranges = ranges[:, self._quantity]
            rows = min(len(ranges), len(steps))
            ranges, starts = ranges[:rows], column_starts(rows)
            quantity = self._quantity
            read = (lambda a, b: counts[a:b]) if counts is not None else \
                (lambda a, b: run.series_rows(layer, F.HISTOGRAM, a, b)[:, quantity])
            image, widest = distribution(read, ranges, starts)
            self._cache = {key: (steps[:rows], ranges, image, widest, steps[:rows][starts], counts)}
        return self._cache[key]

    def image_shapes(self, run):
        *_, image, _, _, _ = self.histograms(run, self.current_layer(run))
        return {0: image.shape}

    def produce(self, run, outputs):
        layer = self.current_layer(run)
        steps, ranges, image, widest, columns, counts = self.histograms(run, layer)
        if not len(steps):
            raise StoreError(f"{run.path}: {layer} has no histogram yet")
        step = self.requested_step(outputs, steps)
        row = int(np.searchsorted(steps, step))
        current = counts[row] if counts is not None else \
            np.asarray(run.series_value(layer, F.HISTOGRAM, row))[self._quantity]
        picture = vtkImageData.GetData(outputs, 0)
        set_image(picture, image, "log_count")
        add_field(picture, "steps", np.asarray(columns, dtype=np.int64))
        add_field(picture, "range", np.float64(widest))
        add_field(picture, "current_row", np.int64(np.searchsorted(columns, step, side="right") - 1))
        add_field(picture, "current_step", np.int64(step))
        table = vtkTable.GetData(outputs, 1)
        table.AddColumn(vtk_array("bin_centre", bin_centres(float(ranges[row]), len(current))))
        table.AddColumn(vtk_array("count", np.asarray(current, dtype=np.float64)))
        add_field(table, "current_step", np.int64(step))
