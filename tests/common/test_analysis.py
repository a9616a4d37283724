"""Pure-numpy analysis against independent computations (runs in both Pythons)."""

import numpy as np
import pytest

from tensorviz_pv.analysis.correlation import (pearson, samples_from_activations,
                                               samples_from_weights, threshold_groups)
from tensorviz_pv.analysis.norms import layer_norms, power_law_fit
from tensorviz_pv.analysis.tiles import tile_maps
from tensorviz_pv.analysis.trajectory import index_path, pca_path
from tensorviz_pv.errors import SettingError


def test_pearson_equals_numpy_corrcoef_over_positions_and_images():
    activation = np.random.default_rng(0).random((4, 5, 5, 6))
    r, dead = pearson(samples_from_activations(activation))
    expected = np.corrcoef(activation.reshape(-1, 6), rowvar=False)
    np.testing.assert_allclose(r, expected, atol=1e-12)
    assert not dead.any()


def test_dead_filters_are_flagged_never_nan():
    activation = np.random.default_rng(1).random((2, 4, 4, 3))
    activation[..., 1] = 0.0           # a dead ReLU
    r, dead = pearson(samples_from_activations(activation))
    assert dead.tolist() == [False, True, False]
    assert np.isfinite(r).all()
    assert r[1, 1] == 1.0 and r[1, 0] == 0.0 and r[0, 1] == 0.0
    np.testing.assert_allclose(r[0, 2], np.corrcoef(activation[..., 0].ravel(), activation[..., 2].ravel())[0, 1])


def test_weight_basis_correlates_filters_over_their_weights():
    kernel = np.random.default_rng(2).normal(size=(3, 3, 2, 5))
    r, _ = pearson(samples_from_weights(kernel))
    np.testing.assert_allclose(r[1, 3], np.corrcoef(kernel[..., 1].ravel(), kernel[..., 3].ravel())[0, 1])


def test_groups_are_transitive_and_leave_dead_filters_out():
    r = np.array([[1.0, 0.9, 0.7, 0.1, 0.0],
                  [0.9, 1.0, 0.9, 0.1, 0.0],
                  [0.7, 0.9, 1.0, 0.2, 0.0],
                  [0.1, 0.1, 0.2, 1.0, 0.0],
                  [0.0, 0.0, 0.0, 0.0, 1.0]])
    dead = np.array([False, False, False, False, True])
    labels = threshold_groups(r, dead, 0.85)
    assert labels.tolist() == [0, 0, 0, 1, -1]   # 0-2 linked through 1 although r02 = 0.7
    assert threshold_groups(r, dead, 0.95).tolist() == [0, 1, 2, 3, -1]


def test_layer_norm_combines_kernel_and_bias():
    norms = np.array([[3.0, 4.0, 1.0], [6.0, 8.0, 2.0]])
    combined = layer_norms(norms, ["c1/kernel", "c1/bias", "d1/kernel"], "c1")
    np.testing.assert_allclose(combined, [5.0, 10.0])
    assert np.isnan(layer_norms(norms, ["c1/kernel", "c1/bias", "d1/kernel"], "x")).all()


def test_power_law_fit_recovers_sqrt_growth():
    steps = np.arange(0, 5000, 7)
    values = 2.5 * np.maximum(steps, 1) ** 0.5
    coefficient, exponent = power_law_fit(steps, values)
    assert coefficient == pytest.approx(2.5, rel=1e-9)
    assert exponent == pytest.approx(0.5, rel=1e-9)
    assert np.isnan(power_law_fit([0, 1], [1.0, 2.0])[0])


def test_pca_path_matches_the_covariance_eigenvectors():
    rng = np.random.default_rng(3)
    walk = np.cumsum(rng.normal(size=(200, 30)), axis=0)
    coordinates, ratio = pca_path(walk, 3)
    centred = walk - walk.mean(axis=0)
    values, vectors = np.linalg.eigh(centred.T @ centred)
    order = np.argsort(values)[::-1]
    for k in range(3):
        projection = centred @ vectors[:, order[k]]
        # same axis up to sign
        assert abs(abs(np.dot(projection, coordinates[:, k])) - np.dot(projection, projection)) < 1e-6 * np.dot(projection, projection)
    np.testing.assert_allclose(ratio, values[order[:3]] / values.sum(), rtol=1e-9)
    assert ratio[0] > 0.5  # a random walk is dominated by its first component


def test_index_path_and_its_range_check():
    snapshots = np.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(index_path(snapshots, [0, 5]), [[0, 5], [12, 17]])
    with pytest.raises(SettingError, match="out of range"):
        index_path(snapshots, [12])


def test_tile_maps_places_each_filter_in_a_grid():
    maps = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)
    image, offsets = tile_maps(maps)
    assert image.shape == (2 * 3 - 1, 3 * 4 - 1)  # 5 maps: 3 columns, 2 rows, 1-pixel gaps
    cols = 3
    for c, (r0, c0) in enumerate(offsets):
        assert (r0, c0) == ((c // cols) * 3, (c % cols) * 4)
        np.testing.assert_array_equal(image[r0:r0 + 2, c0:c0 + 3], maps[c])
    assert np.isnan(image[2, :]).all()  # the gap row


def test_running_mean_is_a_trailing_window_mean():
    from tensorviz_pv.analysis.norms import running_mean
    values = np.array([1.0, 3.0, 5.0, 7.0, 9.0])
    np.testing.assert_allclose(running_mean(values, 2), [1.0, 2.0, 4.0, 6.0, 8.0])
    np.testing.assert_allclose(running_mean(values, 10), np.cumsum(values) / np.arange(1, 6))
    np.testing.assert_allclose(running_mean(values, 1), values)


def test_a_short_run_is_smoothed_too():
    from tensorviz_pv.analysis.norms import running_mean, smoothing_window
    assert [smoothing_window(range(n)) for n in (3, 24, 160, 4000, 100000)] == [3, 10, 10, 100, 200]
    # a short run's per-batch accuracy (chance at 0.1 with batch noise) comes out smoother
    noisy = np.random.default_rng(0).binomial(50, 0.1, 160) / 50
    smoothed = running_mean(noisy, smoothing_window(range(160)))
    assert np.std(np.diff(smoothed[10:])) < np.std(np.diff(noisy)) / 4


def test_one_and_three_dimensional_activations_become_maps():
    from tensorviz_pv.analysis.tiles import filter_maps, tiled_shape
    strips = np.arange(7 * 3, dtype=np.float32).reshape(7, 3)  # (L, C)
    maps = filter_maps(strips)
    assert maps.shape == (3, 1, 7)
    image, _ = tile_maps(maps)
    np.testing.assert_array_equal(image, strips.T)  # one filter per row, no gaps
    assert image.shape == tiled_shape(3, 1, 7)
    volume = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)  # (D, H, W, C)
    maps = filter_maps(volume)
    assert maps.shape == (5, 3, 2 * 4 + 1)  # depth slices side by side, a NaN column apart
    np.testing.assert_array_equal(maps[2, :, :4], volume[0, :, :, 2])
    np.testing.assert_array_equal(maps[2, :, 5:], volume[1, :, :, 2])
    assert np.isnan(maps[:, :, 4]).all()
