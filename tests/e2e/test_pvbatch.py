"""From the command line to ParaView: pvbatch reads a trained run; the GUI opens one."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np

from conftest import tensorviz
from tensorviz_cli.launch import command, paraview_env, private_display
from tensorviz_cli.launch import run as run_paraview
from tensorviz_cli.scripts import FIGURE_CALLS
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader

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


FIGURES = {"fig2_step0.png": (400, 300), "fig2_step4.png": (400, 300), "fig2_step8.png": (400, 300),
           "fig2_weights.png": (1200, 300), "fig3_norms.png": (800, 300),
           "fig3_trajectory.png": (400, 300), "fig4_conv1.png": (800, 300),
           "fig4_conv2.png": (800, 300), "fig5_groups.png": (400, 300),
           "fig6_conv1.png": (800, 300), "fig6_conv2.png": (800, 300),
           "fig7_distributions.png": (1200, 300), "fig8_health.png": (800, 300)}


def test_render_writes_every_figure_none_blank_and_of_the_asked_size(tiny_run, tmp_path):
    result = tensorviz("render", tiny_run, "--out", tmp_path, "--size", "400x300")
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(FIGURES), result.stdout
    from PIL import Image  # installed by the set-up
    for name, size in FIGURES.items():
        image = np.asarray(Image.open(tmp_path / name).convert("RGB")).astype(int)
        assert image.shape[:2] == size[::-1], name
        background = np.all(image > 240, axis=-1)
        assert background.mean() > 0.3, name  # a white page...
        if name.startswith("fig6"):  # grey digits: dark patches with light strokes
            assert (image.max(axis=-1) < 60).sum() > 200, name
            continue
        coloured = (image.max(axis=-1) - image.min(axis=-1)) > 60
        assert coloured.sum() > 200, name  # ...with coloured marks on it
    # Fig. 2's boxes: red and blue
    glyphs = np.asarray(Image.open(tmp_path / "fig2_step8.png").convert("RGB")).astype(int)
    assert ((glyphs[..., 0] > 150) & (glyphs[..., 2] < 120)).sum() > 100
    assert ((glyphs[..., 2] > 150) & (glyphs[..., 0] < 120)).sum() > 100


def test_the_written_script_runs_in_plain_pvbatch_and_makes_what_render_makes(tiny_run, tmp_path):
    rendered, scripted, script = tmp_path / "rendered", tmp_path / "scripted", tmp_path / "figs.py"
    tensorviz("render", tiny_run, "--out", rendered, "--size", "400x300")
    tensorviz("render", tiny_run, "--out", scripted, "--size", "400x300", "--script", script)
    text = script.read_text()
    # calls, not a copy of code: a few lines of set-up, then two lines per figure
    assert "render.py" not in text and len(text.splitlines()) < 12 + 2 * len(FIGURE_CALLS)
    shutil.rmtree(scripted)
    # plain pvbatch: no PYTHONPATH, no PV_PLUGIN_PATH; the script finds the checkout itself
    env = {k: v for k, v in paraview_env().items() if k not in ("PYTHONPATH", "PV_PLUGIN_PATH")}
    with private_display() as display:
        result = subprocess.run(command("pvbatch", [str(script)]), env=dict(env, DISPLAY=display),
                                cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    listing = [sorted(str(p.relative_to(root)) for p in root.rglob("*.png"))
               for root in (rendered, scripted)]
    assert listing[0] == listing[1] and len(listing[0]) > len(FIGURES)  # the animation's frames too


def test_render_rejects_an_unknown_figure(tiny_run, tmp_path):
    result = tensorviz("render", tiny_run, "--out", tmp_path, "--figures", "fig9", check=False)
    assert result.returncode != 0
    assert "unknown figure(s) fig9" in result.stdout + result.stderr


def test_a_run_with_no_steps_is_said_in_one_line_with_no_traceback(tmp_path):
    from tensorviz_pv.store.writer import RunWriter
    run_dir = tmp_path / "empty"
    run_dir.mkdir()
    RunWriter.create(str(run_dir / F.STORE_FILENAME), {"layers": []}, ["a/kernel"], []).close()
    result = tensorviz("render", run_dir, "--out", tmp_path / "out", "--figures", "fig3",
                       check=False)
    assert result.returncode == 1
    assert "no recorded steps to render" in result.stderr and "Traceback" not in result.stderr


def test_a_chart_comes_out_the_same_whatever_figures_are_asked_for(tiny_run, tmp_path):
    """pvbatch draws a line chart made after a 3D view with faint copies of its tick labels:
    the script draws the charts first, whatever order the figures are named in."""
    from PIL import Image
    shots = []
    for figures in ("fig3", "fig2,fig3"):
        out = tmp_path / figures.replace(",", "-")
        tensorviz("render", tiny_run, "--out", out, "--figures", figures, "--size", "400x300")
        shots.append(np.asarray(Image.open(out / "fig3_norms.png").convert("RGB")).astype(int))
    assert shots[0].shape == shots[1].shape == (300, 800, 3)
    assert (np.abs(shots[0] - shots[1]).max(axis=-1) > 30).mean() < 1e-4


def test_sweep_trains_a_run_per_value_and_renders_them_side_by_side(tmp_path):
    result = tensorviz("sweep", tmp_path, "--lr", "0.05,2.0", "--epochs", 1,
                       "--max-samples", 100, "--size", "400x300")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "compare.pvsm", "compare_matching_conv2.png", "compare_similarity.png", "lr-0.05",
        "lr-2.0", "sweep.png"], result.stdout
    from PIL import Image
    image = np.asarray(Image.open(tmp_path / "sweep.png").convert("RGB")).astype(int)
    assert image.shape[:2] == (300, 1200)  # norm | accuracy | loss
    # coloured by value: the smaller rate dark purple, the larger green, in the norm and
    # accuracy charts
    for chart in (image[:, :400], image[:, 400:800]):
        assert (np.abs(chart - [68, 1, 84]) < 40).all(axis=-1).sum() > 50
        assert (np.abs(chart - [140, 212, 64]) < 40).all(axis=-1).sum() > 50
    with RunReader(str(tmp_path / "lr-2.0")) as run:
        assert run.step_table()[F.LEARNING_RATE][0] == 2.0


def test_renders_started_together_each_get_a_display_of_their_own(tiny_run, tmp_path):
    command = [os.path.join(os.path.dirname(sys.executable), "tensorviz"), "render", str(tiny_run),
               "--figures", "fig3", "--size", "300x200"]
    renders = [subprocess.Popen(command + ["--out", str(tmp_path / f"out{i}")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for i in range(3)]
    for i, render in enumerate(renders):
        out, err = render.communicate(timeout=300)
        assert render.returncode == 0, err[-2000:]
        assert sorted(p.name for p in (tmp_path / f"out{i}").glob("*.png")) == \
            ["fig3_norms.png", "fig3_trajectory.png"]


def test_a_private_display_keeps_every_client_while_others_come_and_go():
    """ParaView opens and closes X connections as it starts: Xvfb's default reset when its last
    client leaves dropped a client connecting meanwhile ("bad X server connection", a CI failure).
    Four clients connect and leave 150 times each at once: every one completes its set-up (with
    Xvfb's defaults about a third of them were dropped here)."""
    from concurrent.futures import ThreadPoolExecutor
    from tensorviz_cli.launch import x_client_accepted
    with private_display() as display:
        number = display.lstrip(":")
        with ThreadPoolExecutor(4) as pool:
            accepted = list(pool.map(lambda _: x_client_accepted(number), range(600)))
    assert accepted.count(False) == 0, f"{accepted.count(False)} of 600 clients were dropped"


def test_a_series_gone_from_a_damaged_store_is_said_and_fails_the_render(tiny_run, tmp_path):
    import h5py
    run_dir = tmp_path / "damaged"
    run_dir.mkdir()
    (run_dir / "run.tvz").write_bytes((tiny_run / "run.tvz").read_bytes())
    with h5py.File(run_dir / "run.tvz", "r+", locking=False) as f:
        del f["tensors/conv1/activation"]
    result = tensorviz("render", run_dir, "--out", tmp_path / "out", "--figures", "fig4,fig5",
                       "--size", "300x250", check=False)
    assert result.returncode == 1
    said = result.stdout + result.stderr
    assert "fig4 not drawn" in said and "fig5 not drawn" in said
    assert "conv1's activation series was recorded but is missing from the store" in said
    assert not (tmp_path / "out" / "fig4_conv1.png").exists()


def test_info_and_render_never_write_a_dead_writers_store(tmp_path):
    """The store may be a copy made for viewing or on a read-only mount: it stays byte for
    byte what the killed writer left; the next --resume repairs it."""
    import hashlib
    store = tmp_path / "run" / "run.tvz"
    store.parent.mkdir()
    subprocess.run([sys.executable, "-c", (
        "import os, signal\nfrom tensorviz_pv.store.synthetic import write_synthetic_run\n"
        f"kept = write_synthetic_run({str(store)!r}, steps=12, every=4, close=False)\n"
        "os.kill(os.getpid(), signal.SIGKILL)")], check=False)
    from tensorviz_pv.store.superblock import write_flags
    assert write_flags(str(store)) != 0  # left open for write
    before = hashlib.md5(store.read_bytes()).hexdigest()
    info = tensorviz("info", store.parent)
    assert "read as it is" in info.stderr
    tensorviz("render", store.parent, "--out", tmp_path / "out", "--figures", "fig3",
              "--size", "300x250")
    assert sorted(os.listdir(tmp_path / "out")) == ["fig3_norms.png", "fig3_trajectory.png"]
    assert hashlib.md5(store.read_bytes()).hexdigest() == before
