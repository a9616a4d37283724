"""Filter Correlation: the C x C Pearson correlation between a layer's filters at the current
step (the poster's Fig. 4 heatmaps), from the probe activations or from the filter weights, with
the groups of filters correlated above a threshold."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkTable

from .convert import add_field, add_image_array, set_image, vtk_array
from .correlation_view import CorrelationView
from .highlight import filter_ids, image_column, image_row


DRAWN = "r (no value: NaN)"


class FilterCorrelation(CorrelationView):
    """Port 0: a table (filter, r_0..r_{C-1} zero-padded, dead, removed, group). Port 1: the
    heatmap, a C x C image with row i = filter i from the top: `correlation` (dead and merged-away
    filters 0 off the diagonal), `dead` (1 where a pair has no correlation: one of its filters
    is dead or merged away), DRAWN (those pairs NaN, for a grey that says "no value") and
    `filter` (the row's). Port 2: the highlighted filter's row and column outlined."""

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
        width = len(str(len(r) - 1))  # r_00, r_01...: a spreadsheet sorts them in order
        for j in range(len(r)):
            table.AddColumn(vtk_array(f"r_{j:0{width}d}", r[:, j]))
        table.AddColumn(vtk_array("dead", dead.astype(np.uint8)))
        table.AddColumn(vtk_array("removed", (~alive).astype(np.uint8)))
        table.AddColumn(vtk_array("group", groups))
        heatmap = vtkImageData.GetData(outputs, 1)
        set_image(heatmap, r, "correlation")
        # no correlation for a dead or merged-away filter: not even with itself
        absent = dead | ~alive
        no_r = absent[:, None] | absent[None, :]
        add_image_array(heatmap, "dead", no_r.astype(np.uint8))
        # for drawing: the pairs with no correlation (a dead or merged-away filter) NaN, grey
        add_image_array(heatmap, DRAWN, np.where(no_r, np.nan, r))
        add_image_array(heatmap, "filter", filter_ids(r.shape, 0))
        heatmap.GetCellData().SetActiveScalars(DRAWN)  # what the GUI colours by on Apply
        for data in (table, heatmap):
            add_field(data, "snapshot_step", np.int64(steps[index]))
            add_field(data, "groups", np.int64(groups.max() + 1 if groups.size else 0))
            add_field(data, "merged_filters", np.int64((~alive).sum()))
            add_field(data, "dead_filters", np.flatnonzero(dead).astype(np.int64)
                      if dead.any() else np.array([-1], dtype=np.int64))
        self.outline_filter(outputs, len(r), lambda f: [image_row(f, len(r)), image_column(f, len(r))])
