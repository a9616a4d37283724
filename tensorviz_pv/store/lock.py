"""One writer per run: a lock file beside the store (RUN_DIR/run.tvz.lock) with the writer's
pid, host and process start time. A second writer is refused with a message that names the
first; a lock whose process is gone (killed, crashed) is stale and taken over. Readers never
lock: they ask `live_writer` whether someone writes the store (SWMR reading) or not."""

import json
import os
import socket
import sys
import time

from ..errors import StoreError
from .run_dir import lock_path


def _start_ticks(pid):
    """The process's start time in clock ticks since boot (tells a reused pid apart)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _alive(owner):
    """Whether the lock's process still runs (a lock of another host counts as alive)."""
    if owner.get("host") != socket.gethostname():
        return True
    pid = int(owner.get("pid", -1))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return owner.get("start") in (None, _start_ticks(pid))


def _read(lock_path):
    try:
        with open(lock_path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def live_writer(store_path):
    """The lock's content when a live process writes the store, else None."""
    owner = _read(lock_path(store_path))
    return owner if owner is not None and _alive(owner) else None


def describe(owner):
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(owner.get("since", 0)))
    return f"pid {owner.get('pid')} on {owner.get('host')} since {since} ({owner.get('command', '?')})"


class WriterLock:
    """Held by the process that writes a store; re-entrant within that process."""

    _held = {}  # lock path -> how many holders in this process

    def __init__(self, store_path):
        self.store, self.path = store_path, lock_path(store_path)
        self.taken_over = None  # the stale lock's owner, when one was replaced

    def acquire(self):
        if WriterLock._held.get(self.path):
            WriterLock._held[self.path] += 1
            return self
        me = {"pid": os.getpid(), "host": socket.gethostname(), "start": _start_ticks(os.getpid()),
              "since": time.time(), "command": " ".join(sys.argv)[:200] or "python"}
        for _ in range(3):  # a stale lock removed between the tries is taken on the next
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = _read(self.path)
                if owner is not None and _alive(owner):
                    raise StoreError(f"{self.store}: another writer is writing this "
                                     f"run: {describe(owner)}; wait for it to end, or stop it "
                                     "first") from None
                self.taken_over = owner or {}
                try:
                    os.remove(self.path)
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            WriterLock._held[self.path] = 1
            return self
        raise StoreError(f"{self.path}: cannot take the writer lock (it keeps changing)")

    def release(self):
        count = WriterLock._held.get(self.path, 0)
        if count > 1:
            WriterLock._held[self.path] = count - 1
            return
        WriterLock._held.pop(self.path, None)
        owner = _read(self.path)
        if owner is not None and owner.get("pid") == os.getpid():
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
