"""The disk budget: small layers snapshotted often, large ones rarely; the per-step records
always. Layer sizes from real models (the poster's, MobileNetV2, ResNet50), no training."""

import keras
import pytest

from tensorviz_pv.store import format as F
from trainer.config import BudgetError, parse_budget
from trainer.recording.cadence import Cadence, layer_groups, plan
from trainer.recording.health_pass import LayerHealth
from trainer.recording.layers import find_layers
from trainer.recording.store_plan import per_step_bytes, planned_series
from trainer.model import poster_model

PER_STEP = per_step_bytes(8)  # the poster network's step columns, metrics and norms


def groups_of(model, probe=16, overrides=None):
    layers, _ = find_layers(model)
    activations = {layer.path: (probe,) + tuple(layer.layer.output.shape[1:])
                   for layer in layers if layer.spatial}
    health = {layer.path: LayerHealth(layer.path, layer.variables[layer.kind.weights],
                                      F.quantity_layout(layer.kind, layer.kind.weights))
              for layer in layers if layer.kind.weights in layer.variables}
    series = planned_series(layers, activations, 0, set(), health, {})
    return layer_groups(series, {layer.path: layer.kind for layer in layers}, overrides or {})


def run_bytes(groups, per_step, steps_per_epoch, epochs):
    """What a run writes, counted snapshot by snapshot (step 0 and the last step included)."""
    total_steps = steps_per_epoch * epochs
    written = per_step * total_steps
    for group in groups.values():
        cadence = group.cadence
        steps = {0, total_steps}
        steps |= {s for s in range(1, total_steps + 1) if cadence.due(s)}
        steps |= {e * steps_per_epoch for e in range(1, epochs + 1) if cadence.due_at_epoch_end(e)}
        written += group.bytes * len(steps)
    return written


def test_the_poster_network_keeps_the_poster_cadence_on_mnist():
    groups = groups_of(poster_model((28, 28, 1), 10))
    expected = plan(list(groups.values()), PER_STEP, 100_000, steps_per_epoch=1100,
                    total_steps=16 * 1100)
    assert groups[("conv1", "weights")].cadence == Cadence(10, 1)
    assert groups[("conv2", "weights")].cadence == Cadence(10, 1)
    assert groups[("fc1", "weights")].cadence == Cadence(0, 1)  # epoch ends
    assert groups[("conv1", "activations")].cadence == Cadence(100, 1)
    assert all(groups[(name, "health")].cadence == Cadence(1, 0)  # every step
               for name in ("conv1", "conv2", "fc1", "fc2"))
    written = run_bytes(groups, PER_STEP, 1100, 16) / (16 * 1100)
    # the plan counts epoch ends apart from the snapshots they coincide with: an upper bound
    assert 0.9 * expected <= written <= expected <= 100_000


@pytest.mark.parametrize("application", ["MobileNetV2", "ResNet50"])
def test_a_large_model_stays_within_the_budget_over_ten_thousand_steps(application):
    model = getattr(keras.applications, application)(input_shape=(32, 32, 3), weights=None,
                                                    classes=10)
    groups = groups_of(model)
    per_step = per_step_bytes(len(model.trainable_variables))
    expected = plan(list(groups.values()), per_step, 100_000, steps_per_epoch=1000,
                    total_steps=10_000)
    written = run_bytes(groups, per_step, 1000, 10)
    print(f"{application}: {written / 1e9:.2f} GB per 10,000 steps ({written / 10_000:,.0f} "
          f"bytes per step, planned {expected:,})")
    assert written < 1e9 and written / 10_000 <= 100_000 * 1.02
    sizes = sorted(groups.values(), key=lambda g: g.bytes)
    small, large = sizes[0], sizes[-1]  # small layers often, large ones rarely
    assert small.cadence.rate(1000) > large.cadence.rate(1000)


def test_given_cadences_are_kept_and_a_budget_below_the_per_step_records_is_refused():
    groups = groups_of(poster_model((28, 28, 1), 10), overrides={"dense_every": 1})
    plan(list(groups.values()), PER_STEP, 100_000, steps_per_epoch=100, total_steps=1000)
    assert groups[("fc1", "weights")].cadence == Cadence(1, 1)  # the user's, over budget
    with pytest.raises(BudgetError, match="below what every step records"):
        plan(list(groups.values()), PER_STEP, PER_STEP - 1)
    assert parse_budget("100k") == 100_000 and parse_budget("2.5M") == 2_500_000
    assert parse_budget("none") is None
    with pytest.raises(BudgetError, match="give bytes per step"):
        parse_budget("lots")
