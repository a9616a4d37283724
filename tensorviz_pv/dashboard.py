"""The TensorViz dashboard: one layout of views on one shared time (the animation scene), for
the ParaView GUI (`tensorviz paraview RUN_DIR`) or pvbatch.

    weight glyphs (3D)       | norms over the steps (line chart)
    activation maps (2D)     | filter correlation heatmap (2D)

follow(): while a trainer writes the run, reload it every few seconds and move to the newest
step (a Qt timer of the GUI's render window; nothing to do in pvbatch).
"""

import os

from .render import Renderer

STATE_NAME = "dashboard.pvsm"


def build(simple, store, size=(700, 450)):
    """Build the dashboard for a run store; returns the reader and the views."""
    renderer = Renderer(simple, store, None, size)
    reader = renderer.reader
    layer = renderer.conv_layers[0] if renderer.conv_layers else renderer.layers[0]
    # the GUI starts with one layout and an empty render view: the dashboard takes their place
    for view in simple.GetViews():
        simple.Delete(view)
    layouts = list(simple.GetLayouts().values())
    layout = layouts[0] if layouts else simple.CreateLayout("TensorViz")
    layout.Reset()
    layout.SplitHorizontal(0, 0.5)
    layout.SplitVertical(1, 0.5)
    layout.SplitVertical(2, 0.5)

    glyph_view = renderer.render_view()
    simple.AssignViewToLayout(view=glyph_view, layout=layout, hint=3)
    glyphs, _, limit = renderer.glyphs(layer)
    renderer.title(glyph_view, f"{layer} weights", 16)
    renderer.show_glyphs(glyph_view, glyphs, limit)

    chart = simple.CreateView("XYChartView")
    simple.AssignViewToLayout(view=chart, layout=layout, hint=5)
    norms = simple.NormTimeSeries(Input=reader)
    renderer.norm_chart(chart, norms)

    maps_view = renderer.render_view()
    simple.AssignViewToLayout(view=maps_view, layout=layout, hint=4)
    heat_view = renderer.render_view()
    simple.AssignViewToLayout(view=heat_view, layout=layout, hint=6)
    if renderer.conv_layers:
        renderer.activation_panel(maps_view, layer, renderer.steps[-1], 0)
        renderer.correlation_panel(heat_view, layer, renderer.steps[-1])
    scene = simple.GetAnimationScene()
    scene.UpdateAnimationUsingDataTimeSteps()
    scene.AnimationTime = renderer.steps[-1]
    return {"reader": reader, "layout": layout, "glyph_view": glyph_view, "chart": chart,
            "maps_view": maps_view, "heat_view": heat_view}


def save_state(simple, run_dir):
    """The dashboard as a state file in the run directory; it opens for any run (load it with
    'Search files under specified directory' and that run's directory)."""
    path = os.path.join(run_dir, STATE_NAME)
    simple.SaveState(path)
    return path


def load_state_for(simple, state, run_dir):
    """Open a dashboard state file for the run in `run_dir` (stores are all named run.tvz)."""
    simple.LoadState(state, LoadStateDataFileOptions="Search files under specified directory",
                     DataDirectory=os.path.abspath(run_dir), OnlyUseFilesInDataDirectory=1)


class Follower:
    """Keeps the views on the newest step of a run that is still being written: tick() reloads
    the reader when the store file changed and moves the animation time to the last step."""

    def __init__(self, simple, reader):
        self.simple, self.reader = simple, reader
        self.stamp = None

    def tick(self, *_):
        try:
            stat = os.stat(self.reader.FileName)
        except OSError:
            return False
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self.stamp:
            return False
        self.stamp = stamp
        self.simple.ReloadFiles(self.reader)
        scene = self.simple.GetAnimationScene()
        scene.UpdateAnimationUsingDataTimeSteps()
        steps = list(self.reader.TimestepValues or [])
        if steps:
            scene.AnimationTime = steps[-1]
        if self.simple.GetActiveView() is not None:
            self.simple.Render()
        return True


def follow(simple, reader, seconds=2.0):
    """Call a Follower every `seconds` from the GUI's event loop (a Qt timer of the render
    window); returns the Follower, or None without a GUI (pvbatch, pvpython)."""
    view = simple.GetActiveView()
    interactor = view.GetInteractor() if view is not None else None
    if interactor is None:
        return None
    follower = Follower(simple, reader)
    interactor.AddObserver("TimerEvent", follower.tick)
    interactor.CreateRepeatingTimer(int(seconds * 1000))
    return follower
