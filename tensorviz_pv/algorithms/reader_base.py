"""What the TensorViz Reader and TensorViz Runs share: run stores as a source whose time is the
training step. Each pass for the time steps re-reads the stores (a live trainer appends steps)
and declares their recorded steps, at most MAX_TIME_STEPS of them; a time asked for is shown at
the recorded step at or before it (floor, never ==); under MPI, piece 0 holds the output (the
views read the stores themselves)."""

import json

import numpy as np
from vtkmodules.util.vtkAlgorithm import VTKPythonAlgorithmBase
from vtkmodules.vtkCommonDataModel import vtkMultiBlockDataSet, vtkPolyData
from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline

from ..analysis.decimate import listed_steps
from ..errors import StoreError
from ..store import format as F
from .base import ReportsOnce, requested_piece, requested_time
from .convert import add_field, string_array, vtk_array

MAX_TIME_STEPS = 20000  # ParaView takes 0.4 s to pass a million time steps to its proxy
_NO_STEPS = np.zeros(0, dtype=np.int64)


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


def declare_time_steps(info, steps):
    """A reader's output information: its time steps (the training steps), or none."""
    sddp = vtkStreamingDemandDrivenPipeline
    info.Remove(sddp.TIME_STEPS())
    info.Remove(sddp.TIME_RANGE())
    if len(steps):
        times = [float(s) for s in steps]
        info.Set(sddp.TIME_STEPS(), times, len(times))
        info.Set(sddp.TIME_RANGE(), [times[0], times[-1]], 2)


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


class StoreReader(ReportsOnce, VTKPythonAlgorithmBase):
    """A source of one run store or several (a multiblock), on the time axis of their recorded
    steps. A reader gives tensorviz_runs() ([(label, RunReader)] of its runs, opened when
    needed), _close() (its runs closed, then this class's), _new_blocks() (the RunBlocks that
    fills one run's output) and _fill(output, time) (the output at a time asked for: the time it
    shows, None when it could show none)."""

    def __init__(self):
        VTKPythonAlgorithmBase.__init__(self, nInputPorts=0, nOutputPorts=1,
                                        outputType="vtkMultiBlockDataSet")
        self._steps = _NO_STEPS  # every run's recorded steps: views floor to them
        self._listed = _NO_STEPS  # the time steps declared: at most MAX_TIME_STEPS
        self._run_steps = {}  # label -> that run's recorded steps, read with the time steps
        self._unreadable = set()  # labels of runs whose steps could not be read: views show
        # nothing of them, never data of a store found damaged
        self._blocks = {}  # label -> that run's RunBlocks

    def Refresh(self):
        """File > Reload Files: reopen the stores (a new run may have replaced one)."""
        self._close()
        self.Modified()

    def GetTimestepValues(self):
        return [float(s) for s in self._listed]

    def _close(self):
        self._blocks = {}
        self._run_steps = {}
        self._unreadable = set()

    def readable(self, runs):
        """[(label, RunReader)] of `runs` whose steps read at the last look."""
        return [(label, run) for label, run in runs if label not in self._unreadable]

    def _blocks_of(self, label):
        return self._blocks.setdefault(label, self._new_blocks())

    def RequestInformation(self, request, in_info, out_info):
        info = out_info.GetInformationObject(0)
        declare_time_steps(info, ())  # none until the stores say
        self._unreadable = set()  # each pass tries every run again
        runs = self.tensorviz_runs()
        self._run_steps = {}
        for label, run in runs:
            try:  # re-read on every pass: a live trainer appends steps
                if run.refresh():
                    self._blocks.pop(label, None)
                self._run_steps[label] = run.time_steps()
            except (StoreError, OSError, KeyError) as error:
                self._unreadable.add(label)
                self.report_once(f"{run.path}: cannot read the steps ({error})")
        parts = list(self._run_steps.values())
        if len(parts) == 1:  # already sorted and unique
            self._steps = parts[0]
        else:
            self._steps = np.unique(np.concatenate(parts)).astype(np.int64) if parts else _NO_STEPS
        self._listed = listed_time_steps([run for _, run in runs], self._steps)
        declare_time_steps(info, self._listed)
        return 1

    def RequestData(self, request, in_info, out_info):
        info = out_info.GetInformationObject(0)
        if requested_piece(info)[0] > 0 or not len(self._steps):
            return 1  # under MPI, piece 0 holds the step (the views read the stores)
        output = vtkMultiBlockDataSet.GetData(info)
        shown = self._fill(output, requested_time(info, float(self._steps[0])))
        if shown is not None:
            output.GetInformation().Set(output.DATA_TIME_STEP(), float(shown))
            self.clear_report()
        return 1
