"""Filter identities under filter reduction: which entries of a tensor belong to filters (or
input channels) that were merged away, and so are NaN by design."""

import numpy as np

from ..store import format as F

REMOVED = -2  # group label of a merged-away filter (dead filters are -1)


def removed_mask(shape, kind, alive_filters, alive_inputs):
    """True where a tensor of `shape` (Keras layout, filters last) holds a removed filter, or a
    removed input channel: axis -2 of a conv kernel, or the channels-last rows of a dense one."""
    mask = np.zeros(shape, dtype=bool)
    if alive_filters is not None and shape[-1] == len(alive_filters):
        mask |= ~alive_filters
    if alive_inputs is not None and len(shape) >= 2:
        channels = len(alive_inputs)
        if kind in (F.CONV, "depthwise_conv2d") and len(shape) == 4 and shape[2] == channels:
            mask |= ~alive_inputs[None, None, :, None]
        elif kind == F.DENSE and len(shape) == 2 and shape[0] % channels == 0:
            mask |= ~np.tile(alive_inputs, shape[0] // channels)[:, None]
    return mask
