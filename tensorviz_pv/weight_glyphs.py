"""Weight Glyphs: one box per weight of a layer at the current step (the poster's Fig. 2)."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkPolyData

from . import store_format as F
from .glyphs import diverging_rgb, weight_boxes
from .store import StoreError
from .vtk_base import TensorVizView, floor_step, requested_time
from .vtk_convert import add_cell, add_field, set_polygons


def colour_limit(run, layer, quantity):
    """The largest |value| over every snapshot: one colour scale for the whole run, so
    colours compare across steps (the poster sees them darken as training goes on)."""
    steps = run.series_steps(layer, quantity)
    return max((float(np.nanmax(np.abs(run.series_value(layer, quantity, i))))
                for i in range(len(steps))), default=1.0)


class WeightGlyphs(TensorVizView):
    def __init__(self):
        TensorVizView.__init__(self, "vtkPolyData")
        self._quantity = F.KERNEL
        self._height_scale = 1.0
        self._limits = {}

    def SetHeightScale(self, scale):
        if scale != self._height_scale:
            self._height_scale = float(scale)
            self.Modified()

    def produce(self, run, out_info):
        layer = self.current_layer(run)
        steps = run.series_steps(layer, self._quantity)
        if len(steps) == 0:
            raise StoreError(f"{run.path}: layer {layer!r} has no {self._quantity} snapshot yet")
        step = floor_step(steps, requested_time(out_info, float(steps[0])))
        _, tensor = run.tensor_at(layer, self._quantity, step)
        kind = run.layer_info(layer)["kind"]
        boxes = weight_boxes(tensor, kind, self._height_scale)
        key = (run.path, layer, self._quantity, len(steps))
        if key not in self._limits:
            self._limits = {key: colour_limit(run, layer, self._quantity)}
        limit = self._limits[key]
        output = vtkPolyData.GetData(out_info)
        set_polygons(output, boxes.points, boxes.faces)
        add_cell(output, self._quantity, boxes.per_face(boxes.box_values.astype(np.float32)))
        add_cell(output, "filter", boxes.per_face(boxes.box_filter))
        add_cell(output, "channel", boxes.per_face(boxes.box_channel))
        add_cell(output, "rgb", boxes.per_face(diverging_rgb(boxes.box_values, limit)))
        output.GetCellData().SetActiveScalars(self._quantity)
        add_field(output, "snapshot_step", np.int64(step))
        add_field(output, "colour_limit", np.float64(limit))
