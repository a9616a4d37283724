"""The run store while a fit records into it: a RunWriter that only the background thread uses,
fed in order from the training thread. Tensors are written in the store's original filter
layout (the FilterIds handed with them), converted off the training thread."""

import numpy as np

from tensorviz_pv.messages import logger
from tensorviz_pv.store import format as F

from . import at_exit
from .background import BackgroundWriter

LOG = logger("recording")
EXIT_WAIT = 120  # seconds the writes still queued at exit may take before they are abandoned


class StoreOutput:
    """`writer` a RunWriter (created or continued); `metric_columns` the store's metric names,
    `health_series` the (layer, quantity) of the health series it holds."""

    def __init__(self, writer, metric_columns, health_series):
        self._writer = writer
        self.metric_columns, self.health_series = list(metric_columns), set(health_series)
        self._background = BackgroundWriter()
        self.path = writer.path
        at_exit.output_opened(self)

    def step(self, *row):
        """A row of the step tables (RunWriter.add_step's arguments)."""
        self._background.submit(self._writer.add_step, *row)

    def tensors(self, step, parts, filter_ids):
        """[(layer, quantity, value)] of one step, the model's filters being `filter_ids`;
        values may be tensors (numpy'd later)."""
        self._background.submit(self._write_tensors, step, parts, filter_ids)

    def _write_tensors(self, step, parts, filter_ids):
        for path, quantity, value in parts:
            self._writer.add_tensor(path, quantity, step,
                                    filter_ids.expand(path, quantity, np.asarray(value)))

    def evaluation(self, **row):
        self._background.submit(self._writer.add_evaluation, **row)

    def alive(self, step, filter_ids):
        """Which original filters each conv layer holds at `step`."""
        for name in filter_ids.original:
            self._background.submit(self._writer.add_tensor, name, F.ALIVE, step,
                                    filter_ids.alive(name))

    def reduction(self, step, plans, kept, filter_ids, layer_index):
        """The merges of a filter reduction at `step` (plans {layer: [Merge]} in the model's
        current filter indices, kept {layer: indices kept}; layer_index {layer: its index}),
        then which original filters exist; `filter_ids` follow it."""
        self.wait()  # queued snapshots are expanded with the ids before this
        for name, merges in plans.items():
            ids = filter_ids.ids[name]
            for merge in merges:
                self._background.submit(
                    self._writer.add_merge, step=step, layer=layer_index[name],
                    kept=int(ids[merge.kept]), removed=int(ids[merge.removed]),
                    correlation=merge.correlation, scale=merge.scale, offset=merge.offset)
        self.wait()
        for name, keep in kept.items():
            filter_ids.keep(name, keep)
        self.alive(step, filter_ids)
        self.flush()

    def steering_event(self, **row):
        """An answered command (RunWriter.add_steering_event's row), in the store before the
        answer is: written and flushed now (commands are few)."""
        self._background.submit(self._writer.add_steering_event, **row)
        self.flush()

    def flush_due(self):
        return self._writer.flush_due()

    def maybe_flush(self):
        self._background.submit(self._writer.maybe_flush)

    def flush(self):
        """Flush, and wait until the store holds everything submitted before."""
        self._background.submit(self._writer.flush)
        self.wait()

    def settle(self):
        """Flush, wait until the store holds everything, and raise a write's failure."""
        self.flush()
        self.check()

    def wait(self):
        self._background.wait()

    def check(self):
        """Raise the failure of a write on the background thread, if one failed."""
        if self._background.failure is not None:
            raise self._background.failure

    def fail(self, error):
        """Recording failed elsewhere: write nothing more."""
        self._background.failure = self._background.failure or error

    def close_at_exit(self):
        """The process ends with the store open (at_exit.py)."""
        LOG.warning(f"TensorViz: {self.path}: the process ends with the store open; writing "
                    "what was recorded and closing it")
        self.close(timeout=EXIT_WAIT)

    def close(self, timeout=None):
        """Write what is queued (unless a write failed), and close the store; writes that do
        not end within `timeout` seconds are abandoned, the lock released all the same."""
        at_exit.output_closed(self)
        if not self._background.stop(timeout):
            LOG.warning(f"TensorViz: {self.path}: writes still queued after {timeout} s were "
                        "abandoned; the store keeps what was flushed before")
            self._writer.lock.release()
            return
        try:
            self._writer.close()
        except Exception as error:  # noqa: BLE001 - reported, the rest still closes
            LOG.warning(f"TensorViz: {self.path}: closing failed: {error}")
