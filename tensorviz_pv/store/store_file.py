"""A run store opened for reading (numpy + h5py only), also while a trainer is writing it (SWMR).

A store that no live writer holds is opened without SWMR, so that damage fails at once instead
of HDF5 retrying its metadata for minutes; the flag a dead writer left is cleared first (as
`h5clear -s` would). Readers never take HDF5's file locks: they must not block a writer. Every
read is checked: a damaged dataset is a StoreError naming it, never shown.
"""

import atexit
import json
import os
import weakref

try:
    import h5py
except ImportError:  # a ParaView whose Python lacks it: one line when a store is opened
    h5py = None

from ..errors import StoreError
from . import format as F
from .lock import live_writer
from .run_dir import resolve_store_path
from .superblock import ClearedView, cleared_superblock, write_flags


NO_H5PY = ("this Python has no h5py, which reads TensorViz runs: install it into ParaView's "
           "Python (Debian: apt install python3-h5py; another ParaView: `pip install --target "
           "DIR h5py` with DIR on its PYTHONPATH)")


def check_store_file(path):
    if h5py is None:
        raise StoreError(NO_H5PY)
    if not os.path.exists(path):
        raise StoreError(f"{path}: no such file")
    if os.path.isdir(path):
        raise StoreError(f"{path}: is a directory, not a TensorViz store "
                         f"(a run directory holds {F.STORE_FILENAME})")
    if not h5py.is_hdf5(path):
        raise StoreError(f"{path}: not a TensorViz run store (not an HDF5 file)")


def first_line(error):
    return str(error).splitlines()[0][:160] if str(error) else type(error).__name__


def _checked_info(info):
    """run_info, or ValueError when it is not what a writer writes (a damaged store)."""
    if not isinstance(info, dict) or not isinstance(info.get("layers", []), list):
        raise ValueError("run_info is not an object with a list of layers")
    info.setdefault("layers", [])
    for layer in info["layers"]:
        if not isinstance(layer, dict) or not isinstance(layer.get("name"), str) \
                or not isinstance(layer.get("kind"), str) or not isinstance(layer.get("filters"), int) \
                or not isinstance(layer.get("kernel_shape"), list):
            raise ValueError(f"run_info has a layer entry that is not a layer: {layer!r:.80}")
    return info


_read_through_views = weakref.WeakSet()  # StoreFiles open on a ClearedView


@atexit.register
def _close_views():
    """HDF5 closes the files left open after Python has ended (ParaView keeps its readers to
    the last): one read through Python's file object would then crash the process."""
    for store in list(_read_through_views):
        store.close()


class StoreFile:
    """A store file opened for reading, also while a trainer is still writing it (SWMR): its
    run info, variable names and layers, and checked reads of its datasets."""

    def __init__(self, path):
        path = resolve_store_path(path)
        check_store_file(path)
        self.path = path
        self._open()

    def _stamp(self):
        stat = os.stat(self.path)
        return stat.st_mtime_ns, stat.st_size, stat.st_ino

    def _open(self):
        path = self.path
        stamp = self._stamp()
        self._forget()
        self.notes = []  # what opening found, for the caller to say
        flags, self._view = write_flags(path), None
        cleared = cleared_superblock(path) if flags and live_writer(path) is None else None
        if cleared is not None:  # read as if closed, the file untouched (readers never write)
            self._view = ClearedView(path, cleared)
            _read_through_views.add(self)
            self.notes.append(f"{path}: its writer ended without closing it; read as it is "
                              "(the next `tensorviz train --resume` repairs the file)")
            flags = 0
        try:  # SWMR only while a writer has it open: a closed store's damage fails at once
            self.file = h5py.File(self._view or path, "r", swmr=bool(flags), locking=False)
        except OSError as error:
            self._close_view()
            raise StoreError(f"{path}: cannot be opened as HDF5 ({error})") from None
        try:
            self._check_format()
            self.info = _checked_info(json.loads(self._attr(F.ATTR_RUN_INFO)))
            self.variables = json.loads(self.file[F.NORMS_GROUP].attrs[F.ATTR_VARIABLES])
            if not isinstance(self.variables, list):
                raise ValueError("the variable names are not a list")
        except StoreError:
            self._close_file()
            raise
        except (KeyError, ValueError, TypeError, OSError) as error:
            self._close_file()
            raise StoreError(f"{path}: damaged TensorViz store ({error})") from None
        self.layers = [layer["name"] for layer in self.info["layers"]]
        self._opened_stamp = stamp  # only once open: a failed reopen is tried again

    def refresh(self):
        """See what a live writer appended since the file was opened: reopen it when it changed.
        (h5py's Dataset.refresh() is not used: after refreshing several datasets, reads of a
        multi-chunk dataset returned its first chunk again, with HDF5 1.10.8 and 1.14.6.)"""
        try:
            changed = self._stamp() != self._opened_stamp
        except OSError as error:
            raise StoreError(f"{self.path}: {error.strerror}") from None
        if changed:
            self._close_file()
            self._open()
        return changed

    def _forget(self):
        """Drop what was read from the last opening (a reopening sees appended data)."""
        self._datasets = {}  # path -> h5py dataset of this opening (looked up once)

    def _attr(self, name):
        value = self.file.attrs[name]
        return value.decode() if isinstance(value, bytes) else value

    def _check_format(self):
        if self.file.attrs.get(F.ATTR_FORMAT) is None:
            raise StoreError(f"{self.path}: not a TensorViz run store "
                             f"(HDF5 without the '{F.ATTR_FORMAT}' attribute)")
        if self._attr(F.ATTR_FORMAT) != F.FORMAT_NAME:
            raise StoreError(f"{self.path}: not a TensorViz run store "
                             f"(format is {self._attr(F.ATTR_FORMAT)!r})")
        version = int(self.file.attrs[F.ATTR_VERSION])
        if version > F.FORMAT_VERSION:
            raise StoreError(f"{self.path}: store format version {version} is newer than this "
                             f"TensorViz reads ({F.FORMAT_VERSION}); update TensorViz")

    def close(self):
        if self.file.id.valid:
            self._close_file()

    def _close_file(self):
        self.file.close()
        self._close_view()

    def _close_view(self):
        if self._view is not None:
            self._view.close()
            self._view = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _dataset(self, path):
        if path in self._datasets:
            return self._datasets[path]
        try:
            self._datasets[path] = self.file[path]
            return self._datasets[path]
        except KeyError as error:  # missing, or named by its group and yet not opening
            if self._listed(path) is False:
                raise StoreError(f"{self.path}: missing dataset '{path}'") from None
            raise StoreError(f"{self.path}: '{path}' is damaged ({first_line(error)})") from None
        except (OSError, ValueError) as error:
            raise StoreError(f"{self.path}: '{path}' is damaged ({first_line(error)})") from None

    def _listed(self, path):
        """Whether the group above `path` names it (None: that group does not read either)."""
        group, _, name = path.rpartition("/")
        try:
            return name in self.file[group or "/"]
        except (KeyError, OSError, ValueError):
            return None

    def _read(self, path, selection=slice(None), what=None):
        """Values of a dataset. A read that fails (a checksum, a truncated file) is a
        StoreError naming what was read: damaged data is reported, never shown."""
        dataset = self._dataset(path)
        try:
            return dataset[selection]
        except (OSError, ValueError) as error:
            raise StoreError(f"{self.path}: {what or repr(path)} is damaged "
                             f"({first_line(error)})") from None
