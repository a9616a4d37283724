"""The colour-range and label decisions of the figures, checked against the run's own numbers
(numpy on the store): every step's values inside the colour bar, one bar for every step, equal
trajectory scales, categorical groups, a correlation on -1..1 with grey for no value."""

import json
import os

import numpy as np
import pytest

from tensorviz_cli.launch import run as run_paraview
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader

SCRIPT = """
import json, sys
from paraview import simple
from tensorviz_pv.figures import activations, groups, trajectory, weights
from tensorviz_pv.figures.session import FigureRun
from tensorviz_pv.figures.outputs import array_range
from tensorviz_pv.figures.views import render_view

run = FigureRun(sys.argv[1], sys.argv[2], size=(400, 350))
seen = {}

def lut_range(name):
    points = list(simple.GetColorTransferFunction(name).RGBPoints)
    return [points[0], points[-4]]

for step in (run.steps[0], run.steps[-1]):  # the bar of the first step and of the last
    view = render_view(run.size)
    maps = activations.activation_panel(run, view, "conv1", step, 0)
    seen[f"activation bar at {int(step)}"] = lut_range("activation")
    seen[f"activation data at {int(step)}"] = list(array_range(maps, "activation"))
    heat_view = render_view(run.size)
    activations.correlation_panel(run, heat_view, "conv1", step)
    seen[f"correlation bar at {int(step)}"] = lut_range("r (no value: NaN)")
    seen["no-value colour"] = list(simple.GetColorTransferFunction("r (no value: NaN)").NanColor)

proxy, layer, limit = weights.glyphs(run, "conv1")
weights.show_glyphs(render_view(run.size), proxy, limit)
seen["weight bar"] = lut_range("kernel")

trajectory.render(run)
path = simple.FindSource("conv1 trajectory")
scales = [list(simple.GetRepresentation(path, view).Scale) for view in simple.GetViews()
          if simple.GetRepresentation(path, view).Visibility]
seen["trajectory scales"] = scales

groups.render(run)
lut = simple.GetColorTransferFunction("group")
seen["groups categorical"] = lut.InterpretValuesAsCategories
colours = list(lut.IndexedColors)
seen["group colours"] = [colours[i:i + 3] for i in range(0, len(colours), 3)]
seen["group annotations"] = list(lut.Annotations)
seen["palette"], seen["greys"] = groups.GROUP_COLOURS, [groups.MERGED, groups.DEAD]
json.dump(seen, open(sys.argv[3], "w"))
"""


@pytest.fixture(scope="module")
def seen(reduced_run, tmp_path_factory):
    folder = tmp_path_factory.mktemp("decisions")
    script, out = folder / "decisions.py", folder / "seen.json"
    script.write_text(SCRIPT)
    store = os.path.join(reduced_run, F.STORE_FILENAME)
    result = run_paraview("pvbatch", [str(script), store, str(folder), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(out.read_text())


def snapshots(reduced_run, layer, quantity):
    with RunReader(os.path.join(reduced_run, F.STORE_FILENAME)) as run:
        steps = run.series_steps(layer, quantity)
        return steps, [np.asarray(run.series_value(layer, quantity, i)) for i in range(len(steps))]


def test_every_steps_activations_lie_inside_one_bar(seen, reduced_run):
    steps, values = snapshots(reduced_run, "conv1", F.ACTIVATION)
    first, last = int(steps[0]), int(steps[-1])
    bar = seen[f"activation bar at {last}"]
    assert seen[f"activation bar at {first}"] == bar  # one scale: colours compare across steps
    highest = max(np.nanmax(v) for v in values)
    assert bar[0] <= min(np.nanmin(v) for v in values)
    assert bar[1] == pytest.approx(highest, rel=1e-5)  # the whole run's top, no wider
    for step in (first, last):
        low, high = seen[f"activation data at {step}"]
        assert bar[0] <= low and high <= bar[1] * (1 + 1e-6)
    # the case the decision is for: a bar taken at the first step would clip the last
    assert seen[f"activation data at {last}"][1] > seen[f"activation data at {first}"][1]


def test_the_weight_bar_is_symmetric_and_holds_every_steps_weights(seen, reduced_run):
    _, kernels = snapshots(reduced_run, "conv1", F.KERNEL)
    low, high = seen["weight bar"]
    assert low == -high  # white is zero
    assert high == pytest.approx(max(np.nanmax(np.abs(k)) for k in kernels), rel=1e-5)


def test_the_correlation_bar_is_minus_one_to_one_and_no_value_is_grey(seen):
    for key in [k for k in seen if k.startswith("correlation bar")]:
        assert seen[key] == [-1.0, 1.0]
    red, green, blue = seen["no-value colour"]
    assert red == green == blue and 0.4 < red < 0.8  # grey, not a colour of the scale


def test_the_trajectory_is_drawn_on_equal_scales(seen):
    assert seen["trajectory scales"], "no trajectory shown"
    for x, y, _ in seen["trajectory scales"]:
        assert x == y


def test_groups_get_categorical_colours_far_apart(seen):
    assert seen["groups categorical"] == 1
    annotations = seen["group annotations"]
    values = annotations[0::2]
    colours = {value: np.array(rgb) for value, rgb in zip(values, seen["group colours"])}
    groups = [v for v in values if int(v) >= 0]
    assert len(groups) >= 3
    for i, a in enumerate(groups):
        for b in groups[i + 1:]:  # no two groups alike (a rainbow's neighbours are)
            assert np.linalg.norm(colours[a] - colours[b]) > 0.25, (a, b)
        for grey in ("-2", "-1"):  # nor like the greys of merged-away and dead filters
            assert np.linalg.norm(colours[a] - colours[grey]) > 0.2, (a, grey)
    assert "merged away" in annotations and "dead" in annotations


def test_the_whole_palette_keeps_its_groups_apart(seen):
    colours = np.array(seen["palette"])
    assert len(colours) >= 12
    distances = np.linalg.norm(colours[:, None] - colours[None, :], axis=-1)
    assert distances[~np.eye(len(colours), dtype=bool)].min() > 0.25
    assert min(np.linalg.norm(colours - grey, axis=1).min() for grey in seen["greys"]) > 0.2
