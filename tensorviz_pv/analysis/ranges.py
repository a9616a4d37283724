"""Colour ranges that hold for a whole run, so that colours compare across steps and the last
step never saturates."""

import numpy as np


def magnitude_limit(arrays):
    """The largest finite |value| over `arrays` (1.0 when there is none, or it is 0): one
    colour scale for all of them, so that colours compare across steps."""
    limits = []
    for values in arrays:
        values = np.abs(np.asarray(values))
        finite = values[np.isfinite(values)]
        if finite.size:
            limits.append(float(finite.max()))
    return max(limits, default=1.0) or 1.0


def value_range(arrays):
    """(lowest, highest) finite value over `arrays` ((0, 1) when there is none)."""
    low, high = np.inf, -np.inf
    for values in arrays:
        values = np.asarray(values)
        finite = values[np.isfinite(values)]
        if finite.size:
            low, high = min(low, float(finite.min())), max(high, float(finite.max()))
    return (low, high) if low <= high else (0.0, 1.0)
