"""One writer per run, atomically: processes that take a run's lock at the same instant never
both hold it, a killed writer's lock is free at once, and readers see who writes."""

import json
import multiprocessing
import os
import signal
import time

import pytest

from tensorviz_pv.errors import StoreError
from tensorviz_pv.store.lock import WriterLock, live_writer

CONTENDERS, ROUNDS = 4, 30


def contend(store, barrier, holding, most, start):
    """Take the lock at the barrier's instant; count the holders while holding it."""
    lock = WriterLock(store)
    barrier.wait()
    if start == "empty file":  # a lock file with no one behind it, being written or left
        open(lock.path, "a").close()
    try:
        lock.acquire()
    except StoreError:
        return
    with holding.get_lock():
        holding.value += 1
        most.value = max(most.value, holding.value)
    time.sleep(0.05)
    with holding.get_lock():
        holding.value -= 1
    lock.release()


@pytest.mark.parametrize("start", ["no file", "empty file"])
def test_processes_taking_the_lock_at_one_instant_never_both_hold_it(tmp_path, start):
    context = multiprocessing.get_context("fork")
    store = str(tmp_path / "run.tvz")
    holding, most = context.Value("i", 0), context.Value("i", 0)
    for _ in range(ROUNDS):
        barrier = context.Barrier(CONTENDERS)
        processes = [context.Process(target=contend, args=(store, barrier, holding, most, start))
                     for _ in range(CONTENDERS)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(30)
        assert most.value == 1, "two processes held the lock at once"
        assert not os.path.exists(store + ".lock")  # released by its holder
    assert most.value == 1


def hold(store, ready):
    WriterLock(store).acquire()
    ready.set()
    time.sleep(60)


def test_a_killed_writers_lock_is_free_at_once_and_a_live_one_is_named(tmp_path):
    context = multiprocessing.get_context("fork")
    store = str(tmp_path / "run.tvz")
    ready = context.Event()
    writer = context.Process(target=hold, args=(store, ready))
    writer.start()
    assert ready.wait(30)
    owner = live_writer(store)
    assert owner["pid"] == writer.pid
    with pytest.raises(StoreError, match=f"another writer is writing this run: pid {writer.pid}"):
        WriterLock(store).acquire()
    os.kill(writer.pid, signal.SIGKILL)
    writer.join()
    assert live_writer(store) is None  # its file is still there, its flock is gone
    with WriterLock(store) as lock:
        assert lock.taken_over["pid"] == writer.pid
        assert live_writer(store)["pid"] == os.getpid()
    assert live_writer(store) is None and not os.path.exists(store + ".lock")


def test_a_live_writer_of_an_earlier_version_without_a_flock_is_respected(tmp_path):
    store = str(tmp_path / "run.tvz")
    parent = os.getppid()  # alive, on this host, not this process
    with open(store + ".lock", "w") as f:
        json.dump({"pid": parent, "host": os.uname().nodename, "start": None, "since": 0,
                   "command": "tensorviz train (earlier version)"}, f)
    assert live_writer(store)["pid"] == parent
    with pytest.raises(StoreError, match=f"pid {parent}"):
        WriterLock(store).acquire()
