"""Several runs compared (`tensorviz compare`, and `tensorviz sweep` through it): their norms,
loss and accuracy over the steps; how alike their layers are (CKA, weight distance) against the
first run; one layer's filters matched between the first two runs, run B's glyphs drawn in run
A's order. Each run has one colour in every chart (a sequential scale in the order of a swept
value, when the run names end in one). `save_state` keeps the comparison for the GUI."""

import os
import re
import sys

import numpy as np
from paraview import simple
from vtkmodules.util.numpy_support import vtk_to_numpy

from ..algorithms.filter_matching import DRAWN
from ..algorithms.layer_similarity import CKA, DISTANCE
from ..errors import FigureError, SettingError, TensorVizError
from ..store import format as F
from ..store.reader import RunReader
from ..store.runs import find_runs
from .camera import data_bounds, flat_camera
from .colour import colour
from .outputs import fetched, field_value
from .session import FigureSet, dropped_afterwards
from .text import title
from .views import chart_type_sizes, chart_view, render_view, show_columns, show_image
from .weights import show_glyphs

# Viridis from its dark end to its green (its light yellow end would not read on white)
SEQUENTIAL = [(0.0, (0.267, 0.005, 0.329)), (0.25, (0.231, 0.322, 0.545)),
              (0.5, (0.129, 0.569, 0.553)), (0.75, (0.369, 0.788, 0.384)),
              (0.85, (0.55, 0.83, 0.25))]
LINE_STYLES = ["1", "2", "4", "3", "5"]  # solid, dash, dash-dot, dot...: one per layer
STATE_NAME = "compare.pvsm"
# the state's 3D views are drawn for a third of the GUI's layout area, text room included (the
# dashboard's sizes: figures/dashboard.py)
STATE_PANEL = (425, 405)


def swept_value(label):
    """The number a run's name ends with ("lr-0.05", "lr 0.05" -> 0.05), None when none."""
    found = re.search(r"(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)$", label.strip())
    return float(found.group(1)) if found else None


def run_colours(labels):
    """{label: (r, g, b)}: the runs in order of their swept value (given order when a label has
    none) spread over the sequential scale."""
    values = [swept_value(label) for label in labels]
    order = sorted(range(len(labels)), key=lambda i: values[i]) \
        if None not in values else list(range(len(labels)))
    positions = np.linspace(0.0, SEQUENTIAL[-1][0], len(labels)) if len(labels) > 1 else [0.0]
    anchors = np.array([at for at, _ in SEQUENTIAL])
    rgb = np.array([c for _, c in SEQUENTIAL])
    return {labels[i]: tuple(float(np.interp(at, anchors, rgb[:, c])) for c in range(3))
            for i, at in zip(order, positions)}


def style_series(display, columns, labels, colours, thickness=2, styles=None):
    """Per series (a table column): its legend label, colour, thickness and line style."""
    display.SeriesLabel = [v for column, label in zip(columns, labels) for v in (column, label)]
    display.SeriesColor = [v for column, rgb in zip(columns, colours)
                           for v in [column] + [str(c) for c in rgb]]
    display.SeriesLineThickness = [v for column in columns for v in (column, str(thickness))]
    if styles:
        display.SeriesLineStyle = [v for column, style in zip(columns, styles) for v in (column, style)]


