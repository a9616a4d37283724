"""Filter surgery on functional Keras models: every channel dependency kind, checked against
the original model's own outputs (Keras computes both)."""

import keras
import numpy as np
import pytest
from keras import layers as L

from trainer.channel_graph import ChannelGraph, SurgeryError, why_not_reducible
from trainer.model import poster_model
from trainer.reduction import plan_merges, reduced_model
from trainer.reduction_plans import plan_model, plan_to_target
from trainer.surgery import count_macs, reduce_model

X = np.random.default_rng(0).random((6, 10, 10, 3), dtype=np.float32)


def outputs(model, x=X):
    return keras.ops.convert_to_numpy(model(x, training=False))


def randomize_bn(model):
    """BatchNormalization with moving statistics that are not the identity."""
    rng = np.random.default_rng(1)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.2, n),
                               rng.normal(0, 0.2, n), rng.uniform(0.5, 1.5, n)])


def edit(model, name, change):
    weights = [w.copy() for w in model.get_layer(name).get_weights()]
    change(weights)
    model.get_layer(name).set_weights(weights)


def copy_channel(weights, target, source, scale=1.0, add=0.0):
    for w in weights:
        w[..., target] = scale * w[..., source] + add


def zero_channel(weights, channel):
    for w in weights:
        w[..., channel] = 0.0


def measured(model, name):
    group = ChannelGraph(model).group_of(name)
    probe = keras.Model(model.inputs[0], group.measured)
    return keras.ops.convert_to_numpy(probe(X, training=False)), group


def with_head(inputs, x):
    """The model from `inputs` to x, global pooling and a dense head, its BN statistics set."""
    x = L.GlobalAveragePooling2D(name="gap")(x)
    model = keras.Model(inputs, L.Dense(3, name="fc")(x))
    randomize_bn(model)
    return model


def bn_chain(relu=True):
    keras.utils.set_random_seed(3)
    i = keras.Input((10, 10, 3))
    x = L.Conv2D(5, 3, padding="same", name="c1")(i)
    x = L.BatchNormalization(name="bn1")(x)
    if relu:
        x = L.ReLU(name="relu1")(x)
    x = L.MaxPooling2D(name="pool")(x)
    x = L.Conv2D(4, 3, use_bias=False, name="c2")(x)
    x = L.BatchNormalization(name="bn2")(x)
    return with_head(i, L.ReLU(name="relu2")(x))


def test_duplicate_filter_through_batch_norm_merges_exactly():
    model = bn_chain()
    edit(model, "c1", lambda w: copy_channel(w, 4, 1))
    edit(model, "bn1", lambda w: copy_channel(w, 4, 1))
    activation, group = measured(model, "c1")
    assert group.measured is model.get_layer("relu1").output and group.fold_refused == ""
    plans = {"c1": plan_merges(activation, 0.99999, 1)}
    assert {plans["c1"][0].kept, plans["c1"][0].removed} == {1, 4} and len(plans["c1"]) == 1
    new, kept, notes = reduce_model(model, plans)
    assert new.get_layer("c1").kernel.shape == (3, 3, 3, 4) and notes == {}
    assert new.get_layer("bn1").gamma.shape == (4,) and new.get_layer("c2").kernel.shape[2] == 4
    keep = kept["c1"]
    np.testing.assert_array_equal(new.get_layer("c1").kernel.numpy(),
                                  model.get_layer("c1").kernel.numpy()[..., keep])
    np.testing.assert_array_equal(new.get_layer("bn1").moving_variance.numpy(),
                                  model.get_layer("bn1").moving_variance.numpy()[keep])
    np.testing.assert_array_equal(new.get_layer("fc").kernel.numpy(),
                                  model.get_layer("fc").kernel.numpy())
    np.testing.assert_allclose(outputs(new), outputs(model), atol=1e-5)
    assert count_macs(new) < count_macs(model)


def test_an_affine_filter_folds_its_offset_into_the_next_batch_norm():
    # c1 -> BN (no ReLU) -> pool -> c2 without bias: the offset goes into bn2's moving mean
    model = bn_chain(relu=False)
    edit(model, "c1", lambda w: copy_channel(w, 3, 0))
    edit(model, "bn1", lambda w: [copy_channel(w[:2], 3, 0, 2.0), w[1].__setitem__(3, w[1][3] + 0.5),
                                  copy_channel(w[2:], 3, 0)])
    activation, group = measured(model, "c1")
    assert group.measured is model.get_layer("bn1").output
    merges = plan_merges(activation, 0.99999, 1)
    assert len(merges) == 1 and merges[0].kept == 3 and abs(merges[0].scale - 0.5) < 1e-4
    new, _, _ = reduce_model(model, {"c1": merges})
    assert not np.allclose(new.get_layer("bn2").moving_mean.numpy(),
                           model.get_layer("bn2").moving_mean.numpy())
    np.testing.assert_allclose(outputs(new), outputs(model), atol=1e-4)


