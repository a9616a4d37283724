"""Several runs compared (`tensorviz compare`, and `tensorviz sweep` through it): the figure set
(figures/comparison_panels.py draws it) and `save_state`, which keeps the comparison for the
GUI; main() is what the pvbatch script calls."""

import os

from paraview import simple

from ..errors import FigureError, SettingError, TensorVizError
from ..messages import logger, show_messages
from .comparison_panels import Comparison, cka_range
from .session import dropped_afterwards
from .views import chart_type_sizes, chart_view, render_view

STATE_NAME = "compare.pvsm"
# the state's 3D views are drawn for a third of the GUI's layout area, text room included (the
# dashboard's sizes: figures/dashboard.py)
STATE_PANEL = (425, 405)
LOG = logger("figures")


def render(paths, out_dir, size, layer=None, matching_layer=None, step=None,
           norms_name="compare_norms.png"):
    """The comparison figure set of the runs `paths` name into out_dir, and out_dir/STATE_NAME,
    the same views in one layout for the GUI. `layer`: the norm chart's (default: the first
    layer of the first run that all share); `matching_layer`: the matched one (default: the
    last layer with probe activations the first two runs share); `step`: the matching's
    (default: the last both recorded)."""
    with Comparison(paths, out_dir, size) as comparison:  # its stores closed at the end
        a, b = comparison.run_names[:2]
        shared = comparison.pair_layers("LayerSimilarity", a, b)[1:]  # after "all layers"
        layer = layer or (shared[0] if shared else None)
        matchable = comparison.pair_layers("FilterMatching", a, b)
        matching_layer = matching_layer or (matchable[-1] if matchable else None)
        for name, value, among in (("layer", layer, shared),
                                   ("matching layer", matching_layer, matchable)):
            if value is None or value not in among:
                raise SettingError(f"{name} {value!r}: {a} and {b} share "
                                   f"{', '.join(among) or 'no such layer'}")
        with dropped_afterwards():
            comparison.norm_figure(layer, norms_name)
        with dropped_afterwards():
            comparison.similarity_figure()
        step = float(step) if step is not None else comparison.last_common_step(matching_layer)
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
    """render() for a pvbatch script, its messages printed: a problem with the runs or the
    options is said in a line, exit status 2; a figure that could not be drawn, exit status 1.
    (os._exit: a SystemExit in pvbatch ends in an X error.)"""
    show_messages()
    try:
        _, failed = render(*args, **options)
    except TensorVizError as error:
        LOG.error(f"tensorviz compare: {error}")
        os._exit(2)
    for problem in failed:
        LOG.error(problem)
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
    LOG.info(f"wrote {path} (open it: tensorviz paraview --state {path})")
    return path
