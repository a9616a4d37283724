"""The writer of the run store (numpy + h5py only; format.py names everything in it).

It keeps HDF5 1.10 compatibility (libver v110) so Debian's ParaView can read the file, and
writes in SWMR mode so a reader can open the store while training goes on. Rows are buffered in
memory and written in one block per dataset at each flush, so recording costs a few resizes per
flush rather than per step. Every dataset carries Fletcher32 checksums, so a damaged byte is
reported, never shown. One writer per run (lock.py); HDF5's own file locks are off, so that a
reader holding the store never blocks the writer. A flush that would not fit on the disk is
refused before anything is written: the store stays as it was at the last flush.
"""

import json
import os
import time

import h5py
import numpy as np

from ..errors import StoreError
from . import format as F
from .lock import WriterLock
from .reader import RunReader
from .store_file import check_store_file
from .superblock import clear_write_flags, write_flags

SPACE_MARGIN = 1 << 20  # bytes kept free besides a flush's rows, for HDF5's metadata


class DiskFullError(StoreError):
    """A flush that does not fit on the disk: nothing of it was written."""


def _chunk_rows(row_shape, dtype, target_bytes=32 * 1024):
    row_bytes = int(np.prod(row_shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    return int(max(1, min(1024, target_bytes // max(row_bytes, 1))))


class _Growing:
    """A dataset extended along axis 0, with rows buffered until flush."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.pending = []

    def append(self, row):
        self.pending.append(np.asarray(row, dtype=self.dataset.dtype))

    def pending_bytes(self):
        return sum(row.nbytes for row in self.pending)

    def write_pending(self):
        if not self.pending:
            return
        block = np.stack(self.pending)
        start = self.dataset.shape[0]
        self.dataset.resize(start + len(block), axis=0)
        self.dataset[start:] = block
        self.pending = []

    def truncate(self, rows):
        self.dataset.resize(rows, axis=0)


def _create_growing(group, name, row_shape, dtype, checksums=True):
    # no compression: gzip halved activations on disk but made each time step's read 30x
    # slower (4 ms instead of 0.14 ms for conv1's probe activations; benchmarks/view_latency.py)
    row_shape = tuple(int(n) for n in row_shape)
    dataset = group.create_dataset(
        name, shape=(0,) + row_shape, maxshape=(None,) + row_shape, dtype=dtype,
        chunks=(_chunk_rows(row_shape, dtype),) + row_shape, fletcher32=checksums)
    return _Growing(dataset)


def _create_steering(h5file):
    """The table of steering events (format version 3): created with the store, since SWMR
    adds no datasets later."""
    group = h5file.create_group(F.STEERING_GROUP)
    for column in F.STEERING_COLUMNS:
        _create_growing(group, column, (), F.STEERING_COLUMN_DTYPES[column])


def _text(value, dtype):
    """`value` as the UTF-8 bytes of a fixed-length text column, cut to fit on a character."""
    size = np.dtype(dtype).itemsize
    data = str(value).encode("utf-8")
    return data if len(data) <= size else data[:size].decode("utf-8", "ignore").encode("utf-8")


def _create_fixed(group, name, values, dtype, checksums=True):
    """A dataset written once, checksummed like every other (Fletcher32 needs chunks: one)."""
    values = np.asarray(values, dtype)
    return group.create_dataset(name, data=values, fletcher32=checksums,
                                chunks=values.shape if checksums and values.size else None)


class RunWriter:
    """Appends training records to a store; every dataset exists before SWMR starts."""

    def __init__(self, h5file, path, flush_interval, lock):
        self.file = h5file
        self.path = path
        self.flush_interval = flush_interval
        self.lock = lock
        self.notes = []  # what opening the store repaired, for the caller to say
        self.failed = None  # the write that failed: the file is left alone after it
        self._last_flush = time.monotonic()
        self._columns = {c: _Growing(h5file[F.steps_path(c)]) for c in F.STEP_COLUMNS}
        self._norms = {w: _Growing(h5file[F.norms_path(w)])
                       for w in (F.WEIGHT_NORM, F.GRADIENT_NORM)}
        self._evaluation = {c: _Growing(h5file[F.evaluation_path(c)]) for c in F.EVAL_COLUMNS}
        self._merges = {c: _Growing(h5file[F.merges_path(c)]) for c in F.MERGE_COLUMNS}
        self._steering = {c: _Growing(h5file[F.steering_path(c)]) for c in F.STEERING_COLUMNS} \
            if F.STEERING_GROUP in h5file else {}  # absent in stores of version 2
        metrics = h5file.get(F.metrics_path(F.METRICS_VALUE))  # absent in version 1 stores
        self._metrics = None if metrics is None else _Growing(metrics)
        self._series = {}

        def add_series(name, item):  # a series' group holds its step and value datasets
            if isinstance(item, h5py.Group) and F.SERIES_STEP in item and F.SERIES_VALUE in item:
                layer, _, quantity = name.rpartition("/")
                self._series[(layer, quantity)] = (_Growing(item[F.SERIES_STEP]),
                                                   _Growing(item[F.SERIES_VALUE]))
        h5file[F.TENSORS_GROUP].visititems(add_series)

    @classmethod
    def create(cls, path, run_info, variables, series, probe_images=None, probe_labels=None,
               metric_names=(), flush_interval=0.75, checksums=True, atlas=None):
        """A new store at `path` (which must not exist). `variables` names the norm columns,
        `metric_names` those of the metrics table; `atlas`: (images, labels) of the Filter
        Atlas; checksums=False only to measure their cost."""
        if os.path.exists(path):
            raise StoreError(f"{path}: a store already exists there")
        lock = WriterLock(path).acquire()
        try:
            f = h5py.File(path, "w", libver=("v110", "v110"), locking=False)
        except OSError as error:
            lock.release()
            raise StoreError(f"{path}: cannot create the store ({error})") from None
        try:
            f.attrs[F.ATTR_FORMAT] = F.FORMAT_NAME
            f.attrs[F.ATTR_VERSION] = F.FORMAT_VERSION
            f.attrs[F.ATTR_RUN_INFO] = json.dumps(run_info)
            steps = f.create_group(F.STEPS_GROUP)
            for column in F.STEP_COLUMNS:
                _create_growing(steps, column, (), F.STEP_COLUMN_DTYPES[column])
            norms = f.create_group(F.NORMS_GROUP)
            norms.attrs[F.ATTR_VARIABLES] = json.dumps(list(variables))
            for which in (F.WEIGHT_NORM, F.GRADIENT_NORM):
                _create_growing(norms, which, (len(variables),), "float32")
            evaluation = f.create_group(F.EVALUATION_GROUP)
            for column in F.EVAL_COLUMNS:
                _create_growing(evaluation, column, (), F.EVAL_COLUMN_DTYPES.get(column, "float32"))
            if metric_names:
                metrics = f.create_group(F.METRICS_GROUP)
                _create_growing(metrics, F.METRICS_VALUE, (len(metric_names),), "float32") \
                    .dataset.attrs[F.ATTR_METRIC_NAMES] = json.dumps(list(metric_names))
            merges = f.create_group(F.MERGES_GROUP)
            for column in F.MERGE_COLUMNS:
                _create_growing(merges, column, (), F.MERGE_COLUMN_DTYPES.get(column, "float32"))
            _create_steering(f)
            tensors = f.create_group(F.TENSORS_GROUP)
            for spec in series:
                group = tensors.require_group(spec.layer).create_group(spec.quantity)
                _create_growing(group, F.SERIES_STEP, (), "int64", checksums)
                _create_growing(group, F.SERIES_VALUE, spec.shape, spec.dtype, checksums)
            probe = f.create_group(F.PROBE_GROUP)
            if probe_images is not None:
                _create_fixed(probe, F.PROBE_IMAGES, probe_images, "float32", checksums)
                _create_fixed(probe, F.PROBE_LABELS, probe_labels, "int64", checksums)
            if atlas is not None:  # images as float16: a display's precision, half the bytes
                group = f.create_group(F.ATLAS_GROUP)
                _create_fixed(group, F.ATLAS_IMAGES, atlas[0], "float16", checksums)
                _create_fixed(group, F.ATLAS_LABELS, atlas[1], "int64", checksums)
            f.swmr_mode = True
        except Exception:
            f.close()
            os.remove(path)
            lock.release()
            raise
        return cls(f, path, flush_interval, lock)

    @classmethod
    def append_to(cls, path, last_step, flush_interval=0.75):
        """Reopen a store to continue a run after `last_step`: later records, and rows that a
        writer killed mid-flush left without their companions, are dropped, so that a resumed
        run neither misses nor doubles a step."""
        check_store_file(path)
        lock = WriterLock(path).acquire()
        try:
            notes = []
            if write_flags(path) and clear_write_flags(path):
                notes.append(f"{path}: its last writer ended without closing it; repaired")
            RunReader(path).close()  # the reader's checks: a TensorViz store of a version we know
            f = h5py.File(path, "r+", libver=("v110", "v110"), locking=False)
        except (StoreError, OSError) as error:
            lock.release()
            if isinstance(error, StoreError):
                raise
            raise StoreError(f"{path}: cannot continue this store ({error})") from None
        try:
            writer = cls(f, path, flush_interval, lock)
            writer.notes = notes
            writer._truncate_after(last_step)
            f.swmr_mode = True
        except (KeyError, ValueError, OSError) as error:
            f.close()
            lock.release()
            raise StoreError(f"{path}: cannot continue this store ({error})") from None
        return writer

    def _truncate_after(self, last_step):
        per_step = list(self._columns.values()) + self._step_data()
        complete = min(growing.dataset.shape[0] for growing in per_step)  # all of a row written
        step_column = self._columns[F.STEP].dataset[:complete]
        rows = int(np.searchsorted(step_column, last_step, side="right"))
        for growing in per_step:
            growing.truncate(rows)
        # a reduction recorded at the resume step came after its checkpoint: it goes too
        reduction_side = "left" if last_step > 0 else "right"
        # the steering events stay: commands answered once, also those a resume undid
        for table, side in ((self._evaluation, "right"), (self._merges, reduction_side)):
            complete = min(growing.dataset.shape[0] for growing in table.values())
            rows = int(np.searchsorted(table["step"].dataset[:complete], last_step, side=side))
            for growing in table.values():
                growing.truncate(rows)
        for (_, quantity), (steps, values) in self._series.items():
            side = reduction_side if quantity == F.ALIVE else "right"
            complete = min(steps.dataset.shape[0], values.dataset.shape[0])
            rows = int(np.searchsorted(steps.dataset[:complete], last_step, side=side))
            steps.truncate(rows)
            values.truncate(rows)

    def _step_data(self):
        """The norms and metrics: one row per update, beside the step columns."""
        return list(self._norms.values()) + ([self._metrics] if self._metrics is not None else [])

    def add_step(self, step, epoch, loss, accuracy, learning_rate, weight_norms, gradient_norms,
                 metrics=()):
        for column, value in zip(F.STEP_COLUMNS, (step, epoch, loss, accuracy, learning_rate)):
            self._columns[column].append(value)
        self._norms[F.WEIGHT_NORM].append(weight_norms)
        self._norms[F.GRADIENT_NORM].append(gradient_norms)
        if self._metrics is not None:
            self._metrics.append(metrics)

    def add_tensor(self, layer, quantity, step, value):
        steps, values = self._series[(layer, quantity)]
        steps.append(step)
        values.append(value)

    def add_evaluation(self, **row):
        for column in F.EVAL_COLUMNS:
            self._evaluation[column].append(row.get(column, np.nan))

    def flush_due(self):
        return time.monotonic() - self._last_flush >= self.flush_interval

    def add_merge(self, **row):
        for column in F.MERGE_COLUMNS:
            self._merges[column].append(row[column])

    def add_steering_event(self, **row):
        """One answered command (STEERING_COLUMNS; text columns as str, value as JSON text);
        False in a store of version 2, which has no table for it."""
        if not self._steering:
            return False
        for column in F.STEERING_COLUMNS:
            dtype = F.STEERING_COLUMN_DTYPES[column]
            value = row[column]
            self._steering[column].append(_text(value, dtype) if dtype.startswith("S") else value)
        return True

    def maybe_flush(self):
        """Flush when the last flush is older than flush_interval (readers see new rows)."""
        if self.flush_due():
            self.flush()

    def _all(self):
        """Every growing dataset, in the order a flush writes them (the step columns last)."""
        everything = []
        for steps, values in self._series.values():
            everything += [values, steps]
        everything += (self._step_data() + list(self._evaluation.values())
                       + list(self._merges.values()) + list(self._steering.values()))
        return everything + [self._columns[c] for c in reversed(F.STEP_COLUMNS)]

    def _check_space(self):
        """DiskFullError when the pending rows would not fit: nothing is written then."""
        needed = sum(growing.pending_bytes() for growing in self._all()) + SPACE_MARGIN
        stat = os.statvfs(os.path.dirname(os.path.abspath(self.path)))
        free = stat.f_bavail * stat.f_frsize
        if free < needed:
            raise DiskFullError(f"{self.path}: the disk is full ({free / 1e6:.1f} MB free, this "
                                f"flush needs {needed / 1e6:.1f} MB); the store keeps every step "
                                "flushed before; free space and resume")

    def flush(self):
        if self.failed is not None:
            raise StoreError(f"{self.path}: not written since an earlier failure ({self.failed})")
        try:
            self._check_space()
        except DiskFullError as error:
            self.failed = error
            raise
        try:
            # data first, the step columns last: a reader never sees a step without its data
            for growing in self._all():
                growing.write_pending()
            self.file.flush()
        except (OSError, RuntimeError, ValueError) as error:
            self.failed = error
            raise StoreError(f"{self.path}: writing failed ({error})") from None
        self._last_flush = time.monotonic()

    def close(self):
        """Flush and close; after a failed write, close without writing more (HDF5 would only
        fail again), and release the writer lock either way."""
        try:
            if self.file.id.valid:
                if self.failed is None:
                    try:
                        self.flush()
                    except StoreError as error:  # a full disk: the rows not flushed are lost
                        self.failed = error
                self.file.close()
        except (OSError, RuntimeError) as error:
            self.failed = self.failed or error
        finally:
            self.lock.release()
