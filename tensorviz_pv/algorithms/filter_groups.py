"""Filter Groups: at every snapshot step, which filters fall into which correlation group
(transitive r >= Threshold); a table and a step x filter image of group ids."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkTable

from ..analysis.lineage import REMOVED
from ..errors import StoreError
from .base import report_error
from .convert import add_field, add_image_array, set_image, vtk_array
from .correlation_view import CorrelationView
from .highlight import filter_ids, image_column


class FilterGroups(CorrelationView):
    """Port 0: a table, one row per snapshot step: step, groups, and group_<f> per original
    filter (-1: dead, -2: merged away by filter reduction); the merge events (step, kept,
    removed, correlation) in field data. Port 1: an image, x = filter, y = snapshot index (the
    first step at the top), `group` and `filter`. Port 2: the highlighted filter's column
    outlined."""

    def __init__(self):
        CorrelationView.__init__(self, "vtkTable", "vtkImageData")
        self._cache = {}

    def image_shapes(self, run):
        layer = self.current_layer(run)
        return {1: (len(self.basis_steps(run, layer)), run.layer_info(layer)["filters"])}

    def produce(self, run, outputs):
        layer = self.current_layer(run)
        steps = self.basis_steps(run, layer)
        key = (run.path, layer, self._basis, self._threshold, len(steps))
        if key not in self._cache:
            rows, unreadable = [], []
            for index in range(len(steps)):
                try:
                    rows.append(self.correlate(run, layer, index)[2])
                except StoreError:  # a diverged snapshot: its row says so, the rest stays
                    rows.append(np.full(run.layer_info(layer)["filters"], -1, dtype=np.int64))
                    unreadable.append(int(steps[index]))
            if unreadable:
                quantity = self.basis_quantity(run, layer)
                report_error(f"{run.path}: {layer} {quantity} has NaN/Inf values at "
                             f"{len(unreadable)} snapshot(s) (first step {unreadable[0]}); "
                             "their rows are -1")
            self._cache = {key: np.stack(rows)}
        groups = self._cache[key]
        table = vtkTable.GetData(outputs, 0)
        table.AddColumn(vtk_array("step", steps))
        table.AddColumn(vtk_array("groups", groups.max(axis=1) + 1))
        width = len(str(groups.shape[1] - 1))
        for f in range(groups.shape[1]):
            table.AddColumn(vtk_array(f"group_{f:0{width}d}", groups[:, f]))
        # the lineage: merge events of this layer (original filter ids) as field data
        merges = run.merges()
        mine = merges["layer"] == run.layers.index(layer) if len(merges["layer"]) else []
        for column in ("step", "kept", "removed", "correlation"):
            add_field(table, f"merge_{column}", np.asarray(merges[column])[mine]
                      if np.any(mine) else np.zeros(0))
        add_field(table, "filters_now", np.int64((groups[-1] != REMOVED).sum()))
        picture = vtkImageData.GetData(outputs, 1)
        set_image(picture, groups.astype(np.float64), "group")
        add_image_array(picture, "filter", filter_ids(groups.shape, 1))
        picture.GetCellData().SetActiveScalars("group")
        self.outline_filter(outputs, groups.shape[1], lambda f: [image_column(f, len(groups))])
