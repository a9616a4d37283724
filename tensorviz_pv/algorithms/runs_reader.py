"""TensorViz Runs: several run stores on one time axis (the union of their steps), for the
views that compare runs; a folder of runs (a sweep's output, any folder whose sub-folders are
runs) or stores named one by one.

Output: a multiblock with a block per run, named by its run directory, whose field data holds
what the TensorViz Reader's root holds (the run, the step, its loss, accuracy...; not the
layers' tensors: ten runs' would be copied at every step for nothing, the views read the
stores); a run that has ended by then has only `run` and `ended`. The views of one run (Weight
Glyphs...) show the run chosen by the Run property; Norm Comparison, Layer Similarity and
Filter Matching use them all.
"""

import numpy as np
from vtkmodules.util.vtkAlgorithm import VTKPythonAlgorithmBase
from vtkmodules.vtkCommonDataModel import vtkMultiBlockDataSet

from ..errors import StoreError
from ..store.runs import RunSet
from .base import ReportsOnce, declare_time_steps, floor_step, requested_piece, requested_time
from .convert import add_field, string_array
from .reader import RunBlocks, listed_time_steps


class TensorVizRuns(ReportsOnce, VTKPythonAlgorithmBase):
    def __init__(self):
        VTKPythonAlgorithmBase.__init__(self, nInputPorts=0, nOutputPorts=1,
                                        outputType="vtkMultiBlockDataSet")
        self._paths = []  # those of the open runs
        self._asked = []  # those the FileNames property holds (ParaView sets them one by one)
        self._chosen = ""
        self._set = None
        self._steps = np.zeros(0, dtype=np.int64)  # every run's recorded steps
        self._listed = self._steps  # the time steps declared (reader.listed_time_steps)
        self._blocks = {}
        self._run_steps = {}  # label -> that run's steps, read with the time steps

    # ---- properties
    def AddFileName(self, path):
        """FileNames (repeatable): folders of runs, run directories or stores. ParaView clears
        the list and adds them one by one: the runs are reopened only when the list differs."""
        if path:
            self._asked.append(path)
            self.Modified()

    def RemoveAllFileNames(self):
        self._asked = []
        self.Modified()

    def SetRun(self, label):
        if (label or "") != self._chosen:
            self._chosen = label or ""
            self.Modified()

    def GetRunNames(self):
        return string_array("runs", [label for label, _ in self.tensorviz_runs()])

    def Refresh(self):
        self._close()
        self.Modified()

    def GetTimestepValues(self):
        return [float(s) for s in self._listed]

    # ---- the runs, for the views downstream
    def _close(self):
        if self._set is not None:
            self._set.close()
        self._set = None
        self._blocks = {}
        self._run_steps = {}

    def _run_set(self):
        if self._asked != self._paths:
            self._close()
            self._paths = list(self._asked)
        if self._set is None and self._paths:
            try:
                self._set = RunSet(self._paths)
            except StoreError as error:
                self.report_once(str(error))
                return None
            for problem in self._set.problems:  # a damaged run is left out, the rest open
                self.report_once(f"left out: {problem}")
        return self._set

    def tensorviz_runs(self):
        """[(label, RunReader)] of every run that opened."""
        runs = self._run_set()
        return list(runs.runs) if runs is not None else []

    def tensorviz_run(self):
        """The run the Run property names (the first when it names none): the one-run views
        downstream show it."""
        runs = self.tensorviz_runs()
        if not runs:
            return None
        for label, run in runs:
            if label == self._chosen:
                return run
        if self._chosen:
            self.report_once(f"Run {self._chosen!r}: no such run (runs: "
                             f"{', '.join(label for label, _ in runs)}); showing {runs[0][0]}")
        return runs[0][1]

    # ---- pipeline
    def RequestInformation(self, request, in_info, out_info):
        info = out_info.GetInformationObject(0)
        declare_time_steps(info, ())  # none until the store says
        runs = self._run_set()
        if runs is None:
            self._steps = np.zeros(0, dtype=np.int64)
            return 1
        self._run_steps = {}
        for label, run in runs.runs:
            try:  # a run still being trained shows as far as it has gone
                if run.refresh():
                    self._blocks.pop(label, None)
                self._run_steps[label] = run.time_steps()
            except (StoreError, OSError, KeyError) as error:
                self.report_once(f"{run.path}: cannot read the steps ({error})")
        parts = list(self._run_steps.values())
        self._steps = np.unique(np.concatenate(parts)).astype(np.int64) if parts \
            else np.zeros(0, dtype=np.int64)
        self._listed = listed_time_steps([run for _, run in runs.runs], self._steps)
        declare_time_steps(info, self._listed)
        return 1

    def RequestData(self, request, in_info, out_info):
        info = out_info.GetInformationObject(0)
        output = vtkMultiBlockDataSet.GetData(info)
        if requested_piece(info)[0] > 0:
            return 1  # under MPI, piece 0 holds the step (the views read the stores)
        runs = self.tensorviz_runs()
        if not runs or not len(self._steps):
            return 1
        time = requested_time(info, float(self._steps[0]))
        for index, (label, run) in enumerate(runs):
            block = vtkMultiBlockDataSet()
            block.GetFieldData().AddArray(string_array("run", [label]))
            try:
                steps = self._run_steps.get(label, [])
                ended = not len(steps) or time > steps[-1]
                add_field(block, "ended", np.int64(ended))
                if not ended:
                    self._blocks.setdefault(label, RunBlocks(layers=False)).fill(
                        run, floor_step(steps, time), block)
            except (StoreError, OSError, KeyError, ValueError) as error:
                self.report_once(f"{run.path}: cannot read the step at {time:g} ({error})")
            output.SetBlock(index, block)
            output.GetMetaData(index).Set(vtkMultiBlockDataSet.NAME(), label)
        output.GetInformation().Set(output.DATA_TIME_STEP(), time)
        self.clear_report()
        return 1
