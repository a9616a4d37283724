"""A run read end to end, as a file system's scrub reads a disk (`tensorviz check`; numpy and
h5py only, no TensorFlow: checkpoints are plain zip files).

Every chunk of every dataset of the store is read through HDF5, which verifies its Fletcher32
checksum; every member of every checkpoint is read, which verifies its CRC (zipfile's testzip,
member by member so that each damaged one is named); each checkpoint's metadata must parse; and
every dataset the run info says was recorded must be there (required.py). Chunks are read in
blocks of several at once (at disk speed); a block that fails is read again chunk by chunk, so
that each damaged chunk is found and its rows mapped to their steps. Nothing is written: the
store is opened as every reader opens it (a dead writer's through a view, store_file.py).
"""

import json
import math
import os
import re
import time
import zipfile
import zlib

import h5py

from ..errors import StoreError
from ..messages import logger
from . import format as F
from .reader import RunReader
from .required import required_datasets
from .run_dir import RunDir, resolve_store_path
from .store_file import first_line

LOG = logger("check")
BLOCK_BYTES = 1 << 20  # chunks read in one go (larger blocks were no faster)
CHECKPOINT = re.compile(r"(epoch-\d{4}|step-\d{8})\.keras$")  # at epoch ends; steered
READ_ERRORS = (OSError, RuntimeError, ValueError, KeyError)  # what h5py raises on damage
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError)


def _read_problem(error):
    """What a failed read of a dataset says: a chunk whose checksum fails (HDF5 1.10 says so,
    1.14 that its filter pipeline failed)."""
    text = first_line(error)
    failed = any(words in text for words in ("Fletcher32", "filter returned failure"))
    return "Fletcher32 checksum mismatch" if failed else text


def _damage(file, problem, **where):
    """One damaged thing: the file (relative to the run directory), where in it, the problem."""
    return dict({"file": file}, **where, problem=problem)


def _datasets(group, prefix, damaged):
    """{path: dataset} below `group`; an object that cannot be opened is damage."""
    found = {}
    try:
        names = list(group)
    except READ_ERRORS as error:
        damaged.append(_damage(F.STORE_FILENAME, "its contents cannot be listed "
                               f"({first_line(error)})", dataset=prefix or "/"))
        return found
    for name in names:
        path = f"{prefix}/{name}" if prefix else name
        try:
            item = group[name]
        except READ_ERRORS as error:
            damaged.append(_damage(F.STORE_FILENAME, f"cannot be opened ({first_line(error)})",
                                   dataset=path))
            continue
        if isinstance(item, h5py.Group):
            found.update(_datasets(item, path, damaged))
        elif isinstance(item, h5py.Dataset):
            found[path] = item
    return found


def _chunk_rows(dataset):
    """[(first row, stop row, stored bytes)] of each stored chunk, in row order. The store's
    datasets are chunked by whole rows (the writer's); another chunking is read whole."""
    if dataset.chunks is None or dataset.chunks[1:] != dataset.shape[1:]:
        return [(0, dataset.shape[0] if dataset.shape else 1, dataset.id.get_storage_size())]
    chunks = []
    rows = dataset.shape[0]

    def add(info):
        start = info.chunk_offset[0]
        if start < rows:
            chunks.append((start, min(start + dataset.chunks[0], rows), info.size))
    if hasattr(dataset.id, "chunk_iter"):  # HDF5 1.12.3 and later: one pass
        dataset.id.chunk_iter(add)
    else:  # HDF5 1.10 (get_chunk_info by index walks the index each time): by coordinates
        zeros = (0,) * (len(dataset.shape) - 1)
        for start in range(0, rows, dataset.chunks[0]):
            info = dataset.id.get_chunk_info_by_coord((start,) + zeros)
            if info.byte_offset is not None:  # a chunk never written holds no bytes to check
                add(info)
    return sorted(chunks)


