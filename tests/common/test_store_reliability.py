"""Nothing lost, nothing hangs: killed writers, a second writer, damaged stores, live readers.
Runs in both Pythons (HDF5 1.14 in the venv, 1.10 in ParaView's)."""

import hashlib
import json
import os
import shutil
import signal
import subprocess

import h5py
import numpy as np
import pytest

from tensorviz_pv.errors import StoreError
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader
from tensorviz_pv.store.superblock import write_flags
from tensorviz_pv.store.synthetic import write_synthetic_run
from tensorviz_pv.store.writer import RunWriter
from tiers import ROOT, interpreter

WRITER = """
import sys, time
sys.path.insert(0, {root!r})
from tensorviz_pv.store.synthetic import write_synthetic_run
_, writer = write_synthetic_run({path!r}, steps=12, every=4, close=False)  # kept open
print("flushed", flush=True)
time.sleep(120)
"""


def start_writer(path):
    """A process that writes a store, flushes it, and keeps it open (until killed)."""
    writer = subprocess.Popen([interpreter(), "-c", WRITER.format(root=ROOT, path=path)],
                              stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=ROOT))
    assert writer.stdout.readline().strip() == "flushed"
    return writer


def test_a_killed_writer_leaves_a_store_that_opens_and_continues(tmp_path):
    path = str(tmp_path / "run.tvz")
    writer = start_writer(path)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert write_flags(path) != 0  # HDF5's "open for write" flag, left set
    with pytest.raises(OSError):
        h5py.File(path, "r+", locking=False).close()
    before = hashlib.md5(open(path, "rb").read()).hexdigest()
    os.chmod(path, 0o444)  # a copy made for viewing, a read-only mount: readers never write
    with RunReader(path) as run:  # no live writer: read as if closed
        assert run.notes and "read as it is" in run.notes[0]
        np.testing.assert_array_equal(run.step_table()[F.STEP], np.arange(1, 13))
        assert run.tensor_at("conv1", F.KERNEL, 12)[0] == 12
    assert hashlib.md5(open(path, "rb").read()).hexdigest() == before
    assert write_flags(path) != 0
    os.chmod(path, 0o644)
    writer = RunWriter.append_to(path, 8)  # the next writer repairs it; after step 8: 9..12 dropped
    writer.add_step(9, 0, 0.5, 0.5, 0.1, [1.0, 1.0], [1.0, 1.0])
    writer.close()
    with RunReader(path) as run:
        np.testing.assert_array_equal(run.step_table()[F.STEP], np.arange(1, 10))


def test_one_writer_per_run(tmp_path):
    path = str(tmp_path / "run.tvz")
    writer = start_writer(path)
    try:
        with pytest.raises(StoreError, match=f"another writer is writing this run: pid {writer.pid}"):
            RunWriter.append_to(path, 12)
        with RunReader(path) as run:  # a reader is never refused, and reads the live store
            assert run.last_step() == 12
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    RunWriter.append_to(path, 12).close()  # the dead writer's lock is stale: taken over
    assert not os.path.exists(path + ".lock")


def test_the_time_axis_ends_at_the_last_complete_step(tmp_path):
    path = str(tmp_path / "run.tvz")
    _, writer = write_synthetic_run(path, steps=20, every=10, close=False)
    # a live writer's flush puts a snapshot on disk before its step's row
    writer.add_tensor("conv1", F.KERNEL, 30, np.zeros((3, 3, 1, 4), np.float32))
    writer.flush()
    with RunReader(path) as run:
        assert run.time_steps()[-1] == 20
    writer.close()


def test_a_run_info_of_the_wrong_shape_is_a_damaged_store(store):
    path, _ = store
    with h5py.File(path, "r+", locking=False) as f:
        f.attrs[F.ATTR_RUN_INFO] = "[]"
    with pytest.raises(StoreError, match="damaged TensorViz store"):
        RunReader(path)


READ_ALL = """
import hashlib, json, sys, time
sys.path.insert(0, {root!r})
from tensorviz_pv.errors import StoreError
from tensorviz_pv.store.reader import RunReader

def digest(path):
    with RunReader(path) as run:
        h = hashlib.sha256()
        for array in [run.time_steps(), *run.step_table().values(), run.norms("weight"),
                      run.norms("gradient")]:
            h.update(array.tobytes())
        for layer in run.layers:
            for quantity in run.series_names(layer):
                steps = run.series_steps(layer, quantity)
                h.update(steps.tobytes())
                for index in range(len(steps)):
                    h.update(run.series_value(layer, quantity, index).tobytes())
        return h.hexdigest()

for path in sys.argv[1:]:
    started = time.perf_counter()
    try:
        outcome = digest(path)
    except StoreError as error:
        outcome = "error: " + str(error)
    print(json.dumps({{"path": path, "seconds": time.perf_counter() - started,
                      "outcome": outcome}}), flush=True)
"""


def test_damage_is_an_error_within_two_seconds_or_changes_nothing(tmp_path):
    intact = str(tmp_path / "intact.tvz")
    write_synthetic_run(intact, steps=40, every=5)
    size = os.path.getsize(intact)
    rng = np.random.default_rng(11)
    damaged = []
    for i, fraction in enumerate([0.1, 0.3, 0.5, 0.7, 0.9, 0.99]):  # truncations
        path = str(tmp_path / f"cut{i}.tvz")
        shutil.copy(intact, path)
        os.truncate(path, int(size * fraction))
        damaged.append(path)
    for i, offset in enumerate(rng.integers(48, size, 30)):  # flipped bytes past the superblock
        path = str(tmp_path / f"flip{i}.tvz")
        shutil.copy(intact, path)
        with open(path, "r+b") as f:
            f.seek(int(offset))
            byte = f.read(1)[0]
            f.seek(int(offset))
            f.write(bytes([byte ^ 0xFF]))
        damaged.append(path)
    result = subprocess.run([interpreter(), "-c", READ_ALL.format(root=ROOT), intact] + damaged,
                            capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == len(damaged) + 1, (result.stdout[-2000:], result.stderr[-2000:])
    truth = rows[0]["outcome"]
    assert not truth.startswith("error"), truth
    errors = same = 0
    for row in rows[1:]:
        assert row["seconds"] < 2.0, row
        if row["outcome"].startswith("error"):
            assert os.path.basename(row["path"]) in row["outcome"], row  # names the file
            errors += 1
        else:
            assert row["outcome"] == truth, row  # never silently different data
            same += 1
    print(f"{len(damaged)} damaged copies: {errors} clear errors, {same} read the same data")
    assert errors >= 6  # every truncation at least


def test_a_flipped_byte_in_a_dataset_header_is_called_damage_not_missing(tmp_path):
    path = str(tmp_path / "run.tvz")
    write_synthetic_run(path, steps=12, every=4)
    with h5py.File(path, "r", locking=False) as f:
        header = h5py.h5o.get_info(f[F.steps_path(F.LOSS)].id).addr
    data = bytearray(open(path, "rb").read())
    data[header + 20] ^= 0x40
    open(path, "wb").write(bytes(data))
    with pytest.raises(StoreError, match=r"'steps/loss' is damaged \(.*checksum"):
        with RunReader(path) as run:
            run.step_table()
