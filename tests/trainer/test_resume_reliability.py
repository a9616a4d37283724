"""`tensorviz train` killed, interrupted, doubled, out of disk: nothing lost, a clear message,
and --resume continues the run with every step once."""

import glob
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import tensorviz
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader

RUN = ["--max-samples", "400", "--epochs", "6", "--batch-size", "50", "--budget", "none"]


def start(run_dir, *extra):
    """`tensorviz train` in the background; returns once it trains (its store exists)."""
    command = [os.path.join(os.path.dirname(sys.executable), "tensorviz"), "train", str(run_dir),
               *RUN, *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    store = os.path.join(run_dir, F.STORE_FILENAME)
    deadline = time.time() + 120
    while not os.path.exists(store) and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    return process


def assert_contiguous(run_dir, epochs=6):
    with RunReader(str(run_dir)) as run:
        np.testing.assert_array_equal(run.step_table()[F.STEP], np.arange(1, 8 * epochs + 1))
        for layer in run.layers:
            for quantity in run.series_names(layer):
                steps = run.series_steps(layer, quantity)
                assert np.all(np.diff(steps) > 0), (layer, quantity, steps)  # no step twice
        assert [int(e) for e in run.evaluation()["epoch"]] == list(range(1, epochs + 1))


@pytest.mark.parametrize("moment", ["random", "during a checkpoint save"])
def test_a_killed_trainer_resumes_with_every_step_once(tmp_path, moment):
    rng = np.random.default_rng(5)
    run_dir = tmp_path / "run"
    for trial in range(2):
        process = start(run_dir, *(["--resume"] if trial else []))
        if moment == "random":
            time.sleep(float(rng.uniform(0.2, 2.5)))
        else:  # the moment a checkpoint is being written
            deadline = time.time() + 60
            while not glob.glob(str(run_dir / "checkpoints" / "*.partial*")) and \
                    time.time() < deadline and process.poll() is None:
                time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
    result = tensorviz("train", run_dir, *RUN, "--resume", check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert_contiguous(run_dir)


def test_one_trainer_per_run_and_a_reader_never_blocks_it(tmp_path):
    run_dir = tmp_path / "run"
    first = start(run_dir, "--epochs", "40")
    try:
        for option in ("--overwrite", "--resume"):
            result = tensorviz("train", run_dir, *RUN, option, check=False)
            assert result.returncode == 2
            assert f"another writer is writing this run: pid {first.pid}" in result.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    with RunReader(str(run_dir)) as reader:  # held open, as ParaView would, during the resume
        reader.step_table()
        result = tensorviz("train", run_dir, *RUN, "--epochs", "40", "--resume", check=False)
        assert result.returncode == 0, result.stderr[-3000:]
    assert_contiguous(run_dir, epochs=40)


@pytest.mark.parametrize("how,status,said", [(signal.SIGINT, 130, "interrupted"),
                                             (signal.SIGTERM, 143, "terminated")])
def test_ctrl_c_or_sigterm_stops_cleanly_and_the_run_resumes(tmp_path, how, status, said):
    run_dir = tmp_path / "run"
    process = start(run_dir, "--epochs", "16")  # still training when stopped
    time.sleep(2.0)
    process.send_signal(how)
    _, err = process.communicate(timeout=60)
    assert process.returncode == status and said in err and "--resume" in err
    assert "Traceback" not in err
    assert not os.path.exists(run_dir / (F.STORE_FILENAME + ".lock"))  # released
    result = tensorviz("train", run_dir, *RUN, "--epochs", "16", "--resume", check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_contiguous(run_dir, epochs=16)


def test_a_damaged_last_checkpoint_falls_back_to_the_one_before(tmp_path):
    run_dir = tmp_path / "run"
    tensorviz("train", run_dir, *RUN[:2], "--epochs", "2", "--batch-size", "50", "--budget", "none")
    last = run_dir / "checkpoints" / "epoch-0002.keras"
    os.truncate(last, os.path.getsize(last) // 2)
    result = tensorviz("train", run_dir, *RUN, "--resume", check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "epoch-0002.keras: damaged" in result.stderr
    assert_contiguous(run_dir)


def test_overwrite_removes_only_what_tensorviz_wrote(tmp_path):
    run_dir = tmp_path / "run"
    tensorviz("train", run_dir, *RUN[:2], "--epochs", "1", "--batch-size", "50")
    (run_dir / "checkpoints" / "my-best-model.keras").write_text("mine")
    (run_dir / "notes.txt").write_text("mine too")
    tensorviz("train", run_dir, *RUN[:2], "--epochs", "1", "--batch-size", "50", "--overwrite")
    assert (run_dir / "checkpoints" / "my-best-model.keras").read_text() == "mine"
    assert (run_dir / "notes.txt").read_text() == "mine too"
    other = tmp_path / "other"
    other.mkdir()
    (other / F.STORE_FILENAME).write_text("not a store")
    result = tensorviz("train", other, "--epochs", "1", "--overwrite", check=False)
    assert result.returncode == 2 and "--overwrite removes TensorViz stores only" in result.stderr
    assert (other / F.STORE_FILENAME).read_text() == "not a store"


def test_a_full_disk_stops_with_one_message_and_the_run_resumes_once_freed(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=9m", "tmpfs", str(mount)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        run_dir = mount / "run"
        result = tensorviz("train", run_dir, *RUN, check=False)
        assert result.returncode == 1, result.stderr[-3000:]
        assert "disk is full" in result.stderr or "could not be saved" in result.stderr
        said = [line for line in result.stderr.splitlines() if line.startswith("TensorViz:")
                and "training on" not in line]
        assert len(said) == 1, said  # the failure, once
        assert "Traceback" not in result.stderr
        with RunReader(str(run_dir)) as run:  # consistent: every series and the table agree
            last = run.last_step()
            np.testing.assert_array_equal(run.step_table()[F.STEP], np.arange(1, last + 1))
        subprocess.run(["mount", "-o", "remount,size=200m", str(mount)], check=True)
        result = tensorviz("train", run_dir, *RUN, "--resume", check=False)
        assert result.returncode == 0, result.stderr[-3000:]
        assert_contiguous(run_dir)
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)
        shutil.rmtree(mount, ignore_errors=True)
