"""Filter Correlation: the C x C Pearson correlation between a layer's filters at the current
step (the poster's Fig. 4 heatmaps), from the probe activations or from the filter weights, with
the groups of filters correlated above a threshold."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkTable

from .convert import add_field, set_image, vtk_array
from .correlation_view import CorrelationView


class FilterCorrelation(CorrelationView):
    """Port 0: a table (filter, r_0..r_{C-1}, dead, removed, group). Port 1: the heatmap, a C x C
    image with row i = filter i from the top; dead and merged-away filters are 0 off the
    diagonal and flagged."""

    def __init__(self):
        CorrelationView.__init__(self, "vtkTable", "vtkImageData")

    def image_shapes(self, run):
        filters = run.layer_info(self.current_layer(run))["filters"]
        return {1: (filters, filters)}

    def produce(self, run, outputs):
        layer = self.current_layer(run)
        steps = self.basis_steps(run, layer)
        index = run.snapshot_index(layer, self.basis_quantity(run, layer),
                                   self.requested_step(outputs, steps))
        r, dead, groups, alive = self.correlate(run, layer, index)
        table = vtkTable.GetData(outputs, 0)
        table.AddColumn(vtk_array("filter", np.arange(len(r), dtype=np.int64)))
        for j in range(len(r)):
            table.AddColumn(vtk_array(f"r_{j}", r[:, j]))
        table.AddColumn(vtk_array("dead", dead.astype(np.uint8)))
        table.AddColumn(vtk_array("removed", (~alive).astype(np.uint8)))
        table.AddColumn(vtk_array("group", groups))
        heatmap = vtkImageData.GetData(outputs, 1)
        set_image(heatmap, r, "correlation")
        heatmap.GetPointData().AddArray(
            vtk_array("dead", (dead[:, None] | dead[None, :]).astype(np.uint8)[::-1].ravel()))
        for data in (table, heatmap):
            add_field(data, "snapshot_step", np.int64(steps[index]))
            add_field(data, "groups", np.int64(groups.max() + 1 if groups.size else 0))
            add_field(data, "dead_filters", np.flatnonzero(dead).astype(np.int64)
                      if dead.any() else np.array([-1], dtype=np.int64))