class Comparison(FigureSet):
    """The runs (a TensorViz Runs reader over `paths`: folders of runs, run directories,
    stores) and their colours."""

    def __init__(self, paths, out_dir, size=(800, 600)):
        FigureSet.__init__(self, out_dir, size)
        self.reader = simple.TensorVizRuns(FileNames=[os.path.abspath(p) for p in paths],
                                           registrationName="runs")
        self.reader.UpdatePipelineInformation()
        self.run_names = list(self.reader.GetProperty("RunNames"))
        if len(self.run_names) < 2:
            raise SettingError(f"{', '.join(paths)}: comparing needs two runs or more "
                               f"(found {len(self.run_names)})")
        self.colours = run_colours(self.run_names)
        self.ordered = sorted(self.run_names, key=list(self.colours).index)  # legend order

    def pair_layers(self, view_name, a, b):
        """The layers runs a and b share that a view lists."""
        view = getattr(simple, view_name)(Input=self.reader, RunA=a, RunB=b)
        names = list(view.GetProperty("LayerNames"))
        simple.Delete(view)
        return names

    # ---- panels: each draws into a view it is given
    def norm_panels(self, norm_chart, accuracy_chart, loss_chart, layer):
        table = simple.NormComparison(Input=self.reader, registrationName="norm comparison")
        norm_chart.LeftAxisLogScale = 1  # a run whose norm jumps must not flatten the others
        for chart, quantity in ((norm_chart, f"{layer} weight norm"),
                                (accuracy_chart, "accuracy (smoothed)"),
                                (loss_chart, "loss (smoothed)")):
            if chart is None:
                continue
            columns = [f"{label}: {quantity}" for label in self.ordered]
            display = show_columns(table, chart, columns)
            style_series(display, columns, self.ordered, [self.colours[l] for l in self.ordered])
        return table

    def similarity_panels(self, cka_chart, distance_chart):
        """CKA and weight distance of each run against the first, per layer (colour: the
        run; line style: the layer)."""
        first = self.run_names[0]
        for other in self.run_names[1:]:
            similarity = simple.LayerSimilarity(Input=self.reader, RunA=first, RunB=other,
                                                registrationName=f"similarity {first} {other}")
            for port, chart in ((0, cka_chart), (1, distance_chart)):
                if chart is None:
                    continue
                table = fetched(similarity, port, 0.0)
                columns = [table.GetColumnName(i) for i in range(1, table.GetNumberOfColumns())]
                display = show_columns(simple.OutputPort(similarity, port), chart, columns)
                style_series(display, columns, [f"{other}: {column_layer(c)}" for c in columns],
                             [self.colours[other]] * len(columns), styles=LINE_STYLES)

    def matching_panels(self, view_a, view_b, view_matrix, layer, step, text=18):
        """Run A's glyphs of `layer` at `step`, run B's in A's order, and the correlation
        matrix of the matching (B's filters in A's order: the matches on the diagonal).
        Returns the FilterMatching proxy."""
        a, b = self.run_names[:2]
        matching = simple.FilterMatching(Input=self.reader, RunA=a, RunB=b, Layer=layer,
                                         registrationName=f"{layer} matching {a} {b}")
        order = fetched(matching, 0, step).GetFieldData().GetArray("order")
        if order is None:  # the view said why (different probe images, say)
            raise FigureError(f"{layer}: the filters of {a} and {b} could not be matched "
                              "(the message above says why)")
        order = vtk_to_numpy(order).tolist()
        limits = []
        for view, label, glyph_order in ((view_a, a, ""), (view_b, b, ",".join(map(str, order)))):
            reader = simple.TensorVizRuns(FileNames=list(self.reader.FileNames), Run=label,
                                          registrationName=f"run {label}")
            glyphs = simple.WeightGlyphs(Input=reader, Layer=layer, HeightScale=4.0,
                                         Order=glyph_order, registrationName=f"{label} {layer} glyphs")
            glyphs.UpdatePipeline(step)
            limits.append((view, glyphs, field_value(glyphs, "colour_limit")))
        limit = max(l for _, _, l in limits)  # one colour scale for both runs
        for (view, glyphs, _), label, how in zip(limits, (a, b), ("", ", in A's order")):
            view.ViewTime = step
            show_glyphs(view, glyphs, limit)
            title(view, f"{label}: {layer} weights, step {int(step)}{how}", text)
        view_matrix.ViewTime = step
        image = show_image(matching, view_matrix, 1)
        colour(image, view_matrix, DRAWN, "Cool to Warm", "Pearson r", (-1.0, 1.0))
        mean, random = field_value(matching, "mean_r"), field_value(matching, "random_mean_r")
        title(view_matrix, f"{layer}: {a}'s filters (rows) matched to {b}'s\n"
                           f"mean r {mean:.2f} (random assignment {random:.2f})", text - 2)
        count_a = matching.GetDataInformation(0).GetNumberOfRows()
        self.labels.index(view_matrix, count_a, rows=True)
        self.labels.index(view_matrix, len(order), rows=False, height=count_a,
                          texts=[str(f) for f in order])
        bounds = data_bounds((matching, 1))
        flat_camera(view_matrix, [bounds[0] - 2, bounds[1], bounds[2] - 2, bounds[3]] + bounds[4:],
                    margin=1.35)
        return matching

    # ---- figures
    def norm_figure(self, layer, name="compare_norms.png"):
        layout = simple.CreateLayout("compare norms")
        layout.SplitHorizontal(0, 1.0 / 3.0)
        layout.SplitHorizontal(2, 0.5)
        charts = []
        for cell, (heading, axis) in zip((1, 5, 6), ((f"{layer}: L2 norm of the weights", "L2 norm"),
                                                    ("training accuracy (smoothed)", "accuracy"),
                                                    ("training loss (smoothed)", "loss"))):
            chart = chart_view(self.size, heading, "training step", axis, place=(layout, cell))
            chart_type_sizes(chart)
            chart.ShowLegend = int(cell == 5)  # one legend, in the accuracy chart
            charts.append(chart)
        charts[1].LeftAxisUseCustomRange = 1
        charts[1].LeftAxisRangeMinimum, charts[1].LeftAxisRangeMaximum = 0.0, 1.0
        self.norm_panels(*charts, layer)
        return self.save(name, layout, (self.size[0] * 3, self.size[1]))

    def similarity_figure(self):
        layout = simple.CreateLayout("compare similarity")
        layout.SplitHorizontal(0, 0.5)
        first = self.run_names[0]
        cka = chart_view(self.size, f"CKA with {first} (probe activations)",
                         "training step", "linear CKA (debiased)", place=(layout, 1))
        distance = chart_view(self.size, f"distance from {first}'s weights",
                              "training step", "relative distance (1: unrelated)",
                              place=(layout, 2))
        for chart in (cka, distance):
            chart_type_sizes(chart)
            chart.LegendLocation = "BottomRight"
        cka_range(cka)
        self.similarity_panels(cka, distance)
        return self.save("compare_similarity.png", layout, (self.size[0] * 2, self.size[1]))

    def matching_figure(self, layer, step):
        layout = simple.CreateLayout("compare matching")
        layout.SplitHorizontal(0, 1.0 / 3.0)
        layout.SplitHorizontal(2, 0.5)
        views = [render_view(self.size, place=(layout, cell)) for cell in (1, 5, 6)]
        self.matching_panels(*views, layer, step)
        return self.save(f"compare_matching_{layer}.png", layout, (self.size[0] * 3, self.size[1]))


