"""Filter Matching: which filter of run B is which filter of run A (or of one run at another
step): the correlation of every pair over the probe activations, and the one-to-one matching
that maximises their sum (Hungarian method). Weight Glyphs' Order property then draws B's
filters in A's order."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkTable

from ..analysis.comparison import match_filters
from ..errors import SettingError, StoreError
from ..store import format as F
from .base import floor_step
from .comparison_view import ComparisonView, same_probe
from .convert import add_field, add_image_array, set_image, string_array, vtk_array
from .highlight import filter_ids

DRAWN = "r (B in A's order)"


class FilterMatching(ComparisonView):
    """Port 0: a table, a row per filter of A: filter, partner (B's filter, -1: none), r,
    dead_a, dead_b. Port 1: the Ca x Cb correlation image with B's columns in A's order (the
    matches on the diagonal), DRAWN, with `filter` (the row's filter of A) and `filter_b` (the
    column's filter of B). Field data: step_a, step_b, mean_r, random_mean_r (a
    random one-to-one assignment's, on average), identity_mean_r (filter i with filter i),
    order (B's filters in A's order: Weight Glyphs' Order), run_a, run_b.

    A is shown at the current step; B at the same step, or at StepB (>= 0) to compare two steps
    of one run."""

    def shows_layer(self, entry):
        return "activation_shape" in entry

    def __init__(self):
        ComparisonView.__init__(self, "vtkTable", "vtkImageData")
        self._step_b = -1
        self._cache = {}

    def SetStepB(self, step):
        self.set_value("_step_b", int(step))

    def image_shapes(self, run):
        (_, run_a), (_, run_b) = self.pair()
        layer = self.current_layer(run_a)
        return {1: (run_a.layer_info(layer)["filters"], run_b.layer_info(layer)["filters"])}

    def matching(self, run_a, run_b, layer, step_a, step_b):
        key = (run_a.path, run_b.path, layer, step_a, step_b)
        if key not in self._cache:  # a step switch within one snapshot needs no new matching
            self._cache = {key: match_filters(run_a.tensor_at(layer, F.ACTIVATION, step_a)[1],
                                              run_b.tensor_at(layer, F.ACTIVATION, step_b)[1])}
        return self._cache[key]

    def produce(self, run, outputs):
        (label_a, run_a), (label_b, run_b) = self.pair()
        if not same_probe(run_a, run_b):
            raise SettingError(f"{label_a} and {label_b} recorded different probe images: "
                               "filters can only be matched by their responses to the same inputs")
        layer = self.current_layer(run_a)
        steps_a = run_a.snapshot_steps(layer, F.ACTIVATION)
        steps_b = run_b.snapshot_steps(layer, F.ACTIVATION)
        if not len(steps_a) or not len(steps_b):
            raise StoreError(f"{layer}: no probe activations recorded yet in "
                             f"{label_a if not len(steps_a) else label_b}")
        step_a = self.requested_step(outputs, steps_a)
        step_b = floor_step(steps_b, self._step_b if self._step_b >= 0 else step_a)
        match, dead_a, dead_b = self.matching(run_a, run_b, layer, step_a, step_b)
        partner = match.partner
        table = vtkTable.GetData(outputs, 0)
        table.AddColumn(vtk_array("filter", np.arange(len(partner), dtype=np.int64)))
        table.AddColumn(vtk_array("partner", partner))
        table.AddColumn(vtk_array("r", match.r))
        table.AddColumn(vtk_array("dead_a", dead_a.astype(np.uint8)))
        table.AddColumn(vtk_array("dead_b", np.where(partner >= 0, dead_b[partner.clip(0)], 0)
                                  .astype(np.uint8)))
        order = np.asarray(match.order(), dtype=np.int64)
        image = vtkImageData.GetData(outputs, 1)
        set_image(image, match.matrix[:, order], DRAWN)
        # each column's filter of B, and each row's of A: what a click on the image picks
        add_image_array(image, "filter_b", np.broadcast_to(order[None, :], (len(partner), len(order))))
        add_image_array(image, "filter", filter_ids((len(partner), len(order)), 0))
        for data in (table, image):
            for name, value in (("step_a", np.int64(step_a)), ("step_b", np.int64(step_b)),
                                ("mean_r", np.float64(match.mean_r)),
                                ("random_mean_r", np.float64(match.random_mean_r)),
                                ("identity_mean_r", np.float64(match.identity_mean_r)),
                                ("order", order)):
                add_field(data, name, value)
            data.GetFieldData().AddArray(string_array("run_a", [label_a]))
            data.GetFieldData().AddArray(string_array("run_b", [label_b]))
