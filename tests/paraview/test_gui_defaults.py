"""The colour defaults `tensorviz paraview` gives its ParaView process: a filter applied by hand
comes up readable, the user's own saved defaults still win. Each case runs in its own pvpython
(the settings are process-wide)."""

import json
import os
import subprocess

import pytest

from pvtest import PLUGIN, PVPYTHON, ROOT

# Shows Filter Correlation's heatmap and Weight Glyphs as the GUI's Apply does (colour by the
# active array, then rescale every colour map as its mode says) and prints what came up.
APPLY_BY_HAND = """
import json, sys
from paraview import servermanager, simple
from paraview.modules.vtkRemotingServerManager import vtkSMSettings
from tensorviz_pv.figures import gui_defaults
simple.LoadPlugin(sys.argv[1], ns=vars(simple))
case = sys.argv[3]
if case != "plain":
    gui_defaults.install()
if case == "user saved":  # what "Save as default" in the colour map editor leaves
    vtkSMSettings.GetInstance().AddCollectionFromString(json.dumps({"array_lookup_tables": {
        "rnovalueNaN": {"PVLookupTable": {"AutomaticRescaleRangeMode": "Grow and update on 'Apply'"}}}}),
        1e9)  # above TensorViz's, as the user's settings file is
reader = simple.TensorVizReader(FileName=sys.argv[2])
view = simple.CreateView("RenderView")
heatmap = simple.Show(simple.OutputPort(simple.FilterCorrelation(Input=reader, Layer="conv1"), 1), view)
glyphs = simple.Show(simple.WeightGlyphs(Input=reader, Layer="conv1"), view)
servermanager.vtkSMTransferFunctionManager().ResetAllTransferFunctionRangesUsingCurrentData(
    servermanager.ActiveConnection.Session.GetSessionProxyManager(), False)
seen = {}
for name, display in (("heatmap", heatmap), ("glyphs", glyphs)):
    lut = simple.GetColorTransferFunction(display.ColorArrayName[1])
    points = list(lut.RGBPoints)
    seen[name] = {"array": display.ColorArrayName[1], "range": [points[0], points[-4]],
                  "mode": lut.GetProperty("AutomaticRescaleRangeMode").GetData(), "nan": list(lut.NanColor)}
print("SEEN" + json.dumps(seen))
"""


def apply_by_hand(store, case, tmp_path):
    script = tmp_path / "by_hand.py"
    script.write_text(APPLY_BY_HAND)
    env = dict(os.environ, PYTHONPATH=ROOT, HOME=str(tmp_path))  # no user settings file
    result = subprocess.run([PVPYTHON, str(script), PLUGIN, store, case], env=env,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("SEEN"))
    return json.loads(line[4:])


def test_a_heatmap_applied_by_hand_spans_minus_one_to_one_with_grey_for_no_value(store, tmp_path):
    seen = apply_by_hand(store[0], "defaults", tmp_path)
    assert seen["heatmap"]["array"] == "r (no value: NaN)"
    assert seen["heatmap"]["range"] == [-1.0, 1.0]
    assert seen["heatmap"]["mode"] == "Never"
    assert seen["heatmap"]["nan"] == pytest.approx([0.62] * 3)
    assert seen["glyphs"]["mode"] == "Grow and update every timestep"


def test_without_the_defaults_paraview_scales_the_heatmap_to_the_data(store, tmp_path):
    seen = apply_by_hand(store[0], "plain", tmp_path)
    low, high = seen["heatmap"]["range"]
    assert (low, high) != (-1.0, 1.0) and -1.0 < low  # the case the defaults are for
    assert seen["heatmap"]["mode"] != "Never"


def test_a_default_the_user_saved_wins_over_tensorviz(store, tmp_path):
    seen = apply_by_hand(store[0], "user saved", tmp_path)
    assert seen["heatmap"]["mode"] == "Grow and update on 'Apply'"
    assert seen["heatmap"]["nan"] == pytest.approx([0.62] * 3)  # what the user did not set


def test_no_settings_file_is_written(store, tmp_path):
    apply_by_hand(store[0], "defaults", tmp_path)
    written = [os.path.join(d, f) for d, _, files in os.walk(tmp_path / ".config") for f in files] \
        if (tmp_path / ".config").exists() else []
    assert not any("rnovalueNaN" in open(path, errors="replace").read() for path in written)
