"""Bad input to the views: one clear message in ParaView's output, an empty output, and
ParaView keeps working (each case in its own pvpython, whose output is read)."""

import os
import subprocess

import h5py
import numpy as np
import pytest

from tensorviz_pv.store import format as F
from tensorviz_pv.store.synthetic import write_synthetic_run

from pvtest import PLUGIN, PVPYTHON

SCRIPT = """
from paraview import simple, servermanager
simple.LoadPlugin({plugin!r}, ns=vars(simple))
reader = simple.TensorVizReader(FileName={path!r})
view = simple.{view}(Input=reader)
for name, value in {properties!r}.items():
    setattr(view, name, value)
view.UpdatePipeline(10.0)
view.UpdatePipeline(20.0)
data = servermanager.Fetch(view)
size = data.GetNumberOfPoints() if hasattr(data, "GetNumberOfPoints") else data.GetNumberOfRows()
print("output-size", size)
glyphs = simple.WeightGlyphs(Input=reader, Layer="fc1")  # ParaView still works after it
glyphs.UpdatePipeline(0.0)
print("still-working", glyphs.GetDataInformation().GetNumberOfCells())
"""


def run_view(tmp_path, path, view, properties):
    script = tmp_path / "case.py"
    script.write_text(SCRIPT.format(plugin=PLUGIN, path=path, view=view, properties=properties))
    result = subprocess.run([PVPYTHON, str(script)], capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PV_PLUGIN_PATH=""))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    errors = [line for line in output.splitlines() if "TensorViz:" in line]
    return output, errors


def size_of(output):
    return int(output.split("output-size")[1].split()[0])


@pytest.fixture
def store_path(store):
    return store[0]


@pytest.mark.parametrize("view", ["WeightGlyphs", "ActivationMaps", "FilterCorrelation",
                                  "WeightTrajectory", "FilterGroups", "FilterAtlas"])
def test_a_layer_that_does_not_exist(tmp_path, store_path, view):
    output, errors = run_view(tmp_path, store_path, view, {"Layer": "conv9"})
    assert len(errors) == 1, output
    assert "no layer named 'conv9'" in errors[0] and store_path in errors[0]
    assert size_of(output) == 0
    assert "still-working 180" in output  # fc1: 30 boxes x 6 faces


@pytest.mark.parametrize("view", ["ActivationMaps", "FilterCorrelation"])
def test_a_view_that_needs_activations_the_run_did_not_record(tmp_path, view):
    path = str(tmp_path / "noact.tvz")
    write_synthetic_run(path, steps=25, every=10, activations=False)
    output, errors = run_view(tmp_path, path, view, {})
    assert len(errors) == 1, output
    assert "activation" in errors[0] and "not recorded" in errors[0]
    assert size_of(output) == 0 and "still-working" in output


def test_the_atlas_of_a_run_that_recorded_none(tmp_path, store_path):
    output, errors = run_view(tmp_path, store_path, "FilterAtlas", {})  # an older run's store
    assert len(errors) == 1, output
    assert "no Filter Atlas was recorded for conv1" in errors[0] and store_path in errors[0]
    assert size_of(output) == 0 and "still-working 180" in output


@pytest.mark.parametrize("filters, message", [("3-1", "runs backwards"), ("0,9", "filter 9 does not exist")])
def test_a_filter_atlas_asked_for_filters_that_do_not_exist(tmp_path, filters, message):
    path = str(tmp_path / "atlas.tvz")
    write_synthetic_run(path, steps=25, every=10, atlas=True)
    output, errors = run_view(tmp_path, path, "FilterAtlas", {"Filters": filters})
    assert len(errors) == 1, output
    assert message in errors[0]
    assert size_of(output) == 0 and "still-working" in output
    output, errors = run_view(tmp_path, path, "FilterAtlas", {"Filters": "1-2"})
    assert not errors, output
    assert size_of(output) > 0


