"""The files of a run directory, named in one place: the store, its writer lock, the result of
its last check, the Keras checkpoints to resume from and the dashboard's state file (format.py
names each)."""

import os

from . import format as F


class RunDir:
    """A run directory (it need not exist yet): `RunDir("runs/a").store` is runs/a/run.tvz."""

    def __init__(self, path):
        self.path = os.fspath(path)

    def __repr__(self):
        return f"RunDir({self.path!r})"

    @property
    def store(self):
        return os.path.join(self.path, F.STORE_FILENAME)

    @property
    def lock(self):
        return lock_path(self.store)

    @property
    def checked(self):
        return checked_path(self.store)

    @property
    def checkpoints(self):
        return os.path.join(self.path, F.CHECKPOINT_DIR)

    @property
    def steering(self):
        return os.path.join(self.path, F.STEERING_DIR)

    @property
    def dashboard_state(self):
        return os.path.join(self.path, F.DASHBOARD_STATE)

    def holds_store(self):
        return os.path.isfile(self.store)


def lock_path(store):
    """The writer lock of a store: beside it (run.tvz.lock)."""
    return store + F.LOCK_SUFFIX


def checked_path(store):
    """The result of the store's last `tensorviz check`: beside it (run.tvz.checked)."""
    return store + F.CHECKED_SUFFIX


def resolve_store_path(path):
    """A run directory or a store file -> the store file."""
    return RunDir(path).store if os.path.isdir(path) else path
