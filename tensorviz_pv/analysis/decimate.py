"""Long runs drawn at a view's resolution: a million-step series becomes a few thousand rows
that keep every extreme, and the time slider lists at most a few thousand steps (every
snapshot among them), while the views still read the exact step asked for."""

import numpy as np


def envelope(steps, columns, most):
    """(steps, {name: values}) of at most `most` rows: the rows in most // 2 runs of
    consecutive rows, each run two rows, its first step with each column's lowest value in the
    run and its last step with the highest (NaN ignored; NaN where a run has no value). A spike
    or a dip of a single step survives; the line between is the band it moves in. Unchanged
    (the same arrays) with `most` 0 or no more rows than it."""
    steps = np.asarray(steps)
    if not most or len(steps) <= most:
        return steps, dict(columns)
    starts = np.linspace(0, len(steps), max(most // 2, 1) + 1).astype(np.int64)
    first, last = starts[:-1], starts[1:] - 1
    drawn_steps = np.empty(2 * len(first), dtype=steps.dtype)
    drawn_steps[0::2], drawn_steps[1::2] = steps[first], steps[last]
    drawn = {}
    with np.errstate(invalid="ignore"):  # an all-NaN run stays NaN
        for name, values in columns.items():
            values = np.asarray(values, dtype=np.float64)
            pair = np.empty(2 * len(first))
            pair[0::2] = np.fmin.reduceat(values, first)
            pair[1::2] = np.fmax.reduceat(values, first)
            drawn[name] = pair
    return drawn_steps, drawn


def listed_steps(steps, kept, most):
    """The steps a time slider lists for a run of `steps` (sorted): all of them when they are
    at most `most`; else the steps in `kept` (snapshots: where the views change) with an even
    grid of the others up to `most` in all, the first and the last included."""
    steps = np.asarray(steps)
    if len(steps) <= most:
        return steps
    kept = np.intersect1d(np.asarray(kept, dtype=steps.dtype), steps)
    room = max(most - len(kept), 2)
    grid = steps[np.unique(np.linspace(0, len(steps) - 1, room).astype(np.int64))]
    return np.union1d(grid, kept)