def _blocks(chunks, row_bytes):
    """The chunks in runs of adjacent rows of at most BLOCK_BYTES (one chunk at least)."""
    block = []
    for chunk in chunks:
        if block and (chunk[0] != block[-1][1]
                      or (chunk[1] - block[0][0]) * row_bytes > BLOCK_BYTES):
            yield block
            block = []
        block.append(chunk)
    if block:
        yield block


def _read_rows(dataset, start, stop):
    return dataset[start:stop] if dataset.shape else dataset[()]


class _Scrub:
    """One check of a run: the damage found, the notes, the bytes read (reported to
    `progress(done, total)`)."""

    def __init__(self, store, progress):
        self._store, self._run_dir = store, os.path.dirname(os.path.abspath(store))
        self._progress = progress or (lambda done, total: None)
        self._damaged, self._notes = [], []
        self._done = self._total = 0

    def _advance(self, count):
        self._done += count
        self._progress(self._done, self._total)

    def _checkpoints(self):
        folder = RunDir(self._run_dir).checkpoints
        names = sorted(n for n in os.listdir(folder) if CHECKPOINT.match(n)) \
            if os.path.isdir(folder) else []
        return [os.path.join(folder, name) for name in names]

    def _open(self):
        """The store's reader and {path: dataset}, the unreadable and missing ones reported;
        (None, {}) when the store does not open."""
        try:
            run = RunReader(self._store)
        except StoreError as error:
            problem = str(error).removeprefix(f"{self._store}: ")
            self._damaged.append(_damage(F.STORE_FILENAME, f"does not open: {problem}"))
            return None, {}
        self._notes += run.notes
        if run.file.swmr_mode:
            self._notes.append(f"{self._store}: a writer is recording it: the rows it writes "
                               "from now on are not checked")
        datasets = _datasets(run.file, "", self._damaged)
        unreadable = tuple(d["dataset"] + "/" for d in self._damaged)  # and what is below
        self._damaged += [_damage(F.STORE_FILENAME, "missing (the run info says it was "
                                  "recorded, or its companions are there)", dataset=path)
                          for path in required_datasets(run.info, datasets)
                          if path not in datasets and not (path + "/").startswith(unreadable)]
        return run, datasets

    def run(self):
        """{"intact", "damaged", "notes", "bytes", "checkpoints"} of the run."""
        run, datasets = self._open()
        checkpoints = self._checkpoints()
        self._total = sum(d.id.get_storage_size() for d in datasets.values()) + \
            sum(os.path.getsize(path) for path in checkpoints)
        self._progress(0, self._total)
        try:
            for path, dataset in datasets.items():
                self._read_dataset(path, dataset, datasets)
        finally:
            if run is not None:
                run.close()
        for path in checkpoints:
            self._read_checkpoint(path)
        return {"intact": not self._damaged, "damaged": self._damaged, "notes": self._notes,
                "bytes": self._done, "checkpoints": len(checkpoints)}

    def _read_dataset(self, path, dataset, datasets):
        """Every chunk of a dataset: each run of chunks that fails to read is read again
        chunk by chunk, and each damaged chunk reported with its rows and steps."""
        try:
            chunks = _chunk_rows(dataset)
            row_bytes = dataset.dtype.itemsize * math.prod(dataset.shape[1:])
        except READ_ERRORS as error:
            self._damaged.append(_damage(F.STORE_FILENAME, "its chunks cannot be listed "
                                         f"({first_line(error)})", dataset=path))
            return
        bad = []
        for block in _blocks(chunks, row_bytes):
            try:
                _read_rows(dataset, block[0][0], block[-1][1])
            except READ_ERRORS:
                for start, stop, _ in block:
                    try:
                        _read_rows(dataset, start, stop)
                    except READ_ERRORS as error:
                        bad.append((start, stop, _read_problem(error)))
            self._advance(sum(size for _, _, size in block))
        if bad:
            self._damaged.append(_dataset_damage(path, bad, datasets))

    def _read_checkpoint(self, path):
        """Every member of a checkpoint against its CRC, and the metadata beside it."""
        name = os.path.relpath(path, self._run_dir)
        try:
            with zipfile.ZipFile(path) as archive:
                for member in archive.infolist():
                    try:
                        with archive.open(member) as data:
                            while data.read(BLOCK_BYTES):
                                pass
                    except ZIP_ERRORS as error:
                        self._damaged.append(_damage(name, first_line(error),
                                                     member=member.filename))
                    self._advance(member.compress_size)
        except ZIP_ERRORS as error:
            self._damaged.append(_damage(name, f"not a whole zip archive ({first_line(error)})"))
        meta = path[:-len(".keras")] + ".json"
        if not os.path.exists(meta):
            self._notes.append(f"{name}: an interrupted save (no metadata beside it): never "
                              "resumed from")
            return
        try:
            with open(meta) as f:
                content = json.load(f)
            int(content["epoch"]), int(content["step"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            self._damaged.append(_damage(os.path.relpath(meta, self._run_dir),
                                        f"its metadata does not parse ({first_line(error)})"))


def _step_source(path):
    """The dataset holding the steps of `path`'s rows, or None (it is one itself)."""
    group, _, column = path.rpartition("/")
    if column == F.SERIES_STEP:
        return None
    if group.startswith(F.TENSORS_GROUP + "/"):
        return f"{group}/{F.SERIES_STEP}"
    if group in (F.STEPS_GROUP, F.NORMS_GROUP, F.METRICS_GROUP):
        return F.steps_path(F.STEP)
    return f"{group}/step" if group in (F.EVALUATION_GROUP, F.MERGES_GROUP,
                                        F.STEERING_GROUP) else None


def _dataset_damage(path, bad, datasets):
    """The damage of a dataset whose chunks `bad` [(start, stop, problem)] do not read: its
    rows, their steps (when the steps read), and for a series its layer and quantity."""
    where = {"dataset": path, "rows": [[start, stop - 1] for start, stop, _ in bad]}
    parts = path.split("/")
    if parts[0] == F.TENSORS_GROUP and len(parts) >= 4:
        where.update(layer="/".join(parts[1:-2]), quantity=parts[-2])
    steps_dataset = datasets.get(_step_source(path))
    if steps_dataset is not None:
        try:
            steps = [_read_rows(steps_dataset, start, stop) for start, stop, _ in bad]
        except READ_ERRORS:
            steps = []  # the steps are damaged too: the rows say where
        if steps and all(len(s) for s in steps):
            where["steps"] = [[int(s[0]), int(s[-1])] for s in steps]
    return _damage(F.STORE_FILENAME, bad[0][2], **where)


def scrub_run(path, progress=None):
    """Read every byte of a run (a run directory or its store): a dict of the check (JSON-ready,
    what `tensorviz check` records beside the store): `checked` (when), `store` {"path",
    "size", "mtime_ns"} as it was then, `intact`, `damaged` [{"file", "dataset" or "member",
    "layer", "quantity", "rows", "steps", "problem"}], `notes`, `bytes` read, `checkpoints`
    read. `progress(done, total)` is called as the bytes are read. StoreError when there is
    no store there."""
    store = resolve_store_path(os.fspath(path))
    try:
        stat = os.stat(store)
    except OSError as error:
        raise StoreError(f"{path}: no TensorViz run there ({store}: {error.strerror})") from None
    result = {"checked": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "store": {"path": store, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}}
    result.update(_Scrub(store, progress).run())
    for note in result["notes"]:
        LOG.warning(f"TensorViz: {note}")
    return result


def describe(damage):
    """One damaged thing as a line a person reads."""
    where = damage.get("dataset") or damage.get("member")
    text = damage["file"] + (f" {where}" if where else "")
    if "layer" in damage:
        text += f" (layer {damage['layer']}, {damage['quantity']})"
    for key in ("steps", "rows"):  # the steps when known, else the rows
        if key in damage:
            text += ": " + ", ".join(f"{key[:-1]} {a}" if a == b else f"{key} {a}-{b}"
                                     for a, b in damage[key])
            break
    return f"{text}: {damage['problem']}"
