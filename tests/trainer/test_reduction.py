"""Filter reduction: merging keeps the network's function, the store keeps filter identities."""

import json
import os

import keras
import numpy as np

from conftest import tensorviz
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader
from trainer.model import poster_model
from trainer.reduction import fold_into_next, plan_merges, reduced_model


def small_model(seed=7):
    keras.utils.set_random_seed(seed)
    model = poster_model((12, 12, 1), 5, conv_filters=(4, 6), fc_units=16)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    return model


def rebuild(filters):
    return poster_model((12, 12, 1), 5, conv_filters=filters, fc_units=16)


def conv_outputs(model, x):
    probe = keras.Model(model.inputs[0], [model.get_layer(n).output for n in ("conv1", "conv2")])
    return [o.numpy() for o in probe(x)]


def make_identical(model, layer, copy, source):
    kernel, bias = (w.copy() for w in model.get_layer(layer).get_weights())
    kernel[..., copy], bias[copy] = kernel[..., source], bias[source]
    model.get_layer(layer).set_weights([kernel, bias])


def test_merging_identical_filters_keeps_the_output(tmp_path):
    model = small_model()
    make_identical(model, "conv1", 2, 0)   # conv1 -> pool -> conv2: a conv fold
    make_identical(model, "conv2", 5, 1)   # conv2 -> pool -> flatten -> fc1: a dense fold
    x = np.random.default_rng(0).random((8, 12, 12, 1), dtype=np.float32)
    activations = conv_outputs(model, x)
    plans = {"conv1": plan_merges(activations[0], 0.99999, 1),
             "conv2": plan_merges(activations[1], 0.99999, 1)}
    assert [(m.kept, m.removed) for m in plans["conv1"]] in ([(0, 2)], [(2, 0)])
    assert len(plans["conv2"]) == 1 and {plans["conv2"][0].kept, plans["conv2"][0].removed} == {1, 5}
    assert abs(plans["conv1"][0].scale - 1) < 1e-4 and abs(plans["conv1"][0].offset) < 1e-4
    new, kept = reduced_model(model, plans, rebuild)
    assert new.get_layer("conv1").kernel.shape[-1] == 3 and new.get_layer("conv2").kernel.shape[-1] == 5
    assert new.get_layer("conv2").kernel.shape[2] == 3 and new.get_layer("fc1").kernel.shape[0] == 3 * 3 * 5
    np.testing.assert_allclose(new.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
    assert int(new.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy())


def test_affine_related_filters_fold_exactly_into_a_dense_layer():
    rng = np.random.default_rng(1)
    a_k = np.maximum(rng.normal(size=(4, 3, 3)), 0)
    a_j = 2.0 * a_k + 0.5                            # an exact affine relation
    activation = np.stack([a_k, rng.random((4, 3, 3)), a_j], axis=-1)
    merges = plan_merges(activation, 0.999, 1)
    assert len(merges) == 1
    merge = merges[0]
    kernel, bias = rng.normal(size=(3 * 3 * 3, 2)), rng.normal(size=2)
    folded, new_bias = fold_into_next(kernel, bias, merges, 3)
    flat = activation.reshape(4, -1)
    kept = [c for c in range(3) if c != merge.removed]
    np.testing.assert_allclose(activation[..., kept].reshape(4, -1) @ folded + new_bias,
                               flat @ kernel + bias, rtol=1e-5)


def test_dead_filters_are_never_merged():
    activation = np.random.default_rng(2).random((2, 4, 4, 3))
    activation[..., 1] = 0.0
    activation[..., 2] = activation[..., 0] * 3
    merges = plan_merges(activation, 0.9, 1)
    assert [(m.kept, m.removed) for m in merges] in ([(0, 2)], [(2, 0)])


def test_min_filters_stops_merging():
    base = np.random.default_rng(3).random((2, 4, 4, 1))
    activation = np.concatenate([base * (k + 1) for k in range(5)], axis=-1)  # all r = 1
    assert len(plan_merges(activation, 0.9, 3)) == 2
    assert len(plan_merges(activation, 0.9, 1)) == 4


def test_a_reduced_run_records_lineage_and_info(tmp_path):
    run_dir = tmp_path / "reduced"
    result = tensorviz("train", run_dir, "--max-samples", 200, "--epochs", 3, "--reduce",
                       "--reduce-threshold", "0.5", "--min-filters", "6", "--conv-every", "2")
    assert "merged" in result.stdout
    summary = json.loads(tensorviz("info", run_dir, "--json").stdout)
    conv1 = summary["layers"][0]
    now = conv1["filters_now"]
    assert conv1["filters"] == 16 and 6 <= now < 16  # never below --min-filters
    assert len(summary["merges"]) == 16 - now and {m["layer"] for m in summary["merges"]} == {"conv1"}
    with RunReader(str(run_dir)) as run:
        alive = run.alive_at("conv1", summary["steps"]["last"])
        assert alive.sum() == now
        removed = sorted(m["removed"] for m in summary["merges"])
        assert sorted(np.flatnonzero(~alive)) == removed
        _, kernel = run.tensor_at("conv1", F.KERNEL, summary["steps"]["last"])
        assert np.isnan(kernel[..., ~alive]).all() and np.isfinite(kernel[..., alive]).all()
        _, conv2 = run.tensor_at("conv2", F.KERNEL, summary["steps"]["last"])
        assert np.isnan(conv2[:, :, ~alive, :]).all() and np.isfinite(conv2[:, :, alive, :]).all()
        # every step after a reduction (a new model, new hooks) recorded, none left empty
        assert (run.norms(F.WEIGHT_NORM) > 0).all() and (run.step_table()[F.LOSS] > 0).all()
        column = run.variables.index("conv1/kernel")
        last_norm = run.norms(F.WEIGHT_NORM)[-1, column]
    model = keras.models.load_model(os.path.join(run_dir, "checkpoints", "epoch-0003.keras"))
    np.testing.assert_allclose(kernel[..., alive], model.get_layer("conv1").kernel.numpy())
    np.testing.assert_allclose(last_norm, np.linalg.norm(model.get_layer("conv1").kernel.numpy()),
                               rtol=1e-5)


def test_a_reduced_run_resumes_with_its_filters(tmp_path):
    run_dir = tmp_path / "resumed"
    tensorviz("train", run_dir, "--max-samples", 100, "--epochs", 2, "--reduce",
              "--reduce-threshold", "0.5", "--min-filters", "8")
    tensorviz("train", run_dir, "--max-samples", 100, "--epochs", 3, "--resume")
    with RunReader(str(run_dir)) as run:
        np.testing.assert_array_equal(run.step_table()[F.STEP], np.arange(1, 7))
        alive = run.alive_at("conv1", 6)
        assert 8 <= alive.sum() < 16
        _, kernel = run.tensor_at("conv1", F.KERNEL, 6)
        assert np.isnan(kernel[..., ~alive]).all() and np.isfinite(kernel[..., alive]).all()
    model = keras.models.load_model(os.path.join(run_dir, "checkpoints", "epoch-0003.keras"))
    assert model.get_layer("conv1").kernel.shape[-1] == alive.sum()


def test_a_resumed_run_keeps_its_mac_target_of_the_unreduced_model(tmp_path):
    """--reduce-target is a share of the unreduced model's MACs, also on --resume (where the
    model loaded is reduced already): a run that met its target is not reduced again."""
    from trainer.surgery import count_macs
    run_dir = tmp_path / "target"
    options = ("--max-samples", 100, "--reduce", "--reduce-layers", "all", "--reduce-target",
               "0.7", "--min-filters", "2")
    tensorviz("train", run_dir, "--epochs", 2, *options)
    with RunReader(str(run_dir)) as run:
        before = int(run.alive_at("conv1", 4).sum()), int(run.alive_at("conv2", 4).sum())
    tensorviz("train", run_dir, "--epochs", 3, "--resume", *options)
    with RunReader(str(run_dir)) as run:
        after = int(run.alive_at("conv1", 6).sum()), int(run.alive_at("conv2", 6).sum())
    assert before != (16, 32) and after == before  # reduced once, to the target, and kept
    model = keras.models.load_model(os.path.join(run_dir, "checkpoints", "epoch-0003.keras"))
    original = count_macs(poster_model(model.input_shape[1:], 10, [16, 32], 1024, 0.0))
    assert count_macs(model) <= 0.7 * original
