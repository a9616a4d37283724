"""What recording installs in a built model: the layers it records, the hooks in its train
step (with the health pass), and the passes that read the probe's activations and rank the
Filter Atlas. A model rebuilt between fits (filter reduction) gets a new attachment."""

from tensorviz_pv.messages import logger
from tensorviz_pv.store import format as F

from ..channel_sources import channel_sources
from .atlas import AtlasPass, receptive_fields
from .errors import RecordingError
from .health_pass import health_pass_of
from .hooks import RecordingHooks
from .layers import find_layers, variable_names
from .probe import ProbePass

LOG = logger("recording")


class Attachment:
    """Recording's parts in `model`, looking through `images` (ProbeImages; without a probe
    the hooks capture the first training batch's); `health_every` (None: by the layer count)
    and `previous` (the attachment of the model's earlier fit) set up the health pass."""

    def __init__(self, model, run_dir, images, health_every=None, previous=None):
        self.model = model
        self.layers, self.unrecorded = find_layers(model)
        if not self.layers:
            raise RecordingError(f"{run_dir}: the model has no layer TensorViz records "
                                 "(Conv1D/2D/3D, transposed, depthwise or separable "
                                 "convolutions, Dense, BatchNormalization, LayerNormalization)")
        self.health_pass = health_pass_of(model, self.layers, health_every,
                                          previous.health_pass if previous else None)
        copies = [v.path for layer in self.layers for v in layer.gradients()]
        self.hooks = RecordingHooks(model, variable_names(model, self.layers),
                                    gradient_copies=copies, capture_probe=not images.given,
                                    health=self.health_pass)
        parts = self.health_pass.parts if self.health_pass is not None else []
        self.health_parts = {part.path: part for part in parts}
        column = {path: i for i, path in enumerate(self.hooks.paths)}
        # layer -> the norm column of its weights
        self.health_column = {part.path: column[part.variable.path] for part in parts}
        self.probe_pass = self.atlas_pass = None
        if images.given:
            self.look_through(images)

    @property
    def spatial_layers(self):
        return [layer for layer in self.layers if layer.spatial]

    def conv_filters(self):
        """{conv layer: its filter count now}, {layer: the conv layer feeding it} and {layer:
        the conv layer whose filters its channels follow}: what FilterIds follows through
        filter reduction (from the model's graph; by layer order where it has none)."""
        convs = {layer.path: layer.filters for layer in self.layers if layer.kind.name == F.CONV}
        sources = channel_sources(self.model)
        if sources is not None:
            return (convs,) + sources
        input_of = {layer.path: previous.path for previous, layer
                    in zip(self.layers, self.layers[1:]) if previous.kind.name == F.CONV}
        return convs, input_of, {}

    def look_through(self, images):
        """Read the activations of `images.probe` and rank the atlas of `images.atlas`."""
        self.probe_pass = ProbePass(self.model, self.spatial_layers, images.probe[0])
        if images.atlas_size:
            self.atlas_pass = AtlasPass(self.model, self.spatial_layers, images.atlas[0],
                                        images.atlas_k())

    def activations(self):
        """{conv layer: activations of the probe batch} under the current weights."""
        return self.probe_pass() if self.probe_pass is not None else {}

    def receptive_fields(self, atlas_inputs):
        """{layer: its receptive field} for the atlas's patches; none (whole images) when the
        model cannot be differentiated with respect to its input."""
        try:
            return receptive_fields(self.model, self.spatial_layers, atlas_inputs)
        except Exception as error:  # noqa: BLE001 - the atlas then shows whole images
            LOG.warning(f"TensorViz: receptive fields not measured ({type(error).__name__}: "
                        f"{error}); the Filter Atlas shows whole images")
            return {}

    def say_unrecorded(self):
        """Name the layers with weights of a kind TensorViz does not record."""
        if self.unrecorded:
            names = ", ".join(f"{path} ({cls})" for path, cls in self.unrecorded[:5])
            more = len(self.unrecorded) - 5
            LOG.warning(f"TensorViz: not recorded (a kind TensorViz does not record): {names}"
                        + (f" and {more} more" if more > 0 else ""))

    def starts_at(self, step):
        """The hooks count steps from `step`: the health pass's cadence follows the global one."""
        if self.health_pass is not None:
            self.health_pass.step_offset.assign(step)

    def detach(self):
        self.hooks.uninstall()
