"""analysis/health.py against hand-made arrays: rebinning that keeps every count in place, and
each alert on a series made to show it (and none on a healthy one)."""

import numpy as np

from tensorviz_pv.analysis.health import (alerts, compact, dead_since, distribution,
                                          gradient_alerts, histograms_of, loss_alerts, rebinned)


def test_rebinning_onto_a_doubled_range_merges_neighbouring_bins_exactly():
    rng = np.random.default_rng(0)
    values = rng.normal(scale=0.3, size=5000)
    values = values[np.abs(values) < 1]  # as recorded: the range covers every value
    narrow, _ = np.histogram(values, bins=64, range=(-1, 1))
    wide, _ = np.histogram(values, bins=64, range=(-4, 4))
    np.testing.assert_array_equal(rebinned(narrow[None], [1.0], 4.0)[0], wide)
    np.testing.assert_array_equal(rebinned(wide[None], [4.0], 4.0)[0], wide)  # unchanged


def test_a_distribution_is_log_counts_on_the_widest_range():
    counts = np.zeros((2, 64))
    counts[0, 40], counts[1, 63] = 9, 99  # step 0 over [-1, 1], step 1 over [-2, 2]
    image, widest = distribution(counts, [1.0, 2.0])
    assert widest == 2.0
    assert image[0, 32 + 4] == 1.0 and image[1, 63] == 2.0  # log10(1 + 9), log10(1 + 99)
    assert image.sum() == 3.0


def test_dead_since_is_the_first_snapshot_or_the_step_after_the_last_gradient():
    steps = np.array([0, 10, 20, 30])
    zero = np.array([[0.5, 0.5, 0.5], [0.5, 1.0, 0.4], [1.0, 1.0, 0.4], [1.0, 1.0, 1.0]])
    zero[:, 2] = [0.5, 0.6, 1.0, np.nan]  # merged away: never counted
    assert dead_since(steps, zero) == ({0: 20, 1: 10}, {})
    gradient_steps = np.arange(1, 31)
    gradient = np.ones((30, 3))
    gradient[12:, 0] = 0.0  # no gradient from step 13 on
    # filter 1 gives no output from step 10, yet its gradient never stops: silent, not dead
    assert dead_since(steps, zero, gradient_steps, gradient) == ({0: 13}, {1: 10})


def test_a_filter_with_a_gradient_is_called_silent_not_dead():
    """MobileNetV2's depthwise filters: zero on the probe in inference mode, gradient 8-25."""
    steps = np.array([10, 20, 30])
    zero = np.array([[1.0, 1.0, 0.2], [1.0, 1.0, 0.2], [1.0, 1.0, 0.2]])
    gradient_steps = np.arange(1, 31)
    gradient = np.full((30, 3), 12.0)
    gradient[4:, 0] = 0.0
    found = alerts(steps, np.linspace(2, 1, 3), dead={"dw": (steps, zero, gradient_steps,
                                                             gradient)})
    kinds = {a.kind: a for a in found}
    assert kinds["dead filters"].filters == (0,) and kinds["dead filters"].step == 5
    assert kinds["silent filters"].filters == (1,) and kinds["silent filters"].step == 10
    assert "inference mode" in kinds["silent filters"].text
    assert "dead" not in kinds["silent filters"].text


def test_gradient_alerts_find_an_explosion_and_a_collapse():
    steps = np.arange(1, 101)
    healthy = 1.0 + 0.1 * np.sin(steps)
    assert gradient_alerts("conv1", steps, healthy) == []
    exploding = healthy.copy()
    exploding[60:] *= 50
    found = gradient_alerts("conv1", steps, exploding)
    assert [(a.kind, a.step) for a in found] == [("exploding gradients", 61)]
    vanishing = healthy.copy()
    vanishing[40:] = 1e-6
    found = gradient_alerts("conv1", steps, vanishing)
    assert [(a.kind, a.step) for a in found] == [("vanishing gradients", 41)]


def test_gradient_alerts_equal_their_definition_step_by_step():
    """The linear-time search (a rolling minimum, medians only where a jump is possible) finds
    what the definition finds: the first step whose norm is above EXPLODE x the median of the
    WINDOW steps before, and the first of WINDOW steps in a row below VANISH x the start's
    median; noisy series with spikes, NaN, zeros and collapses."""
    from tensorviz_pv.analysis.health import EXPLODE, VANISH, WINDOW

    def by_definition(norms):
        jump = next((i for i in range(WINDOW, len(norms))
                     if np.isfinite(norms[i]) and np.median(norms[i - WINDOW:i]) > 0
                     and norms[i] > EXPLODE * np.median(norms[i - WINDOW:i])), None)
        early = np.median(norms[:WINDOW])
        low = norms < VANISH * early
        collapse = next((i for i in range(len(norms) - WINDOW + 1) if low[i:i + WINDOW].all()),
                        None) if early > 0 else None
        return jump, collapse

    rng = np.random.default_rng(5)
    checked = {"jump": 0, "collapse": 0}
    for trial in range(300):
        n = int(rng.integers(WINDOW + 1, 400))
        norms = np.exp(rng.normal(0, rng.choice([0.1, 1.0, 2.0]), n))
        for _ in range(rng.integers(0, 4)):
            at = rng.integers(0, n)
            norms[at:at + rng.integers(1, 30)] *= rng.choice([30.0, 1e-5, 0.0, np.nan])
        steps = np.arange(1, n + 1)
        jump, collapse = by_definition(norms)
        found = {a.kind: a.step for a in gradient_alerts("l", steps, norms)}
        assert found.get("exploding gradients") == (None if jump is None else steps[jump]), trial
        assert found.get("vanishing gradients") == (None if collapse is None else steps[collapse]), trial
        checked["jump"] += jump is not None
        checked["collapse"] += collapse is not None
    assert checked["jump"] > 30 and checked["collapse"] > 30  # both kinds were exercised


def test_a_loss_that_stalls_high_is_found_and_one_that_falls_is_not():
    steps = np.arange(1, 201)
    falling = 2.3 * np.exp(-steps / 60) + 0.05
    assert loss_alerts(steps, falling) == []
    stalled = np.full(200, 2.3)
    assert [a.kind for a in loss_alerts(steps, stalled)] == ["loss not falling"]
    converged = np.concatenate([2.3 * np.exp(-steps[:100] / 10), np.full(100, 0.01)])
    assert loss_alerts(steps, converged) == []  # flat, but low: done, not stalled


def test_every_alert_comes_with_its_step_and_nan_first():
    steps = np.arange(1, 101)
    loss = np.linspace(2.3, 0.5, 100)
    loss[70] = np.nan
    ratios = np.full(100, 1e-7)
    found = alerts(steps, loss, layer_ratios={"fc1": (steps, ratios)})
    assert [(a.kind, a.layer, a.step) for a in found] == [
        ("NaN/Inf", None, 71), ("update ratio", "fc1", 76)]  # the last quarter's median
    assert compact([0, 1, 2, 5, 7, 8]) == "0-2, 5, 7-8"


def test_activation_histograms_share_a_range_that_covers_every_snapshot():
    first, second = np.array([0.0, 0.5, 0.7]), np.array([[0.0, 3.0], [np.nan, 1.0]])
    counts, ranges = histograms_of([first, second], bins=8)
    assert list(ranges) == [4.0, 4.0]  # 3.0 needs a power of two of 4
    np.testing.assert_array_equal(counts[0], np.histogram(first, 8, (-4, 4))[0])
    np.testing.assert_array_equal(counts[1], np.histogram([0.0, 3.0, 1.0], 8, (-4, 4))[0])
