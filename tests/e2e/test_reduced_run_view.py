"""A run with filter reduction in the viewer: at every step the glyphs are that step's weights,
for the filters that exist then."""

import json
import os

import numpy as np

from pvbatch_json import pvbatch_json
from tensorviz_cli.launch import run as run_paraview
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader

SCRIPT = """
import json, sys
from paraview import simple, servermanager
from vtkmodules.util.numpy_support import vtk_to_numpy
reader = simple.TensorVizReader(FileName=sys.argv[1])
glyphs = simple.WeightGlyphs(Input=reader, Layer=sys.argv[3])
reduced = simple.WeightGlyphs(Input=reader, Layer="conv1")
maps = simple.ActivationMaps(Input=reader, Layer="conv1")
seen = {}
for step in json.loads(sys.argv[4]):
    glyphs.UpdatePipeline(float(step))
    reduced.UpdatePipeline(float(step))
    maps.UpdatePipeline(float(step))
    merged = reduced.GetDataInformation().DataInformation.GetFieldDataInformation() \
        .GetArrayInformation("merged_filters").GetComponentRange(0)[0]
    poly = servermanager.Fetch(glyphs)
    tops = vtk_to_numpy(poly.GetPoints().GetData()).reshape(-1, 8, 3)[:, 4, 2]
    filters = vtk_to_numpy(poly.GetCellData().GetArray("filter"))[::6]
    seen[step] = {"tops": tops.tolist(), "filters": filters.tolist(),
                  "errors": poly.GetCellData().GetArray("nonfinite") is not None,
                  "conv1 merged": merged,
                  "blank tiles": maps.GetDataInformation().DataInformation
                  .GetFieldDataInformation().GetArrayInformation("merged_filters")
                  .GetComponentRange(0)[0]}
json.dump(seen, open(sys.argv[2], "w"))
"""


def test_every_steps_glyphs_are_that_steps_weights(reduced_run, tmp_path):
    store = os.path.join(reduced_run, F.STORE_FILENAME)
    with RunReader(store) as run:
        steps = [int(s) for s in run.series_steps("conv2", F.KERNEL)]
        truth = {s: run.tensor_at("conv2", F.KERNEL, s)[1] for s in steps}
        alive = {s: run.alive_at("conv1", s) for s in steps}
        # the activation snapshot each step shows: filters whose map is NaN are merged away
        blank = {s: int(np.isnan(run.tensor_at("conv1", F.ACTIVATION, s)[1][0])
                        .reshape(-1, alive[s].size).all(axis=0).sum()) for s in steps}
    assert max(blank.values()) > 0
    assert not all(a.all() for a in alive.values())  # some conv1 filters went
    script, out = tmp_path / "glyphs.py", tmp_path / "glyphs.json"
    script.write_text(SCRIPT)
    result = run_paraview("pvbatch", [str(script), store, str(out), "conv2", json.dumps(steps)],
                          capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "NaN/Inf" not in result.stdout + result.stderr  # merged-away inputs are no error
    seen = json.loads(out.read_text())
    for step in steps:
        kernel = truth[step]  # (3, 3, 16, 32): NaN on the input channels merged away
        tiles = np.transpose(kernel, (3, 2, 0, 1))  # filter, channel, row, col: the glyph order
        expected = tiles[~np.isnan(tiles)]
        got = seen[str(step)]
        assert len(got["tops"]) == 9 * 32 * alive[step].sum(), step
        np.testing.assert_allclose(got["tops"], expected, rtol=1e-6)
        assert not got["errors"]
        assert got["conv1 merged"] == (~alive[step]).sum()  # what Fig. 2's titles say
        assert got["blank tiles"] == blank[step]  # what Fig. 4's titles say


OVERVIEW = """
import json, sys
from paraview import simple, servermanager
from vtkmodules.util.numpy_support import vtk_to_numpy
overview = simple.ReductionOverview(Input=simple.TensorVizReader(FileName=sys.argv[1]))
overview.UpdatePipeline()
table, image = servermanager.Fetch(overview, idx=0), servermanager.Fetch(overview, idx=1)
columns = {table.GetColumnName(i): vtk_to_numpy(table.GetColumn(i)).tolist()
           for i in range(table.GetNumberOfColumns())}
share = vtk_to_numpy(image.GetCellData().GetArray("share")).tolist()
json.dump({"columns": columns, "share": share, "dims": list(image.GetDimensions())},
          open(sys.argv[2], "w"))
"""


def test_the_reduction_overview_counts_each_layers_filters_after_each_reduction(reduced_run,
                                                                               tmp_path):
    store = os.path.join(reduced_run, F.STORE_FILENAME)
    with RunReader(store) as run:
        merges, first = run.merges(), int(run.step_table()[F.STEP][0])
        conv1 = run.layers.index("conv1")
    steps = sorted({int(s) for s in merges["step"]})
    assert len(steps) >= 1
    # independent of the alive record: 16 less the merges of conv1 up to each stage
    expected = [16] + [16 - int(((merges["layer"] == conv1) & (merges["step"] <= s)).sum())
                       for s in steps]
    seen, _ = pvbatch_json(tmp_path, OVERVIEW, store, name="overview")
    assert seen["columns"]["step"] == [first] + steps
    assert seen["columns"]["conv1 filters"] == expected
    assert seen["columns"]["conv2 filters"] == [32] * (len(steps) + 1)  # not reduced
    assert seen["dims"][:2] == [len(steps) + 2, 3]  # stages x 2 conv layers, as cell edges
    # the image's rows bottom-up: conv2 (1.0 throughout), then conv1's shares
    np.testing.assert_allclose(seen["share"], [1.0] * (len(steps) + 1)
                               + [count / 16 for count in expected])