def residual():
    keras.utils.set_random_seed(4)
    i = keras.Input((10, 10, 3))
    s = L.Conv2D(6, 3, padding="same", use_bias=False, name="stem")(i)
    s = L.ReLU(name="stem_relu")(L.BatchNormalization(name="stem_bn")(s))
    y = L.Conv2D(5, 3, padding="same", use_bias=False, name="a")(s)
    y = L.ReLU(name="a_relu")(L.BatchNormalization(name="a_bn")(y))
    y = L.BatchNormalization(name="b_bn")(L.Conv2D(6, 3, padding="same", use_bias=False,
                                                   name="b")(y))
    return with_head(i, L.ReLU(name="out_relu")(L.Add(name="add")([s, y])))


def test_a_residual_group_is_reduced_together():
    model = residual()
    for conv, bn in (("stem", "stem_bn"), ("b", "b_bn")):  # channel 2 is 0 everywhere
        edit(model, conv, lambda w: zero_channel(w, 2))
        edit(model, bn, lambda w: zero_channel(w[:2], 2))
    group = ChannelGraph(model).group_of("b")
    assert group.members == ["stem", "b"] and "tied by residual adds" in group.fold_refused
    new, kept, notes = reduce_model(model, {"stem": [2]})
    for name in ("stem", "b"):
        assert new.get_layer(name).kernel.shape[-1] == 5
        np.testing.assert_array_equal(kept[name], [0, 1, 3, 4, 5])
    assert new.get_layer("a").kernel.shape[2] == 5 and new.get_layer("fc").kernel.shape[0] == 5
    np.testing.assert_allclose(outputs(new), outputs(model), atol=1e-5)
    with pytest.raises(SurgeryError, match="tied by residual adds"):
        reduce_model(model, {"stem": [2], "b": [3]})


def test_merges_in_a_residual_group_are_pruned_and_said_so():
    model = residual()
    merges = plan_merges(measured(model, "stem")[0], -1.0, 4)
    _, kept, notes = reduce_model(model, {"stem": merges})
    assert len(kept["b"]) == 4 and "pruned" in notes["stem"] and "pruned" in notes["b"]


def test_concatenated_channels_fold_at_their_offset_and_flatten_feeds_dense():
    keras.utils.set_random_seed(5)
    i = keras.Input((10, 10, 3))
    p = L.Conv2D(4, 3, padding="same", activation="relu", name="p")(i)
    q = L.Conv2D(3, 3, padding="same", activation="relu", name="q")(i)
    x = L.Concatenate(name="cat")([p, q])
    x = L.Conv2D(5, 3, activation="relu", name="r")(L.MaxPooling2D(name="pool")(x))
    model = keras.Model(i, L.Dense(2, name="fc")(L.Flatten(name="flat")(x)))
    edit(model, "q", lambda w: copy_channel(w, 2, 0))
    edit(model, "r", lambda w: copy_channel(w, 4, 3))
    plans = {name: plan_merges(measured(model, name)[0], 0.99999, 1) for name in ("q", "r")}
    new, kept, _ = reduce_model(model, plans)
    assert new.get_layer("r").kernel.shape[2] == 6 and new.get_layer("fc").kernel.shape[0] == 3 * 3 * 4
    np.testing.assert_allclose(outputs(new), outputs(model), atol=1e-5)


