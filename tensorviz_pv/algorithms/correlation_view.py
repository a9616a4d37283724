"""What Filter Correlation and Filter Groups share: a conv layer, the basis the correlation is
computed over (probe activations or filter weights), and the group threshold."""

import numpy as np

from ..analysis.correlation import (pearson, samples_from_activations, samples_from_weights,
                                    threshold_groups)
from ..analysis.kernels import canonical
from ..analysis.lineage import REMOVED
from ..errors import StoreError
from ..store import format as F
from .highlight import FilterView
from .lineage import removed_entries

BASES = (F.ACTIVATION, "weights")  # property Basis: 0 Activations, 1 Weights


class CorrelationView(FilterView):
    """What Filter Correlation and Filter Groups share: layer, basis and threshold."""

    def shows_layer(self, entry):
        """The convolutions; on the Activations basis, those whose activations were recorded."""
        return F.layer_kind(entry).spatial and (self._basis != F.ACTIVATION
                                                or "activation_shape" in entry)

    def __init__(self, *output_types):
        FilterView.__init__(self, *output_types)
        self._basis = F.ACTIVATION
        self._threshold = 0.85

    def SetBasis(self, index):
        self.set_value("_basis", BASES[int(index)])

    def SetThreshold(self, value):
        self.set_value("_threshold", float(value))

    def basis_quantity(self, run, layer):
        """The series correlated: the probe activations, or the layer's weights."""
        if self._basis == F.ACTIVATION:
            return F.ACTIVATION
        return F.shown_variable(run.layer_info(layer))

    def basis_steps(self, run, layer):
        return run.snapshot_steps(layer, self.basis_quantity(run, layer))

    def correlate(self, run, layer, index):
        """(r, dead, groups, alive) of the basis snapshot at `index`: filters merged away by
        filter reduction are left out (r 0, group REMOVED)."""
        quantity = self.basis_quantity(run, layer)
        step = int(run.series_steps(layer, quantity)[index])
        value = run.series_value(layer, quantity, index)
        alive = run.alive_at(layer, step)
        removed = removed_entries(run, layer, quantity, step, value.shape)
        if not np.isfinite(value[~removed]).all():
            raise StoreError(f"{run.path}: {layer} {quantity} has NaN/Inf values at step {step}")
        if quantity != F.ACTIVATION:  # every kernel layout as conv's (..., in, out)
            layout = F.quantity_layout(F.layer_kind(run.layer_info(layer)), quantity)
            value, removed = canonical(value, layout), canonical(removed, layout)
        sample = samples_from_activations if quantity == F.ACTIVATION else samples_from_weights
        samples = sample(value)[:, alive]
        # the rows of input channels merged away in the layer before (weights basis)
        samples = samples[~sample(removed)[:, alive].any(axis=1)]
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
