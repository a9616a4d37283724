"""The ParaView side through paraview.simple (runs under pvpython, no display needed)."""

import os
import subprocess

import numpy as np
import pytest

from paraview import servermanager, simple
from vtkmodules.util.numpy_support import vtk_to_numpy

from tensorviz_pv.store import format as F
from tensorviz_pv.analysis.glyphs import FACES_PER_BOX
from tensorviz_pv.store.synthetic import expected_kernel

from pvtest import PLUGIN, PVPYTHON



def test_reader_time_steps_are_the_recorded_steps(store):
    path, _ = store
    reader = simple.TensorVizReader(FileName=path)
    assert list(reader.TimestepValues) == [float(s) for s in range(0, 26)]
    reader.UpdatePipeline(13.0)
    data = servermanager.Fetch(reader)
    assert data.GetNumberOfBlocks() == 2
    assert data.GetMetaData(0).Get(data.NAME()) == "conv1"
    assert vtk_to_numpy(data.GetFieldData().GetArray("step"))[0] == 13
    assert data.GetBlock(0).GetFieldData().GetNumberOfArrays() == 0  # Tensors off: none copied
    reader.Tensors = 1
    reader.UpdatePipeline(13.0)
    data = servermanager.Fetch(reader)
    kernel = vtk_to_numpy(data.GetBlock(0).GetFieldData().GetArray(F.KERNEL))
    np.testing.assert_allclose(kernel, expected_kernel("conv1", 10).ravel())  # floor: step 10
    simple.Delete(reader)


def test_open_data_file_picks_the_reader_by_extension(store):
    path, _ = store
    reader = simple.OpenDataFile(path)
    assert reader.GetXMLName() == "TensorVizReader"
    simple.Delete(reader)


def test_weight_glyph_heights_follow_the_time(store):
    path, _ = store
    reader = simple.TensorVizReader(FileName=path)
    glyphs = simple.WeightGlyphs(Input=reader)
    assert list(glyphs.GetProperty("LayerNames")) == ["conv1", "fc1"]
    assert glyphs.Layer[0] == "conv1"
    for time, snapshot in [(0.0, 0), (14.0, 10), (25.0, 25)]:
        glyphs.UpdatePipeline(time)
        poly = servermanager.Fetch(glyphs)
        expected = np.transpose(expected_kernel("conv1", snapshot), (3, 2, 0, 1)).ravel()
        assert poly.GetNumberOfCells() == expected.size * FACES_PER_BOX
        tops = vtk_to_numpy(poly.GetPoints().GetData()).reshape(-1, 8, 3)[:, 4, 2]
        np.testing.assert_allclose(tops, expected, rtol=1e-6)
        rgb = vtk_to_numpy(poly.GetCellData().GetArray("rgb"))[::FACES_PER_BOX].astype(int)
        positive = expected > 0.02
        negative = expected < -0.02
        assert (rgb[positive, 0] > rgb[positive, 2]).all()
        assert (rgb[negative, 2] > rgb[negative, 0]).all()
    glyphs.Layer = "fc1"
    glyphs.UpdatePipeline(25.0)
    assert servermanager.Fetch(glyphs).GetNumberOfCells() == 30 * FACES_PER_BOX
    simple.Delete(glyphs)
    simple.Delete(reader)


BAD_INPUT_SCRIPT = """
import sys
from paraview import simple
simple.LoadPlugin({plugin!r}, ns=vars(simple))
reader = simple.TensorVizReader(FileName={path!r})
glyphs = simple.WeightGlyphs(Input=reader)
glyphs.UpdatePipeline(0.0)
glyphs.UpdatePipeline(1.0)
print("still-running", reader.TimestepValues)
"""


@pytest.mark.parametrize("kind, message", [
    ("missing", "no such file"),
    ("garbage", "not an HDF5 file"),
])
def test_bad_store_gives_one_clear_error_and_no_crash(tmp_path, kind, message):
    path = str(tmp_path / "bad.tvz")
    if kind == "garbage":
        with open(path, "wb") as f:
            f.write(b"\x00" * 100)
    script = tmp_path / "bad.py"
    script.write_text(BAD_INPUT_SCRIPT.format(plugin=os.path.abspath(PLUGIN), path=path))
    result = subprocess.run([PVPYTHON, str(script)], capture_output=True, text=True,
                            timeout=120, env=dict(os.environ, PV_PLUGIN_PATH=""))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "still-running" in output
    errors = [line for line in output.splitlines() if "TensorViz:" in line]
    assert len(errors) == 1, output
    assert path in errors[0] and message in errors[0]
