"""The TensorViz dashboard: one layout of views on one shared time (the animation scene), for
the ParaView GUI (`tensorviz paraview RUN_DIR`) or pvbatch.

    weight glyphs (3D)       | norms over the steps (line chart)    | filter atlas (2D: what
                             |                                      |  excites each filter)
    activation maps (2D)     | filter correlation heatmap (2D)      | filter health + alerts
                             |                                      | (a live run: over its
                             |                                      |  Training Control)

A filter picked in any view that draws filters one by one (Select Cells On) is outlined in
all of them (figures/picking.py). follow(): while a trainer writes the run, reload it
every few seconds and move to the newest step. The commands a live training took are marked
on the norm chart's time axis and listed in the weights' corner. Both poll from a Qt timer of the GUI's render
window (repeat(); nothing to do in pvbatch).
"""

import os
import time

from paraview import simple

from ..errors import FigureError, TensorVizError
from ..store.lock import live_writer
from ..store.run_dir import RunDir
from .activations import activation_panel, correlation_panel
from .atlas import atlas_panel
from .colour import TEXT
from .health import NO_ALERTS, alerts_text, health_panel
from .norms import PANEL_WIDTH, norm_chart
from .picking import FilterPicker, link_highlights, show_highlight
from .session import FigureRun
from .steering import SteeringShown, control_panel, steering_text
from .text import title
from .views import render_view
from .weights import glyphs, show_glyphs



LAYOUT_AREA = (850, 540)  # pixels of the layout in a ParaView window of its first-start size
ATLAS_SHARE = 0.3  # of the width, for the Filter Atlas's tall column
HEALTH_SHARE = 0.35  # of that column's height, for the filter health and the alerts
CONTROL_SHARE = 0.3  # of it, for a live run's Training Control (taken from the health's and
LIVE_HEALTH_SHARE = 0.3  # the atlas's: its table needs room for a toolbar, a header and rows)
HEALTH_ASPECT = 1.4  # the filter health's image, wide: its view is a low one
# the views are sized this many times their panel (same shape): the GUI draws their text for
# the size they were made with, and at the panel's own size it would crowd the panel
TEXT_ROOM = 1.5


def build(store, area=LAYOUT_AREA, layer=None, time_slider=True):
    """Build the dashboard for a run store, of `layer` (default: its first convolution);
    returns the reader and the views. Each 2D view is framed for its share of `area` (what the
    GUI gives the layout; a view drawn before the window is laid out knows no better).
    `time_slider`: the animation scene (the GUI's time slider) takes the run's steps; without
    it (the web page, which keeps its own slider) only the time is set, 0.7 s sooner."""
    area = (area[0] * TEXT_ROOM, area[1] * TEXT_ROOM)
    cell = (int(area[0] * (1 - ATLAS_SHARE) / 2), int(area[1] / 2))
    with FigureRun(store, size=cell) as run:  # its store closed once the views are made
        return _views(run, area, cell, layer, time_slider)