def cka_range(chart):
    """CKA's axis from 0 to 1 (the debiased estimate may dip a little below 0), whatever the
    values: a flat line of 1s must not be stretched into noise."""
    chart.LeftAxisUseCustomRange = 1
    chart.LeftAxisRangeMinimum, chart.LeftAxisRangeMaximum = -0.05, 1.05


def column_layer(column):
    """'conv1 CKA', 'conv1 weight distance' -> 'conv1'."""
    for suffix in (CKA, DISTANCE):
        if column.endswith(" " + suffix):
            return column[:-len(suffix) - 1]
    return column


def last_common_step(paths, labels, layer):
    """The last step at which runs `labels` (of the runs `paths` name) all have probe
    activations of `layer`."""
    last = []
    for label, store in find_runs(paths):
        if label in labels:
            with RunReader(store) as run:
                last.append(int(run.snapshot_steps(layer, F.ACTIVATION)[-1]))
    return float(min(last))


def render(paths, out_dir, size, layer=None, matching_layer=None, step=None,
           norms_name="compare_norms.png"):
    """The comparison figure set of the runs `paths` name into out_dir, and out_dir/STATE_NAME,
    the same views in one layout for the GUI. `layer`: the norm chart's (default: the first
    layer of the first run that all share); `matching_layer`: the matched one (default: the
    last layer with probe activations the first two runs share); `step`: the matching's
    (default: the last both recorded)."""
    comparison = Comparison(paths, out_dir, size)
    a, b = comparison.run_names[:2]
    shared = comparison.pair_layers("LayerSimilarity", a, b)[1:]  # after "all layers"
    layer = layer or (shared[0] if shared else None)
    matchable = comparison.pair_layers("FilterMatching", a, b)
    matching_layer = matching_layer or (matchable[-1] if matchable else None)
    for name, value, among in (("layer", layer, shared), ("matching layer", matching_layer, matchable)):
        if value is None or value not in among:
            raise SettingError(f"{name} {value!r}: {a} and {b} share "
                               f"{', '.join(among) or 'no such layer'}")
    with dropped_afterwards():
        comparison.norm_figure(layer, norms_name)
    with dropped_afterwards():
        comparison.similarity_figure()
    step = float(step) if step is not None else last_common_step(paths, (a, b), matching_layer)
    failed = []
    try:
        with dropped_afterwards():
            comparison.matching_figure(matching_layer, step)
    except FigureError as error:
        failed.append(f"compare_matching_{matching_layer}.png not drawn: {error}")
        matching_layer = None
    comparison.written.append(save_state(comparison, layer, matching_layer, step))
    return comparison.written, failed


