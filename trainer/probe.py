"""The probe batch's activations at chosen layers of any Keras model: Sequential, functional,
subclassed, nested. One forward pass (training=False) is traced with each chosen layer's call
wrapped to keep its output; later calls run the traced graph with the current weights."""

import numpy as np
import tensorflow as tf

from tensorviz_pv.errors import TensorVizError


class ProbeError(TensorVizError):
    """A probe batch that the model cannot take."""


def probe_labels(labels):
    """Class ids of a probe's labels: one-hot rows become their argmax, (N, 1) columns and
    float labels become integers; several outputs' labels: the first output's."""
    if isinstance(labels, dict):
        labels = next(iter(labels.values()))
    elif isinstance(labels, (list, tuple)):
        labels = labels[0]
    labels = np.asarray(labels)
    if labels.ndim >= 2 and labels.shape[-1] > 1:
        labels = labels.argmax(axis=-1)
    labels = labels.reshape(len(labels), -1)[:, 0] if labels.ndim > 1 else labels
    return np.rint(labels).astype(np.int64) if labels.dtype.kind == "f" else labels.astype(np.int64)


def first_input(inputs):
    """The probe input that is shown as the probe image (a multi-input model's first)."""
    if isinstance(inputs, dict):
        return np.asarray(next(iter(inputs.values())))
    if isinstance(inputs, (list, tuple)):
        return np.asarray(inputs[0])
    return np.asarray(inputs)


class ProbePass:
    """probe_pass() -> {path: activations (images, positions..., channels) as float32 numpy}."""

    def __init__(self, model, layers, inputs):
        self.model, self.layers = model, list(layers)  # RecordedLayers
        self.inputs = tf.nest.map_structure(tf.constant, inputs)
        self._function = None

    def _trace(self):
        kept = {}
        originals = {}

        def keeping(recorded):
            original = recorded.layer.call

            def call(*args, **kwargs):
                output = original(*args, **kwargs)
                kept.setdefault(recorded.path, output)  # a shared layer: its first use
                return output
            return call

        def forward():
            kept.clear()
            for recorded in self.layers:
                originals[recorded.path] = recorded.layer.__dict__.get("call")
                recorded.layer.call = keeping(recorded)
            try:
                self.model(self.inputs, training=False)
            finally:
                for recorded in self.layers:
                    if originals[recorded.path] is None:
                        recorded.layer.__dict__.pop("call", None)
                    else:
                        recorded.layer.call = originals[recorded.path]
            return {path: tf.cast(value, tf.float32) for path, value in kept.items()}

        self._function = tf.function(forward)

    def tensors(self):
        """{path: activations} as TensorFlow tensors (`numpy()` them where it costs nothing)."""
        if self._function is None:
            self._trace()
            try:
                self._function.get_concrete_function()
            except Exception as error:  # noqa: BLE001 - the message says what the model said
                self._function = None
                raise ProbeError(f"the probe batch does not fit the model: {error}") from None
        return self._function()

    def __call__(self):
        return {path: value.numpy() for path, value in self.tensors().items()}
