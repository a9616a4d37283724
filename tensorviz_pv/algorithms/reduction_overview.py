"""Reduction Overview: how many filters each conv layer has after each filter reduction of a
run (`tensorviz train --reduce`), all layers at once."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkTable

from ..store import format as F
from .base import TensorVizView
from .convert import add_field, add_image_array, set_image, string_array, vtk_array


def filters_over_reductions(run):
    """(stage steps, conv layer names, counts (layers, stages), originals (layers,)): the
    first stage is the run's start, then one per step at which a reduction happened (the
    filters that exist after it)."""
    layers = [e["name"] for e in run.info.get("layers", []) if e["kind"] == F.CONV]
    merge_steps = sorted({int(s) for s in run.merges()["step"]})
    first = int(run.step_table()[F.STEP][0]) if run.step_count() else 0
    stages = [first] + merge_steps
    counts = np.array([[int(run.alive_at(name, step + 1).sum()) if step in merge_steps
                        else int(run.alive_at(name, step).sum()) for step in stages]
                       for name in layers], dtype=np.int64).reshape(len(layers), len(stages))
    originals = np.array([run.layer_info(name)["filters"] for name in layers], dtype=np.int64)
    return np.asarray(stages, dtype=np.int64), layers, counts, originals


class ReductionOverview(TensorVizView):
    """Port 0: a table, one row per stage (the start, then each reduction's step): step and
    '<layer> filters' per conv layer. Port 1: an image, x = stage, y = conv layer (the first at
    the top), `filters` and `share` (filters / the layer's original count); field data
    `layers` (the rows' names) and `stage_steps`."""

    def __init__(self):
        TensorVizView.__init__(self, "vtkTable", "vtkImageData")

    def image_shapes(self, run):
        stages, layers, _, _ = filters_over_reductions(run)
        return {1: (len(layers), len(stages))}

    def produce(self, run, outputs):
        stages, layers, counts, originals = filters_over_reductions(run)
        table = vtkTable.GetData(outputs, 0)
        table.AddColumn(vtk_array(F.STEP, stages))
        for name, row in zip(layers, counts):
            table.AddColumn(vtk_array(f"{name} filters", row))
        picture = vtkImageData.GetData(outputs, 1)
        if not layers:
            return
        set_image(picture, counts.astype(np.float64), "filters")
        add_image_array(picture, "share", counts / np.maximum(originals[:, None], 1))
        picture.GetCellData().SetActiveScalars("share")
        picture.GetFieldData().AddArray(string_array("layers", layers))
        add_field(picture, "stage_steps", stages)
