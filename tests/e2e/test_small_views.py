"""The dashboard's views shown small (the GUI's first-start window, the web page's cells): the
data framed clear of the titles, the filter numbers a line apart, the colour bars' titles
along their bars. Measured on the views after they are rendered at the small size, the text
sized by VTK's own text renderer."""

import os

import pytest

from pvbatch_json import pvbatch_json
from tensorviz_pv.store import format as F

SCRIPT = """
import json, sys
from paraview import servermanager, simple
from vtkmodules.vtkRenderingCore import vtkTextProperty, vtkTextRenderer
import vtkmodules.vtkRenderingFreeType  # the text renderer that measures
from tensorviz_pv.figures import dashboard
from tensorviz_pv.figures.camera import data_bounds

def text_box(text, size, view):
    prop = vtkTextProperty()
    prop.SetFontSize(size)
    box = [0, 0, 0, 0]
    vtkTextRenderer.GetInstance().GetBoundingBox(prop, text, box,
                                                 view.GetRenderWindow().GetDPI())
    return box[1] - box[0] + 1, box[3] - box[2] + 1

def to_pixels(view, point):
    width, height = view.ViewSize
    matrix = view.GetActiveCamera().GetCompositeProjectionTransformMatrix(width / height, -1, 1)
    x, y, _, w = matrix.MultiplyPoint(list(map(float, point)) + [1.0])
    return (x / w + 1) * width / 2, (y / w + 1) * height / 2

def shown_text(source):
    output = servermanager.Fetch(source)
    return output.GetColumn(0).GetValue(0) if output.IsA("vtkTable") else source.Text

def in_view(view):  # {name in the pipeline browser: its display} of what the view shows
    names = {proxy: key[0] for key, proxy in simple.GetSources().items()}
    return {names[rep.Input]: rep for rep in view.Representations
            if rep.GetProperty("Input") is not None and rep.Input in names and rep.Visibility}

seen = {}
for case, area, sizes in (("gui", (850, 540), {"maps_view": (297, 270), "atlas_view": (255, 351),
                                             "health_view": (255, 189)}),
                          ("web", (1200, 640), {"maps_view": (480, 320), "atlas_view": (410, 420),
                                               "health_view": (410, 220)})):
    built = dashboard.build(sys.argv[1], area=area, time_slider=False)
    for name, size in sizes.items():
        view = built[name]
        view.ViewSize = list(size)
        simple.Render(view)
        shown = in_view(view)
        titles = [(shown_text(rep.Input), rep.FontSize) for key, rep in shown.items()
                  if key.startswith("title: ")]
        shows = {"size": size, "titles": [[text, text_box(text, points, view)[1]]
                                          for text, points in titles]}
        if name == "maps_view":
            maps = simple.FindSource("conv1 activation maps")
            shows["data top"] = to_pixels(view, [0, data_bounds((maps, 0))[3], 0])[1]
        if name == "atlas_view":
            anchor = shown["label: strongest first"].BillboardPosition
            shows["label top"] = to_pixels(view, anchor)[1] + text_box("strongest first", 12,
                                                                        view)[1]
        if name == "health_view":
            shows["numbers"] = sorted((to_pixels(view, shown[f"label: {i}"].BillboardPosition)[1], i)
                                      for i in range(16) if f"label: {i}" in shown)
            shows["digit height"] = text_box("0", 13, view)[1]
            for bar in servermanager.ProxyManager().GetProxiesInGroup("scalar_bars").values():
                if bar.Visibility and bar in view.Representations:
                    shows["bar"] = [bar.Title, text_box(bar.Title, bar.TitleFontSize, view)[0],
                                    bar.ScalarBarLength * size[1]]
        seen[f"{case} {name}"] = shows
json.dump(seen, open(sys.argv[2], "w"))
"""


@pytest.fixture(scope="module")
def seen(reduced_run, tmp_path_factory):
    return pvbatch_json(tmp_path_factory.mktemp("small"), SCRIPT,
                        os.path.join(reduced_run, F.STORE_FILENAME), name="small")[0]

CASES = ["gui", "web"]  # the GUI's first-start layout, the web page's cells
PADDING = 4  # pixels ParaView leaves above a title at the top of a view


@pytest.mark.parametrize("case", CASES)
def test_the_activation_tiles_stay_below_their_three_line_title(seen, case):
    shows = seen[f"{case} maps_view"]
    (text, title_height), = shows["titles"]
    assert text.count("\n") == 2, text  # the reduced run: "(blank: N filters merged away)"
    assert shows["data top"] <= shows["size"][1] - PADDING - title_height, shows


@pytest.mark.parametrize("case", CASES)
def test_the_atlas_line_over_the_patches_stays_below_the_title(seen, case):
    shows = seen[f"{case} atlas_view"]
    (text, title_height), = shows["titles"]
    assert shows["label top"] <= shows["size"][1] - PADDING - title_height, shows


@pytest.mark.parametrize("case", CASES)
def test_the_filter_numbers_of_the_health_are_a_line_apart_and_inside(seen, case):
    shows = seen[f"{case} health_view"]
    heights = [y for y, _ in shows["numbers"]]
    numbers = sorted(number for _, number in shows["numbers"])
    assert numbers[0] == 0 and len(numbers) >= 4  # filter 0 and a few more still named
    assert min(b - a for a, b in zip(heights, heights[1:])) >= shows["digit height"], shows
    assert 0 <= heights[0] and heights[-1] <= shows["size"][1]


@pytest.mark.parametrize("case", CASES)
def test_the_health_bar_title_fits_along_its_bar(seen, case):
    title, title_width, bar_length = seen[f"{case} health_view"]["bar"]
    assert title_width <= bar_length, (title, title_width, bar_length)
