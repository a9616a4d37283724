"""Several runs drawn together: one colour per run in every chart (a sequential scale in the
order of a swept value, when the run names end in one), and the panels and figures of the
comparison (figures/comparison.py): their norms, loss and accuracy over the steps; how alike
their layers are (CKA, weight distance) against the first run; one layer's filters matched
between the first two runs, run B's glyphs drawn in run A's order."""

import os
import re

import numpy as np
from paraview import simple
from vtkmodules.util.numpy_support import vtk_to_numpy

from ..algorithms.filter_matching import DRAWN
from ..algorithms.layer_similarity import CKA, DISTANCE
from ..errors import FigureError, SettingError
from ..store import format as F
from ..store.runs import RunSet
from .camera import data_bounds, flat_camera
from .colour import colour
from .outputs import fetched, field_value
from .session import FigureSet
from .text import title
from .views import chart_type_sizes, chart_view, render_view, show_columns, show_image
from .weights import show_glyphs

# Viridis from its dark end to its green (its light yellow end would not read on white)
SEQUENTIAL = [(0.0, (0.267, 0.005, 0.329)), (0.25, (0.231, 0.322, 0.545)),
              (0.5, (0.129, 0.569, 0.553)), (0.75, (0.369, 0.788, 0.384)),
              (0.85, (0.55, 0.83, 0.25))]
LINE_STYLES = ["1", "2", "4", "3", "5"]  # solid, dash, dash-dot, dot...: one per layer


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
    stores; `stored`: the same runs open, a RunSet) and their colours."""

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
        self.stored = RunSet(paths)

    def pair_layers(self, view_name, a, b):
        """The layers runs a and b share that a view lists."""
        return self._listed_layers(view_name, Input=self.reader, RunA=a, RunB=b)

    def last_common_step(self, layer):
        """The last step at which the first two runs both have probe activations of `layer`."""
        return float(min(int(self.stored.run(label).snapshot_steps(layer, F.ACTIVATION)[-1])
                         for label in self.run_names[:2]))

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
