"""From the command line to ParaView: pvbatch reads a trained run; the GUI opens one."""

import json
import os

import numpy as np

from conftest import tensorviz
from tensorviz_pv import store_format as F
from tensorviz_pv.store import RunReader
from trainer.paraview_launch import run as run_paraview

PVBATCH_SCRIPT = """
import json, sys
from paraview import simple, servermanager
from vtkmodules.util.numpy_support import vtk_to_numpy
store, out = sys.argv[1], sys.argv[2]
reader = simple.TensorVizReader(FileName=store)
steps = list(reader.TimestepValues)
glyphs = simple.WeightGlyphs(Input=reader, Layer="conv1")
glyphs.UpdatePipeline(steps[-1])
poly = servermanager.Fetch(glyphs)
tops = vtk_to_numpy(poly.GetPoints().GetData()).reshape(-1, 8, 3)[:, 4, 2]
json.dump({"steps": steps, "tops": tops.tolist()}, open(out, "w"))
"""

GUI_SCRIPT = """
import json
from paraview.simple import *
reader = OpenDataFile({store!r})
Show(reader)
scene = GetAnimationScene()
scene.UpdateAnimationUsingDataTimeSteps()
glyphs = WeightGlyphs(Input=reader)
Show(glyphs)
correlation = FilterCorrelation(Input=reader, Layer="conv2")
Show(OutputPort(correlation, 1))


def snapshot_step(source, port=0):
    info = source.GetDataInformation(port).DataInformation.GetFieldDataInformation()
    return info.GetArrayInformation("snapshot_step").GetComponentRange(0)[0]


snapshots, heatmaps = [], []
for t in reader.TimestepValues[::2]:
    scene.AnimationTime = t
    Render()
    snapshots.append(snapshot_step(glyphs))
    heatmaps.append(snapshot_step(correlation, 1))
SaveScreenshot({shot!r}, GetActiveView())
json.dump({{"timesteps": list(reader.TimestepValues), "snapshots": snapshots,
           "heatmaps": heatmaps}}, open({out!r}, "w"))
"""


def test_pvbatch_reads_the_steps_and_the_last_checkpoints_weights(tiny_run, tmp_path):
    import keras
    script, out = tmp_path / "read.py", tmp_path / "read.json"
    script.write_text(PVBATCH_SCRIPT)
    store = os.path.join(tiny_run, F.STORE_FILENAME)
    result = run_paraview("pvbatch", [str(script), store, str(out)], capture_output=True,
                          text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(out.read_text())
    with RunReader(store) as run:
        assert seen["steps"] == [float(s) for s in run.time_steps()] == [float(s) for s in range(9)]
    model = keras.models.load_model(os.path.join(tiny_run, "checkpoints", "epoch-0002.keras"))
    kernel = model.get_layer("conv1").kernel.numpy()
    np.testing.assert_allclose(seen["tops"], np.transpose(kernel, (3, 2, 0, 1)).ravel(), rtol=1e-6)


def test_gui_opens_a_run_applies_filter_correlation_and_scrubs_the_time(tiny_run, tmp_path):
    out, shot = tmp_path / "gui.json", tmp_path / "gui.png"
    script = tmp_path / "gui.py"
    script.write_text(GUI_SCRIPT.format(store=os.path.join(str(tiny_run), F.STORE_FILENAME),
                                        out=str(out), shot=str(shot)))
    result = run_paraview("paraview", ["--dr", f"--script={script}", "--exit"],
                          capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(out.read_text())
    assert seen["timesteps"] == [float(s) for s in range(9)]
    # snapshots are at steps 0, 4 and 8: the glyphs follow the time by floor
    assert seen["snapshots"] == [0.0, 0.0, 4.0, 4.0, 8.0]
    assert seen["heatmaps"] == [0.0, 0.0, 4.0, 4.0, 8.0]  # activations: step 0 and epoch ends
    assert shot.stat().st_size > 10_000


def test_render_writes_the_fig2_pngs(tiny_run, tmp_path):
    result = tensorviz("render", tiny_run, "--out", tmp_path, "--size", "400x300")
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == ["fig2_step0.png", "fig2_step4.png", "fig2_step8.png",
                     "fig2_weights.png"], result.stdout
    from PIL import Image  # keras depends on pillow
    for name in names:
        image = np.asarray(Image.open(tmp_path / name).convert("RGB")).astype(int)
        assert image.shape[:2] == ((300, 1200) if name == "fig2_weights.png" else (300, 400))
        # not blank: red and blue boxes on the white background
        reds = ((image[..., 0] > 150) & (image[..., 2] < 120)).sum()
        blues = ((image[..., 2] > 150) & (image[..., 0] < 120)).sum()
        assert reds > 100 and blues > 100, name
