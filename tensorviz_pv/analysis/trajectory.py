"""Coordinates of a weight vector's path over training: chosen indices, or PCA over the steps."""

import numpy as np

from ..errors import SettingError


def index_path(vectors, indices):
    """(steps, len(indices)) coordinates: the chosen components of the flattened weights."""
    vectors = np.asarray(vectors, dtype=np.float64).reshape(len(vectors), -1)
    indices = [int(i) for i in indices]
    bad = [i for i in indices if not -vectors.shape[1] <= i < vectors.shape[1]]
    if bad:
        raise SettingError(f"weight index {bad[0]} out of range (the layer has {vectors.shape[1]})")
    return vectors[:, indices]


def pca_path(vectors, components=2):
    """(coordinates (steps, components), explained variance ratio per component): the path
    projected on the principal axes of the centred snapshots (SVD, no loop)."""
    vectors = np.asarray(vectors, dtype=np.float64).reshape(len(vectors), -1)
    centred = vectors - vectors.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    k = min(components, len(s))
    coordinates = np.zeros((len(vectors), components))
    coordinates[:, :k] = u[:, :k] * s[:k]
    total = (s ** 2).sum()
    ratio = np.zeros(components)
    if total > 0:
        ratio[:k] = s[:k] ** 2 / total
    return coordinates, ratio
