"""The scrub of `tensorviz check` (store/scrub.py) on synthetic runs: every kind of damage found
and named, an intact run intact, the store never written, the result recorded beside it.
Runs in both Pythons (HDF5 1.14 in the venv, 1.10 in ParaView's)."""

import hashlib
import json
import os
import signal
import zipfile

import h5py
import pytest

from tensorviz_pv.store import check_record
from tensorviz_pv.store import format as F
from tensorviz_pv.store.check_record import NEVER, check_status, check_text, record_check
from tensorviz_pv.store.run_dir import RunDir
from tensorviz_pv.store.scrub import describe, scrub_run
from tensorviz_pv.store.synthetic import write_poster_shaped_run, write_synthetic_run
from test_store_reliability import start_writer


def md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def flip_byte(path, dataset, chunk=0, at=4):
    """Invert one byte `at` bytes into a stored chunk of a dataset."""
    with h5py.File(path, "r", locking=False) as f:
        offset = f[dataset].id.get_chunk_info(chunk).byte_offset + at
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ 0xFF]))


def damaged(result, **where):
    """The damage entries matching every `where` item."""
    return [d for d in result["damaged"] if all(d.get(k) == v for k, v in where.items())]


@pytest.fixture
def poster_run(tmp_path):
    """A poster-shaped run of 20 steps: one probe activation snapshot per chunk (0, 10, 20)."""
    write_poster_shaped_run(RunDir(tmp_path).store, 20, activations_every=10)
    return RunDir(tmp_path)


def checkpoint(run, epoch, members=(("model.weights.h5", bytes(range(256)) * 64),)):
    """A zip file where a Keras checkpoint goes, and its metadata (the scrub needs no Keras)."""
    os.makedirs(run.checkpoints, exist_ok=True)
    path = os.path.join(run.checkpoints, f"epoch-{epoch:04d}.keras")
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)
    with open(path[:-len(".keras")] + ".json", "w") as f:
        json.dump({"epoch": epoch, "step": 10 * epoch}, f)
    return path


def test_an_intact_run_is_intact_and_the_store_unchanged(poster_run):
    checkpoint(poster_run, 1)
    before, progress = md5(poster_run.store), []
    result = scrub_run(poster_run.path, lambda done, total: progress.append((done, total)))
    assert result["intact"] and result["damaged"] == [] and result["checkpoints"] == 1
    assert md5(poster_run.store) == before and not os.path.exists(poster_run.checked)
    assert progress[-1][0] == result["bytes"] > os.path.getsize(poster_run.store) / 2
    assert all(total == progress[0][1] for _, total in progress)


def test_a_flipped_byte_in_a_snapshot_is_named_with_its_layer_quantity_and_step(poster_run):
    flip_byte(poster_run.store, "tensors/conv1/activation/value", chunk=1)
    before = md5(poster_run.store)
    result = scrub_run(poster_run.path)
    assert not result["intact"] and len(result["damaged"]) == 1
    [found] = damaged(result, dataset="tensors/conv1/activation/value")
    assert (found["layer"], found["quantity"], found["steps"], found["rows"]) == \
        ("conv1", "activation", [[10, 10]], [[1, 1]])
    assert describe(found) == ("run.tvz tensors/conv1/activation/value (layer conv1, "
                               "activation): step 10: Fletcher32 checksum mismatch")
    assert md5(poster_run.store) == before


@pytest.mark.parametrize("dataset, steps", [("steps/loss", [[1, 20]]), ("probe/images", None)])
def test_a_flipped_byte_in_a_table_or_the_probe_is_named(poster_run, dataset, steps):
    flip_byte(poster_run.store, dataset)
    [found] = scrub_run(poster_run.path)["damaged"]
    assert found["dataset"] == dataset and found.get("steps") == steps
    assert "checksum" in found["problem"]


def test_a_damaged_checkpoint_member_and_unparsable_metadata_are_named(poster_run):
    path = checkpoint(poster_run, 1, [("config.json", b"{}"), ("model.weights.h5", b"w" * 5000)])
    with zipfile.ZipFile(path) as archive:
        member = archive.getinfo("model.weights.h5")
    with open(path, "r+b") as f:  # a byte of the member's data, after its local header
        f.seek(member.header_offset + 30 + len(member.filename) + 100)
        f.write(b"x")
    checkpoint(poster_run, 2)
    with open(os.path.join(poster_run.checkpoints, "epoch-0002.json"), "w") as f:
        f.write('{"epoch": 2, "st')
    result = scrub_run(poster_run.path)
    assert [(d["file"], d.get("member")) for d in result["damaged"]] == [
        ("checkpoints/epoch-0001.keras", "model.weights.h5"), ("checkpoints/epoch-0002.json", None)]
    assert "CRC" in result["damaged"][0]["problem"]


def test_a_truncated_store_is_damage(poster_run):
    size = os.path.getsize(poster_run.store)
    with open(poster_run.store, "r+b") as f:
        f.truncate(size // 2)
    [found] = scrub_run(poster_run.path)["damaged"]
    assert found["file"] == F.STORE_FILENAME and "does not open" in found["problem"]


@pytest.mark.parametrize("deleted", ["tensors/conv1/activation/value", "steps/loss"])
def test_a_deleted_dataset_is_missing(tmp_path, deleted):
    store = str(tmp_path / "run.tvz")
    write_synthetic_run(store)
    with h5py.File(store, "r+", locking=False) as f:
        del f[deleted]
    [found] = scrub_run(store)["damaged"]
    assert found["dataset"] == deleted and found["problem"].startswith("missing")


def test_a_dead_writers_store_is_checked_without_being_written(tmp_path):
    store = str(tmp_path / "run.tvz")
    writer = start_writer(store)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    before = md5(store)
    result = scrub_run(store)
    assert result["intact"] and "read as it is" in result["notes"][0]
    assert md5(store) == before


def test_the_result_is_recorded_beside_the_store_and_said_by_info(poster_run):
    assert check_status(poster_run.store) is None and check_text(None) == NEVER
    assert record_check(scrub_run(poster_run.path)) is None
    status = check_status(poster_run.store)
    assert status["intact"] and not status["changed_since"]
    assert check_text(status) == f"checked {status['checked']}: intact"
    flip_byte(poster_run.store, "steps/loss")  # the size is the same: the mtime differs
    os.utime(poster_run.store, ns=(0, 0))
    assert check_text(check_status(poster_run.store)) == f"checked {status['checked']}, changed since"
    record_check(scrub_run(poster_run.path))
    status = check_status(poster_run.store)
    assert check_text(status) == f"checked {status['checked']}: 1 damaged dataset"
    with open(poster_run.checked) as f:
        assert json.load(f)["damaged"][0]["dataset"] == "steps/loss"


def test_info_says_when_the_run_was_checked(store):
    from tensorviz_pv.store.summary import format_summary, run_summary
    summary = run_summary(store[0])
    assert summary["check"] is None and f"check      {NEVER}" in format_summary(summary).splitlines()
    record_check(scrub_run(store[0]))
    summary = run_summary(store[0])
    assert summary["check"]["intact"] and summary["check"]["damaged_datasets"] == 0
    assert f"check      checked {summary['check']['checked']}: intact" in \
        format_summary(summary).splitlines()


def test_an_unwritable_run_directory_is_said_not_raised(poster_run, monkeypatch):
    def refuse(**_):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(check_record.tempfile, "mkstemp", refuse)
    reason = record_check(scrub_run(poster_run.path))
    assert "Permission denied" in reason and not os.path.exists(poster_run.checked)
