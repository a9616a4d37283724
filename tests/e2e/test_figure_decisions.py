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
from tensorviz_pv.store.synthetic import write_kinds_run

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

import math
from paraview import servermanager
from vtkmodules.util.numpy_support import vtk_to_numpy
from tensorviz_pv.algorithms.weight_glyphs import LABEL_TILT
from tensorviz_pv.figures import health, norms

def to_pixels(view, points):
    width, height = view.ViewSize
    matrix = view.GetActiveCamera().GetCompositeProjectionTransformMatrix(width / height, -1, 1)
    seen = [matrix.MultiplyPoint(list(map(float, p)) + [1.0]) for p in points]
    return [((x / w + 1) * width / 2, (y / w + 1) * height / 2) for x, y, _, w in seen]

for name in ("conv1", "conv2"):  # 16 filters of one channel, 32 of 16 channels
    view = render_view((800, 700))  # tensorviz render's panel size
    proxy, _, limit = weights.glyphs(run, name)
    weights.show_glyphs(view, proxy, limit)
    points = vtk_to_numpy(servermanager.Fetch(proxy, idx=1).GetPoints().GetData())
    pixels = to_pixels(view, points)
    top = points[points[:, 1].argmax()]  # the top of the farthest label (they lean back)
    tilt, tall = math.radians(LABEL_TILT), points[:, 2].max() / math.sin(math.radians(LABEL_TILT))
    foot = [top[0], top[1] - tall * math.cos(tilt), top[2] - tall * math.sin(tilt)]
    (x0, y0), (x1, y1) = to_pixels(view, [top, foot])
    seen[f"{name} label pixels"] = [min(p[0] for p in pixels), max(p[0] for p in pixels),
                                   min(p[1] for p in pixels), max(p[1] for p in pixels)]
    seen[f"{name} farthest label height"] = math.hypot(x1 - x0, y1 - y0)

chart = norms.norm_chart(run, "weight", run.size)
seen["step axis"] = [chart.BottomAxisUseCustomLabels, list(chart.BottomAxisLabels),
                     [run.steps[0], run.steps[-1]]]
norms.render(run)

health.render(run)
seen["fig7 labels"] = [source.Text for (name, _), source in simple.GetSources().items()
                       if name.startswith("label: ") and hasattr(source, "Text")]

strips = FigureRun(sys.argv[4], sys.argv[2], size=(400, 350))
view = render_view(strips.size)
maps = activations.activation_panel(strips, view, "c1d", strips.steps[-1], 0)
seen["strip scales"] = [list(simple.GetDisplayProperties(simple.OutputPort(maps, port), view).Scale)
                        for port in (0, 1)]
seen["strip extents"] = [list(maps.GetDataInformation(port).GetExtent()) for port in (0, 1)]
json.dump(seen, open(sys.argv[3], "w"))
"""


@pytest.fixture(scope="module")
def seen(reduced_run, tmp_path_factory):
    folder = tmp_path_factory.mktemp("decisions")
    script, out = folder / "decisions.py", folder / "seen.json"
    script.write_text(SCRIPT)
    store = os.path.join(reduced_run, F.STORE_FILENAME)
    kinds = folder / "kinds.tvz"  # a Conv1D layer "c1d": 4 filters x 12 positions
    write_kinds_run(str(kinds))
    result = run_paraview("pvbatch", [str(script), store, str(folder), str(out), str(kinds)],
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


@pytest.mark.parametrize("layer", ["conv1", "conv2"])
def test_the_filter_labels_lie_inside_the_image_and_read(seen, layer):
    x0, x1, y0, y1 = seen[f"{layer} label pixels"]
    width, height = 800, 700
    assert 0 <= x0 and x1 <= width and 0 <= y0 and y1 <= height, seen[f"{layer} label pixels"]
    assert seen[f"{layer} farthest label height"] >= 12  # pixels: a digit of 12 pt type


def test_the_step_axis_has_whole_step_ticks_over_the_run(seen):
    custom, labels, (first, last) = seen["step axis"]
    assert custom == 1
    positions, texts = [float(v) for v in labels[0::2]], labels[1::2]
    assert positions == [int(v) for v in texts] and len(positions) >= 2
    assert first <= positions[0] and positions[-1] <= last


def test_the_norm_legend_stays_clear_of_the_y_axis(seen, reduced_run, tmp_path_factory):
    from PIL import Image
    folder = next(p for p in tmp_path_factory.getbasetemp().glob("decisions*"))
    image = np.asarray(Image.open(folder / "fig3_norms.png").convert("L")).astype(int)[:, :400]
    dark = image < 90
    axis = int(dark[:, :150].sum(axis=0).argmax())  # the y axis: the longest dark column
    edges = []  # the legend box's top and bottom: long unbroken dark rows above the x axis
    for row in range(int(0.6 * len(dark))):
        runs = np.split(np.arange(dark.shape[1]), np.nonzero(~dark[row])[0])
        edges += [(len(r) - 1, r[1], row) for r in runs if len(r) > 80]
    assert edges, "no legend box found"
    left = min(start for _, start, _ in edges)
    assert left > axis + 3, (axis, left)


def significant_digits(text):
    mantissa = text.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return len(mantissa.rstrip("0")) if "." not in text.split("e")[0] else len(mantissa)


def test_fig7_value_labels_are_short(seen):
    numbers = [t for t in seen["fig7 labels"] if t.lstrip("-").replace(".", "", 1).replace(
        "e-", "", 1).replace("e", "", 1).isdigit()]
    assert len(numbers) >= 6, seen["fig7 labels"]
    assert all(significant_digits(t) <= 3 for t in numbers), numbers


def test_a_one_dimensional_layers_strips_are_drawn_at_a_readable_height(seen):
    (tiles, picture), (tile_extent, picture_extent) = seen["strip scales"], seen["strip extents"]
    rows, cols = tile_extent[3] - tile_extent[2], tile_extent[1] - tile_extent[0]
    assert rows * tiles[1] >= 0.5 * cols * tiles[0]
    assert (picture_extent[3] - picture_extent[2]) * picture[1] == pytest.approx(rows * tiles[1])
