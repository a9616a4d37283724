"""Training health inside the training graph: for each recorded layer's weights, at every step
(or every `every` steps: the cost grows with the layers), a histogram of the weights, of their
gradient and of their update, the update-to-weight norm ratio, and each filter's weight and
gradient norm; and, with the Filter Atlas, each filter's activation statistics. All of it lands
in the hooks' ring buffer row (no host copy per step).

Histogram bins are fixed per layer and quantity: [-r, r] in HISTOGRAM_BINS bins, r the power of
two that first covered the values; when values leave [-r, r], r doubles until they fit (so the
earlier bins merge into the new ones, exactly up to 32x: analysis/health.py). Large tensors are
histogrammed through a fixed strided sample of at most SAMPLE_MOST values; their update ratio is
the sample's.
"""

import math

import numpy as np
import tensorflow as tf

from tensorviz_pv.store import format as F
from tensorviz_pv.store.layout import health_row_layout, health_series

BINS = F.HISTOGRAM_BINS
SAMPLE_MOST = 4_096  # values histogrammed per tensor: 64 bins read well, and it costs little
HEALTH_LAYERS_PER_STEP = 16  # layers whose health a step computes, by default (cost ~ layers)
PER_FILTER_MOST = 262_144  # weights of a layer whose filter norms are taken every step
# saturating activations: (low, high) bounds; an output within 1 % of the span of one counts
BOUNDS = {"sigmoid": (0.0, 1.0), "hard_sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0),
          "relu6": (0.0, 6.0), "softsign": (-1.0, 1.0)}
SATURATED = 0.01


def filter_matrix(value, layout):
    """A kernel as (values per filter, filters): the filter axis last, the rest flattened."""
    filters = F.filters_of(layout, value.shape)
    if layout == "transpose":  # (spatial..., out, in): out last
        rank = len(value.shape)
        value = tf.transpose(value, list(range(rank - 2)) + [rank - 1, rank - 2])
    return tf.reshape(value, (-1, filters))


