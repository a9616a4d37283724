"""Weight Glyphs: one box per weight of a layer at the current step (the poster's Fig. 2)."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkPolyData

from ..analysis.glyphs import (FACES_PER_BOX, diverging_rgb, filter_labels, filter_outline,
                               weight_boxes, weight_tiles)
from ..analysis.ranges import magnitude_limit
from ..analysis.selection import parse_filter_list, parse_order
from ..errors import SettingError
from ..store import format as F
from .base import report_error
from .convert import add_cell, add_field, build_polygons, new_array, string_array, text_labels
from .highlight import FilterView
from .lineage import removed_entries

# the Quantity property: (name of the drawn array, the role of the variable (store/format.py:
# shown_variable), its gradient?). Weights are a BatchNormalization's gamma, biases its beta.
QUANTITY_CHOICES = (
    (F.KERNEL, F.WEIGHTS, False), (F.KERNEL_GRADIENT, F.WEIGHTS, True),
    (F.BIAS, F.BIASES, False), (F.BIAS_GRADIENT, F.BIASES, True),
    (F.DEPTHWISE_KERNEL, F.DEPTHWISE_KERNEL, False),
    (F.gradient_of(F.DEPTHWISE_KERNEL), F.DEPTHWISE_KERNEL, True),
    ("moving_mean", "moving_mean", False), ("moving_variance", "moving_variance", False))


MOST_LABELS = 256  # filter numbers drawn (a 1024-unit dense layer's would not read)
LABEL_TILT = 60.0  # degrees the labels stand up from the grid's plane: they face the camera


class WeightGlyphs(FilterView):
    """Port 0: the boxes; port 1: the filter numbers above their blocks; port 2: the outline
    of the highlighted filter's block. Under MPI each rank draws the boxes of its share of the
    filters (the 1.6 M boxes of a large layer split across ranks); piece 0 the labels and the
    outline."""

    SPLITS = True

    def __init__(self):
        FilterView.__init__(self, "vtkPolyData", "vtkPolyData")
        self._choice = 0
        self._height_scale = 1.0
        self._filters = ""
        self._order = ""
        self._limits = {}
        self._labels = {}

    def SetHeightScale(self, scale):
        self.set_value("_height_scale", float(scale))

    def SetQuantity(self, index):
        self.set_value("_choice", int(index))

    def SetFilters(self, text):
        self.set_value("_filters", text or "")

    def SetOrder(self, text):
        self.set_value("_order", text or "")

    def shows_layer(self, entry):
        """The layers that recorded the chosen Quantity (gradients: the convolutions')."""
        _, role, gradient = QUANTITY_CHOICES[self._choice]
        return self.has_shown(entry, role, gradient)

    def produce(self, run, outputs):
        layer = self.current_layer(run)
        entry = run.layer_info(layer)
        kind = F.layer_kind(entry)
        name, role, gradient = QUANTITY_CHOICES[self._choice]
        quantity = F.shown_variable(entry, role, gradient)
        steps = run.snapshot_steps(layer, quantity)
        step, tensor = run.tensor_at(layer, quantity, self.requested_step(outputs, steps))
        layout = F.quantity_layout(kind, quantity)
        count = F.filters_of(layout, tensor.shape)
        filters = parse_filter_list(self._filters, count)
        order = parse_order(self._order, count)  # block -> filter (None: the same)
        place = np.argsort(order) if order is not None else np.arange(count)  # filter -> block
        # merged-away filters and their input channels are NaN by design: no box for them
        removed = removed_entries(run, layer, quantity, step, tensor.shape)
        bad = ~np.isfinite(tensor) & ~removed
        nonfinite = int(bad.sum())
        if nonfinite:
            report_error(f"{run.path}: {layer} {quantity} at step {step} has {nonfinite} "
                         "NaN/Inf values, drawn flat and flagged in the 'nonfinite' array")
        shown = np.where(removed, np.nan, np.where(bad, 0.0, tensor))
        piece, pieces = self.piece
        share = np.array_split(np.arange(count), pieces)[piece]  # this rank's filters
        drawn = share if filters is None else np.intersect1d(share, filters)
        boxes = weight_boxes(shown, layout, self._height_scale,
                             None if pieces == 1 and filters is None else drawn, order)
        key = (run.path, layer, quantity, len(steps))
        if key not in self._limits:  # one colour scale for the whole run: colours compare
            self._limits = {key: magnitude_limit(run.series_value(layer, quantity, i)
                                                 for i in range(len(steps)))}
        limit = self._limits[key]
        output = vtkPolyData.GetData(outputs, 0)
        n = boxes.n_boxes
        if n == 0 and pieces > 1:
            return  # another rank draws the chosen filters
        if n == 0:
            raise SettingError(f"{run.path}: {layer}: none of the chosen filters exist at step "
                               f"{step} (Filters {self._filters!r})")
        build_polygons(output, 8 * n, FACES_PER_BOX * n, 4, boxes.fill_points, boxes.fill_faces)
        for array_name, values in ((name, boxes.box_values.astype(np.float32)),
                                   ("filter", boxes.box_filter), ("channel", boxes.box_channel),
                                   ("rgb", diverging_rgb(boxes.box_values, limit))):
            components = values.shape[1] if values.ndim == 2 else 1
            array, view = new_array(array_name, FACES_PER_BOX * n, components, values.dtype)
            # every face of a box carries the box's value: written in place, no repeat copy
            view.reshape(n, FACES_PER_BOX, -1)[:] = values.reshape(n, 1, -1)
            output.GetCellData().AddArray(array)
        if nonfinite:
            flags = weight_tiles(bad, layout)[order if order is not None else slice(None)]
            flags = flags[boxes.kept]
            add_cell(output, "nonfinite", boxes.per_face(flags.astype(np.uint8)))
        output.GetCellData().SetActiveScalars(name)
        output.GetFieldData().AddArray(string_array("quantity", [quantity]))
        add_field(output, "snapshot_step", np.int64(step))
        add_field(output, "colour_limit", np.float64(limit))
        merged = np.nan_to_num(weight_tiles(removed.astype(np.float64), layout), nan=1.0)
        add_field(output, "merged_filters", np.int64(merged.reshape(len(merged), -1).all(1).sum()))
        if piece > 0:
            return  # one copy of the labels and the outline
        self._label_filters(outputs, boxes, filters, place)
        shape = boxes.kept.shape
        chosen = range(shape[0]) if filters is None else filters
        self.outline_filter(outputs, shape[0], lambda f: [filter_outline(place[f], *shape)]
                            if f in chosen else [])

    def _label_filters(self, outputs, boxes, filters, place):
        """The filter numbers (or each row's range of them), stood up left of their blocks
        (analysis/glyphs.py filter_labels; the same at every step: built once)."""
        key = (boxes.kept.shape, tuple(filters) if filters is not None else None, tuple(place))
        if key not in self._labels:
            shown = range(boxes.kept.shape[0]) if filters is None else filters
            texts, xs, ys, height = filter_labels(*boxes.kept.shape, shown, place)
            labels = vtkPolyData()
            if len(texts) <= MOST_LABELS:
                text_labels(labels, texts, xs, ys - height / 2, height=height, tilt=LABEL_TILT)
            self._labels = {key: labels}
        vtkPolyData.GetData(outputs, 1).ShallowCopy(self._labels[key])