def test_depthwise_channels_follow_their_input_and_separable_convs_reduce():
    keras.utils.set_random_seed(6)
    i = keras.Input((10, 10, 3))
    x = L.Conv2D(4, 3, padding="same", activation="relu", name="c")(i)
    x = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw")(x)
    x = L.BatchNormalization(name="dw_bn")(x)
    x = L.SeparableConv2D(5, 3, padding="same", activation="relu", name="sep")(x)
    model = keras.Model(i, L.Dense(2, name="fc")(L.GlobalAveragePooling2D(name="gap")(x)))
    randomize_bn(model)
    edit(model, "c", lambda w: zero_channel(w, 1))
    edit(model, "dw", lambda w: w[1].__setitem__(slice(2, 4), 0.0))  # dw bias of channel 1
    edit(model, "dw_bn", lambda w: zero_channel(w[:2], [2, 3]))
    edit(model, "sep", lambda w: copy_channel(w[1:], 3, 0))
    graph = ChannelGraph(model)
    assert "DepthwiseConv2D" in graph.group_of("c").fold_refused
    sep = plan_merges(measured(model, "sep")[0], 0.99999, 1)
    new, _, notes = reduce_model(model, {"c": [1], "sep": sep})
    assert new.get_layer("dw").kernel.shape == (3, 3, 3, 2) and new.get_layer("dw_bn").gamma.shape == (6,)
    assert new.get_layer("sep").depthwise_kernel.shape[2] == 6
    assert new.get_layer("sep").pointwise_kernel.shape == (1, 1, 6, 4) and "c" not in notes
    np.testing.assert_allclose(outputs(new), outputs(model), atol=1e-5)


def test_layers_that_cannot_be_reduced_are_named_with_the_reason():
    i = keras.Input((10, 10, 3))
    a = L.Conv2D(4, 3, name="into_reshape")(i)
    b = L.Conv2D(2, 3, name="an_output")(i)
    c = L.Conv2D(3, 3, name="added_to_input")(i)
    flat = L.Reshape((-1,), name="reshape")(a)
    model = keras.Model(i, [L.Dense(2, name="fc")(flat), b,
                            L.Add(name="add")([c, L.Conv2D(3, 3, name="x")(i)]),
                            L.Add(name="add_input")([L.Conv2D(3, 1, name="y")(i), i])])
    reasons = why_not_reducible(model)
    assert "'reshape' (Reshape)" in reasons["into_reshape"]
    assert "model output" in reasons["an_output"] and "model output" in reasons["x"]
    assert "no conv layer produces" in reasons["y"]
    with pytest.raises(SurgeryError, match="into_reshape.*Reshape"):
        reduce_model(model, {"into_reshape": [0]})
    with pytest.raises(SurgeryError, match="no conv layer of that name"):
        reduce_model(model, {"fc": [0]})
    sequential = keras.Sequential([keras.Input((4, 4, 1)), L.Conv2D(2, 3)])
    with pytest.raises(SurgeryError, match="functional"):
        reduce_model(sequential, {})
    chain = bn_chain()
    with pytest.raises(SurgeryError, match="removes all 5"):
        reduce_model(chain, {"c1": [0, 1, 2, 3, 4]})
    with pytest.raises(SurgeryError, match="filter 9 does not exist"):
        reduce_model(chain, {"c1": [9]})


def test_the_poster_network_reduces_the_same_through_surgery():
    keras.utils.set_random_seed(7)
    model = poster_model((12, 12, 1), 5, conv_filters=(4, 6), fc_units=16)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(2).random((8, 12, 12, 1), dtype=np.float32)
    probe = keras.Model(model.inputs[0], [model.get_layer(n).output for n in ("conv1", "conv2")])
    plans = {name: plan_merges(keras.ops.convert_to_numpy(a), -1.0, 2)
             for name, a in zip(("conv1", "conv2"), probe(x))}
    assert plans["conv1"] and plans["conv2"]
    old, old_kept = reduced_model(model, plans, lambda filters: poster_model(
        (12, 12, 1), 5, conv_filters=filters, fc_units=16))
    new, new_kept = reduced_model(model, plans)
    for name in ("conv1", "conv2", "fc1", "fc2"):
        for a, b in zip(old.get_layer(name).get_weights(), new.get_layer(name).get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(old_kept["conv1"], new_kept["conv1"])
    np.testing.assert_allclose(new.predict(x, verbose=0), old.predict(x, verbose=0), atol=1e-6)


def test_a_mac_target_takes_the_highest_threshold_that_reaches_it():
    model = bn_chain()
    target = 0.7 * count_macs(model)
    plans, groups, threshold = plan_to_target(model, X, ("all",), target, 1)
    assert count_macs(reduce_model(model, plans)[0]) <= target
    if threshold < 0.95:  # the threshold above it did not get there
        above, _ = plan_model(model, X, ("all",), round(threshold + 0.05, 2), 1)
        assert not above or count_macs(reduce_model(model, above)[0]) > target
    assert set(groups) == {"c1", "c2"}
    assert plan_to_target(model, X, ("all",), count_macs(model), 1) == ({}, {}, None)
