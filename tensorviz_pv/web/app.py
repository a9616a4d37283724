"""The web page of `tensorviz serve`, a trame app run by pvpython (`tensorviz_cli/serve.py`
starts it: `pvpython app.py --venv DIR`, DIR a virtual environment with trame). The dashboard's
six views are ParaView views rendered here and sent as images (VtkRemoteView: no tensor leaves
the machine); a step slider and play, the step, a layer chooser, the run's alerts, a live run
followed, and a click on a filter in a view outlines it in all.

For a folder of runs the page also compares them (web/compare_board.py), as `tensorviz compare`
does. Its settings come in the environment (never as code): TENSORVIZ_RUNS (JSON: [[label, store]]
of the runs it may show; the page sees the labels, never a path), TENSORVIZ_LAYER,
TENSORVIZ_SERVE_HOST, TENSORVIZ_SERVE_PORT, TENSORVIZ_SERVE_TOKEN (empty: no token). The page can
only show: nothing it sends reaches the file system or the training."""

import asyncio
import importlib
import json
import math
import os
import sys

# imported for what it does: puts --venv's packages (trame) on the path (ParaView 5.11)
importlib.import_module("paraview.web.venv")

from trame.app import asynchronous, get_server  # noqa: E402

from tensorviz_pv.errors import TensorVizError  # noqa: E402
from tensorviz_pv.messages import logger, show_messages  # noqa: E402
from tensorviz_pv.algorithms.base import WHOLE_LIST  # noqa: E402
from tensorviz_pv.web import guard, layout  # noqa: E402
from tensorviz_pv.web.board import Board  # noqa: E402
from tensorviz_pv.web.compare_board import CompareBoard  # noqa: E402
from tensorviz_pv.web.images import ImageSender  # noqa: E402
from tensorviz_pv.web.steering import Steering  # noqa: E402

LOG = logger("web")
FOLLOW_SECONDS = 2.0  # how often a live run is looked at
PLAY_SECONDS = 0.25  # a step shown this long while playing
SENDING_SECONDS = 0.01  # after each view's image: the server writes it out before the next render
SAYING_SECONDS = 0.1  # before a long build: the page gets what it says meanwhile

