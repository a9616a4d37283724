"""TensorViz Reader: a run store as a time-varying VTK source; time = the training step.

Output: a multiblock with one block per layer, and the root's field data the step's scalars
(step, epoch, loss, accuracy, learning_rate); with Tensors on, each block's field data holds
that layer's tensors at the current step (arrays named kernel, bias, ...: flat, with their
shape beside them). The views never need them: they read the store.
"""

import os

from ..errors import StoreError
from ..store.reader import RunReader
from ..store.runs import run_label
from .base import floor_step
from .reader_base import RunBlocks, StoreReader


class TensorVizReader(StoreReader):
    def __init__(self):
        StoreReader.__init__(self)
        self._filename = None
        self._run = None
        self._tensors = False

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
        if bool(tensors) != self._tensors:
            self._tensors = bool(tensors)
            self._blocks = {}
            self.Modified()

    def _close(self):
        if self._run is not None:
            self._run.close()
        self._run = None
        StoreReader._close(self)

    def _new_blocks(self):
        return RunBlocks(tensors=self._tensors)

    def tensorviz_run(self):
        """The open RunReader (None when the file could not be opened, or its steps could not
        be read): views use it."""
        runs = self.tensorviz_runs()
        return runs[0][1] if runs else None

    def _opened(self):
        if self._run is None and self._filename:
            try:
                self._run = RunReader(self._filename)
            except StoreError as error:
                self.report_once(str(error))
        return self._run

    def tensorviz_runs(self):
        """[(label, RunReader)]: this one run, for the views that compare runs (two steps
        of one run)."""
        run = self._opened()
        return self.readable([(run_label(run.path), run)]) if run is not None else []

    def RequestInformation(self, request, in_info, out_info):
        if self._filename and not os.path.exists(self._filename):
            self._close()  # gone (a run replaced, say): opening it again says so
        return StoreReader.RequestInformation(self, request, in_info, out_info)

    def _fill(self, output, time):
        runs = self.tensorviz_runs()
        if not runs:
            return None
        (label, run), step = runs[0], floor_step(self._steps, time)
        try:
            self._blocks_of(label).fill(run, step, output)
        except (StoreError, OSError, KeyError, ValueError) as error:
            self.report_once(f"{self._filename}: cannot read step {step} ({error})")
            return None
        return step
