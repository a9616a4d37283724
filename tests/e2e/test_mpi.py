"""ParaView's MPI engine: every view under `mpiexec -n 2 pvbatch` and under `mpiexec -n 2
pvserver` (a pvpython client) gives what it gives in one process, without duplicates; Weight
Glyphs splits its boxes across the ranks; the rendered glyphs and `tensorviz render --mpi 2`
equal the serial images."""

import json
import os
import socket
import subprocess
import time

import numpy as np
import pytest

from tensorviz_cli.launch import mpi_launcher, paraview_program
from tensorviz_cli.launch import run as run_paraview
from tensorviz_pv.store import format as F

from conftest import ROOT, tensorviz

PLUGIN = os.path.join(ROOT, "plugin", "TensorViz.xml")

# the views of the tiny run, each with its number of output ports; then which rank drew which
# of conv2's glyphs, and the glyphs rendered
VIEWS = """
import json, sys
from paraview import simple
{connect}
if not hasattr(simple, "TensorVizReader"):
    simple.LoadPlugin({plugin!r}, ns=vars(simple){remote})
store, out = sys.argv[1], sys.argv[2]
reader = simple.TensorVizReader(FileName=store)
time = reader.TimestepValues[-1]
views = {{
    "glyphs conv2": (simple.WeightGlyphs(Input=reader, Layer="conv2", Highlight=3), 3),
    "norms": (simple.NormTimeSeries(Input=reader), 1),
    "trajectory": (simple.WeightTrajectory(Input=reader), 2),
    "maps": (simple.ActivationMaps(Input=reader, Layer="conv1", Highlight=3), 3),
    "correlation": (simple.FilterCorrelation(Input=reader, Layer="conv1", Highlight=3), 3),
    "groups": (simple.FilterGroups(Input=reader, Layer="conv1", Highlight=3), 3),
    "distribution": (simple.DistributionOverTime(Input=reader, Layer="conv1"), 2),
    "health": (simple.FilterHealth(Input=reader, Layer="conv1", Highlight=3), 3),
    "atlas": (simple.FilterAtlas(Input=reader, Layer="conv1", Highlight=3), 3),
}}
runs = simple.TensorVizRuns(FileNames=[store, store.replace("tiny", "seed7")])
views["norm comparison"] = (simple.NormComparison(Input=runs), 1)
views["similarity"] = (simple.LayerSimilarity(Input=runs), 2)
views["matching"] = (simple.FilterMatching(Input=runs, Layer="conv2"), 2)
seen = {{}}
for name, (view, ports) in views.items():
    view.UpdatePipeline(time)
    for port in range(ports):
        info = view.GetDataInformation(port)
        seen[f"{{name}} {{port}}"] = [info.GetNumberOfCells(), info.GetNumberOfPoints(),
                                      info.GetNumberOfRows()]
ranks = simple.ProgrammableFilter(Input=views["glyphs conv2"][0], Script='''
from vtkmodules.vtkParallelCore import vtkMultiProcessController
import numpy as np
controller = vtkMultiProcessController.GetGlobalController()
rank = controller.GetLocalProcessId() if controller else 0
output.ShallowCopy(inputs[0].VTKObject)
output.CellData.append(np.full(output.GetNumberOfCells(), rank, dtype=np.int32), "rank")
''')
ranks.UpdatePipeline(time)
array = ranks.GetDataInformation().DataInformation.GetCellDataInformation().GetArrayInformation("rank")
seen["glyph ranks"] = list(array.GetComponentRange(0)) if array else None
json.dump(seen, open(out, "w"))
if not {render}:  # a pvpython client without a display: the counts only
    sys.exit(0)
view = simple.CreateRenderView()
view.OrientationAxesVisibility = 0
view.ViewTime = time
shown = simple.Show(views["glyphs conv2"][0], view)
simple.ColorBy(shown, ("CELLS", "kernel"))
simple.ResetCamera(view)
simple.SaveScreenshot(out + ".png", view, ImageResolution=[500, 400])
"""


@pytest.fixture(scope="module")
def runs(tiny_run, tmp_path_factory):
    """tiny_run and a run of another seed beside it (seed7)."""
    seed7 = tiny_run.parent / "seed7"
    if not (seed7 / F.STORE_FILENAME).exists():
        tensorviz("train", seed7, "--max-samples", 200, "--epochs", 2, "--batch-size", 50,
                  "--budget", "none", "--seed", 7)
    return tiny_run, seed7


