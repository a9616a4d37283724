"""The Filter Atlas's recording: at each activation snapshot, which of a fixed set of atlas
images excite each convolution filter most, and where (every layer's output is reduced inside
the traced graph to each image's peak per filter: a large atlas's activations are never held),
and, once, each layer's receptive field, measured with gradients."""

import math
import time

import numpy as np
import tensorflow as tf

from tensorviz_pv.analysis.atlas import top_responses

from .health_pass import activation_statistics, combine_statistics
from .probe import ProbePass, first_input, keeping_outputs

ATLAS_SIZE = 256  # images, at most
ATLAS_K = 8  # images kept per filter and snapshot
ATLAS_SHARE = 0.02  # of the training time, the atlas's ranking may take at most
MOST_ATLAS_BYTES = 16 * 2 ** 20  # the atlas images (float16) in the store, at most
FIELD_SAMPLES = 4  # noise images the receptive fields are measured on
BATCH = 32


def atlas_count(images, most=ATLAS_SIZE):
    """How many of `images` (N, positions..., channels) the atlas takes: up to `most`, fewer
    for large images (their float16 copy in the store stays within MOST_ATLAS_BYTES)."""
    per_image = 2 * math.prod(np.shape(images)[1:])
    return int(max(1, min(most, len(images), MOST_ATLAS_BYTES // max(per_image, 1))))


def strongest(output):
    """A layer's output (N, positions..., C) -> ((N, C) each image's peak response per filter,
    (N, C) the flat index of the position where it peaked)."""
    output = tf.cast(output, tf.float32)
    flat = tf.reshape(output, (tf.shape(output)[0], -1, tf.shape(output)[-1]))
    return tf.reduce_max(flat, axis=1), tf.argmax(flat, axis=1, output_type=tf.int32)


class AtlasPass:
    """atlas() -> {layer path: ((3, k, filters) float32 atlas, (4, filters) activation
    statistics)} under the current weights (analysis/atlas.py: image index, response, position
    of the k strongest per filter; health_pass.py: mean, std, zero and saturated fractions)."""

    def __init__(self, model, layers, inputs, k=ATLAS_K):
        self.k = k
        activations = {layer.path: layer.activation_name for layer in layers}

        def reduce(output, path):
            return strongest(output) + (activation_statistics(output, activations[path]),)

        self.probe = ProbePass(model, layers, inputs, reduce=reduce, batch_size=BATCH)

    def __call__(self):
        return {path: (top_responses(peak, where, self.k), combine_statistics(statistics))
                for path, (peak, where, statistics) in self.probe.reduced().items()}


class AtlasSchedule:
    """When an activation snapshot ranks the atlas too: always at the first and at a fit's
    last; otherwise when the last ranking took at most `share` of the time since (a large
    model's ranking takes seconds: it is then taken less often). None: at every one."""

    def __init__(self, share=ATLAS_SHARE):
        self.share = share
        self.last_step = None  # the step of the last ranking
        self._clock = None  # (when the last ranking ended, how long it took)

    def due(self, ending):
        if self.share is None or self._clock is None or ending:
            return True
        ended, took = self._clock
        return took <= self.share * (time.monotonic() - ended)

    def ranked(self, started, step):
        """A ranking that began at `started` (time.monotonic()) ended now, at `step`."""
        self._clock = (time.monotonic(), time.monotonic() - started)
        self.last_step = step


def receptive_fields(model, layers, inputs):
    """{layer path: {"origin", "stride", "size"} per spatial axis, or None}: the input pixels
    the activation at the centre of a layer's map depends on (a nonzero gradient on any of a
    few noise images: random inputs route max pooling through every pixel of its window), and
    the input size over the map size as the stride between positions. None when the field
    reaches the image's border (it is larger than the image can show: the whole image is the
    patch) or no gradient arrives."""
    sample = first_input(inputs)[:1].astype(np.float32)
    low, high = float(np.min(sample)), float(np.max(sample))
    rng = np.random.default_rng(0)
    noise = rng.uniform(low, high if high > low else low + 1.0,
                        (FIELD_SAMPLES,) + sample.shape[1:]).astype(np.float32)
    flat = tf.nest.flatten(inputs)
    others = [tf.repeat(tf.constant(np.asarray(a)[:1]), FIELD_SAMPLES, axis=0) for a in flat[1:]]
    image = tf.constant(noise)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(image)
        with keeping_outputs(layers) as kept:
            model(tf.nest.pack_sequence_as(inputs, [image] + others), training=False)
        centres = {path: _centre_sum(output) for path, output in kept.items()}
    fields = {}
    for path, (value, centre, positions) in centres.items():
        gradient = tape.gradient(value, image)
        fields[path] = None if gradient is None else _field(
            np.abs(gradient.numpy()).sum(axis=(0, -1)) > 0, centre, positions)
    del tape
    return fields


def _centre_sum(output):
    """(the sum of a layer's output at the centre position over images and filters, that
    position, the map's shape)."""
    positions = tuple(int(n) for n in output.shape[1:-1])
    centre = tuple(n // 2 for n in positions)
    return tf.reduce_sum(tf.cast(output[(slice(None),) + centre], tf.float32)), centre, positions


def _field(reached, centre, positions):
    """A field from the input pixels the centre's gradient reached (spatial boolean map)."""
    if not reached.any() or len(positions) != reached.ndim:
        return None  # or the map's axes are not the input's (a Reshape between them)
    origin, stride, size = [], [], []
    for axis, (index, count) in enumerate(zip(centre, positions)):
        along = np.flatnonzero(reached.any(axis=tuple(a for a in range(reached.ndim) if a != axis)))
        first, last, extent = int(along[0]), int(along[-1]), reached.shape[axis]
        if first == 0 or last == extent - 1:
            return None
        step = extent / count
        origin.append(first - index * step)
        stride.append(step)
        size.append(last - first + 1)
    return {"origin": origin, "stride": stride, "size": size}
