"""How alike two runs are, layer by layer and filter by filter (numpy, and scipy's optimal
assignment).

Linear CKA (Kornblith et al. 2019, "Similarity of Neural Network Representations Revisited")
compares two layers' responses to the same inputs: 1 when one is a rotation and scaling of the
other, near 0 for unrelated responses (with the debiased estimator used here); it is blind to which filter is which, so two runs that
learned the same features in another order score 1. Filter matching then says which is which:
the Pearson correlation of every filter of A with every filter of B over the probe activations
(samples: every position of every probe image), and the one-to-one assignment that maximises
the summed correlation (the Hungarian method, scipy.optimize.linear_sum_assignment).
"""

import numpy as np
from scipy.optimize import linear_sum_assignment

from .correlation import samples_from_activations

TIE_BREAK = 1e-9  # equal correlations: keep a filter's own index (two steps of one run)


def cka_examples(activation_a, activation_b):
    """Two layers' probe activations (images, positions..., C) as (examples, features): every
    position of every image an example when their positions agree (conv layers of one
    architecture: thousands of examples), else each image one example of all its values."""
    a, b = np.asarray(activation_a, np.float64), np.asarray(activation_b, np.float64)
    if len(a) != len(b):
        raise ValueError(f"CKA needs the same inputs: {len(a)} and {len(b)} images")
    if a.shape[:-1] == b.shape[:-1]:
        return samples_from_activations(a), samples_from_activations(b)
    return a.reshape(len(a), -1), b.reshape(len(b), -1)


def _debiased_hsic(x, y):
    """The unbiased estimator of HSIC with linear kernels (Song et al. 2012) of K = XX' and
    L = YY', from the features (n x p, n x q) without forming the n x n matrices."""
    n = len(x)
    kd, ld = (x * x).sum(axis=1), (y * y).sum(axis=1)  # the Gram matrices' diagonals
    trace = ((x.T @ y) ** 2).sum() - kd @ ld  # sum over i != j of K_ij L_ij
    k_rows, l_rows = x @ x.sum(axis=0) - kd, y @ y.sum(axis=0) - ld  # row sums, no diagonal
    return (trace + k_rows.sum() * l_rows.sum() / ((n - 1) * (n - 2))
            - 2.0 * (k_rows @ l_rows) / (n - 2)) / (n * (n - 3))


def linear_cka(x, y):
    """Debiased linear CKA of two representations of the same n examples, x (n, p) and y (n, q):
    HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)). The plain estimator is biased towards 1 when the
    features outnumber the examples (two unrelated random responses of 16 images score about
    0.99); the debiased one is about 0 for them and still exactly 1 for a layer against itself.
    NaN when either response is constant; needs at least 4 examples."""
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    y = np.asarray(y, np.float64).reshape(len(y), -1)
    if len(x) != len(y):
        raise ValueError(f"CKA needs the same inputs: {len(x)} and {len(y)} examples")
    if len(x) < 4:
        raise ValueError(f"CKA needs at least 4 examples, not {len(x)}")
    x, y = x - x.mean(axis=0), y - y.mean(axis=0)
    xx, yy = _debiased_hsic(x, x), _debiased_hsic(y, y)
    if not (xx > 0 and yy > 0):
        return float("nan")
    return float(_debiased_hsic(x, y) / np.sqrt(xx * yy))


def relative_distance(a, b):
    """|A - B| / sqrt(|A|^2 + |B|^2): 0 for equal weights, about 1 for two unrelated sets of
    zero-mean weights, sqrt(2) for opposite ones; NaN for two all-zero sets."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"weights of shapes {a.shape} and {b.shape} have no distance")
    scale = np.sqrt((a * a).sum() + (b * b).sum())
    return float(np.sqrt(((a - b) ** 2).sum()) / scale) if scale > 0 else float("nan")


def _standardised(samples):
    """Columns of (samples, filters) centred and scaled to unit length; zero-variance ones
    (dead filters) left zero and flagged."""
    centred = samples - samples.mean(axis=0)
    norms = np.sqrt((centred ** 2).sum(axis=0))
    scale = np.abs(samples).max(axis=0) * np.sqrt(len(samples)) + 1e-300
    dead = ~np.isfinite(norms) | (norms <= 1e-12 * scale)
    return np.where(dead, 0.0, centred / np.where(dead, 1.0, norms)), dead


def cross_correlation(activation_a, activation_b):
    """(r (Ca, Cb), dead_a, dead_b): Pearson r of every filter of A with every filter of B over
    the same probe images' activations (images, positions..., C); r 0 for a dead filter."""
    a = samples_from_activations(activation_a)
    b = samples_from_activations(activation_b)
    if len(a) != len(b):
        raise ValueError(f"activations of shapes {np.shape(activation_a)} and "
                         f"{np.shape(activation_b)} are not over the same positions")
    sa, dead_a = _standardised(a)
    sb, dead_b = _standardised(b)
    return np.clip(sa.T @ sb, -1.0, 1.0), dead_a, dead_b


class Matching:
    """The optimal one-to-one matching of A's filters to B's for a correlation matrix r
    (Ca, Cb): `partner[i]` B's filter matched to A's filter i (-1: none left, when A has more),
    `r` its correlation (NaN for none); `mean_r` their mean; `random_mean_r` what a uniformly
    random assignment gives on average (the mean of all of r); `identity_mean_r` that of
    matching each filter with the same index (NaN when the counts differ)."""

    def __init__(self, r):
        r = np.asarray(r, dtype=np.float64)
        preference = r.copy()
        diagonal = np.arange(min(r.shape))
        preference[diagonal, diagonal] += TIE_BREAK
        rows, cols = linear_sum_assignment(preference, maximize=True)
        self.partner = np.full(r.shape[0], -1, dtype=np.int64)
        self.partner[rows] = cols
        self.r = np.full(r.shape[0], np.nan)
        self.r[rows] = r[rows, cols]
        self.mean_r = float(r[rows, cols].mean()) if len(rows) else float("nan")
        self.random_mean_r = float(r.mean()) if r.size else float("nan")
        self.identity_mean_r = float(np.diag(r).mean()) if r.shape[0] == r.shape[1] \
            else float("nan")
        self.matrix = r

    def order(self):
        """B's filters in A's order (A's filter i beside B's order()[i]); B's unmatched
        filters after them."""
        matched = [int(p) for p in self.partner if p >= 0]
        rest = [j for j in range(self.matrix.shape[1]) if j not in set(matched)]
        return matched + rest


def match_filters(activation_a, activation_b):
    """Matching of two layers' filters by their probe activations; also its dead masks."""
    r, dead_a, dead_b = cross_correlation(activation_a, activation_b)
    return Matching(r), dead_a, dead_b
