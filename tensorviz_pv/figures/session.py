"""A set of figures being drawn (FigureSet: where its PNGs go, its labels, the stores it holds
open) and one run opened for figures (FigureRun: its TensorViz Reader in paraview.simple, its
store open to ask what was recorded, the layers its views list, the recorded steps)."""

import contextlib
import os
import sys

from paraview import simple

from ..errors import FigureError, TensorVizError
from ..messages import logger
from ..store import format as F
from ..store.reader import RunReader
from .text import Labels

LOG = logger("figures")

# the checkout's plugin (an installed package finds it on PV_PLUGIN_PATH instead)
PLUGIN_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "plugin", "TensorViz.xml")


def ensure_plugin():
    """Load the plugin unless PV_PLUGIN_PATH already auto-loaded it."""
    if not hasattr(simple, "TensorVizReader"):
        simple.LoadPlugin(PLUGIN_PATH, ns=vars(simple))


@contextlib.contextmanager
def dropped_afterwards():
    """The views and layouts made inside go afterwards (left, they skew the next figure's
    charts: tick labels drawn twice)."""
    views, layouts = set(simple.GetViews()), set(simple.GetLayouts().values())
    try:
        yield
    finally:
        for layout in set(simple.GetLayouts().values()) - layouts:
            simple.RemoveLayout(layout)
        for view in set(simple.GetViews()) - views:
            simple.Delete(view)


class FigureSet:
    """What every set of figures has: the folder its PNGs go to (out_dir), the size of a panel,
    the labels of its views (text.Labels), the paths it wrote, and the store (or stores) it
    holds open, `stored`, until close() or the end of a `with` block; save() writes one PNG."""

    stored = None

    def __init__(self, out_dir, size):
        ensure_plugin()
        self.out_dir, self.size = out_dir, tuple(size)
        self.labels = Labels()
        self.written = []
        if out_dir:
            os.makedirs(out_dir, exist_ok=True)

    def save(self, name, view_or_layout, resolution=None):
        """A figure's PNG in out_dir (a nested layer's path made a file name), said; its path.
        A layout is first given that size (saved larger than it is, its charts would be drawn
        in tiles, each tick label again in faint copies)."""
        path = os.path.join(self.out_dir, name.replace("/", "_"))
        resolution = list(resolution or self.size)
        if view_or_layout.GetXMLName() == "ViewLayout":
            view_or_layout.SetSize(*resolution)
        self.labels.fit()  # a parallel render's labels, to the cameras as they are now
        simple.SaveScreenshot(path, view_or_layout, ImageResolution=resolution)
        LOG.info(f"wrote {path}")
        self.written.append(path)
        return path

    def _listed_layers(self, view_name, **properties):
        """The layers a view (a proxy name) with these properties lists: asked of a view made
        and dropped."""
        view = getattr(simple, view_name)(**properties)
        names = list(view.GetProperty("LayerNames"))
        simple.Delete(view)
        return names

    def close(self):
        """Close what `stored` holds open (the views' own readers are ParaView's to close)."""
        if self.stored is not None:
            self.stored.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FigureRun(FigureSet):
    """A run's TensorViz Reader (`reader`), its store open (`stored`: a RunReader, which the
    figures ask what was recorded), and what the figures need to know of it."""

    def __init__(self, store, out_dir=None, size=(800, 700)):
        FigureSet.__init__(self, out_dir, size)
        self.store = store
        name = os.path.basename(os.path.dirname(os.path.abspath(store))) or store
        self.reader = simple.TensorVizReader(FileName=store, registrationName=f"run {name}")
        self.steps = list(self.reader.TimestepValues or [])
        if not self.steps:
            raise FigureError(f"{store}: no recorded steps to render")
        # the layers the views list: all, and the conv layers (on the weights basis: also
        # those without probe activations)
        self.layers = self._listed_layers("WeightGlyphs", Input=self.reader)
        self.conv_layers = self._listed_layers("FilterCorrelation", Input=self.reader, Basis=1)
        self.stored = stored = RunReader(store)
        self.entries = {entry["name"]: entry for entry in stored.info.get("layers", [])}
        # the conv layers whose probe activations were recorded (Fig. 4 and 5 need them): as
        # the run info plans them, so that a series gone from a damaged store is said, not
        # passed over
        self.activation_layers = [name for name in self.conv_layers
                                  if stored.has_series(name, F.ACTIVATION)
                                  or "activations" in self.entries.get(name, {}).get("cadence", {})]
        self._atlas_layers = {name for name in self.activation_layers
                              if stored.has_series(name, F.ATLAS) and stored.has_atlas()}
        self._health_layers = {name for name in stored.layers
                               if stored.has_series(name, F.FILTER_NORMS)}
        self._failed = []  # (figure, why) of figures that could not be drawn

    @classmethod
    def for_script(cls, *args, **options):
        """A FigureRun for a pvbatch script: a run it cannot draw from is said in one line,
        exit status 1 (os._exit, as finish: a SystemExit in pvbatch ends in an X error)."""
        try:
            return cls(*args, **options)
        except TensorVizError as error:
            LOG.error(str(error))
            sys.stdout.flush()
            os._exit(1)

    def require(self, layer, quantity):
        """FigureError when the run recorded `quantity` of `layer` and the store lacks it."""
        if not self.stored.has_series(layer, quantity):
            raise FigureError(f"{self.store}: {layer}'s {quantity} series was recorded but is "
                              "missing from the store: it is damaged (`tensorviz check` names "
                              "the damage)")

    def has_health(self, layer):
        """Whether the run recorded the per-step filter norms of this layer."""
        return layer in self._health_layers

    def has_atlas(self, layer):
        """Whether the run recorded a Filter Atlas of this layer."""
        return layer in self._atlas_layers

    @property
    def first_conv_layer(self):
        """The layer the single-layer figures show: the first conv layer, else the first."""
        return self.conv_layers[0] if self.conv_layers else self.layers[0]

    @contextlib.contextmanager
    def figure(self, name):
        """Draw one figure; a problem with it is said, and the others are drawn all the same.
        Its views and layouts go afterwards."""
        with dropped_afterwards():
            try:
                yield
            except TensorVizError as error:
                self._failed.append((name, str(error)))
                LOG.error(f"{name} not drawn: {error}")

    def finish(self):
        """The script's end: the store closed, and exit status 1 when a figure could not be
        drawn (os._exit: a SystemExit in pvbatch ends in an X error, GLXBadContext)."""
        self.close()
        if self._failed:
            LOG.error(f"{len(self._failed)} figure(s) not drawn: "
                      + ", ".join(name for name, _ in self._failed))
            sys.stdout.flush()
            os._exit(1)

    def skipped(self, figure, why):
        LOG.info(f"skipped {figure}: {why}")
