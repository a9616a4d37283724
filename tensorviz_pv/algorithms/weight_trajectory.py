"""Weight Trajectory: the path of a layer's weight vector over training (the poster's Fig. 3
right), a polyline coloured by step, with a marker at the current step. Its Variable: the
layer kind's weights (store/format.py: shown_variable), a separable convolution's depthwise
kernel, or the biases."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkPolyData

from ..analysis.trajectory import index_path, pca_path
from ..errors import SettingError, StoreError
from ..store import format as F
from .base import TensorVizView
from .convert import add_field, set_cells, string_array, vtk_array

MODES = ("Indices", "PCA")
VARIABLES = (F.WEIGHTS, F.DEPTHWISE_KERNEL, F.BIASES)  # property Variable: the role shown


class WeightTrajectory(TensorVizView):
    def __init__(self):
        TensorVizView.__init__(self, "vtkPolyData", "vtkPolyData")
        self._mode = "Indices"
        self._indices = (0, 1)
        self._dimensions = 2
        self._variable = F.WEIGHTS
        self._path_cache = {}

    def SetVariable(self, index):
        self.set_value("_variable", VARIABLES[int(index)])

    def shows_layer(self, entry):
        """The layers that recorded the chosen Variable (every layer kind has weights)."""
        return self.has_shown(entry, self._variable)

    def SetMode(self, index):
        self.set_value("_mode", MODES[int(index)])

    def SetIndices(self, first, second, third):
        self.set_value("_indices", (int(first), int(second), int(third)))

    def SetDimensions(self, dimensions):
        self.set_value("_dimensions", 3 if int(dimensions) >= 3 else 2)

    def _path(self, run, layer, quantity):
        """(steps, coordinates (steps, 3), explained variance ratio or None) of the series
        `quantity`, cached per run size."""
        steps = run.series_steps(layer, quantity)
        key = (run.path, layer, quantity, len(steps), self._mode, self._indices, self._dimensions)
        if key not in self._path_cache:
            if len(steps) < 2:
                raise StoreError(f"{run.path}: layer {layer!r} has {len(steps)} {quantity} "
                                 "snapshot(s); a trajectory needs two")
            vectors = np.stack([run.series_value(layer, quantity, i).ravel()
                                for i in range(len(steps))])
            coordinates = np.zeros((len(steps), 3))
            explained = None
            if self._mode == "PCA":
                projected, explained = pca_path(vectors, self._dimensions)
                coordinates[:, :self._dimensions] = projected
            else:
                coordinates[:, :self._dimensions] = index_path(
                    vectors, self._indices[:self._dimensions])
            self._path_cache = {key: (steps, coordinates, explained)}
        return self._path_cache[key]

    def produce(self, run, outputs):
        layer = self.current_layer(run)
        try:
            quantity = F.shown_variable(run.layer_info(layer), self._variable)
            steps, coordinates, explained = self._path(run, layer, quantity)
        except SettingError as error:
            raise SettingError(f"{run.path}: {layer}: {error}") from None
        path = vtkPolyData.GetData(outputs, 0)
        set_cells(path, coordinates, lines=[np.arange(len(steps))])
        path.GetPointData().AddArray(vtk_array("step", steps.astype(np.float64)))
        path.GetPointData().SetActiveScalars("step")
        path.GetFieldData().AddArray(string_array("quantity", [quantity]))
        if explained is not None:
            add_field(path, "explained variance ratio", explained)
        current = self.requested_step(outputs, steps)
        index = int(np.searchsorted(steps, current))
        marker = vtkPolyData.GetData(outputs, 1)
        set_cells(marker, coordinates[index:index + 1], vertices=True)
        marker.GetPointData().AddArray(vtk_array("step", np.array([float(steps[index])])))
        add_field(marker, "snapshot_step", np.int64(steps[index]))
