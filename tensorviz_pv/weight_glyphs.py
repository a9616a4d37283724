"""Weight Glyphs: one box per weight of a layer at the current step (the poster's Fig. 2)."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkPolyData

from . import store_format as F
from .glyphs import FACES_PER_BOX, diverging_rgb, weight_boxes, weight_tiles
from .store import StoreError
from .lineage import removed_entries
from .vtk_base import TensorVizView, report_error
from .vtk_convert import add_cell, add_field, build_polygons, new_array

QUANTITY_CHOICES = (F.KERNEL, F.KERNEL_GRADIENT, F.BIAS, F.BIAS_GRADIENT)


def parse_filter_list(text, count):
    """'0-3,7' -> [0, 1, 2, 3, 7]; '' or 'all' -> None (every filter)."""
    text = (text or "").strip().lower()
    if text in ("", "all"):
        return None
    chosen = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        try:
            low, _, high = part.partition("-")
            low, high = int(low), int(high or low)
        except ValueError:
            raise StoreError(f"Filters {text!r}: use indices and ranges like 0-3,7") from None
        if high < low:
            raise StoreError(f"Filters {text!r}: the range {part} runs backwards")
        chosen.extend(range(low, high + 1))
    bad = [f for f in chosen if not 0 <= f < count]
    if bad:
        raise StoreError(f"Filters {text!r}: filter {bad[0]} does not exist (0-{count - 1})")
    return sorted(set(chosen))


def colour_limit(run, layer, quantity):
    """The largest finite |value| over every snapshot: one colour scale for the whole run, so
    colours compare across steps (the poster sees them darken as training goes on)."""
    steps = run.series_steps(layer, quantity)
    limits = []
    for i in range(len(steps)):
        values = np.abs(run.series_value(layer, quantity, i))
        finite = values[np.isfinite(values)]
        if finite.size:
            limits.append(float(finite.max()))
    return max(limits, default=1.0) or 1.0


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
        if key not in self._limits:
            self._limits = {key: colour_limit(run, layer, self._quantity)}
        limit = self._limits[key]
        output = vtkPolyData.GetData(outputs, 0)
        n = boxes.n_boxes
        if n == 0:
            raise StoreError(f"{run.path}: {layer}: none of the chosen filters exist at step "
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
