"""A model no one in this project wrote, from training to every figure: `render` and `info`
handle depthwise, separable, transposed and normalization layers under nested paths."""

import json

import keras
import numpy as np
import pytest

from conftest import tensorviz
from trainer.recording.callback import TensorVizCallback


def test_render_and_info_for_a_nested_model_of_every_convolution_kind(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    h = keras.layers.Conv2D(8, 3, padding="same", name="stem")(inputs)
    h = keras.layers.SeparableConv2D(8, 3, padding="same", name="sep")(h)
    h = keras.layers.DepthwiseConv2D(3, padding="same", name="dw")(h)
    h = keras.layers.BatchNormalization(name="bn")(h)
    block = keras.Model(inputs, h, name="block")
    outer = keras.Input((16, 16, 3))
    up = keras.layers.Conv2DTranspose(4, 3, strides=2, name="up")(block(outer))
    outputs = keras.layers.Dense(5, activation="softmax", name="head")(
        keras.layers.GlobalAveragePooling2D()(up))
    model = keras.Model(outer, outputs)
    model.compile("sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x, y = rng.random((48, 16, 16, 3), dtype=np.float32), rng.integers(0, 5, 48)
    run = tmp_path / "run"
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[TensorVizCallback(str(run))])
    summary = json.loads(tensorviz("info", run, "--json").stdout)
    assert [layer["name"] for layer in summary["layers"]] == [
        "block/stem", "block/sep", "block/dw", "block/bn", "up", "head"]
    assert [layer["kind"] for layer in summary["layers"]] == [
        "conv2d", "separable_conv2d", "depthwise_conv2d", "batch_norm", "conv2d_transpose", "dense"]
    out = tmp_path / "figures"
    tensorviz("render", run, "--out", out, "--size", "400x300")
    names = sorted(p.name for p in out.glob("*.png"))
    assert "fig4_block_stem.png" in names and "fig4_block_sep.png" in names, names
    assert {"fig2_weights.png", "fig3_norms.png", "fig3_trajectory.png", "fig5_groups.png"} <= set(names)
    from PIL import Image
    for name in names:
        image = np.asarray(Image.open(out / name).convert("RGB")).astype(int)
        coloured = (image.max(axis=-1) - image.min(axis=-1)) > 60
        assert coloured.sum() > 200, name  # something drawn, not a blank page


def volume_and_signal_model(kind):
    """A small model of Conv3D layers on volumes, or of 1-D layers (a separable and a plain
    Conv1D, BatchNormalization, LayerNormalization) on signals; (model, inputs)."""
    rng = np.random.default_rng(0)
    if kind == "conv3d":
        inputs = keras.Input((6, 8, 8, 1))
        h = keras.layers.Conv3D(4, 3, padding="same", activation="relu", name="c3a")(inputs)
        h = keras.layers.Conv3D(4, 3, activation="relu", name="c3b")(h)
        h = keras.layers.GlobalAveragePooling3D()(h)
        x = rng.random((32, 6, 8, 8, 1), dtype=np.float32)
    else:
        inputs = keras.Input((40, 2))
        h = keras.layers.SeparableConv1D(6, 3, activation="relu", name="sep1d")(inputs)
        h = keras.layers.BatchNormalization(name="bn")(h)
        h = keras.layers.Conv1D(4, 5, strides=2, activation="relu", name="c1d")(h)
        h = keras.layers.LayerNormalization(name="ln")(h)
        h = keras.layers.GlobalAveragePooling1D()(h)
        x = rng.random((32, 40, 2), dtype=np.float32)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="head")(h))
    model.compile("sgd", loss="sparse_categorical_crossentropy")
    return model, x, rng.integers(0, 3, len(x))


@pytest.mark.parametrize("kind", ["conv3d", "conv1d"])
def test_render_draws_every_figure_of_volume_and_signal_layers(tmp_path, kind):
    """Conv3D's Filter Atlas by depth slices, the Weight Trajectory of a separable layer's
    pointwise kernel: exit 0, nothing 'not drawn', every skip said in one line."""
    keras.utils.set_random_seed(0)
    model, x, y = volume_and_signal_model(kind)
    run = tmp_path / "run"
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[TensorVizCallback(str(run))])
    out = tmp_path / "figures"
    result = tensorviz("render", run, "--out", out, "--size", "400x300")
    said = result.stdout + result.stderr
    assert "not drawn" not in said and "Traceback" not in said, said
    names = {p.name for p in out.glob("*.png")}
    convs = ["c3a", "c3b"] if kind == "conv3d" else ["sep1d", "c1d"]
    assert {"fig2_weights.png", "fig3_trajectory.png", "fig5_groups.png", "fig7_distributions.png"
            } | {f"fig{n}_{layer}.png" for n in (4, 6) for layer in convs} <= names, names
    from PIL import Image
    for layer in convs:  # the atlas's patches: many grey levels, not an empty panel
        atlas = np.asarray(Image.open(out / f"fig6_{layer}.png").convert("L"))
        assert len(np.unique(atlas)) > 40, layer
