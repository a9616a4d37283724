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
    first = column_starts(len(steps), max(most // 2, 1))
    last = np.append(first[1:], len(steps)) - 1
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


MAX_COLUMNS = 2_000  # columns of a step axis drawn as an image (a block of steps each beyond)
CHUNK_ROWS = 65_536  # records read and reduced at a time: a long run's series never whole


def column_starts(count, most=MAX_COLUMNS):
    """The first record of each column of a time image of `count` records: each record its
    own column up to `most` of them, else `most` runs of consecutive records, even in length."""
    if count <= most:
        return np.arange(count, dtype=np.int64)
    return np.unique(np.arange(most, dtype=np.int64) * count // most)


def _runs(keys):
    """First index of each run of rows whose keys (1-D arrays, one per key) all stay equal."""
    change = np.zeros(len(keys[0]), dtype=bool)
    change[0] = True
    for key in keys:
        change[1:] |= key[1:] != key[:-1]
    return np.nonzero(change)[0]


def column_sums(read, count, starts, segment_key=None, convert=None):
    """{column: sum of its records} of a series read in chunks: read(a, b) gives records a..b-1
    (b - a, ...). Records are summed within runs that share a column (and a `segment_key`
    value, when given: histograms on different ranges), `convert(sums, keys)` turns a run's sum
    into what the column adds up (a rebinned histogram), and the runs add into their column.
    Returns (columns, ...) float64."""
    total = None
    for a in range(0, count, CHUNK_ROWS):
        b = min(count, a + CHUNK_ROWS)
        values = np.asarray(read(a, b), dtype=np.float64)
        columns = np.searchsorted(starts, np.arange(a, b), side="right") - 1
        keys = [columns] + ([np.asarray(segment_key[a:b])] if segment_key is not None else [])
        firsts = _runs(keys)
        sums = np.add.reduceat(values, firsts, axis=0)
        if convert is not None:
            sums = convert(sums, keys[1][firsts] if segment_key is not None else None)
        if total is None:
            total = np.zeros((len(starts),) + sums.shape[1:])
        np.add.at(total, columns[firsts], sums)  # a few runs per chunk
    return total if total is not None else np.zeros((len(starts),))


def column_means(read, count, starts):
    """(columns, ...) means of each column's finite records (NaN where it has none), a series
    read in chunks as in column_sums."""
    def finite(a, b):
        values = np.asarray(read(a, b), dtype=np.float64)
        return np.stack([np.where(np.isfinite(values), values, 0.0),
                         np.isfinite(values).astype(np.float64)], axis=1)
    sums = column_sums(finite, count, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sums[:, 1] > 0, sums[:, 0] / sums[:, 1], np.nan)
