"""Which layers of a Keras model are recorded: every layer with filters or units, and every
normalization layer, found recursively (nested models, layers inside layers) in model order and
named by its full path, as its variables are ('backbone/conv2_block1_1_conv'). A layer with
weights of a kind not recorded is listed, never dropped silently."""

import keras

from tensorviz_pv.store import format as F
from tensorviz_pv.store.layout import gradient_series, variable_series

KERAS_KINDS = [
    (keras.layers.Conv1D, "conv1d"), (keras.layers.Conv2D, "conv2d"),
    (keras.layers.Conv3D, "conv3d"), (keras.layers.Conv1DTranspose, "conv1d_transpose"),
    (keras.layers.Conv2DTranspose, "conv2d_transpose"),
    (keras.layers.Conv3DTranspose, "conv3d_transpose"),
    (keras.layers.DepthwiseConv1D, "depthwise_conv1d"),
    (keras.layers.DepthwiseConv2D, "depthwise_conv2d"),
    (keras.layers.SeparableConv1D, "separable_conv1d"),
    (keras.layers.SeparableConv2D, "separable_conv2d"),
    (keras.layers.Dense, "dense"), (keras.layers.BatchNormalization, "batch_norm"),
    (keras.layers.LayerNormalization, "layer_norm"),
]


def keras_kind(layer):
    """The store's kind name of a Keras layer, or None when TensorViz does not record it."""
    for cls, kind in KERAS_KINDS:
        if isinstance(layer, cls):
            return kind
    return None


class RecordedLayer:
    """A layer that is recorded: its path, its LayerKind and its variables by name."""

    def __init__(self, layer, kind, path):
        self.layer, self.kind, self.path = layer, F.KINDS[kind], path
        self.variables = {v.name: v for v in layer.weights}

    @property
    def spatial(self):
        return self.kind.spatial

    @property
    def filters(self):
        weights = self.variables.get(self.kind.weights)
        if weights is None:
            return int(next(iter(self.variables.values())).shape[-1])
        return F.filters_of(self.kind.layout, weights.shape)

    def gradients(self):
        """The variables whose gradients are recorded with the layer's (convolutions')."""
        return list(self.layer.trainable_weights) if self.spatial else []

    def weight_series(self):
        """The series a snapshot of the layer's weights writes: every variable, and the
        gradients recorded with them."""
        return ([variable_series(self.path, name, v.shape) for name, v in self.variables.items()]
                + [gradient_series(self.path, v.name, v.shape) for v in self.gradients()])

    @property
    def activation_name(self):
        """The name of the layer's activation function ('relu'), None without one."""
        activation = getattr(self.layer, "activation", None)
        return getattr(activation, "__name__", None) if activation else None

    def entry(self, activation_shape=None):
        """The run_info entry of the layer."""
        return F.layer_entry(self.path, self.kind.name,
                             {name: v.shape for name, v in self.variables.items()},
                             activation_shape=activation_shape, keras_class=type(self.layer).__name__,
                             activation=self.activation_name)


def relative_path(path, model):
    """A variable's path below the model: Sequential and subclassed models put their own name
    in front ('sequential/conv1/kernel' -> 'conv1/kernel'), functional ones do not."""
    prefix = model.name + "/"
    return path[len(prefix):] if path.startswith(prefix) else path


def _children(layer):
    if isinstance(layer, keras.Model) or hasattr(layer, "layers"):
        return list(layer.layers)
    return list(layer._flatten_layers(include_self=False, recursive=False))


def find_layers(model):
    """(recorded [RecordedLayer], not recorded [(path, Keras class)]), in model order; a
    layer's path is the names of the models and layers it is nested in, and its own."""
    recorded, unrecorded, seen = [], [], set()

    def visit(layer, path):
        if id(layer) in seen:  # a shared layer is recorded once
            return
        seen.add(id(layer))
        kind = keras_kind(layer)
        if kind is not None and layer.weights:
            recorded.append(RecordedLayer(layer, kind, path))
            return
        children = _children(layer)
        for child in children:
            visit(child, f"{path}/{child.name}" if path else child.name)
        inner = {id(v) for child in children for v in child.weights}
        if any(id(v) not in inner for v in layer.weights):
            # weights of a kind TensorViz does not record (Embedding, LSTM, ...)
            unrecorded.append((path or layer.name, type(layer).__name__))

    visit(model, "")
    return recorded, unrecorded


def variable_names(model, recorded):
    """The store's name of every trainable variable: '<layer path>/<name>' for the recorded
    layers' (so that the norms belong to their layer), the path below the model for others."""
    owned = {id(v): f"{layer.path}/{name}" for layer in recorded
             for name, v in layer.variables.items()}
    return [owned.get(id(v), relative_path(v.path, model)) for v in model.trainable_variables]


def is_built(model):
    """Whether the model has its variables (a subclassed model is built by its first call)."""
    return bool(model.built)
