"""`tensorviz check` through the command line, on copies of a trained run: exit 0 intact, 1 with
each damage named, 2 without a run; the store never written; `tensorviz info` says the result."""

import hashlib
import io
import json
import os
import shutil
import zipfile

import h5py
import pytest

from conftest import tensorviz
from tensorviz_cli.check import ProgressBar
from tensorviz_pv.store.run_dir import RunDir


def md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def flip_byte(path, at):
    with open(path, "r+b") as f:
        f.seek(at)
        byte = f.read(1)[0]
        f.seek(at)
        f.write(bytes([byte ^ 0xFF]))


def chunk_offset(store, dataset, chunk=0):
    with h5py.File(store, "r", locking=False) as f:
        return f[dataset].id.get_chunk_info(chunk).byte_offset


@pytest.fixture
def run(tiny_run, tmp_path):
    """A copy of the tiny run (the session's own stays as it is)."""
    return RunDir(shutil.copytree(tiny_run, tmp_path / "run"))


def info_check(run):
    return next(line for line in tensorviz("info", run.path).stdout.splitlines()
                if line.startswith("check "))


def test_an_intact_run_exits_0_and_info_says_when_it_was_checked(run):
    assert "never checked (tensorviz check RUN reads every byte)" in info_check(run)
    before = md5(run.store)
    result = tensorviz("check", run.path)
    assert result.returncode == 0 and "intact" in result.stdout and "3 checkpoints" in result.stdout
    assert md5(run.store) == before
    check = json.loads(tensorviz("info", run.path, "--json").stdout)["check"]
    assert check["intact"] and not check["changed_since"]
    assert info_check(run).endswith(f"checked {check['checked']}: intact")
    os.utime(run.store)  # as a resumed run's writer would change it
    assert info_check(run).endswith(f"checked {check['checked']}, changed since")


def test_each_damage_is_named_and_exits_1(run):
    flip_byte(run.store, chunk_offset(run.store, "tensors/conv1/activation/value", 1) + 100)
    flip_byte(run.store, chunk_offset(run.store, "steps/loss") + 8)
    flip_byte(run.store, chunk_offset(run.store, "probe/images") + 100)
    keras_file = os.path.join(run.checkpoints, "epoch-0001.keras")
    with zipfile.ZipFile(keras_file) as archive:
        member = archive.getinfo("model.weights.h5")
    flip_byte(keras_file, member.header_offset + 30 + len(member.filename) + len(member.extra) + 1000)
    before = md5(run.store)
    result = tensorviz("check", run.path, check=False)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("4 damaged:")
    assert "  run.tvz tensors/conv1/activation/value (layer conv1, activation): step 4: " \
           "Fletcher32 checksum mismatch" in lines  # the activations of steps 0, 4 and 8
    assert "  run.tvz steps/loss: steps 1-8: Fletcher32 checksum mismatch" in lines
    assert "  run.tvz probe/images: rows 0-15: Fletcher32 checksum mismatch" in lines
    assert any(line.startswith("  checkpoints/epoch-0001.keras model.weights.h5: Bad CRC-32")
               for line in lines)
    assert md5(run.store) == before
    with open(run.checked) as f:
        assert len(json.load(f)["damaged"]) == 4


def test_a_series_the_run_info_says_was_recorded_is_missing(run):
    with h5py.File(run.store, "r+", locking=False) as f:
        del f["tensors/conv1/activation"]
    result = tensorviz("check", run.path, "--json", check=False)
    assert result.returncode == 1
    assert [d["dataset"] for d in json.loads(result.stdout)["damaged"]] == [
        "tensors/conv1/activation/step", "tensors/conv1/activation/value"]


def test_a_truncated_store_exits_1_and_no_run_exits_2(run, tmp_path):
    with open(run.store, "r+b") as f:
        f.truncate(os.path.getsize(run.store) - 4096)
    result = tensorviz("check", run.path, check=False)
    assert result.returncode == 1 and "run.tvz: does not open" in result.stdout
    result = tensorviz("check", tmp_path / "nothing", check=False)
    assert result.returncode == 2 and "no TensorViz run there" in result.stderr


def test_the_progress_bar_is_drawn_on_a_terminal_only():
    class Terminal(io.StringIO):
        def isatty(self):
            return True
    terminal, log = Terminal(), io.StringIO()
    for stream in (terminal, log):
        bar = ProgressBar(stream, interval=0)
        for done in (0, 5_000_000, 10_000_000):
            bar(done, 10_000_000)
        bar.close()
    assert f"checking [{'#' * 15}{'.' * 15}] 5 of 10 MB" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r\033[K") and log.getvalue() == ""
