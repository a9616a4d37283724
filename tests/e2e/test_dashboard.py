"""The dashboard: a state file that opens for any run, and the GUI showing it."""

import json
import os
import shutil

import numpy as np
import pytest

from gui import screenshot_of_the_gui
from tensorviz_cli.launch import private_display
from tensorviz_cli.launch import run as run_paraview
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader

STATE_SCRIPT = """
import json, sys
from paraview import simple
from tensorviz_pv.figures import dashboard
first, second, folder, out = sys.argv[1:5]
dashboard.build(first)
state = dashboard.save_state(folder)
simple.ResetSession()
dashboard.load_state_for(state, second)
readers = [p for p in simple.GetSources().values() if p.GetXMLName() == "TensorVizReader"]
json.dump({"files": [r.FileName for r in readers], "views": len(simple.GetViews()),
           "steps": len(readers[0].TimestepValues)}, open(out, "w"))
"""


def test_the_dashboard_state_opens_for_a_second_run(tiny_run, reduced_run, tmp_path):
    script, out = tmp_path / "state.py", tmp_path / "state.json"
    script.write_text(STATE_SCRIPT)
    first = os.path.join(tiny_run, F.STORE_FILENAME)
    result = run_paraview("pvbatch", [str(script), first, str(reduced_run), str(tmp_path), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "dashboard.pvsm").exists()
    seen = json.loads(out.read_text())
    second = os.path.join(str(reduced_run), F.STORE_FILENAME)
    assert seen["files"] == [second]
    assert seen["views"] == 6
    with RunReader(second) as run:
        assert seen["steps"] == len(run.time_steps())


TITLE_SCRIPT = """
import json, sys
from paraview import simple, servermanager
from tensorviz_pv.figures import dashboard
store, out = sys.argv[1:3]
dashboard.build(store)
time = simple.GetAnimationScene().AnimationTime

def titles():
    found = {}
    for (name, _), proxy in simple.GetSources().items():
        if proxy.GetXMLName() == "PythonAnnotation":
            proxy.UpdatePipeline(time)
            found[name] = servermanager.Fetch(proxy).GetColumn(0).GetValue(0)
    return found

seen = {"before": titles()}
for proxy in simple.GetSources().values():  # Layer changed by hand, as in the GUI
    if proxy.GetXMLName() in ("WeightGlyphs", "ActivationMaps", "FilterCorrelation", "FilterAtlas"):
        proxy.Layer = "conv2"
seen["after"] = titles()
for view in simple.GetViews():
    simple.Delete(view)
for proxy in list(simple.GetSources().values()):
    simple.Delete(proxy)
dashboard.build(store, layer="conv2")  # `tensorviz paraview RUN --layer conv2`
seen["built"] = titles()
json.dump(seen, open(out, "w"))
"""


def test_the_dashboard_titles_name_the_layer_each_view_draws(tiny_run, tmp_path):
    """A Layer changed by hand in a view of the dashboard: its title names the new layer (it
    named the layer the dashboard was built with)."""
    script, out = tmp_path / "titles.py", tmp_path / "titles.json"
    script.write_text(TITLE_SCRIPT)
    result = run_paraview("pvbatch", [str(script), os.path.join(tiny_run, F.STORE_FILENAME),
                                      str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(out.read_text())
    before, after = seen["before"], seen["after"]
    assert len(before) == 4  # weights, activations, correlation, atlas
    assert sorted(text.split()[0] for text in before.values()) == ["conv1"] * 4
    assert {name: text.replace("conv1", "conv2") for name, text in before.items()} == after
    assert sorted(seen["built"].values()) == sorted(after.values())
    assert "Failed to evaluate" not in result.stderr


@pytest.mark.parametrize("first_start", [False, True], ids=["welcome seen", "first start"])
def test_the_gui_opens_the_dashboard(tiny_run, tmp_path, first_start):
    """`tensorviz paraview` comes up with every view drawn: for a user who closed ParaView's
    welcome dialog before, and on a first start (no settings: the modal dialog would block the
    dashboard), which must leave the user's settings as they were: none."""
    home = tmp_path / "home"
    settings = home / ".config" / "ParaView"
    if not first_start:
        settings.mkdir(parents=True)
        (settings / "ParaView5.11.0.ini").write_text("[General]\nGeneralSettings.ShowWelcomeDialog=0\n")
    before = sorted(os.listdir(settings)) if settings.exists() else []
    with private_display("-screen 0 1600x1000x24") as display:
        shot = screenshot_of_the_gui(tiny_run, display, tmp_path / "gui.png",
                                     env={"HOME": str(home)})
    from PIL import Image
    image = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert image.shape[:2] == (1000, 1600)
    red = (image[..., 0] > 150) & (image[..., 1] < 110) & (image[..., 2] < 110)   # glyphs, heatmap
    yellow = (image[..., 0] > 200) & (image[..., 1] > 150) & (image[..., 2] < 100)  # activations
    assert red.sum() > 500 and yellow.sum() > 200
    # the norm chart's lines: its third layer's green is in no other view (a chart whose series
    # the GUI reset draws axes only)
    green = (image[..., 1] > 120) & (image[..., 0] < 60) & (image[..., 2] < 90)
    assert green.sum() > 80
    after = sorted(os.listdir(settings)) if settings.exists() else []
    user_files = [name for name in after if not name.endswith("-dr.ini")]
    assert user_files == before  # a first start leaves no settings of the user's behind
    shutil.copy(shot, os.path.join(tiny_run, f"gui-dashboard{'-first' if first_start else ''}.png"))


PICK_SCRIPT = """
import json, sys
import numpy as np
from paraview import simple, servermanager
from vtkmodules.util.numpy_support import vtk_to_numpy
from tensorviz_pv.figures import dashboard
from tensorviz_pv.figures.picking import LINK_NAME
store, folder, out, picked = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
views = dashboard.build(store)
sources = {name: p for name, p in simple.GetSources().items()}
glyphs = next(p for (name, _), p in sources.items() if name.endswith("weight glyphs"))
heat = next(p for (name, _), p in sources.items() if name.endswith("filter correlation"))
health = next(p for (name, _), p in sources.items() if p.GetXMLName() == "FilterHealth")
seen = {"before": views["picker"].tick()}
n = int(round(simple.OutputPort(heat, 1).GetDataInformation().GetNumberOfCells() ** 0.5))
# a click on the heatmap's row `picked` (VTK counts image cells from the bottom row up)
simple.SelectIDs(IDs=[-1, (n - 1 - picked) * n + 3], FieldType="CELL",
                 Source=simple.OutputPort(heat, 1))
seen["picked"] = views["picker"].tick()
seen["highlight"] = [int(p.Highlight) for p in (glyphs, heat, health)]
def points(proxy, port):
    proxy.UpdatePipeline(simple.GetAnimationScene().AnimationTime)
    data = servermanager.Fetch(proxy, idx=port)
    return vtk_to_numpy(data.GetPoints().GetData()).tolist() if data.GetPoints() else []
boxes = servermanager.Fetch(glyphs, idx=0)
from vtkmodules.vtkFiltersCore import vtkCellCenters
centre = vtkCellCenters(); centre.SetInputData(boxes); centre.Update()
seen["box_centres"] = vtk_to_numpy(centre.GetOutput().GetPoints().GetData())[:, :2].tolist()
seen["box_filter"] = vtk_to_numpy(boxes.GetCellData().GetArray("filter")).tolist()
seen["outlines"] = {name: points(p, 2) for name, p in (("glyphs", glyphs), ("heat", heat),
                                                        ("health", health))}
seen["heat_cells"] = n
state = dashboard.save_state(folder)
simple.ResetSession()
dashboard.load_state_for(state, folder)
loaded = [p for p in simple.GetSources().values() if p.GetXMLName() == "FilterCorrelation"]
loaded[0].Highlight = 1
seen["after_load"] = sorted(int(p.Highlight) for p in simple.GetSources().values()
                            if p.GetXMLName() in ("WeightGlyphs", "FilterHealth"))
seen["link"] = servermanager.ProxyManager().GetRegisteredLink(LINK_NAME) is not None
json.dump(seen, open(out, "w"))
"""


def test_a_filter_picked_in_one_view_is_outlined_in_all(tiny_run, tmp_path):
    """A click on row 5 of the correlation heatmap outlines filter 5's block of weight glyphs
    (every box of filter 5 inside, no other box), its heatmap row and column, and its health
    row; the link between the views survives the state file."""
    script, out = tmp_path / "pick.py", tmp_path / "pick.json"
    script.write_text(PICK_SCRIPT)
    shutil.copy(os.path.join(tiny_run, F.STORE_FILENAME), tmp_path / F.STORE_FILENAME)
    result = run_paraview("pvbatch", [str(script), str(tmp_path / F.STORE_FILENAME), str(tmp_path),
                                      str(out), "5"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(out.read_text())
    assert seen["before"] is None  # nothing selected yet: nothing picked
    assert seen["picked"] == 5 and seen["highlight"] == [5, 5, 5]
    outline = np.array(seen["outlines"]["glyphs"])
    x0, y0 = outline[:, :2].min(axis=0)
    x1, y1 = outline[:, :2].max(axis=0)
    centres, owner = np.array(seen["box_centres"]), np.array(seen["box_filter"])
    inside = (centres[:, 0] > x0) & (centres[:, 0] < x1) & (centres[:, 1] > y0) & (centres[:, 1] < y1)
    assert inside[owner == 5].all() and not inside[owner != 5].any()
    n = seen["heat_cells"]
    heat = np.array(seen["outlines"]["heat"])[:, :2]  # row 5 (y from -6 to -5), then column 5
    assert heat[:4, 1].min() == -6 and heat[:4, 1].max() == -5 and heat[:4, 0].max() == n
    assert heat[4:, 0].min() == 5 and heat[4:, 0].max() == 6 and heat[4:, 1].min() == -n
    health = np.array(seen["outlines"]["health"])[:, :2]
    assert health[:, 1].min() == -6 and health[:, 1].max() == -5
    assert seen["link"] and seen["after_load"] == [1, 1]
