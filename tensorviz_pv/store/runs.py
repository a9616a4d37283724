"""Several runs at once (a sweep's folder, or stores named one by one): which stores a list of
paths names, each labelled by its run directory, and all of them open together."""

import os

from ..errors import StoreError
from . import format as F
from .reader import RunReader
from .run_dir import RunDir


def _stores_in(path):
    """The stores a path names: a store file, a run directory, or a folder whose
    sub-folders are run directories (one level down, in name order)."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise StoreError(f"{path}: no such file or folder")
    if RunDir(path).holds_store():
        return [RunDir(path).store]
    runs = [RunDir(os.path.join(path, name)) for name in sorted(os.listdir(path))]
    found = [run.store for run in runs if run.holds_store()]
    if not found:
        raise StoreError(f"{path}: no runs here (neither {F.STORE_FILENAME} nor sub-folders "
                         f"holding one)")
    return found


def run_label(store):
    """A run's name: its run directory's (the file's own name for a store outside one)."""
    folder, name = os.path.split(os.path.abspath(store))
    return os.path.basename(folder) if name == F.STORE_FILENAME else os.path.splitext(name)[0]


def find_runs(paths):
    """[(label, store path)] of the runs that `paths` name, in their order, each store once;
    labels made unique with their parent folder where two runs share a directory name."""
    stores = []
    for path in paths:
        for store in _stores_in(os.path.abspath(path)):
            if store not in stores:
                stores.append(store)
    if not stores:
        raise StoreError("no runs were named")
    names = [run_label(store) for store in stores]
    labels = [f"{os.path.basename(os.path.dirname(os.path.dirname(store)))}/{name}"
              if names.count(name) > 1 else name for name, store in zip(names, stores)]
    return list(zip(labels, stores))


class RunSet:
    """The runs of find_runs, open: `runs` [(label, RunReader)] of those that opened, and
    `problems` [message] of those that did not (a damaged store does not hide the others)."""

    def __init__(self, paths):
        self.runs, self.problems = [], []
        for label, store in find_runs(paths):
            try:
                self.runs.append((label, RunReader(store)))
            except StoreError as error:
                self.problems.append(str(error))
        if not self.runs:
            raise StoreError("none of the runs opens: " + "; ".join(self.problems))

    @property
    def labels(self):
        return [label for label, _ in self.runs]

    def run(self, label):
        for name, run in self.runs:
            if name == label:
                return run
        raise StoreError(f"no run named {label!r} (runs: {', '.join(self.labels)})")

    def refresh(self):
        """Re-read every run's growth (live trainers); True when any changed."""
        return any([run.refresh() for _, run in self.runs])

    def close(self):
        for _, run in self.runs:
            run.close()
        self.runs = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
