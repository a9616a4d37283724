"""Layer Similarity: how alike two runs' layers are at every step both recorded: the debiased
linear CKA of their probe activations (1: the same features, in whatever order) and the
relative distance between their weights (0: equal, about 1: unrelated)."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkTable

from ..analysis.comparison import cka_examples, linear_cka, relative_distance
from ..store import format as F
from .base import report_error
from .comparison_view import (ComparisonView, activation_layers, layer_differences, same_probe,
                              weights_of)
from .convert import add_field, string_array, vtk_array

CKA, DISTANCE = "CKA", "weight distance"
ALL_LAYERS = "all layers"  # the Layer choice that keeps every layer's columns


def common_snapshots(run_a, run_b, layer, quantity_a, quantity_b):
    """[(step, index in A, index in B)] of the steps both runs have a snapshot of."""
    if not (run_a.has_series(layer, quantity_a) and run_b.has_series(layer, quantity_b)):
        return []
    steps_a, steps_b = run_a.series_steps(layer, quantity_a), run_b.series_steps(layer, quantity_b)
    common, in_a, in_b = np.intersect1d(steps_a, steps_b, return_indices=True)
    return list(zip(common.tolist(), in_a.tolist(), in_b.tolist()))


def fill_table(output, columns):
    """A table of {column: {step: value}}: a step column over every step any column has, NaN
    where a column has no value."""
    steps = sorted({step for values in columns.values() for step in values})
    output.AddColumn(vtk_array(F.STEP, np.asarray(steps, dtype=np.int64)))
    for name, values in columns.items():
        output.AddColumn(vtk_array(name, np.array([values.get(s, np.nan) for s in steps],
                                                  dtype=np.float64)))


class LayerSimilarity(ComparisonView):
    """Port 0: step and '<layer> CKA' for each shared layer with probe activations, at the
    activation snapshots both runs have. Port 1: step and '<layer> weight distance' for each
    shared layer of one kernel shape, at the weight snapshots both have. NaN where a layer was
    not recorded at a step. Field data: run_a, run_b, differences (layers not shared or not of
    one shape), same_probe (0: the runs saw different probe images, no CKA). Layer: one
    layer's columns, or ALL_LAYERS."""

    def __init__(self):
        ComparisonView.__init__(self, "vtkTable", "vtkTable")
        self._cache = {}

    def layer_names(self):
        return [ALL_LAYERS] + ComparisonView.layer_names(self)

    def _measures(self, run_a, run_b):
        """({CKA column: {step: value}}, {distance column: {step: value}}, same probe)."""
        entries = self.shared_entries()
        if self._layer and self._layer != ALL_LAYERS:
            entries = [entry for entry in entries if entry["name"] == self._layer]
        probe = same_probe(run_a, run_b)
        cka, distance = {}, {}
        for layer in activation_layers(entries) if probe else []:
            cka[f"{layer} {CKA}"] = {
                step: linear_cka(*cka_examples(
                    np.nan_to_num(run_a.series_value(layer, F.ACTIVATION, i)),
                    np.nan_to_num(run_b.series_value(layer, F.ACTIVATION, j))))
                for step, i, j in common_snapshots(run_a, run_b, layer, F.ACTIVATION, F.ACTIVATION)}
        for entry in entries:
            layer = entry["name"]
            quantity_a, quantity_b = weights_of(run_a, layer), weights_of(run_b, layer)
            if entry["kernel_shape"] != run_b.layer_info(layer)["kernel_shape"] \
                    or None in (quantity_a, quantity_b):
                continue
            distance[f"{layer} {DISTANCE}"] = {
                step: relative_distance(np.nan_to_num(run_a.series_value(layer, quantity_a, i)),
                                        np.nan_to_num(run_b.series_value(layer, quantity_b, j)))
                for step, i, j in common_snapshots(run_a, run_b, layer, quantity_a, quantity_b)}
        return cka, distance, probe

    def produce(self, run, outputs):
        (label_a, run_a), (label_b, run_b) = self.pair()
        self.current_layer(run_a)  # a Layer that is not shared: a SettingError that says so
        key = (label_a, label_b, run_a.step_count(), run_b.step_count(), self._layer)
        if key not in self._cache:
            self._cache = {key: self._measures(run_a, run_b)}
            if not self._cache[key][2]:  # once per pair of runs, not at every step
                report_error(f"{label_a} and {label_b} recorded different probe images: CKA "
                             "needs the same inputs (the weight distances are there)")
        cka, distance, probe = self._cache[key]
        differences = layer_differences(run_a.info["layers"], run_b.info["layers"]) or ["none"]
        for port, columns in enumerate((cka, distance)):
            output = vtkTable.GetData(outputs, port)
            fill_table(output, columns)
            fields = output.GetFieldData()
            fields.AddArray(string_array("run_a", [label_a]))
            fields.AddArray(string_array("run_b", [label_b]))
            fields.AddArray(string_array("differences", differences))
            add_field(output, "same_probe", np.int64(probe))
