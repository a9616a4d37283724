"""The store's layout, decided once: the shape, type and bytes of every tensor series and of
the rows of the step tables (format.py names what they hold). The trainer's store plan, its
cadence planner and health pass, the writer and the synthetic stores all take them from here."""

import math
from collections import namedtuple

from .format import (ACTIVATION, ACTIVATION_STAT_ROWS, ALIVE, ATLAS, ACTIVATION_STATS,
                     FILTER_NORMS, GRADIENT_NORM, HISTOGRAM, HISTOGRAM_BINS, HISTOGRAM_OF,
                     HISTOGRAM_RANGE, LEARNING_RATE, METRICS_GROUP, STEP_COLUMN_DTYPES,
                     UPDATE_RATIO, WEIGHT_NORM, gradient_of)

ITEM_BYTES = {"float16": 2, "float32": 4, "float64": 8, "uint8": 1, "uint16": 2, "int32": 4,
              "int64": 8}


class SeriesSpec(namedtuple("SeriesSpec", "layer quantity shape dtype")):
    """One tensor series: a quantity of a layer, and the shape and type of each snapshot."""
    __slots__ = ()

    def __new__(cls, layer, quantity, shape, dtype="float32"):
        return super().__new__(cls, layer, quantity, tuple(int(n) for n in shape), dtype)

    @property
    def bytes(self):
        """Bytes of one snapshot."""
        return math.prod(self.shape) * ITEM_BYTES[self.dtype]


def variable_series(layer, name, shape):
    """A layer's variable (kernel, bias, gamma...), as Keras names it."""
    return SeriesSpec(layer, name, shape)


def gradient_series(layer, name, shape):
    return SeriesSpec(layer, gradient_of(name), shape)


def activation_series(layer, shape):
    """The probe batch's activations: (probe images, positions..., channels)."""
    return SeriesSpec(layer, ACTIVATION, shape)


def atlas_series(layer, k, filters):
    """The Filter Atlas of a layer and, taken with it, its filters' activation statistics."""
    return [SeriesSpec(layer, ATLAS, (3, k, filters)),
            SeriesSpec(layer, ACTIVATION_STATS, (len(ACTIVATION_STAT_ROWS), filters))]


def health_series(layer, filters=0):
    """A layer's training health; filter norms when it has `filters` (in the original count)."""
    series = [SeriesSpec(layer, HISTOGRAM, (len(HISTOGRAM_OF), HISTOGRAM_BINS), "uint16"),
              SeriesSpec(layer, HISTOGRAM_RANGE, (len(HISTOGRAM_OF),)),
              SeriesSpec(layer, UPDATE_RATIO, ())]
    if filters:
        series.append(SeriesSpec(layer, FILTER_NORMS, (2, filters)))
    return series


def alive_series(layer, filters):
    return SeriesSpec(layer, ALIVE, (filters,), "uint8")


def step_row_bytes(variables, metrics):
    """Bytes of one row of the step tables: the step columns, `metrics` metric values, and the
    weight and gradient norms of `variables` variables."""
    return (sum(ITEM_BYTES[dtype] for dtype in STEP_COLUMN_DTYPES.values())
            + ITEM_BYTES["float32"] * (metrics + 2 * variables))


class RowLayout:
    """Named fields laid end to end in a flat row of numbers: `fields` [(name, width)]. The
    trainer's per-step ring rows are laid out so (step_row_layout, health_row_layout)."""

    def __init__(self, fields):
        self.fields = [(name, int(width)) for name, width in fields]
        self._slices, start = {}, 0
        for name, width in self.fields:
            self._slices[name] = slice(start, start + width)
            start += width
        self.width = start

    def split(self, row):
        """{field: its part of `row`}."""
        return {name: row[part] for name, part in self._slices.items()}


HEALTH = "health"  # the training health's part of a step row
METRICS_FOUND = "metrics_found"  # 1 where a metric slot holds a value the step produced


def step_row_layout(variables, metric_slots, health_width=0):
    """A step's values as the trainer's ring buffer keeps them: the learning rate, the metric
    slots and whether each was found this step, each variable's squared gradient norm, then
    squared weight norm, then the health."""
    return RowLayout([(LEARNING_RATE, 1), (METRICS_GROUP, metric_slots),
                      (METRICS_FOUND, metric_slots),
                      (GRADIENT_NORM, variables), (WEIGHT_NORM, variables),
                      (HEALTH, health_width)])


def health_row_layout(filters):
    """The health part of a step row, of layers with `filters` filters each (0: none recorded):
    the histograms of every layer's weights, gradient and update, their ranges, each layer's
    update ratio, then each layer's squared filter norms (weights, then gradients)."""
    histograms = len(HISTOGRAM_OF) * len(filters)
    return RowLayout([(HISTOGRAM, histograms * HISTOGRAM_BINS), (HISTOGRAM_RANGE, histograms),
                      (UPDATE_RATIO, len(filters)), (FILTER_NORMS, 2 * sum(filters))])