def images_alike(a_path, b_path):
    """The share of pixels that differ by more than a shade (compositing may move an edge)."""
    from PIL import Image
    a = np.asarray(Image.open(a_path).convert("RGB")).astype(int)
    b = np.asarray(Image.open(b_path).convert("RGB")).astype(int)
    assert a.shape == b.shape
    return (np.abs(a - b).max(axis=-1) > 32).mean()


def views_script(tmp_path, connect="", remote="", render=True):
    script = tmp_path / ("views.py" if render else "client.py")
    script.write_text(VIEWS.format(plugin=PLUGIN, connect=connect, remote=remote, render=render))
    return script


def test_mpi_pvbatch_gives_the_serial_views_and_splits_the_glyphs(runs, tmp_path):
    store = str(runs[0] / F.STORE_FILENAME)
    script = views_script(tmp_path)
    seen = {}
    for ranks in (1, 2):
        out = tmp_path / f"ranks{ranks}.json"
        result = run_paraview("pvbatch", [str(script), store, str(out)], ranks=ranks,
                              env={"PYTHONPATH": ROOT}, capture_output=True, text=True,
                              timeout=300)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        seen[ranks] = json.loads(out.read_text())
    serial, parallel = seen[1], seen[2]
    assert serial.pop("glyph ranks") == [0.0, 0.0]
    assert parallel.pop("glyph ranks") == [0.0, 1.0]  # both ranks drew conv2's boxes
    assert parallel == serial  # every view and port: as many cells, points, rows: no duplicate
    assert serial["glyphs conv2 0"][0] == 32 * 16 * 9 * 6 and serial["norms 0"][2] == 8
    assert images_alike(tmp_path / "ranks1.json.png", tmp_path / "ranks2.json.png") < 0.002


def test_mpi_pvserver_serves_a_client_the_serial_views(runs, tmp_path):
    store = str(runs[0] / F.STORE_FILENAME)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(mpi_launcher(2) + [paraview_program("pvserver"), f"--server-port={port}",
                                                 "--hostname=127.0.0.1"],
                              env=dict(os.environ, PYTHONPATH=ROOT, PV_PLUGIN_PATH=""),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(3)
        script = views_script(tmp_path, connect=f'simple.Connect("127.0.0.1", {port})',
                              remote=", remote=True", render=False)
        client_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PV_PLUGIN_PATH")}
        result = run_paraview("pvpython", [str(script), store, str(tmp_path / "client.json")],
                              env=client_env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    finally:
        server.kill()
        server.communicate()
    served = json.loads((tmp_path / "client.json").read_text())
    local = views_script(tmp_path)
    result = run_paraview("pvbatch", [str(local), store, str(tmp_path / "local.json")],
                          env={"PYTHONPATH": ROOT}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    serial = json.loads((tmp_path / "local.json").read_text())
    assert served.pop("glyph ranks") == [0.0, 1.0] and serial.pop("glyph ranks") == [0.0, 0.0]
    assert served == serial


def row_label_pixels(path):
    """Dark pixels in the 40 pixels left of the heatmap of a Fig. 4 (its row numbers)."""
    from PIL import Image
    image = np.asarray(Image.open(path).convert("RGB")).astype(int)
    panel = image[:, image.shape[1] // 2: image.shape[1] * 4 // 5]  # the heatmap, not its bar
    rows, columns = np.nonzero(panel.max(axis=-1) - panel.min(axis=-1) > 40)  # coloured cells
    strip = panel[rows.min():rows.max(), max(0, columns.min() - 40):columns.min()]
    return int((strip.max(axis=-1) < 110).sum())


def test_render_with_mpi_draws_the_serial_figures(tiny_run, tmp_path):
    for ranks, out in ((1, "serial"), (2, "mpi")):
        tensorviz("render", tiny_run, "--out", tmp_path / out, "--figures", "fig2,fig3,fig4",
                  "--size", "400x300", "--mpi", ranks)
    names = sorted(p.name for p in (tmp_path / "serial").glob("*.png"))
    assert names == sorted(p.name for p in (tmp_path / "mpi").glob("*.png")) and len(names) >= 6
    for name in names:
        if name.startswith("fig4"):  # row numbers as polygons in parallel: another font
            serial, mpi = (row_label_pixels(tmp_path / out / name) for out in ("serial", "mpi"))
            assert serial > 0 and mpi > serial / 2, (name, serial, mpi)
            continue
        assert images_alike(tmp_path / "serial" / name, tmp_path / "mpi" / name) < 0.002, name
    bad = tensorviz("render", tiny_run, "--out", tmp_path / "x", "--mpi", 0, check=False)
    assert bad.returncode == 2 and "--mpi 0" in bad.stderr
