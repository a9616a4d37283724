"""Long series at a view's resolution: the envelope keeps every extreme, the time slider's
steps keep every snapshot."""

import numpy as np

from tensorviz_pv.analysis.decimate import envelope, listed_steps


def test_the_envelope_keeps_each_spike_and_dip_at_most_rows():
    steps = np.arange(1, 100001)
    rng = np.random.default_rng(0)
    loss = 2.0 + 0.1 * rng.random(len(steps))
    loss[[123, 77777]] = 50.0  # two one-step spikes
    loss[5000] = -3.0  # a dip
    norm = np.linspace(1.0, 2.0, len(steps))
    drawn_steps, drawn = envelope(steps, {"loss": loss, "norm": norm}, 1000)
    assert len(drawn_steps) == 1000 and set(drawn) == {"loss", "norm"}
    assert (np.diff(drawn_steps) >= 0).all() and drawn_steps[0] == 1 and drawn_steps[-1] == 100000
    assert drawn["loss"].max() == 50.0 and drawn["loss"].min() == -3.0
    # each spike in its own run of steps: the run's high row is 50, at a step near the spike's
    highs = drawn_steps[1::2][drawn["loss"][1::2] == 50.0]
    assert len(highs) == 2 and abs(highs[0] - 124) < 200 and abs(highs[1] - 77778) < 200
    # each run's pair brackets the run's true values
    runs = np.split(norm, np.searchsorted(steps, drawn_steps[0::2][1:]))
    np.testing.assert_allclose(drawn["norm"][0::2], [r.min() for r in runs])
    np.testing.assert_allclose(drawn["norm"][1::2], [r.max() for r in runs])


def test_short_tables_nan_and_zero_rows_mean_every_step():
    steps = np.arange(10)
    values = {"a": np.arange(10.0)}
    same_steps, same = envelope(steps, values, 100)
    assert same_steps is steps and same["a"] is values["a"]
    assert len(envelope(steps, values, 0)[0]) == 10
    nan = np.full(20, np.nan)
    nan[3] = 1.0
    drawn_steps, drawn = envelope(np.arange(20), {"accuracy": nan}, 4)
    assert drawn["accuracy"][:2].tolist() == [1.0, 1.0] and np.isnan(drawn["accuracy"][2:]).all()


def test_the_listed_steps_keep_every_snapshot_first_and_last():
    steps = np.arange(0, 1_000_001)
    snapshots = np.arange(0, 1_000_001, 10_000)
    listed = listed_steps(steps, np.concatenate([snapshots, [123457]]), 2000)
    assert 1900 <= len(listed) <= 2000
    assert set(snapshots) <= set(listed) and 123457 in listed
    assert listed[0] == 0 and listed[-1] == 1_000_000 and (np.diff(listed) > 0).all()
    assert listed_steps(np.arange(50), [3], 100).tolist() == list(range(50))
