"""Which of its original filters each conv layer of a model holds now, when filter reduction has
merged some away, and its tensors in the original layout: the store always keeps the original
filter ids, with NaN where a filter, or the input channel that one was, no longer exists."""

import numpy as np

from tensorviz_pv.store import format as F


def _scatter(value, axis, ids, size):
    """value placed at `ids` along `axis` of a NaN array of that axis's original `size`."""
    shape = list(value.shape)
    shape[axis] = size
    full = np.full(shape, np.nan, dtype=np.float32)
    index = [slice(None)] * value.ndim
    index[axis] = ids
    full[tuple(index)] = value
    return full


class FilterIds:
    """original: {conv layer: its original filter count}; input_of: {layer: the conv layer whose
    filters are its input channels}; channels_of: {layer: the conv layer whose filters its own
    channels follow (BatchNormalization after a conv, a depthwise conv)}."""

    def __init__(self, original, input_of, channels_of=None):
        self.original = dict(original)
        self.input_of = dict(input_of)
        self.channels_of = dict(channels_of or {})
        self.ids = {name: np.arange(n) for name, n in self.original.items()}

    @classmethod
    def from_store(cls, run, step, input_of, channels_of=None):
        """The filters a continued run goes on with: those its store (an open RunReader) says
        exist at `step`."""
        original = {e["name"]: e["filters"] for e in run.info["layers"] if e["kind"] == F.CONV}
        ids = cls(original, input_of, channels_of)
        ids.ids = {name: np.flatnonzero(run.alive_at(name, step)) for name in original}
        return ids

    def alive(self, name):
        """uint8 per original filter of a conv layer: 1 where it exists now."""
        alive = np.zeros(self.original[name], dtype=np.uint8)
        alive[self.ids[name]] = 1
        return alive

    def keep(self, name, kept):
        """After a reduction: the layer keeps its filters at (current) indices `kept`."""
        self.ids[name] = self.ids[name][kept]

    def expand(self, name, quantity, value):
        """A tensor of the (possibly reduced) model in the original layout."""
        value = np.asarray(value)
        if quantity in F.WHOLE_LAYER:
            return value
        own = name if name in self.ids else self.channels_of.get(name)
        ids = self.ids.get(own)
        kernel = quantity in (F.KERNEL, F.KERNEL_GRADIENT)
        if ids is not None and len(ids) < self.original[own] and not (kernel and own != name):
            value = _scatter(value, -1, ids, self.original[own])  # filters: last axis
        source = self.input_of.get(name)
        source_ids = self.ids.get(source)
        if kernel and source_ids is not None \
                and len(source_ids) < self.original[source]:
            # input channels: axis -2 of a conv kernel, or interleaved in a dense kernel's
            # rows after a channels-last flatten: (positions, channels, out) covers both
            blocks = value.reshape(-1, len(source_ids), value.shape[-1])
            blocks = _scatter(blocks, 1, source_ids, self.original[source])
            value = blocks.reshape(value.shape[:-2] + (-1, value.shape[-1]))
        return value
