"""Run comparison's measures against independent computations: debiased linear CKA against the
n x n U-statistic of HSIC, the matching against known permutations and brute force."""

import itertools

import numpy as np
import pytest

from tensorviz_pv.analysis.comparison import (Matching, cka_examples, cross_correlation,
                                              linear_cka, match_filters, relative_distance)


def hsic_u(k, l):
    """Song et al. (2012)'s unbiased HSIC, written from its definition on n x n matrices."""
    n = len(k)
    k, l = k.copy(), l.copy()
    np.fill_diagonal(k, 0.0)
    np.fill_diagonal(l, 0.0)
    one = np.ones(n)
    return (np.trace(k @ l) + (one @ k @ one) * (one @ l @ one) / ((n - 1) * (n - 2))
            - 2.0 / (n - 2) * one @ k @ l @ one) / (n * (n - 3))


def test_cka_equals_the_u_statistic_on_gram_matrices():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 7)) + 5.0  # an offset: the estimator must not care
    y = x @ rng.normal(size=(7, 4)) + rng.normal(size=(30, 4))
    k, l = x @ x.T, y @ y.T
    expected = hsic_u(k, l) / np.sqrt(hsic_u(k, k) * hsic_u(l, l))
    assert linear_cka(x, y) == pytest.approx(expected, rel=1e-9)


def test_cka_is_one_for_a_rotated_scaled_copy_and_near_zero_for_unrelated_responses():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(16, 9, 9, 32))
    rotation, _ = np.linalg.qr(rng.normal(size=(32, 32)))
    assert linear_cka(*cka_examples(x, 3.0 * x @ rotation)) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(*cka_examples(x, x[..., rng.permutation(32)])) == pytest.approx(1.0, abs=1e-12)
    unrelated = rng.normal(size=x.shape)
    assert abs(linear_cka(*cka_examples(x, unrelated))) < 0.02
    # 16 images as the examples of thousands of features: the plain estimator says "alike"
    flat_x, flat_y = x.reshape(16, -1), unrelated.reshape(16, -1)
    centred = [m - m.mean(axis=0) for m in (flat_x, flat_y)]
    k, l = (m @ m.T for m in centred)
    plain = (k * l).sum() / np.sqrt((k * k).sum() * (l * l).sum())
    assert plain > 0.9 and abs(linear_cka(flat_x, flat_y)) < 0.2


def test_cka_examples_are_positions_when_the_shapes_agree_else_images():
    a, b = np.zeros((4, 5, 5, 3)), np.zeros((4, 5, 5, 6))
    assert [m.shape for m in cka_examples(a, b)] == [(100, 3), (100, 6)]
    assert [m.shape for m in cka_examples(a, np.zeros((4, 3, 3, 6)))] == [(4, 75), (4, 54)]
    with pytest.raises(ValueError, match="same inputs"):
        cka_examples(a, np.zeros((5, 5, 5, 3)))


def test_cka_of_a_constant_response_is_nan_and_needs_four_examples():
    rng = np.random.default_rng(3)
    assert np.isnan(linear_cka(np.ones((10, 3)), rng.normal(size=(10, 3))))
    with pytest.raises(ValueError, match="at least 4"):
        linear_cka(rng.normal(size=(3, 2)), rng.normal(size=(3, 2)))


def test_relative_distance():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(3, 3, 8, 16))
    assert relative_distance(a, a) == 0.0
    assert relative_distance(a, -a) == pytest.approx(np.sqrt(2))
    assert relative_distance(a, rng.normal(size=a.shape)) == pytest.approx(1.0, abs=0.05)
    with pytest.raises(ValueError, match="shapes"):
        relative_distance(a, a[..., :8])


def test_cross_correlation_is_numpy_corrcoef_and_zero_for_a_dead_filter():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(6, 4, 4, 3)), rng.normal(size=(6, 4, 4, 5))
    b[..., 2] = 0.0
    r, dead_a, dead_b = cross_correlation(a, b)
    flat_a, flat_b = a.reshape(-1, 3), b.reshape(-1, 5)
    with np.errstate(invalid="ignore"):  # corrcoef divides by the dead filter's 0 spread
        expected = np.corrcoef(flat_a.T, flat_b.T)[:3, 3:]
    live = [0, 1, 3, 4]
    np.testing.assert_allclose(r[:, live], expected[:, live], atol=1e-12)
    assert (r[:, 2] == 0).all() and dead_b.tolist() == [False, False, True, False, False]
    assert not dead_a.any()


def test_the_matching_recovers_a_known_permutation_of_noisy_filters():
    rng = np.random.default_rng(6)
    a = rng.normal(size=(16, 14, 14, 32))
    permutation = rng.permutation(32)
    b = a[..., permutation] + 0.5 * rng.normal(size=a.shape)
    match, _, _ = match_filters(a, b)
    assert (permutation[match.partner] == np.arange(32)).all()  # B's partner is A's filter
    assert match.mean_r > 0.85 and abs(match.random_mean_r) < 0.1
    assert match.order() == match.partner.tolist()


def test_the_matching_is_the_brute_force_optimum_and_random_is_the_permutation_average():
    rng = np.random.default_rng(7)
    r = rng.uniform(-1, 1, size=(6, 6))
    match = Matching(r)
    sums = [r[np.arange(6), list(p)].sum() for p in itertools.permutations(range(6))]
    assert match.mean_r * 6 == pytest.approx(max(sums))
    assert match.random_mean_r == pytest.approx(np.mean(sums) / 6)
    assert match.identity_mean_r == pytest.approx(np.trace(r) / 6)


def test_a_run_against_itself_is_the_identity_even_with_ties():
    rng = np.random.default_rng(8)
    a = rng.normal(size=(4, 5, 5, 6))
    a[..., 1] = 2.0 * a[..., 0] + 1.0  # r = 1 with filter 0: a tie
    a[..., 4] = 0.0  # dead, as is filter 5
    a[..., 5] = 0.0
    match, dead, _ = match_filters(a, a)
    assert match.partner.tolist() == list(range(6))
    assert dead.tolist() == [False, False, False, False, True, True]


def test_unequal_filter_counts():
    rng = np.random.default_rng(9)
    a = rng.normal(size=(8, 6, 6, 4))
    b = np.concatenate([rng.normal(size=(8, 6, 6, 2)), a[..., ::-1]], axis=-1)  # 6 filters
    match, _, _ = match_filters(a, b)
    assert match.partner.tolist() == [5, 4, 3, 2]
    assert sorted(match.order()) == list(range(6)) and match.order()[:4] == [5, 4, 3, 2]
    assert np.isnan(match.identity_mean_r)
    back, _, _ = match_filters(b, a)  # more filters in A: two are left without a partner
    assert (back.partner == -1).sum() == 2 and np.isnan(back.r[back.partner == -1]).all()
