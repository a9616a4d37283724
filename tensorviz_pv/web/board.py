"""What the web page shows of one run, on the ParaView side (paraview.simple, no trame): the
dashboard's views (figures/dashboard.py builds them, as for the GUI), the recorded steps, the
current step, a click on a view turned into the picked filter, a live run followed."""

from paraview import selection, simple

from ..errors import FigureError
from ..messages import logger
from ..store.layer_groups import LIST_MOST, group_layers
from ..store.reader import RunReader
from ..figures import dashboard
from ..figures.health import NO_ALERTS, alerts_text

LOG = logger("web")

# the page's views, in its order (keys of what dashboard.build returns), with their titles
VIEWS = (("glyph_view", "Weight Glyphs"), ("chart", "Norm Time Series"),
         ("maps_view", "Activation Maps"), ("heat_view", "Filter Correlation"),
         ("atlas_view", "Filter Atlas"), ("health_view", "Filter Health"))
# the page's area for the six views, in pixels: the dashboard frames its 2D views for it
AREA = (1200, 640)


class Board:
    """One run's dashboard for the page: `views` (name -> ParaView view), `steps`, `step`,
    `layer`, `layers`. Only the store named at the start is ever opened."""

    def __init__(self, store, layer=None):
        self.store = store
        self.layers = self.layers_of(store)
        self.layer = None
        self._built = None
        self.show_layer(layer)

    @staticmethod
    def layers_of(store):
        with RunReader(store) as run:
            return list(run.layers)

    def show_layer(self, layer):
        """Build the dashboard of `layer` (None: the first convolution); a layer the run does
        not have is FigureError. The previous layer's views and filters are dropped."""
        if layer is not None and layer not in self.layers:
            raise FigureError(f"{self.store}: no layer {layer!r} (layers: {', '.join(self.layers)})")
        previous = set(simple.GetSources().values())
        self._built = dashboard.build(self.store, area=AREA, layer=layer, time_slider=False)
        delete_sources(previous)
        self.layer = layer or self._glyphs.Layer[0]
        self.views = {name: self._built[name] for name, _ in VIEWS}
        return self.views

    def layer_groups(self):
        """{group label: its layers} of a model with more layers than a list shows (the
        Layer Group of the GUI's views: store/layer_groups.py); {} for a small one."""
        if len(self.layers) <= LIST_MOST:
            return {}
        return {group.label: [self.layers[i] for i in group.members]
                for group in group_layers(self.layers)}

    @property
    def control(self):
        """The Training Control of a live run's dashboard (None: the run is not live)."""
        return self._built.get("control")

    @property
    def steps(self):
        return [int(round(t)) for t in self._built["reader"].TimestepValues or []]

    @property
    def step(self):
        return int(round(simple.GetTimeKeeper().Time))

    def go_to(self, index):
        """Show the step at `index` of the recorded steps (clamped); returns that step."""
        steps = self.steps
        if not steps:
            return None
        step = steps[max(0, min(int(index), len(steps) - 1))]
        # the time keeper's time, not the animation scene's: the scene renders every view at
        # once, and the page has each view rendered again as it sends its image
        simple.GetTimeKeeper().Time = step
        return step

    def alerts(self):
        """The run's alerts in a line (or 'no alerts')."""
        try:
            return alerts_text(self.store, most=4)
        except Exception as error:  # a store mid-write: the next tick reads it
            LOG.info(f"alerts not read yet: {error}")
            return NO_ALERTS

    def pick(self, name, x, y):
        """A click at pixel (x, y) of view `name` (from its bottom left, in the view's own
        pixels): the filter drawn there becomes the highlighted one in every view (the
        dashboard's link). Returns the filter, or None when the click hit none."""
        view = self.views.get(name)
        if view is None or not view.SMProxy.IsA("vtkSMRenderViewProxy"):
            return None
        x, y = int(x), int(y)
        selection.SelectSurfaceCells(Rectangle=[x, y, x, y], View=view)
        picked = self._built["picker"].tick()
        for proxy in simple.GetSources().values():  # the outline is enough: no selection drawn
            simple.ClearSelection(proxy)
        return picked

    @property
    def _glyphs(self):
        return self._built["picker"].watched[0][0]  # the dashboard's first filter view

    @property
    def highlighted(self):
        return int(self._glyphs.Highlight)

    def follower(self):
        """A dashboard.Follower of this run (reload, newest step, alerts)."""
        return dashboard.Follower(self._built["reader"], self._built["alerts"],
                                  steering=self._built["steering"], time_slider=False)


def delete_sources(sources):
    """Delete these pipeline objects, each after the ones that read it."""
    left = [s for s in sources if s in set(simple.GetSources().values())]
    while left:
        read = {id(p) for other in left for p in _inputs(other)}
        for source in [s for s in left if id(s.SMProxy) not in read]:
            simple.Delete(source)
            left.remove(source)


def _inputs(proxy):
    """The server-manager proxies a pipeline object reads."""
    inputs = proxy.SMProxy.GetProperty("Input")
    return [inputs.GetProxy(i) for i in range(inputs.GetNumberOfProxies())] if inputs else []
