"""Pearson correlation between the filters of a layer, and groups of correlated filters.

Samples are rows, filters columns. From activations (images, H, W, C) every position of every
probe image is a sample (the follow-up paper's np.corrcoef over conv1's activations); from a
kernel (kh, kw, in, out) every weight of a filter is a sample. A filter with zero variance over
the samples (a dead ReLU, say) has no correlation: it is flagged dead, its r set to 0 (1 on the
diagonal), and it joins no group.
"""

import numpy as np


def samples_from_activations(activation):
    activation = np.asarray(activation, dtype=np.float64)
    return activation.reshape(-1, activation.shape[-1])


def samples_from_weights(kernel):
    kernel = np.asarray(kernel, dtype=np.float64)
    return kernel.reshape(-1, kernel.shape[-1])



def pearson(samples, rtol=1e-12):
    """(r, dead): the filters' C x C correlation matrix and a mask of zero-variance filters."""
    samples = np.asarray(samples, dtype=np.float64)
    centred = samples - samples.mean(axis=0)
    norms = np.sqrt((centred ** 2).sum(axis=0))
    scale = np.abs(samples).max(axis=0) * np.sqrt(len(samples)) + 1e-300
    dead = ~np.isfinite(norms) | (norms <= rtol * scale)
    safe = np.where(dead, 1.0, norms)
    r = (centred.T @ centred) / np.outer(safe, safe)
    r[dead, :] = 0.0
    r[:, dead] = 0.0
    np.fill_diagonal(r, 1.0)
    return np.clip(r, -1.0, 1.0), dead


def threshold_groups(r, dead, threshold):
    """Group labels: filters linked by r >= threshold, transitively (connected components);
    labels are numbered from 0 in order of each group's first filter; dead filters get -1."""
    n = len(r)
    linked = (np.asarray(r) >= threshold) & ~dead[:, None] & ~dead[None, :]
    labels = np.full(n, -1, dtype=np.int64)
    next_label = 0
    for start in range(n):  # a loop over filters (at most a few thousand), not over samples
        if dead[start] or labels[start] >= 0:
            continue
        members = np.zeros(n, dtype=bool)
        members[start] = True
        while True:
            grown = members | linked[members].any(axis=0)
            if (grown == members).all():
                break
            members = grown
        labels[members] = next_label
        next_label += 1
    return labels