class Page:
    """The trame server and its state, bound to one run's Board (and, for a folder of runs,
    their CompareBoard); web/layout.py builds the page."""

    def __init__(self, runs, layer, token, steer=False):
        """`runs`: [(label, store)] of the runs it may show (the page knows the labels only);
        `steer`: a live run's training control on the page (else read-only)."""
        self.runs, self.token, self.steer = dict(runs), token, steer
        label = runs[0][0]
        self.board = board = Board(self.runs[label], layer)
        self.steering = Steering(board.control, steer)
        self.compare = CompareBoard(self.runs.values()) if len(self.runs) > 1 else None
        self.server = get_server(client_type="vue3")
        self.state, self.ctrl = self.server.state, self.server.controller
        self.widgets, self.compare_widgets = {}, {}
        self._sending = None  # the task sending the views' images
        self.follower = board.follower()
        self.ctrl.on_server_bind.add(self._bind)
        self.ctrl.on_server_ready.add(self._start_tasks)
        steps = board.steps
        self.state.update({
            "trame__title": "TensorViz", "run": label, "runs": list(self.runs),
            "step_index": len(steps) - 1, "step_count": len(steps), "step_label": "",
            "playing": False, "follow": True, "layer": board.layer, "picked": -1, "busy": "",
            "alerts": board.alerts(), "group": WHOLE_LIST, "learning_rate": "",
            "compare": False, "compare_message": ""})
        self._show_layers()
        self._show_steering()
        self._show_step(len(steps) - 1)
        layout.build(self)
        self.server.add_protocol_to_configure(_images_only)  # after trame-vtk's own
        self.images = ImageSender()
        self.server.add_protocol_to_configure(self.images.configure)
        self.state.change("step_index")(self._on_step)
        self.state.change("layer")(self._on_layer)
        self.state.change("run")(self._on_run)
        self.state.change("group")(self._on_group)
        self.state.change("compare")(self._on_compare)

    # ---- the page's events
    def _on_step(self, step_index, **_):
        if not _numbers(step_index):  # the page sends a number; anything else shows nothing
            return
        self._show_step(step_index)
        self.update_views()

    def _show_step(self, index):
        step = self.board.go_to(index)
        self.state.step_label = "no steps yet" if step is None else f"step {step}"

    def _on_layer(self, layer, **_):
        if layer != self.board.layer:
            self._rebuild(f"building the views of {layer}...", lambda: self.board.show_layer(layer))

    def _on_run(self, run, **_):
        store = self.runs.get(run)  # a label of the runs named at the start, nothing else
        if store is not None and store != self.board.store:
            self._rebuild(f"opening {run}...", lambda: self._open(store))

    def _open(self, store):
        layer = self.board.layer if self.board.layer in Board.layers_of(store) else None
        try:
            board = Board(store, layer)
        except TensorVizError:
            self.board.show_layer(self.board.layer)  # a build that failed midway took its views
            raise
        self.board = board
        return board.views

    def _rebuild(self, saying, build):
        """Make new views (build() returns them) after the page has shown `saying`."""
        self.state.busy = saying
        asynchronous.create_task(self._swap_views(build))

    async def _swap_views(self, build):
        await asyncio.sleep(SAYING_SECONDS)
        said = None
        try:
            views = build()
        except TensorVizError as error:  # the page stays on what it showed, and says why
            LOG.error(str(error))
            said = self._without_paths(str(error))
            views = self.board.views
        else:  # a new board: followed from its newest step
            self.follower = self.board.follower()
            self.steering = Steering(self.board.control, self.steer)
        with self.state:
            if views is not None:
                for name, widget in self.widgets.items():
                    widget.replace_view(views[name])
            steps = self.board.steps
            self._show_layers()
            self._show_steering()
            self.state.update({"layer": self.board.layer,
                               "run": next(k for k, v in self.runs.items() if v == self.board.store),
                               "step_count": len(steps), "step_index": len(steps) - 1,
                               "alerts": said or self.board.alerts(), "picked": -1, "busy": ""})
            self._show_step(len(steps) - 1)
        if self.state.compare:
            self.update_views()  # the comparison, of the layer now shown

    def _on_compare(self, compare, **_):
        if compare is True and self.compare is not None:
            self.state.busy = "comparing the runs..."
        self.update_views()

    def _draw_comparison(self):
        """The comparison of the layer shown at the step shown: new views replace the page's
        when the dashboard's rebuild took the old ones."""
        before = dict(self.compare.views)
        views = self.compare.show(self.board.layer, self.board.step)
        for name, widget in self.compare_widgets.items():
            if views[name] is not before[name]:
                widget.replace_view(views[name])
        with self.state:  # sent now: this runs in a task, after the event that asked for it
            self.state.update({"compare_message": self._without_paths(self.compare.message),
                               "busy": ""})
        return views

    def _without_paths(self, text):
        """A message for the page: each run's path in it said by the run's label."""
        for label, store in self.runs.items():
            text = text.replace(store, label).replace(os.path.dirname(store), label)
        return text

    def _show_layers(self):
        """The layer chooser's list: the chosen Layer Group's layers (a large model's groups
        offered when its layers are too many to list)."""
        groups = self.board.layer_groups()
        if self.state.group not in groups:
            self.state.group = WHOLE_LIST
        self.state.groups = [WHOLE_LIST] + list(groups) if groups else []
        self.state.layers = groups.get(self.state.group, self.board.layers)

    def _on_group(self, group, **_):
        if isinstance(group, str):  # a label the page offered; anything else lists every layer
            self._show_layers()

    def _show_steering(self, answer=None):
        self.state.steerable = self.steering.available
        state, said = self.steering.status()
        self.state.training = state
        self.state.steer_answer = said if answer is None else answer

    def on_steer(self, name):
        """A steering button of the page (only --steer pages have them; Steering refuses
        otherwise): its answer shown."""
        answer = self.steering.press(str(name), self.state.learning_rate)
        self._show_steering(answer)
        self.update_views()  # a merge shows at once in the views

    def toggle_play(self):
        self.state.playing = not self.state.playing

    def on_click(self, name, x, y, width, height):
        """A click at (x, y) CSS pixels from the top left of view `name`'s `width` x `height`
        box: the view's own pixels count from the bottom left, at the view's size."""
        view = self.board.views.get(name)
        if view is None or not _numbers(x, y, width, height) or width <= 0 or height <= 0:
            return  # not a click of this page's
        size = view.ViewSize
        picked = self.board.pick(name, x * size[0] / width, (height - y) * size[1] / height)
        if picked is not None:
            self.state.picked = picked
            self.update_views()

    def update_views(self):
        """Send every view's new image (the comparison's, when it is shown), the first first:
        each goes out before the next view renders."""
        if self._sending is not None:
            self._sending.cancel()  # a newer step: the images of the older one are not wanted
        self._sending = asynchronous.create_task(self._send_images())

    async def _send_images(self):
        """Each view rendered and its image sent (web/images.py), then written out to the
        page before the next view renders: the first view's new image is on the page after
        one render, not after all six."""
        widgets, views = self.widgets, self.board.views
        if self.state.compare and self.compare is not None:
            await asyncio.sleep(SAYING_SECONDS)
            widgets, views = self.compare_widgets, self._draw_comparison()
        for name, widget in widgets.items():
            if not self.images.send(views[name]):
                widget.update()  # not on the page yet: trame-vtk's own delivery
            await asyncio.sleep(SENDING_SECONDS)

    # ---- the server
    def _bind(self, wslink_server, **_):
        wslink_server.app.middlewares[:0] = guard.middlewares(self.token)

    def _start_tasks(self, **_):
        asynchronous.create_task(self._follow())
        asynchronous.create_task(self._play())

    async def _follow(self):
        while True:
            await asyncio.sleep(FOLLOW_SECONDS)
            if not self.state.follow or self.state.playing:
                continue
            try:
                changed = self.follower.tick()
            except TensorVizError as error:  # a store mid-write: the next tick reads it
                LOG.info(f"follow: {error}")
                continue
            if changed:
                with self.state:
                    steps = self.board.steps
                    self.state.step_count = len(steps)
                    self.state.step_index = len(steps) - 1
                    self.state.alerts = self.board.alerts()
                    self._show_step(len(steps) - 1)
                    self._show_steering()
                self.update_views()

    async def _play(self):
        while True:
            await asyncio.sleep(PLAY_SECONDS)
            if self.state.playing and self.state.step_count:
                with self.state:
                    self.state.step_index = (self.state.step_index + 1) % self.state.step_count