def main(*args, **options):
    """render() for a pvbatch script: a problem with the runs or the options is said in a
    line, exit status 2; a figure that could not be drawn, exit status 1. (os._exit: a
    SystemExit in pvbatch ends in an X error.)"""
    try:
        _, failed = render(*args, **options)
    except TensorVizError as error:
        print(f"tensorviz compare: {error}", file=sys.stderr, flush=True)
        os._exit(2)
    for problem in failed:
        print(problem, file=sys.stderr, flush=True)
    if failed:
        os._exit(1)


def save_state(comparison, layer, matching_layer, step):
    """out_dir/STATE_NAME: the norms and the CKA charts over run A's and run B's glyphs (B in
    A's order) and the matching, on the time slider; File > Load State opens it."""
    layout = simple.CreateLayout("TensorViz comparison")
    for other in list(simple.GetLayouts().values()):  # the empty one RemoveLayout leaves
        if other != layout:
            simple.RemoveLayout(other)
    layout.SplitVertical(0, 0.5)
    layout.SplitHorizontal(1, 0.5)
    layout.SplitHorizontal(2, 1.0 / 3.0)
    layout.SplitHorizontal(6, 0.5)
    norms = chart_view(None, f"{layer}: L2 norm of the weights", "training step", "L2 norm",
                       place=(layout, 3))
    cka = chart_view(None, "CKA of the probe activations", "training step", "linear CKA",
                     place=(layout, 4))
    for chart in (norms, cka):
        chart_type_sizes(chart, compact=True)
    cka_range(cka)
    comparison.norm_panels(norms, None, None, layer)
    comparison.similarity_panels(cka, None)
    a, b = comparison.run_names[:2]
    if matching_layer is not None:
        views = [render_view(STATE_PANEL, name, place=(layout, cell)) for cell, name in
                 ((5, f"{a} {matching_layer}"), (13, f"{b} {matching_layer} in {a}'s order"),
                  (14, f"{matching_layer} matching"))]
        comparison.matching_panels(*views, matching_layer, step, text=13)
    scene = simple.GetAnimationScene()
    scene.UpdateAnimationUsingDataTimeSteps()
    scene.AnimationTime = step
    path = os.path.join(comparison.out_dir, STATE_NAME)
    simple.SaveState(path)
    print(f"wrote {path} (open it: tensorviz paraview --state {path})", flush=True)
    return path
