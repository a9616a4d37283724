"""Filter Correlation: the C x C Pearson correlation between a layer's filters at the current
step (the poster's Fig. 4 heatmaps), from the probe activations or from the filter weights, with
the groups of filters correlated above a threshold."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkTable

from . import store_format as F
from .correlation import SAMPLERS, pearson, threshold_groups
from .lineage import REMOVED, removed_entries
from .store import StoreError
from .vtk_base import TensorVizView
from .vtk_convert import add_field, set_image, vtk_array

BASES = (F.ACTIVATION, F.KERNEL)  # property Basis: 0 Activations, 1 Weights


class CorrelationView(TensorVizView):
    """What Filter Correlation and Filter Groups share: layer, basis and threshold."""

    layer_kinds = (F.CONV,)

    def __init__(self, *output_types):
        TensorVizView.__init__(self, *output_types)
        self._basis = F.ACTIVATION
        self._threshold = 0.85

    def SetBasis(self, index):
        self.set_value("_basis", BASES[int(index)])

    def SetThreshold(self, value):
        self.set_value("_threshold", float(value))

    def basis_steps(self, run, layer):
        return run.snapshot_steps(layer, self._basis)

    def correlate(self, run, layer, index):
        """(r, dead, groups, alive) of the basis snapshot at `index`: filters merged away by
        filter reduction are left out (r 0, group REMOVED)."""
        step = int(run.series_steps(layer, self._basis)[index])
        value = run.series_value(layer, self._basis, index)
        alive = run.alive_at(layer, step)
        removed = removed_entries(run, layer, self._basis, step, value.shape)
        if not np.isfinite(value[~removed]).all():
            raise StoreError(f"{run.path}: {layer} {self._basis} has NaN/Inf values at step {step}")
        samples = SAMPLERS[self._basis](value)[:, alive]
        # the rows of input channels merged away in the layer before (weights basis)
        samples = samples[~SAMPLERS[self._basis](removed)[:, alive].any(axis=1)]
        r_alive, dead_alive = pearson(samples)
        n = len(alive)
        r = np.zeros((n, n))
        r[np.ix_(alive, alive)] = r_alive
        np.fill_diagonal(r, 1.0)
        dead = np.zeros(n, dtype=bool)
        dead[alive] = dead_alive
        groups = np.full(n, REMOVED, dtype=np.int64)
        groups[alive] = threshold_groups(r_alive, dead_alive, self._threshold)
        return r, dead, groups, alive


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
        index = run.snapshot_index(layer, self._basis, self.requested_step(outputs, steps))
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