def _images_only(protocol):
    """Take trame-vtk's geometry delivery (local rendering: the views' meshes and arrays sent
    to the browser) off the server: the page gets pictures, and no RPC asks for the data."""
    from trame_vtk.modules.paraview.protocols import ParaViewWebLocalRendering
    for linked in list(protocol.getLinkProtocols()):
        if isinstance(linked, ParaViewWebLocalRendering):
            protocol.unregisterLinkProtocol(linked)


def _numbers(*values):
    """Whether these values from the page are finite numbers."""
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def main():
    show_messages()
    try:
        page = Page(json.loads(os.environ["TENSORVIZ_RUNS"]),
                    os.environ.get("TENSORVIZ_LAYER") or None,
                    os.environ.get("TENSORVIZ_SERVE_TOKEN") or None,
                    steer=os.environ.get("TENSORVIZ_STEER") == "1")
    except TensorVizError as error:
        LOG.error(f"tensorviz serve: {error}")
        raise SystemExit(1)
    page.server.start(host=os.environ.get("TENSORVIZ_SERVE_HOST", "127.0.0.1"),
                      port=int(os.environ.get("TENSORVIZ_SERVE_PORT", "8080")),
                      open_browser=False, show_connection_info=False, timeout=0)


if __name__ == "__main__":
    sys.exit(main())
