"""Weight Glyphs: one box per weight of a layer at the current step (the poster's Fig. 2)."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkPolyData

from ..analysis.glyphs import (FACES_PER_BOX, diverging_rgb, magnitude_limit, weight_boxes,
                               weight_tiles)
from ..analysis.selection import parse_filter_list
from ..errors import SettingError
from ..store import format as F
from .base import TensorVizView, report_error
from .convert import add_cell, add_field, build_polygons, new_array
from .lineage import removed_entries

QUANTITY_CHOICES = (F.KERNEL, F.KERNEL_GRADIENT, F.BIAS, F.BIAS_GRADIENT)


class WeightGlyphs(TensorVizView):
    def __init__(self):
        TensorVizView.__init__(self, "vtkPolyData")
        self._quantity = F.KERNEL
        self._height_scale = 1.0
        self._filters = ""
        self._limits = {}

    def SetHeightScale(self, scale):
        self.set_value("_height_scale", float(scale))

    def SetQuantity(self, index):
        self.set_value("_quantity", QUANTITY_CHOICES[int(index)])

    def SetFilters(self, text):
        self.set_value("_filters", text or "")

    def produce(self, run, outputs):
        layer = self.current_layer(run)
        steps = run.snapshot_steps(layer, self._quantity)
        step, tensor = run.tensor_at(layer, self._quantity, self.requested_step(outputs, steps))
        kind = run.layer_info(layer)["kind"]
        filters = parse_filter_list(self._filters, tensor.shape[-1])
        # merged-away filters and their input channels are NaN by design: no box for them
        removed = removed_entries(run, layer, self._quantity, step, tensor.shape)
        bad = ~np.isfinite(tensor) & ~removed
        nonfinite = int(bad.sum())
        if nonfinite:
            report_error(f"{run.path}: {layer} {self._quantity} at step {step} has {nonfinite} "
                         "NaN/Inf values, drawn flat and flagged in the 'nonfinite' array")
        shown = np.where(removed, np.nan, np.where(bad, 0.0, tensor))
        boxes = weight_boxes(shown, kind, self._height_scale, filters)
        key = (run.path, layer, self._quantity, len(steps))
        if key not in self._limits:  # one colour scale for the whole run: colours compare
            self._limits = {key: magnitude_limit(run.series_value(layer, self._quantity, i)
                                                 for i in range(len(steps)))}
        limit = self._limits[key]
        output = vtkPolyData.GetData(outputs, 0)
        n = boxes.n_boxes
        if n == 0:
            raise SettingError(f"{run.path}: {layer}: none of the chosen filters exist at step "
                             f"{step} (Filters {self._filters!r})")
        build_polygons(output, 8 * n, FACES_PER_BOX * n, 4, boxes.fill_points, boxes.fill_faces)
        for name, values in ((self._quantity, boxes.box_values.astype(np.float32)),
                             ("filter", boxes.box_filter), ("channel", boxes.box_channel),
                             ("rgb", diverging_rgb(boxes.box_values, limit))):
            components = values.shape[1] if values.ndim == 2 else 1
            array, view = new_array(name, FACES_PER_BOX * n, components, values.dtype)
            # every face of a box carries the box's value: written in place, no repeat copy
            view.reshape(n, FACES_PER_BOX, -1)[:] = values.reshape(n, 1, -1)
            output.GetCellData().AddArray(array)
        if nonfinite:
            flags = weight_tiles(bad, kind)[boxes.kept]
            add_cell(output, "nonfinite", boxes.per_face(flags.astype(np.uint8)))
        output.GetCellData().SetActiveScalars(self._quantity)
        add_field(output, "snapshot_step", np.int64(step))
        add_field(output, "colour_limit", np.float64(limit))
