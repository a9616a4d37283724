"""The run store round trip; runs in the venv (numpy 2.x) and in ParaView's Python (1.24)."""

import json

import h5py
import numpy as np
import pytest

from tensorviz_pv.store import format as F
from tensorviz_pv.errors import StoreError
from tensorviz_pv.store.reader import RunReader
from tensorviz_pv.store.writer import RunWriter
from tensorviz_pv.store.synthetic import expected_kernel, write_synthetic_run



def test_round_trip_tables_and_snapshots(store):
    path, snapshots = store
    with RunReader(path) as run:
        assert run.info["dataset"]["name"] == "synthetic"
        assert run.layers == ["conv1", "fc1"]
        table = run.step_table()
        np.testing.assert_array_equal(table[F.STEP], np.arange(1, 26))
        np.testing.assert_allclose(table[F.LOSS], 1.0 / np.arange(1, 26), rtol=1e-6)
        assert table[F.STEP].dtype == np.int64
        np.testing.assert_array_equal(run.series_steps("conv1", F.KERNEL), snapshots)
        assert snapshots == [0, 10, 20, 25]
        for step in snapshots:
            got_step, value = run.tensor_at("conv1", F.KERNEL, step)
            assert got_step == step
            np.testing.assert_array_equal(value, expected_kernel("conv1", step))
        norms = run.norms(F.WEIGHT_NORM)
        assert norms.shape == (25, 2)
        np.testing.assert_allclose(norms[4, 1], np.linalg.norm(expected_kernel("fc1", 5)), rtol=1e-6)
        np.testing.assert_array_equal(run.time_steps(), np.arange(0, 26))


def test_tensor_at_takes_the_latest_snapshot_at_or_before(store):
    path, _ = store
    with RunReader(path) as run:
        assert run.tensor_at("conv1", F.KERNEL, 19)[0] == 10
        assert run.tensor_at("conv1", F.KERNEL, 20)[0] == 20
        assert run.tensor_at("conv1", F.KERNEL, 10_000)[0] == 25
        assert run.tensor_at("conv1", F.KERNEL, -5)[0] == 0


def test_file_is_readable_by_hdf5_1_10(store):
    path, _ = store
    with h5py.File(path, "r") as f:
        # superblock v3 (libver v110) is what SWMR and HDF5 1.10 readers need
        assert f.id.get_create_plist() is not None
        assert f.attrs[F.ATTR_FORMAT] == F.FORMAT_NAME
        assert int(f.attrs[F.ATTR_VERSION]) == F.FORMAT_VERSION
        assert json.loads(f.attrs[F.ATTR_RUN_INFO])["layers"][0]["name"] == "conv1"


def test_live_reader_sees_rows_as_they_are_flushed(tmp_path):
    path = str(tmp_path / "live.tvz")
    _, writer = write_synthetic_run(path, steps=5, every=5, close=False)
    run = RunReader(path)
    assert run.step_count() == 5
    writer.add_step(6, 0, 0.1, 0.5, 0.01, [1.0, 1.0], [1.0, 1.0])
    writer.add_tensor("conv1", F.KERNEL, 6, expected_kernel("conv1", 6))
    writer.flush()
    assert run.refresh()
    assert run.step_count() == 6
    assert run.tensor_at("conv1", F.KERNEL, 6)[0] == 6
    writer.close()
    run.close()


def test_long_tables_read_back_whole_after_refresh(tmp_path):
    # several chunks per dataset: h5py's Dataset.refresh() returned the first chunk again
    path = str(tmp_path / "long.tvz")
    write_synthetic_run(path, steps=3000, every=100)
    with RunReader(path) as run:
        run.refresh()
        run.step_count()
        np.testing.assert_array_equal(run.step_table()[F.STEP], np.arange(1, 3001))
        assert len(run.time_steps()) == 3001


def test_append_drops_records_after_the_resume_step(tmp_path):
    path = str(tmp_path / "resume.tvz")
    write_synthetic_run(path, steps=25, every=10)
    writer = RunWriter.append_to(path, last_step=20)
    writer.add_step(21, 2, 0.1, 0.5, 0.01, [1.0, 1.0], [1.0, 1.0])
    writer.close()
    with RunReader(path) as run:
        np.testing.assert_array_equal(run.step_table()[F.STEP], np.arange(1, 22))
        np.testing.assert_array_equal(run.series_steps("conv1", F.KERNEL), [0, 10, 20])
        assert len(run.evaluation()["epoch"]) == 0  # its step (25) was after the resume point


def test_writer_refuses_to_replace_a_store(store):
    path, _ = store
    with pytest.raises(StoreError, match="already exists"):
        RunWriter.create(path, {}, [], [])


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"hello, not hdf5", "not an HDF5 file"),
    ("hdf5-without-format", "without the 'format' attribute"),
    ("other-format", "format is 'something-else'"),
    ("future", "newer than this"),
])
def test_bad_files_get_a_message_naming_file_and_problem(tmp_path, content, message):
    path = str(tmp_path / "bad.tvz")
    if isinstance(content, bytes):
        with open(path, "wb") as f:
            f.write(content)
    elif content is not None:
        with h5py.File(path, "w") as f:
            if content == "other-format":
                f.attrs[F.ATTR_FORMAT] = "something-else"
            if content == "future":
                f.attrs[F.ATTR_FORMAT] = F.FORMAT_NAME
                f.attrs[F.ATTR_VERSION] = F.FORMAT_VERSION + 1
    with pytest.raises(StoreError) as error:
        RunReader(path)
    assert path in str(error.value)
    assert message in str(error.value)


def test_unknown_layer_names_the_layers(store):
    path, _ = store
    with RunReader(path) as run:
        with pytest.raises(StoreError, match="no layer named 'conv9'.*conv1, fc1"):
            run.tensor_at("conv9", F.KERNEL, 0)


@pytest.mark.parametrize("dataset, line", [
    ({"name": "synthetic"}, "dataset    {'name': 'synthetic'}"),  # a dataset entry of its own
    ("my images", "dataset    my images"),  # a callback's run_info={"dataset": ...}
])
def test_info_text_shows_any_dataset_entry_as_given(store, dataset, line):
    from tensorviz_pv.store.summary import format_summary, run_summary
    summary = run_summary(store[0])
    summary["dataset"] = dataset
    assert line in format_summary(summary).splitlines()
