"""What the web page shows of a folder of runs compared (`tensorviz serve FOLDER`, its "compare"
switch): the views of `tensorviz compare`, drawn by the same panels (figures/comparison_panels.py)
on the ParaView side. Every run's weight norms and smoothed accuracy, each run's CKA with the
first, and one layer's filters matched between the first two runs (run B's glyphs in run A's
order, and the matching's correlation matrix) at the page's step."""

from paraview import simple

from ..errors import FigureError, TensorVizError
from ..messages import logger
from ..store import format as F
from ..figures.comparison_panels import Comparison, cka_range
from ..figures.views import chart_type_sizes, chart_view, render_view
from .board import delete_sources

LOG = logger("web")

# the page's comparison views, in its order, with their names on the page
COMPARE_VIEWS = (("norms", "Weight Norms"), ("accuracy", "Accuracy"), ("cka", "CKA"),
                 ("match_a", "Run A"), ("match_b", "Run B in A's Order"),
                 ("match_matrix", "Filter Matching"))
CELL = (400, 300)  # pixels: the views' size until the page sets theirs
GLYPHS_ZOOM = 0.88  # the matching's glyphs a little smaller: clear of the colour legend
TEXT = 13  # the matching views' type size (the dashboard's panels use the same)


class CompareBoard:
    """The comparison of the runs `stores` (two or more store paths): `views` (name -> ParaView
    view), drawn by show(layer, step); `message` says what could not be drawn ('' if all)."""

    def __init__(self, stores):
        self.stores = list(stores)
        self.message = ""
        self._comparison = None
        self._make_views()  # empty, quick: drawn when first shown

    def show(self, layer, step):
        """Draw the comparison for `layer` (the norms'; the matching's when the first two runs
        share its probe activations, else their last such layer) at the page's `step` (the
        matching at the last probe snapshot both have at or before it). New views when the
        old ones went (the dashboard's rebuild drops every view); returns the views."""
        if any(v not in simple.GetViews() for v in self.views.values()):
            self._make_views()
        if self._comparison is None:
            self._draw_runs()
        comparison = self._comparison
        shared = comparison.pair_layers("LayerSimilarity", *comparison.run_names[:2])[1:]
        layer = layer if layer in shared else (shared[0] if shared else None)
        if layer is None:
            self.message = "the first two runs share no layer to compare"
            return self.views
        matchable = comparison.pair_layers("FilterMatching", *comparison.run_names[:2])
        matching_layer = layer if layer in matchable else (matchable[-1] if matchable else None)
        if self._drawn is None or self._drawn[0] != layer:
            self._draw_norms(layer)
        matching_step = self._matching_step(matching_layer, step)
        if self._drawn is None or self._drawn[1:] != (matching_layer, matching_step):
            self._draw_matching(matching_layer, matching_step)
        self._drawn = (layer, matching_layer, matching_step)
        return self.views

    def _make_views(self):
        """The six views, empty (a dashboard's rebuild drops every view: then new ones)."""
        self.close()
        self._comparison, self._drawn, self._drawn_by = None, None, {}
        self.views = {
            "norms": chart_view(CELL, "L2 norm of the weights", "training step", "L2 norm"),
            "accuracy": chart_view(CELL, "training accuracy (smoothed)", "training step",
                                   "accuracy"),
            "cka": chart_view(CELL, "CKA (probe activations)", "training step", "linear CKA"),
            "match_a": render_view(CELL), "match_b": render_view(CELL),
            "match_matrix": render_view(CELL)}
        for name in ("norms", "accuracy", "cka"):
            chart_type_sizes(self.views[name], compact=True)
        accuracy = self.views["accuracy"]
        accuracy.LeftAxisUseCustomRange = 1
        accuracy.LeftAxisRangeMinimum, accuracy.LeftAxisRangeMaximum = 0.0, 1.0
        cka_range(self.views["cka"])
        self.views["cka"].LegendLocation = "BottomRight"  # as the figure's: CKA nears 1 at the top

    def _draw_runs(self):
        """The runs opened, and what does not change with the layer or the step: each run's
        CKA with the first."""
        self._comparison = Comparison(self.stores, None, CELL)
        self.views["cka"].ChartTitle = f"CKA with {self._comparison.run_names[0]} (probe activations)"
        self._redraw("cka", lambda: self._comparison.similarity_panels(self.views["cka"], None))

    def _redraw(self, part, draw):
        """Replace what `part` drew before by what draw() draws now."""
        delete_sources(self._drawn_by.get(part, []))
        before = set(simple.GetSources().values())
        try:
            draw()
        finally:
            self._drawn_by[part] = [s for s in simple.GetSources().values() if s not in before]

    def _draw_norms(self, layer):
        self.views["norms"].ChartTitle = f"{layer}: L2 norm of the weights"
        self._redraw("norms", lambda: self._comparison.norm_panels(
            self.views["norms"], self.views["accuracy"], None, layer))

    def _matching_step(self, layer, step):
        """The last probe snapshot of `layer` that the first two runs both have at or before
        `step` (their first shared one when none is)."""
        if layer is None:
            return None
        stored = self._comparison.stored
        shared = sorted(set.intersection(*(
            {int(s) for s in stored.run(label).snapshot_steps(layer, F.ACTIVATION)}
            for label in self._comparison.run_names[:2])))
        if not shared:
            return None
        earlier = [s for s in shared if s <= step]
        return earlier[-1] if earlier else shared[0]

    def _draw_matching(self, layer, step):
        """The matching views at `step`, in place of the previous step's."""
        views = [self.views[name] for name in ("match_a", "match_b", "match_matrix")]
        self.message = ""
        if layer is None or step is None:
            self.message = "the first two runs have no probe activations of a shared layer"
            return self._redraw("matching", lambda: None)
        try:
            self._redraw("matching", lambda: self._comparison.matching_panels(
                *views, layer, float(step), text=TEXT))
        except (FigureError, TensorVizError) as error:  # different probe images, say
            self.message = self._why_not_matched(layer) or str(error)
            LOG.info(f"compare: {error}")
            return
        for view in views[:2]:  # the colour legend's type takes more of a page's small view
            view.GetActiveCamera().Zoom(GLYPHS_ZOOM)  # than the figure's framing leaves it

    def _why_not_matched(self, layer):
        """What the Filter Matching said when it could not match (the page has no ParaView
        messages to point to); None when it said nothing."""
        said = [source.GetClientSideObject().last_error for source in self._drawn_by["matching"]
                if source.GetXMLName() == "FilterMatching"]
        return f"{layer}: {said[0]}" if said and said[0] else None

    def close(self):
        """Close the runs' stores (the views are ParaView's)."""
        if self._comparison is not None:
            self._comparison.close()