class LayerHealth:
    """What the health pass records of one layer: `variable` its weights (the layer kind's),
    `layout` how they are laid out; filter norms only for layers of at most PER_FILTER_MOST
    weights with filters (not normalization layers)."""

    def __init__(self, path, variable, layout):
        self.path, self.variable, self.layout = path, variable, layout
        size = int(math.prod(variable.shape))
        self.stride = max(1, -(-size // SAMPLE_MOST))
        # a gather of every stride-th value: far cheaper in TensorFlow than a strided slice
        self.picks = tf.range(0, size, self.stride) if self.stride > 1 else None
        self.sample_size = -(-size // self.stride)
        self.filters = F.filters_of(layout, variable.shape) \
            if layout != "vector" and size <= PER_FILTER_MOST else 0

    def sample(self, value):
        flat = tf.reshape(value, [-1])
        return tf.cast(flat if self.picks is None else tf.gather(flat, self.picks), tf.float32)

    def series(self, original_filters=None):
        """The layer's health series in the store (filter norms in the original filter count,
        when filter reduction took some away)."""
        return health_series(self.path, original_filters if original_filters and self.filters
                             else self.filters)


class HealthPass:
    """The health of every layer in one step: for each layer the samples of its weights,
    gradient and update, their ranges, histograms and norms. The samples of all layers are
    measured as one vector (one op per statistic, not one per layer: ResNet50's 107 layers made
    11,500 ops, seconds to trace and optimize, and a cost at every step even where the pass
    does not compute); the histograms by TensorFlow's kernel per sample (a segment sum over the
    one vector measured 1.7x slower on CPU), or by that segment sum in a step compiled by XLA,
    which has no histogram kernel. `ranges` (3 per layer) carry over from `previous`, a pass
    of the model's earlier fit; `xla`: the train step is compiled by XLA."""

    def __init__(self, parts, previous=None, every=1, xla=False):
        self.parts = list(parts)
        self.xla = xla  # traced into a step that XLA compiles
        self.every = max(1, int(every))  # steps between the steps it computes
        # the global step of the hooks' step count 0 (the callback sets it)
        self.step_offset = tf.Variable(0, dtype=tf.int64, trainable=False,
                                       aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        count = 3 * len(self.parts)
        start = np.zeros(count, np.float32)
        if previous is not None:
            before = previous.ranges_by_path()
            for i, part in enumerate(self.parts):
                if part.path in before:
                    start[3 * i:3 * i + 3] = before[part.path]
        self.ranges = tf.Variable(start, trainable=False,
                                  aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        # every layer's sample after the last step: the update is the change since (reading the
        # weights before the optimizer's in-place update would make TensorFlow copy them)
        self.last_samples = tf.Variable(self._weight_samples(), trainable=False,
                                        aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        # the measured vector is [weights' samples, gradients', updates'], each in layer
        # order: segment quantity * layers + layer of it is sorted (the faster segment
        # kernels), and `order` puts the segments in the ranges' order, 3 * layer + quantity;
        # XLA has the unsorted kernels only: there each value's segment is in that order
        sizes = [part.sample_size for part in self.parts]
        self.sizes = sizes * 3
        self.order = np.arange(count).reshape(3, -1).T.reshape(-1)
        segments = np.repeat(np.arange(count), self.sizes)
        self.segments = tf.constant(np.argsort(self.order)[segments] if xla else segments,
                                    tf.int32)
        self.layout = health_row_layout([part.filters for part in self.parts])
        self.width = self.layout.width

    def ranges_by_path(self):
        values = self.ranges.numpy()
        return {part.path: values[3 * i:3 * i + 3] for i, part in enumerate(self.parts)}

    def computes(self, step):
        """Whether the pass computes at this global step (Python int)."""
        return step % self.every == 0

    def row(self, gradients, counter):
        """The ring-row part after the update, zeros at the steps it does not compute;
        `gradients` {variable path: the (unscaled, summed) gradient}, `counter` the hooks'
        steps recorded before this one."""
        if self.every == 1:
            return self._row(gradients)
        due = tf.equal(tf.math.floormod(self.step_offset + counter + 1, self.every), 0)
        return tf.cond(due, lambda: self._row(gradients), lambda: tf.zeros(self.width))

    def _weight_samples(self):
        """Every layer's sample of its weights now, in layer order, as one vector."""
        return tf.concat([part.sample(part.variable.value) for part in self.parts], 0)

    def _row(self, gradients):
        after = self._weight_samples()
        grads = [gradients.get(part.variable.path) for part in self.parts]
        grad = tf.concat([part.sample(g) if g is not None else tf.zeros(part.sample_size)
                          for part, g in zip(self.parts, grads)], 0)
        # every N steps: the mean update per step over the last N
        update = (after - self.last_samples) / self.every
        self.last_samples.assign(after)
        values = tf.concat([after, grad, update], 0)
        # NaN/Inf (a diverged step) are left out of the histograms: the norms report them
        finite = tf.math.is_finite(values)
        cleaned = tf.where(finite, values, 0.0)
        largest = self._per_range("max", tf.abs(cleaned))
        needed = tf.pow(2.0, tf.math.ceil(tf.math.log(tf.maximum(largest, 1e-30)) / math.log(2.0)))
        ranges = tf.where(largest > 0, tf.maximum(self.ranges, needed), self.ranges)
        self.ranges.assign(ranges)
        edges = tf.maximum(ranges, 1e-30)
        # the NaN/Inf were counted as 0, in the middle bin: taken out again
        dropped = self._per_range("sum", tf.cast(~finite, tf.int32))
        counts = self._histograms(cleaned, edges) \
            - tf.one_hot(BINS // 2, BINS, dtype=tf.int32)[None, :] * dropped[:, None]
        norms = tf.reshape(tf.sqrt(self._per_range("sum", tf.square(cleaned))), (-1, 3))
        ratios = norms[:, 2] / tf.maximum(norms[:, 0], 1e-30)
        squares = []
        for part, gradient in zip(self.parts, grads):
            if part.filters:
                squares.append(tf.reduce_sum(tf.square(filter_matrix(
                    tf.cast(part.variable.value, tf.float32), part.layout)), axis=0))
                squares.append(tf.reduce_sum(tf.square(filter_matrix(
                    tf.cast(gradient, tf.float32), part.layout)), axis=0)
                    if gradient is not None else tf.zeros(part.filters))
        return tf.concat([tf.cast(tf.reshape(counts, [-1]), tf.float32), ranges, ratios] + squares,
                         axis=0)

    def _per_range(self, reduction, values):
        """The max or sum of each segment of the measured vector, in the ranges' order."""
        if self.xla:
            reduce = tf.math.unsorted_segment_max if reduction == "max" \
                else tf.math.unsorted_segment_sum
            return reduce(values, self.segments, len(self.order))
        reduce = tf.math.segment_max if reduction == "max" else tf.math.segment_sum
        return tf.gather(reduce(values, self.segments), self.order)

    def _histograms(self, values, edges):
        """(segments, BINS) counts of each segment's values in BINS equal bins over [-edge,
        edge], the outer bins taking what lies beyond."""
        count = len(self.order)
        if self.xla:
            edge = tf.gather(edges, self.segments)
            bins = tf.cast(tf.floor((values + edge) / (2.0 * edge) * BINS), tf.int32)
            bins = tf.clip_by_value(bins, 0, BINS - 1) + self.segments * BINS
            counts = tf.math.unsorted_segment_sum(tf.ones_like(bins), bins, count * BINS)
            return tf.reshape(counts, (count, BINS))
        pieces = tf.split(values, self.sizes)  # quantity-major: piece q * layers + layer
        bounds = tf.unstack(tf.stack([-edges, edges], axis=1))
        layers = len(self.parts)
        return tf.stack([tf.histogram_fixed_width(pieces[q * layers + i], bounds[3 * i + q], BINS)
                         for i in range(layers) for q in range(3)])

    def split(self, row):
        """{path: {quantity: value}} of the store's health series from the ring-row part."""
        fields = self.layout.split(row)
        counts = fields[F.HISTOGRAM].reshape(len(self.parts), 3, BINS)
        ranges = fields[F.HISTOGRAM_RANGE].reshape(len(self.parts), 3)
        ratios = fields[F.UPDATE_RATIO]
        squares, offset = fields[F.FILTER_NORMS], 0
        found = {}
        for i, part in enumerate(self.parts):
            values = {F.HISTOGRAM: np.rint(counts[i]).astype(np.uint16),
                      F.HISTOGRAM_RANGE: ranges[i].astype(np.float32),
                      F.UPDATE_RATIO: np.float32(ratios[i])}
            if part.filters:
                own = squares[offset:offset + 2 * part.filters].reshape(2, part.filters)
                offset += 2 * part.filters
                values[F.FILTER_NORMS] = np.sqrt(np.maximum(own, 0)).astype(np.float32)
            found[part.path] = values
        return found


def activation_statistics(output, activation_name):
    """A layer's output (N, positions..., C) -> (N, 4, C): per image and filter the mean, the
    mean square, the fraction of outputs that are zero and the fraction at a saturating
    activation's bound (NaN for activations without one)."""
    output = tf.cast(output, tf.float32)
    flat = tf.reshape(output, (tf.shape(output)[0], -1, tf.shape(output)[-1]))
    mean = tf.reduce_mean(flat, axis=1)
    square = tf.reduce_mean(tf.square(flat), axis=1)
    zero = tf.reduce_mean(tf.cast(tf.equal(flat, 0.0), tf.float32), axis=1)
    bounds = BOUNDS.get(activation_name)
    if bounds is None:
        saturated = tf.fill(tf.shape(mean), np.nan)
    else:
        margin = SATURATED * (bounds[1] - bounds[0])
        at_bound = (flat <= bounds[0] + margin) | (flat >= bounds[1] - margin)
        if activation_name == "relu6":  # its zeros are counted as zeros, not as saturation
            at_bound = flat >= bounds[1] - margin
        saturated = tf.reduce_mean(tf.cast(at_bound, tf.float32), axis=1)
    return tf.stack([mean, square, zero, saturated], axis=1)


def combine_statistics(per_image):
    """(N, 4, C) from activation_statistics -> (4, C): mean, standard deviation, zero and
    saturated fractions over every image and position."""
    per_image = np.asarray(per_image, dtype=np.float64)
    mean = per_image[:, 0].mean(axis=0)
    square = per_image[:, 1].mean(axis=0)
    std = np.sqrt(np.maximum(square - mean ** 2, 0.0))
    return np.stack([mean, std, per_image[:, 2].mean(axis=0),
                     per_image[:, 3].mean(axis=0)]).astype(np.float32)


def health_pass_of(model, layers, every=None, previous=None):
    """The HealthPass of every recorded layer with trainable weights (None without any), every
    `every` steps (default: every step up to HEALTH_LAYERS_PER_STEP layers, less often beyond);
    the histogram ranges carry over from `previous`, the model's pass of an earlier fit (they
    only grow)."""
    parts = [LayerHealth(layer.path, layer.variables[layer.kind.weights],
                         F.quantity_layout(layer.kind, layer.kind.weights))
             for layer in layers if layer.kind.weights in layer.variables
             and layer.variables[layer.kind.weights].trainable]
    if not parts:
        return None
    xla = getattr(model, "jit_compile", False) is True  # Keras's resolved choice
    return HealthPass(parts, previous=previous, xla=xla,
                      every=every or max(1, len(parts) // HEALTH_LAYERS_PER_STEP))
