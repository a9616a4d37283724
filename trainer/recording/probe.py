"""The probe batch's activations at chosen layers of any Keras model: Sequential, functional,
subclassed, nested. One forward pass (training=False) is traced with each chosen layer's call
wrapped to keep its output; later calls run the traced graph with the current weights."""

import contextlib

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


@contextlib.contextmanager
def keeping_outputs(layers):
    """While the model runs inside: each layer's call (RecordedLayers) wrapped to keep its
    output, in the dict this yields ({path: output}; a shared layer: its first use)."""
    kept, originals = {}, {}

    def keeping(recorded):
        original = recorded.layer.call

        def call(*args, **kwargs):
            output = original(*args, **kwargs)
            kept.setdefault(recorded.path, output)
            return output
        return call

    for recorded in layers:
        originals[recorded.path] = recorded.layer.__dict__.get("call")
        recorded.layer.call = keeping(recorded)
    try:
        yield kept
    finally:
        for recorded in layers:
            if originals[recorded.path] is None:
                recorded.layer.__dict__.pop("call", None)
            else:
                recorded.layer.call = originals[recorded.path]


class ProbePass:
    """probe_pass() -> {path: activations (images, positions..., channels) as float32 numpy}.
    With `reduce` (a TensorFlow function of one layer's output and path), each output is reduced inside
    the traced graph (a large batch's full activations are never all held) and `reduced()`
    runs the inputs through in batches of `batch_size`."""

    def __init__(self, model, layers, inputs, reduce=None, batch_size=None):
        self.model, self.layers = model, list(layers)  # RecordedLayers
        self.inputs = tf.nest.map_structure(tf.constant, inputs)
        self.reduce = reduce or (lambda output, path: tf.cast(output, tf.float32))
        self.batch_size = batch_size
        self._function = None

    def _trace(self):
        def forward(inputs):
            with keeping_outputs(self.layers) as kept:
                self.model(inputs, training=False)
            return {path: self.reduce(value, path) for path, value in kept.items()}

        self._function = tf.function(forward)

    def _run(self, inputs):
        if self._function is None:
            self._trace()
            try:
                self._function.get_concrete_function(inputs)
            except Exception as error:  # noqa: BLE001 - the message says what the model said
                self._function = None
                raise ProbeError(f"the probe batch does not fit the model: {error}") from None
        return self._function(inputs)

    def tensors(self):
        """{path: activations} as TensorFlow tensors (`numpy()` them where it costs nothing)."""
        return self._run(self.inputs)

    def __call__(self):
        return {path: value.numpy() for path, value in self.tensors().items()}

    def reduced(self):
        """{path: the reduction's outputs as numpy, over every input}, batch by batch (the last
        batch padded with its last input: one traced graph serves all)."""
        count = len(tf.nest.flatten(self.inputs)[0])
        size = min(self.batch_size or count, count)
        parts = {}
        for start in range(0, count, size):
            stop = min(start + size, count)

            def batch(array):
                chunk = array[start:stop]
                if stop - start < size:
                    chunk = tf.concat([chunk, tf.repeat(chunk[-1:], size - (stop - start), 0)], 0)
                return chunk
            outputs = self._run(tf.nest.map_structure(batch, self.inputs))
            for path, value in outputs.items():
                parts.setdefault(path, []).append(
                    tf.nest.map_structure(lambda v: v.numpy()[:stop - start], value))
        return {path: tf.nest.map_structure(lambda *chunks: np.concatenate(chunks), *chunks)
                for path, chunks in parts.items()}
