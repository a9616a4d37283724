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
from vtkmodules.vtkCommonDataModel import vtkMultiBlockDataSet

from ..errors import StoreError
from ..store.runs import RunSet
from .base import floor_step
from .convert import add_field, string_array
from .reader_base import RunBlocks, StoreReader


class TensorVizRuns(StoreReader):
    def __init__(self):
        StoreReader.__init__(self)
        self._paths = []  # those of the open runs
        self._asked = []  # those the FileNames property holds (ParaView sets them one by one)
        self._chosen = ""
        self._set = None

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

    # ---- the runs, for the views downstream
    def _close(self):
        if self._set is not None:
            self._set.close()
        self._set = None
        StoreReader._close(self)

    def _new_blocks(self):
        return RunBlocks(layers=False)  # a run's step, not its layers

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
        return self.readable(runs.runs) if runs is not None else []

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
    def _fill(self, output, time):
        """A block per run at `time`: its step then (floor), or only `ended` past its last."""
        runs = self.tensorviz_runs()
        if not runs:
            return None
        for index, (label, run) in enumerate(runs):
            block = vtkMultiBlockDataSet()
            block.GetFieldData().AddArray(string_array("run", [label]))
            try:
                steps = self._run_steps.get(label, [])
                ended = not len(steps) or time > steps[-1]
                add_field(block, "ended", np.int64(ended))
                if not ended:
                    self._blocks_of(label).fill(run, floor_step(steps, time), block)
            except (StoreError, OSError, KeyError, ValueError) as error:
                self.report_once(f"{run.path}: cannot read the step at {time:g} ({error})")
            output.SetBlock(index, block)
            output.GetMetaData(index).Set(vtkMultiBlockDataSet.NAME(), label)
        return time