def _views(run, area, cell, layer, time_slider=True):
    """The dashboard's layout and views of an open run, `area` and `cell` in view pixels."""
    if layer is not None and layer not in run.layers:
        raise FigureError(f"{run.store}: no layer {layer!r} to show "
                          f"(layers: {', '.join(run.layers)})")
    layer = layer or run.first_conv_layer
    # the GUI starts with one layout and an empty render view: the dashboard takes their place
    for view in simple.GetViews():
        simple.Delete(view)
    layouts = list(simple.GetLayouts().values())
    layout = layouts[0] if layouts else simple.CreateLayout("TensorViz")
    live = live_writer(run.store) is not None
    atlas_share, health_share = _split(layout, live)

    glyph_view = render_view(cell, f"{layer} weights", (layout, 7))
    proxy, _, limit = glyphs(run, layer)
    title(glyph_view, f"{layer} weights", 16, follow=proxy, layer=layer)
    show_glyphs(glyph_view, proxy, limit)
    step = simple.AnnotateTime(registrationName="the step", Format="step {time:.0f}")
    shown = simple.Show(step, glyph_view)  # the step, in the view that moves most
    shown.WindowLocation, shown.FontSize, shown.Color = "Upper Left Corner", 18, TEXT

    chart = norm_chart(run, "weight", place=(layout, 9), compact=True)
    norms = simple.FindSource("weight norms")
    steering = simple.Text(registrationName="steering", Text=steering_text(norms))
    shown = simple.Show(steering, glyph_view)  # the commands the training took, if any
    shown.WindowLocation, shown.FontSize, shown.Color = "Lower Left Corner", 12, TEXT
    steering = SteeringShown(steering, norms, chart, PANEL_WIDTH)

    maps_view = render_view(cell, f"{layer} activations", (layout, 8))
    heat_view = render_view(cell, f"{layer} filter correlation", (layout, 10))
    column = int(area[0] * ATLAS_SHARE)
    atlas_view = render_view((column, int(area[1] * atlas_share)), f"{layer} filter atlas",
                             (layout, 5))
    health_view = render_view((column, int(area[1] * health_share)), f"{layer} filter health",
                              (layout, 13 if live else 6))
    control = control_panel(run, (layout, 14), layer)[0] if live else None
    alerts = None
    filter_views = [(proxy, 0, glyph_view)]
    if run.has_health(layer):
        filter_views.append((health_panel(run, health_view, layer, caption=False,
                                                 aspect=HEALTH_ASPECT), 0, health_view))
        alerts = simple.Text(registrationName="alerts")
        shown = simple.Show(alerts, health_view)
        shown.WindowLocation, shown.FontSize = "Upper Left Corner", 12
        alerts = (alerts, shown)
        show_alerts(alerts, run.store)
    else:
        _say_missing(health_view, f"no filter health recorded for {layer}")
    if layer not in run.activation_layers:
        for view in (maps_view, heat_view, atlas_view):
            _say_missing(view, f"no probe activations recorded for {layer}")
    elif not run.has_atlas(layer):
        _say_missing(atlas_view, f"no filter atlas recorded for {layer}")
    if layer in run.activation_layers:
        filter_views.append((activation_panel(run, maps_view, layer, run.steps[-1], 0), 0,
                             maps_view))
        filter_views.append((correlation_panel(run, heat_view, layer, run.steps[-1]), 1, heat_view))
        if run.has_atlas(layer):
            atlas = atlas_panel(run, atlas_view, layer, run.steps[-1], caption=False,
                                heading=(f"{layer} filter atlas", 16))
            filter_views.append((atlas, 0, atlas_view))
    link_highlights([source for source, _, _ in filter_views] + ([control] if live else []))
    for source, port, view in filter_views:
        show_highlight(source, view, port)
    if time_slider:
        scene = simple.GetAnimationScene()
        scene.UpdateAnimationUsingDataTimeSteps()
        scene.AnimationTime = run.steps[-1]
    else:
        simple.GetTimeKeeper().Time = run.steps[-1]
    run.labels.fit()  # on a parallel server: its labels to the views' cameras
    # the views are framed: paraview.simple's first Render() would reset the active view's
    # camera (a followed run's first tick, or the web page's first pick, re-framed a view)
    simple._DisableFirstRenderCameraReset()
    # the Properties panel opens on the run (a live one: on its Training Control's buttons)
    simple.SetActiveSource(control if live else run.reader)
    simple.SetActiveView(glyph_view)
    return {"reader": run.reader, "layout": layout, "glyph_view": glyph_view, "chart": chart,
            "maps_view": maps_view, "heat_view": heat_view, "atlas_view": atlas_view,
            "health_view": health_view, "alerts": alerts, "steering": steering,
            "control": control,
            "picker": FilterPicker((source, port) for source, port, _ in filter_views)}


def _say_missing(view, text):
    """A view with nothing of the layer to draw says why (a blank view looks broken)."""
    note = simple.Text(registrationName=text, Text=text)
    shown = simple.Show(note, view)
    shown.WindowLocation, shown.FontSize, shown.Color = "Upper Center", 16, TEXT


def _split(layout, live):
    """Split the layout into the dashboard's cells: the 2 x 2 views (7, 8, 9, 10) | the atlas
    (5) over the health (6), or for a live run over the health (13) and its Training Control
    (14), whose table needs room for a few rows. Returns the atlas's and the health's shares of
    the column's height."""
    layout.Reset()
    layout.SplitHorizontal(0, 1 - ATLAS_SHARE)  # the 2 x 2 views | the Filter Atlas, tall
    layout.SplitHorizontal(1, 0.5)
    layout.SplitVertical(3, 0.5)
    layout.SplitVertical(4, 0.5)
    health_share = LIVE_HEALTH_SHARE if live else HEALTH_SHARE
    atlas_share = 1 - health_share - (CONTROL_SHARE if live else 0)
    layout.SplitVertical(2, atlas_share)
    if live:
        layout.SplitVertical(6, health_share / (health_share + CONTROL_SHARE))
    return atlas_share, health_share


