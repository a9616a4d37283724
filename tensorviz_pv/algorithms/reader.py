"""TensorViz Reader: a run store as a time-varying VTK source; time = the training step.

Output: a multiblock with one block per layer, and the root's field data the step's scalars
(step, epoch, loss, accuracy, learning_rate); with Tensors on, each block's field data holds
that layer's tensors at the current step (arrays named kernel, bias, ...: flat, with their
shape beside them). The views never need them: they read the store.
"""

import json
import os

import numpy as np
from vtkmodules.util.vtkAlgorithm import VTKPythonAlgorithmBase
from vtkmodules.vtkCommonDataModel import vtkMultiBlockDataSet, vtkPolyData

from ..analysis.decimate import listed_steps
from ..errors import StoreError
from ..store import format as F
from ..store.reader import RunReader
from ..store.runs import run_label
from .base import ReportsOnce, declare_time_steps, floor_step, requested_piece, requested_time
from .convert import add_field, string_array, vtk_array


MAX_TIME_STEPS = 20000  # ParaView takes 0.4 s to pass a million time steps to its proxy


def listed_time_steps(runs, steps):
    """The time steps declared for runs whose recorded steps are `steps`: every one up to
    MAX_TIME_STEPS, else every snapshot (of the series with few steps: where views change) and
    an even grid of the others (analysis/decimate.py). A step typed in, or asked by a script,
    between them is still shown exactly: the views floor to every recorded step."""
    if len(steps) <= MAX_TIME_STEPS:  # none at all included
        return steps
    kept = [run.series_steps(layer, quantity) for run in runs for layer in run.layers
            for quantity in run.series_names(layer)]
    kept = [part for part in kept if len(part) <= MAX_TIME_STEPS // 2]
    return listed_steps(steps, np.concatenate(kept) if kept else [], MAX_TIME_STEPS)


class RunBlocks:
    """Fills a multiblock with one run's step: the step's scalars at the root, with `layers` a
    block per layer, and with `tensors` each layer's tensors at the step in its block's field
    data. Keeps the VTK arrays of the snapshots it last drew: most snapshots stay the same from
    one step to the next."""

    def __init__(self, layers=True, tensors=False):
        self.layers, self.tensors = layers, tensors
        self._arrays = {}  # (layer, quantity, snapshot index) -> VTK arrays of the last output

    def clear(self):
        self._arrays = {}

    def fill(self, run, step, output):
        # the Information panel lists field data: what the run is, in readable strings; built
        # once per opened store, like the tensor arrays below, not at every time step
        info_key = ("run info",)
        if info_key not in self._arrays:
            self._arrays[info_key] = (
                string_array("store", [run.path]),
                string_array("run_info", [json.dumps(run.info, indent=1)]),
                string_array("layers", [
                    f"{e['name']} {e['kind']} kernel {tuple(e['kernel_shape'])} filters {e['filters']}"
                    for e in run.info.get("layers", [])]))
        arrays = {info_key: self._arrays[info_key]}
        for array in arrays[info_key]:
            output.GetFieldData().AddArray(array)
        add_field(output, "step", np.int64(step))
        row = run.step_row(step)
        if row is not None:
            for column in F.STEP_COLUMNS[1:]:
                add_field(output, column, row[column])
        for index, layer in enumerate(run.layers if self.layers else []):
            block = vtkPolyData()
            for quantity in run.series_names(layer) if self.tensors else []:
                if not len(run.series_steps(layer, quantity)):
                    continue
                snapshot = run.snapshot_index(layer, quantity, step)
                key = (layer, quantity, snapshot)
                if key not in self._arrays:  # unchanged snapshots (most, per step) are reused
                    value = np.asarray(run.series_value(layer, quantity, snapshot), np.float32)
                    # flat, one component: blocks of other layers share the array names
                    self._arrays[key] = (vtk_array(quantity, value.ravel()),
                                         vtk_array(quantity + "_shape", np.asarray(value.shape, np.int64)))
                arrays[key] = self._arrays[key]
                for array in arrays[key]:
                    block.GetFieldData().AddArray(array)
            output.SetBlock(index, block)
            output.GetMetaData(index).Set(vtkMultiBlockDataSet.NAME(), layer)
        self._arrays = arrays


class TensorVizReader(ReportsOnce, VTKPythonAlgorithmBase):
    def __init__(self):
        VTKPythonAlgorithmBase.__init__(self, nInputPorts=0, nOutputPorts=1,
                                        outputType="vtkMultiBlockDataSet")
        self._filename = None
        self._run = None
        self._steps = np.zeros(0, dtype=np.int64)  # every step recorded: views floor to them
        self._listed = self._steps  # the time steps declared: at most MAX_TIME_STEPS
        self._blocks = RunBlocks()

    def SetFileName(self, name):
        if name != self._filename:
            self._filename = name
            self._close()
            self.Modified()

    def GetFileName(self):
        return self._filename

    def SetTensors(self, tensors):
        """Each layer's tensors at the current step in the output (for filters of your own);
        off, a step switch copies no snapshot (the TensorViz views read the store)."""
        if bool(tensors) != self._blocks.tensors:
            self._blocks = RunBlocks(tensors=bool(tensors))
            self.Modified()

    def Refresh(self):
        """File > Reload Files: reopen the store (a new run may have replaced it)."""
        self._close()
        self.Modified()

    def _close(self):
        if self._run is not None:
            self._run.close()
        self._run = None
        self._blocks.clear()

    def tensorviz_run(self):
        """The open RunReader (None when the file could not be opened): views use it."""
        if self._run is None and self._filename:
            try:
                self._run = RunReader(self._filename)
            except StoreError as error:
                self.report_once(str(error))
        return self._run

    def tensorviz_runs(self):
        """[(label, RunReader)]: this one run, for the views that compare runs (two steps
        of one run)."""
        run = self.tensorviz_run()
        return [(run_label(run.path), run)] if run is not None else []

    def GetTimestepValues(self):
        return [float(s) for s in self._listed]

    def RequestInformation(self, request, in_info, out_info):
        info = out_info.GetInformationObject(0)
        declare_time_steps(info, ())  # none until the store says
        if not self._filename:
            return 1
        if not os.path.exists(self._filename):
            self._close()
        run = self.tensorviz_run()
        if run is None:
            self._steps = np.zeros(0, dtype=np.int64)
            return 1
        try:  # re-check on every pass: a live trainer appends steps
            if run.refresh():
                self._blocks.clear()
            self._steps = run.time_steps()
        except (StoreError, OSError, KeyError) as error:
            self.report_once(f"{self._filename}: cannot read the steps ({error})")
            self._steps = np.zeros(0, dtype=np.int64)
        self._listed = listed_time_steps([run], self._steps)
        declare_time_steps(info, self._listed)
        return 1

    def RequestData(self, request, in_info, out_info):
        info = out_info.GetInformationObject(0)
        output = vtkMultiBlockDataSet.GetData(info)
        if requested_piece(info)[0] > 0:
            return 1  # under MPI, piece 0 holds the step (the views read the stores)
        run = self.tensorviz_run()
        if run is None or len(self._steps) == 0:
            return 1
        step = floor_step(self._steps, requested_time(info, float(self._steps[0])))
        try:
            self._blocks.fill(run, step, output)
        except (StoreError, OSError, KeyError, ValueError) as error:
            self.report_once(f"{self._filename}: cannot read step {step} ({error})")
            return 1
        output.GetInformation().Set(output.DATA_TIME_STEP(), float(step))
        self.clear_report()
        return 1
