"""One writer per run: a lock file beside the store (RUN_DIR/run.tvz.lock), held with an
exclusive flock for as long as the writer writes, and naming it (pid, host, process start time,
command). The kernel takes the flock atomically and drops it when the process ends, however it
ends: two processes can never both hold a run, and a killed writer's lock is free at once. A
second writer is refused with a message that names the first. Readers never lock: they ask
`live_writer` whether someone writes the store (SWMR reading) or not.

A lock file left by a writer of an earlier version (no flock, its pid still alive) is respected
too."""

import fcntl
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


def _read_settled(lock_path, grace=1.0):
    """The lock's content, read again for up to `grace` seconds while its holder has not yet
    written it (it writes right after taking the flock)."""
    deadline = time.monotonic() + grace
    while True:
        owner = _read(lock_path)
        if owner is not None or time.monotonic() > deadline:
            return owner
        time.sleep(0.05)


def live_writer(store_path):
    """The lock's content when a live process writes the store, else None. A writer holds the
    lock's flock: a shared flock that cannot be had says one is there (taken for an instant,
    and given back at once)."""
    path = lock_path(store_path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError:
        return _read(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_settled(path) or {}
    except OSError:
        pass  # a file system without flock: the content says
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    owner = _read(path)  # a writer of an earlier version holds the file without a flock
    return owner if owner is not None and _alive(owner) else None


def describe(owner):
    if not owner:
        return "a process that has not yet said who it is"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(owner.get("since", 0)))
    return f"pid {owner.get('pid')} on {owner.get('host')} since {since} ({owner.get('command', '?')})"


def _flock_exclusive(fd, patience=0.5):
    """Take the exclusive flock, waiting up to `patience` seconds for readers' instants of a
    shared one (live_writer); BlockingIOError while a writer holds it."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class WriterLock:
    """Held by the process that writes a store; re-entrant within that process."""

    _held = {}  # lock path -> [how many holders in this process, the locked file descriptor]

    def __init__(self, store_path):
        self.store, self.path = store_path, lock_path(store_path)
        self.taken_over = None  # the owner a stale lock named, when it was taken over

    def acquire(self):
        held = WriterLock._held.get(self.path)
        if held:
            held[0] += 1
            return self
        for _ in range(5):  # the file may be replaced between open and flock: open it again
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                _flock_exclusive(fd)
            except BlockingIOError:
                os.close(fd)
                raise self._refusal(_read_settled(self.path)) from None
            except OSError as error:  # a file system without flock
                os.close(fd)
                raise StoreError(f"{self.path}: cannot lock the run for writing ({error})") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:  # its holder removed it on release: not the lock now
                same = False
            if not same:
                os.close(fd)
                continue
            self._claim(fd)
            return self
        raise StoreError(f"{self.path}: cannot take the writer lock (it keeps changing)")

    def _claim(self, fd):
        """The flock is ours: say who holds it (after refusing a live writer of an earlier
        version, which held the file without a flock)."""
        before = _read(self.path)
        if before is not None and before.get("pid") != os.getpid() and _alive(before) \
                and before.get("host") == socket.gethostname():
            os.close(fd)
            raise self._refusal(before)
        self.taken_over = before
        me = {"pid": os.getpid(), "host": socket.gethostname(), "start": _start_ticks(os.getpid()),
              "since": time.time(), "command": " ".join(sys.argv)[:200] or "python"}
        text = json.dumps(me).encode()
        os.pwrite(fd, text, 0)
        os.ftruncate(fd, len(text))
        WriterLock._held[self.path] = [1, fd]

    def _refusal(self, owner):
        return StoreError(f"{self.store}: another writer is writing this run: {describe(owner)}; "
                          "wait for it to end, or stop it first")

    def release(self):
        held = WriterLock._held.get(self.path)
        if not held:
            return
        held[0] -= 1
        if held[0] > 0:
            return
        del WriterLock._held[self.path]
        try:
            os.remove(self.path)  # while still locked: a process that opened it retries
        except FileNotFoundError:
            pass
        os.close(held[1])

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
