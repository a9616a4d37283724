"""Per-layer L2 norms from the per-variable norms in the store, and their power-law growth."""

import numpy as np


def layer_norms(variable_norms, variables, layer):
    """sqrt of the sum of squares over a layer's variables: those named '<layer path>/<name>'
    ('backbone/conv1/kernel' belongs to 'backbone/conv1')."""
    columns = [i for i, name in enumerate(variables) if name.rpartition("/")[0] == layer]
    if not columns:
        return np.full(len(variable_norms), np.nan)
    # the layer's columns first: converting a million-step table whole, once per layer, cost more
    return np.sqrt((np.asarray(variable_norms)[:, columns].astype(np.float64) ** 2).sum(axis=1))


def power_law_fit(steps, values):
    """(coefficient a, exponent b) of values ~ a * step**b, least squares in log-log space over
    the steps > 0 with finite positive values; (nan, nan) with fewer than 2 such points."""
    steps = np.asarray(steps, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    keep = (steps > 0) & np.isfinite(values) & (values > 0)
    if keep.sum() < 2 or np.ptp(np.log(steps[keep])) == 0:
        return float("nan"), float("nan")
    x, y = np.log(steps[keep]), np.log(values[keep])
    # the least-squares line in closed form (np.polyfit's SVD took 80 ms per million steps)
    dx = x - x.mean()
    exponent = float(dx @ (y - y.mean()) / (dx @ dx))
    return float(np.exp(y.mean() - exponent * x.mean())), exponent


def running_mean(values, window):
    """Trailing mean over the last `window` values (fewer at the start); NaN-free input."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return values
    window = max(1, min(int(window), len(values)))
    sums = np.cumsum(np.concatenate([[0.0], values]))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (sums[1:] - sums[np.maximum(np.arange(1, len(values) + 1) - window, 0)]) / counts


def smoothing_window(steps):
    """Steps averaged in the smoothed loss/accuracy columns: 2.5% of the run, at least 10 (a
    short run's per-batch values are as noisy as a long one's), at most 200 and the run."""
    return int(max(1, min(max(len(steps) // 40, 10), 200, len(steps))))