def test_a_damaged_atlas_is_said_not_drawn(tmp_path):
    path = str(tmp_path / "atlas.tvz")
    write_synthetic_run(path, steps=25, every=10, atlas=True)
    with h5py.File(path, "r+") as f:  # an image index past the atlas images
        f[F.series_path("conv1", F.ATLAS, F.SERIES_VALUE)][2, 0, 0, 2] = 99  # step 20
    output, errors = run_view(tmp_path, path, "FilterAtlas", {})
    assert len(errors) == 1, output
    assert "names atlas image 99 of 6: the store is damaged" in errors[0] and path in errors[0]
    assert size_of(output) == 0 and "still-working" in output


def test_a_truncated_store(tmp_path, store_path):
    size = os.path.getsize(store_path)
    with open(store_path, "r+b") as f:
        f.truncate(size // 2)
    output, errors = run_view(tmp_path, store_path, "WeightGlyphs", {})
    assert len(errors) == 1, output
    assert store_path in errors[0]
    assert size_of(output) == 0 and "still-working 0" in output


def test_a_store_with_garbage_inside(tmp_path, store_path):
    with h5py.File(store_path, "r+") as f:  # a dataset the wrong shape, as a damaged file may hold
        del f[F.series_path("conv1", F.KERNEL, F.SERIES_STEP)]
    output, errors = run_view(tmp_path, store_path, "WeightGlyphs", {"Layer": "conv1"})
    assert len(errors) == 1, output
    assert store_path in errors[0]
    assert size_of(output) == 0 and "still-working" in output


def test_nan_weights_are_reported_and_drawn_flat(tmp_path, store_path):
    with h5py.File(store_path, "r+") as f:
        values = f[F.series_path("conv1", F.KERNEL, F.SERIES_VALUE)]
        snapshot = values[1]
        snapshot[0, 0, 0, :] = [np.nan, np.inf, -np.inf, np.nan]
        values[1] = snapshot
    output, errors = run_view(tmp_path, store_path, "WeightGlyphs", {"Layer": "conv1"})
    assert len(errors) == 1, output
    assert "4 NaN/Inf values" in errors[0] and "step 10" in errors[0]
    assert size_of(output) == 36 * 8  # every box still drawn, the bad ones flat


def test_a_backwards_filter_range(tmp_path, store_path):
    output, errors = run_view(tmp_path, store_path, "WeightGlyphs", {"Layer": "conv1", "Filters": "3-1"})
    assert len(errors) == 1 and "'3-1'" in errors[0] and "backwards" in errors[0], output
    assert size_of(output) == 0 and "still-working" in output


def test_a_diverged_snapshot_in_filter_correlation(tmp_path, store_path):
    with h5py.File(store_path, "r+") as f:
        values = f[F.series_path("conv1", F.ACTIVATION, F.SERIES_VALUE)]
        values[1] = np.full(values.shape[1:], np.nan, dtype=np.float32)  # step 10
    output, errors = run_view(tmp_path, store_path, "FilterCorrelation", {"Layer": "conv1"})
    assert len(errors) == 1, output
    assert "NaN/Inf values at step 10" in errors[0]
    assert "still-working" in output


@pytest.mark.parametrize("view", ["WeightGlyphs", "NormTimeSeries", "ActivationMaps"])
def test_views_of_a_store_whose_steps_do_not_read_put_out_nothing(tmp_path, view):
    """Not the full-size data of a store found damaged (it differed from the intact one)."""
    path = str(tmp_path / "run.tvz")
    write_synthetic_run(path, steps=30, every=10)
    with h5py.File(path, "r", locking=False) as f:
        offset = f[F.steps_path(F.STEP)].id.get_chunk_info(0).byte_offset
    data = bytearray(open(path, "rb").read())
    data[offset + 3] ^= 0x20
    open(path, "wb").write(bytes(data))
    output, errors = run_view(tmp_path, path, view, {})
    assert any("cannot read the steps" in line for line in errors), output
    assert size_of(output) == 0
