"""The Filter Atlas view of a trained run, pixel for pixel against the store: each filter's row
holds the stored atlas images' patches, cut here independently from the receptive field."""

import json
import os

import numpy as np

from tensorviz_cli.launch import run as run_paraview
from tensorviz_pv.analysis.atlas import IMAGE, LEAST_PATCH
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader

SCRIPT = """
import json, sys
from paraview import simple, servermanager
from vtkmodules.util.numpy_support import vtk_to_numpy
reader = simple.TensorVizReader(FileName=sys.argv[1])
seen = {}
for whole in (0, 1):
    atlas = simple.FilterAtlas(Input=reader, Layer=sys.argv[3], WholeImages=whole, Top=3)
    atlas.UpdatePipeline(float(sys.argv[4]))
    image = servermanager.Fetch(atlas)
    cols, rows = image.GetDimensions()[0] - 1, image.GetDimensions()[1] - 1
    pixels = vtk_to_numpy(image.GetCellData().GetArray("pixel")).reshape(rows, cols)[::-1]
    fields = image.GetFieldData()
    seen[whole] = {"pixels": [[None if v != v else float(v) for v in row] for row in pixels],
                   "corners": vtk_to_numpy(fields.GetArray("row_corners")).reshape(-1, 2).tolist(),
                   "step": int(vtk_to_numpy(fields.GetArray("snapshot_step"))[0])}
json.dump(seen, open(sys.argv[2], "w"))
"""


def test_each_row_holds_the_filters_strongest_patches(tiny_run, tmp_path):
    store = os.path.join(tiny_run, F.STORE_FILENAME)
    with RunReader(store) as run:
        step = int(run.series_steps("conv2", F.ATLAS)[-1])
        atlas = run.tensor_at("conv2", F.ATLAS, step)[1]
        images = run.atlas()[0]
        field = run.layer_info("conv2")["receptive_field"]
        width = run.layer_info("conv2")["activation_shape"][1]
    script, out = tmp_path / "atlas.py", tmp_path / "atlas.json"
    script.write_text(SCRIPT)
    result = run_paraview("pvbatch", [str(script), store, str(out), "conv2", str(step)],
                          capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(out.read_text())
    size = max(field["size"][0], LEAST_PATCH)
    for whole, patch in ((0, size), (1, images.shape[1])):
        pixels = np.array(seen[str(whole)]["pixels"], dtype=float)
        assert seen[str(whole)]["step"] == step
        for f, (top, left) in enumerate(seen[str(whole)]["corners"]):
            for rank in range(3):
                shown = pixels[top:top + patch, left + rank * (patch + 1):][:, :patch]
                picture = images[int(atlas[IMAGE, rank, f]), ..., 0]
                if whole:
                    np.testing.assert_allclose(shown, picture, atol=1e-6)
                    continue
                # the peak's map position -> its field's top left pixel in the image
                position = int(atlas[2, rank, f])
                row, col = divmod(position, width)
                top_pixel = int(round(field["origin"][0] + row * field["stride"][0])) \
                    - (size - field["size"][0]) // 2
                left_pixel = int(round(field["origin"][1] + col * field["stride"][1])) \
                    - (size - field["size"][1]) // 2
                padded = np.pad(picture, size, constant_values=np.nan)
                expected = padded[top_pixel + size:top_pixel + 2 * size,
                                  left_pixel + size:left_pixel + 2 * size]
                np.testing.assert_allclose(shown, expected, atol=1e-6, equal_nan=True)