def save_state(run_dir):
    """The dashboard as a state file in the run directory; it opens for any run (load it with
    'Search files under specified directory' and that run's directory). Returns its path, or
    None when it could not be written (a read-only run directory)."""
    path = RunDir(run_dir).dashboard_state
    before = os.stat(path).st_mtime_ns if os.path.exists(path) else None
    try:
        simple.SaveState(path)
    except (OSError, RuntimeError):
        return None
    written = os.path.exists(path) and os.stat(path).st_mtime_ns != before
    return path if written else None


def load_state_for(state, run_dir):
    """Open a dashboard state file for the run in `run_dir` (stores are all named run.tvz)."""
    simple.LoadState(state, LoadStateDataFileOptions="Search files under specified directory",
                     DataDirectory=os.path.abspath(run_dir), OnlyUseFilesInDataDirectory=1)


def show_alerts(alerts, store):
    """The run's alerts in a (Text source, display): red while there are any."""
    source, display = alerts
    try:
        text = alerts_text(store, most=2)
    except TensorVizError as error:  # a store mid-write: the next reload reads it
        text = f"alerts: {error}"[:120]
    source.Text = text
    display.Color = TEXT if text == NO_ALERTS else [0.75, 0.1, 0.1]


class Follower:
    """Keeps the views on the newest step of a run that is still being written: tick() reloads
    the reader when the store file changed, moves the animation time to the last step and
    updates the alerts (a Text source and its display, when given) and the steering commands
    taken (a SteeringShown, when given). A slow tick (a long run)
    rests the follower until following has taken at most SHARE of the time. Without
    `time_slider` (the web page, which moves the time and sends the views itself) it only
    reloads and updates the texts."""

    SHARE = 0.2  # at most this share of the GUI's time goes to following
    QUICK = 0.1  # seconds: a tick this quick is never held back

    def __init__(self, reader, alerts=None, clock=time.monotonic, steering=None,
                 time_slider=True):
        self.reader, self.alerts, self.clock = reader, alerts, clock
        self.steering, self.time_slider = steering, time_slider
        self.stamp = None
        self.resting_until = 0.0  # after a slow tick (a long run), the next waits this long

    def tick(self, *_):
        started = self.clock()
        if started < self.resting_until:
            return False
        try:
            stat = os.stat(self.reader.FileName)
        except OSError:
            return False
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self.stamp:
            return False
        self.stamp = stamp
        self._update()
        took = self.clock() - started
        if took > self.QUICK:  # a million-step run: ~0.5 s a tick; the GUI stays responsive
            self.resting_until = started + took / self.SHARE
        return True

    def _update(self):
        simple.ReloadFiles(self.reader)
        steps = list(self.reader.TimestepValues or [])
        if self.time_slider:
            scene = simple.GetAnimationScene()
            scene.UpdateAnimationUsingDataTimeSteps()
            if steps:
                scene.AnimationTime = steps[-1]
        if self.alerts is not None:
            show_alerts(self.alerts, self.reader.FileName)
        if self.steering is not None:
            self.steering.update(steps[-1] if steps else None)
        if self.time_slider and simple.GetActiveView() is not None:
            simple.Render()


def repeat(callback, seconds):
    """Call `callback` every `seconds` from the GUI's event loop (a Qt timer of the render
    window); False without a GUI (pvbatch, pvpython)."""
    view = simple.GetActiveView()
    interactor = view.GetInteractor() if view is not None else None
    if interactor is None:
        return False
    interactor.AddObserver("TimerEvent", callback)
    interactor.CreateRepeatingTimer(int(seconds * 1000))
    return True


def follow(reader, seconds=2.0, alerts=None, steering=None):
    """Keep the GUI on the newest step of a run being written; returns the Follower, or None
    without a GUI."""
    follower = Follower(reader, alerts, steering=steering)
    return follower if repeat(follower.tick, seconds) else None
