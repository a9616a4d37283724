"""Models that no one in this project wrote, recorded right: each family's numbers against an
independent computation (GradientTape, Keras's own logs, the model's weights)."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tensorviz_pv.analysis.atlas import RESPONSE
from tensorviz_pv.errors import TensorVizError
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader
from tensorviz_pv.store.summary import format_summary, run_summary
from trainer.recording import RecordingError, TensorVizCallback
from trainer.recording.layers import find_layers


def data(shape, classes, n=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n,) + shape, dtype=np.float32), rng.integers(0, classes, n)


class KerasBatchLogs(keras.callbacks.Callback):
    """Keras's logs after every batch (running means over the epoch), turned back into the
    value of each batch (equal batch sizes)."""

    def __init__(self):
        super().__init__()
        self.running = []

    def on_epoch_begin(self, epoch, logs=None):
        self.running.append([])

    def on_train_batch_end(self, batch, logs=None):
        self.running[-1].append({k: float(v) for k, v in logs.items()})

    def batch_values(self, name):
        values = []
        for epoch in self.running:
            means = np.array([logs[name] for logs in epoch])
            sums = means * np.arange(1, len(means) + 1)
            values += list(np.diff(np.concatenate([[0.0], sums])))
        return np.array(values)


def gradients(model, x, y):
    """Gradients of the compiled loss on one batch, as an independent GradientTape sees them."""
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x, y, model(x, training=True))
    return {v.path: g.numpy() for v, g in zip(model.trainable_variables,
                                              tape.gradient(loss, model.trainable_variables))}


def compiled(model, loss="sparse_categorical_crossentropy", metrics=("accuracy",), lr=0.05):
    model.compile(keras.optimizers.SGD(lr), loss=loss, metrics=list(metrics))
    return model


class Subclassed(keras.Model):
    """A custom train step that never calls compute_loss, with metrics of its own."""

    def __init__(self):
        super().__init__()
        self.conv = keras.layers.Conv2D(4, 3, activation="relu", name="conv")
        self.norm = keras.layers.BatchNormalization(name="norm")
        self.pool = keras.layers.GlobalAveragePooling2D()
        self.head = keras.layers.Dense(3, name="head")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self.loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def call(self, x, training=False):
        return self.head(self.pool(self.norm(self.conv(x), training=training)))

    def train_step(self, batch):
        x, y = batch
        with tf.GradientTape() as tape:
            logits = self(x, training=True)
            loss = self.loss_fn(y, logits)
        self.optimizer.apply(tape.gradient(loss, self.trainable_variables), self.trainable_variables)
        self.loss_tracker.update_state(loss)
        self.accuracy.update_state(y, logits)
        return {"loss": self.loss_tracker.result(), "accuracy": self.accuracy.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy]


def test_a_subclassed_model_with_a_custom_train_step_built_by_its_first_step(tmp_path):
    keras.utils.set_random_seed(1)
    x, y = data((8, 8, 3), 3, n=64)
    model = Subclassed()
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    logs = KerasBatchLogs()
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(8).repeat()
    model.fit(dataset, steps_per_epoch=4, epochs=2, verbose=0,
              callbacks=[TensorVizCallback(str(tmp_path / "run")), logs])
    with RunReader(str(tmp_path / "run")) as run:
        assert run.layers == ["conv", "norm", "head"]
        table = run.step_table()
        np.testing.assert_array_equal(table[F.STEP], np.arange(2, 9))  # built during step 1
        np.testing.assert_allclose(table[F.LOSS], logs.batch_values("loss")[1:], rtol=1e-4)
        np.testing.assert_allclose(table[F.ACCURACY], logs.batch_values("accuracy")[1:], atol=1e-5)
        assert run.series_steps("conv", F.KERNEL)[0] == 1
        np.testing.assert_allclose(run.tensor_at("head", F.KERNEL, 8)[1],
                                   model.head.kernel.numpy(), rtol=1e-6)
        assert set(run.series_names("norm")) == {"gamma", "beta", "moving_mean", "moving_variance",
                                                 F.HISTOGRAM, F.HISTOGRAM_RANGE, F.UPDATE_RATIO}
        # the default probe: the first recorded batch (step 2's: the model was built by step 1)
        np.testing.assert_array_equal(run.probe()[0], x[8:16])
        np.testing.assert_array_equal(run.probe()[1], y[8:16])
        # and the Filter Atlas of that batch: the conv's strongest images under its weights
        atlas = run.tensor_at("conv", F.ATLAS, 8)[1]
        peak = np.asarray(model.conv(run.atlas()[0])).reshape(8, -1, atlas.shape[-1]).max(axis=1)
        np.testing.assert_allclose(atlas[RESPONSE, 0], peak.max(axis=0), rtol=1e-5)
    note = run_summary(str(tmp_path / "run"))["recording"]
    assert note["first_step"] == 1 and "does not call compute_loss" in note["loss"]
    assert "train_step" not in model.__dict__  # the hooks are gone


def test_two_outputs_each_loss_and_accuracy_as_keras_computes_them(tmp_path):
    keras.utils.set_random_seed(2)
    inputs = keras.Input((8, 8, 1))
    h = keras.layers.Flatten()(keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs))
    model = keras.Model(inputs, {"cls": keras.layers.Dense(3, activation="softmax", name="cls")(h),
                                 "bin": keras.layers.Dense(1, name="bin")(h)})
    model.compile("sgd", loss={"cls": "categorical_crossentropy",
                               "bin": keras.losses.BinaryCrossentropy(from_logits=True)},
                  metrics={"cls": ["accuracy"], "bin": [keras.metrics.BinaryAccuracy(threshold=0.0)]})
    x, classes = data((8, 8, 1), 3, n=48)
    y = {"cls": keras.utils.to_categorical(classes, 3),
         "bin": np.random.default_rng(1).integers(0, 2, (48, 1)).astype("float32")}
    logs = KerasBatchLogs()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False,
              callbacks=[TensorVizCallback(str(tmp_path / "run"), probe=(x, y)), logs])
    with RunReader(str(tmp_path / "run")) as run:
        names, values = run.metrics()
        assert set(names) == {"loss", "cls_loss", "bin_loss", "cls_accuracy", "bin_binary_accuracy"}
        for index, name in enumerate(names):
            np.testing.assert_allclose(values[:, index], logs.batch_values(name), rtol=1e-4,
                                       atol=1e-6, err_msg=name)
        np.testing.assert_allclose(run.step_table()[F.LOSS], logs.batch_values("loss"), rtol=1e-5)
        np.testing.assert_array_equal(run.probe()[1], classes[:16])  # one-hot -> class ids


@pytest.mark.parametrize("loss,metric,labels", [
    ("sparse_categorical_crossentropy", "accuracy", "sparse"),
    ("categorical_crossentropy", "accuracy", "one-hot"),
    (keras.losses.BinaryCrossentropy(from_logits=True), keras.metrics.BinaryAccuracy(threshold=0.0),
     "binary"),
])
def test_the_step_accuracy_is_the_compiled_metric(tmp_path, loss, metric, labels):
    keras.utils.set_random_seed(3)
    x, classes = data((6, 6, 1), 3, n=48)
    units, y = {"sparse": (3, classes), "one-hot": (3, keras.utils.to_categorical(classes, 3)),
                "binary": (1, (classes[:, None] > 0).astype("float32"))}[labels]
    model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(3, 3, name="conv"),
                              keras.layers.Flatten(),
                              keras.layers.Dense(units, activation=None if units == 1 else "softmax")])
    compiled(model, loss, [metric], lr=0.2)
    logs = KerasBatchLogs()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False,
              callbacks=[TensorVizCallback(str(tmp_path / "run"), probe=(x, y)), logs])
    name = [k for k in logs.running[0][0] if k != "loss"][0]
    with RunReader(str(tmp_path / "run")) as run:
        np.testing.assert_allclose(run.step_table()[F.ACCURACY], logs.batch_values(name), atol=1e-6)
        assert run.probe()[1].dtype == np.int64 and run.probe()[1].ndim == 1


def every_kind_model():
    inputs = keras.Input((12, 12, 3))
    stem = keras.layers.Conv2D(6, 3, padding="same", name="stem")(inputs)
    separable = keras.layers.SeparableConv2D(6, 3, padding="same", name="sep")(stem)
    depthwise = keras.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="dw")(separable)
    merged = keras.layers.Concatenate()([stem, depthwise])
    up = keras.layers.Conv2DTranspose(4, 3, strides=2, name="up")(merged)
    normed = keras.layers.LayerNormalization(name="ln")(up)
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(
        keras.layers.GlobalAveragePooling2D()(normed))
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("build,shape", [
    (every_kind_model, (12, 12, 3)),
    (lambda: keras.Sequential([keras.Input((20, 2)), keras.layers.Conv1D(5, 4, name="c1"),
                               keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")]),
     (20, 2)),
    (lambda: keras.Sequential([keras.Input((5, 6, 6, 1)), keras.layers.Conv3D(4, 3, name="c3"),
                               keras.layers.GlobalAveragePooling3D(),
                               keras.layers.Dense(3, activation="softmax")]), (5, 6, 6, 1)),
])
def test_every_convolution_kind_with_its_gradients_and_activations(tmp_path, build, shape):
    keras.utils.set_random_seed(4)
    model = compiled(build())
    x, y = data(shape, 3)
    expected = gradients(model, x[:16], y[:16])
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False, callbacks=[
        TensorVizCallback(str(tmp_path / "run"), probe=(x, y), conv_every=1)])
    recorded, _ = find_layers(model)
    with RunReader(str(tmp_path / "run")) as run:
        assert run.layers == [layer.path for layer in recorded]
        for layer in recorded:
            for name, variable in layer.variables.items():  # the last snapshot: the weights now
                np.testing.assert_allclose(run.tensor_at(layer.path, name, 2)[1], variable.numpy(),
                                           rtol=1e-5, atol=1e-7, err_msg=f"{layer.path}/{name}")
            if layer.spatial:
                for variable in layer.layer.trainable_weights:  # step 1's gradient
                    step, value = run.tensor_at(layer.path, F.gradient_of(variable.name), 1)
                    assert step == 1
                    np.testing.assert_allclose(value, expected[variable.path], rtol=1e-4, atol=1e-6)
                activation = run.tensor_at(layer.path, F.ACTIVATION, 0)[1]
                assert activation.shape[0] == 16 and activation.shape[-1] == layer.layer.output.shape[-1]


def test_a_nested_backbone_is_recorded_layer_by_layer_under_its_path(tmp_path):
    keras.utils.set_random_seed(5)
    backbone = keras.Sequential([keras.Input((10, 10, 3)), keras.layers.Conv2D(4, 3, name="c1"),
                                 keras.layers.BatchNormalization(name="bn"),
                                 keras.layers.Conv2D(5, 3, name="c2")], name="backbone")
    inputs = keras.Input((10, 10, 3))
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(
        keras.layers.GlobalAveragePooling2D()(backbone(inputs)))
    model = compiled(keras.Model(inputs, outputs))
    x, y = data((10, 10, 3), 3)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0,
              callbacks=[TensorVizCallback(str(tmp_path / "run"), probe=(x, y))])
    with RunReader(str(tmp_path / "run")) as run:
        assert run.layers == ["backbone/c1", "backbone/bn", "backbone/c2", "head"]
        np.testing.assert_allclose(run.tensor_at("backbone/c2", F.KERNEL, 2)[1],
                                   backbone.get_layer("c2").kernel.numpy(), rtol=1e-6)
        # the inner layer's activations, from a pass through the backbone alone
        inner = keras.Model(backbone.inputs, backbone.get_layer("c2").output)
        np.testing.assert_allclose(run.tensor_at("backbone/c2", F.ACTIVATION, 2)[1],
                                   inner(x[:16], training=False).numpy(), rtol=1e-4, atol=1e-5)
        columns = [run.variables.index(f"backbone/c1/{name}") for name in ("kernel", "bias")]
        assert len(columns) == 2


def test_mixed_precision_gradients_are_recorded_without_the_loss_scale(tmp_path):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        keras.utils.set_random_seed(6)
        model = compiled(keras.Sequential([
            keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.Flatten(), keras.layers.Dense(3),
            keras.layers.Activation("softmax", dtype="float32")]))
        x, y = data((8, 8, 1), 3)
        expected = gradients(model, x[:16], y[:16])
        model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False,
                  callbacks=[TensorVizCallback(str(tmp_path / "run"), probe=(x, y), conv_every=1)])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    with RunReader(str(tmp_path / "run")) as run:
        assert len(run.step_table()[F.STEP]) == 4  # no step mistaken for a NaN
        norms = run.norms(F.GRADIENT_NORM)[0]
        np.testing.assert_allclose(norms, [np.linalg.norm(expected[v.path])
                                           for v in model.trainable_variables], rtol=1e-3)
        np.testing.assert_allclose(run.tensor_at("conv", F.KERNEL_GRADIENT, 1)[1],
                                   expected[model.get_layer("conv").kernel.path], rtol=1e-3, atol=1e-5)


def test_mobilenet_v2_every_layer_recorded_within_the_budget(tmp_path):
    keras.utils.set_random_seed(7)
    model = compiled(keras.applications.MobileNetV2(input_shape=(32, 32, 3), weights=None, classes=10))
    x, y = data((32, 32, 3), 10)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0,
              callbacks=[TensorVizCallback(str(tmp_path / "run"))])
    counts = {}
    for layer in model._flatten_layers(include_self=False):
        counts[type(layer).__name__] = counts.get(type(layer).__name__, 0) + 1
    summary = run_summary(str(tmp_path / "run"))
    kinds = {}
    for layer in summary["layers"]:
        kinds[layer["kind"]] = kinds.get(layer["kind"], 0) + 1
    assert kinds == {"conv2d": counts["Conv2D"], "depthwise_conv2d": counts["DepthwiseConv2D"],
                     "batch_norm": counts["BatchNormalization"], "dense": counts["Dense"]}
    assert summary["unrecorded_layers"] == []
    # `tensorviz info` lists its 105 layers by MobileNetV2's blocks, each layer in one block
    blocks = summary["layer_blocks"]
    assert [b["name"] for b in blocks][:4] == ["Conv1", "bn_Conv1", "expanded_conv", "block_1"]
    assert [b["name"] for b in blocks][-3:] == ["block_16", "Conv_1", "predictions"]
    assert sum((b["layers"] for b in blocks), []) == [layer["name"] for layer in summary["layers"]]
    assert all(name.startswith("block_13_") for name in blocks[15]["layers"])
    text = format_summary(summary).splitlines()
    assert f"layers     {len(summary['layers'])} recorded, in 21 blocks (--layers lists each)" in text
    filters = sum(layer["filters"] for layer in summary["layers"] if layer["name"].startswith("block_13_"))
    assert ["block_13", "6", "layers:", "2", "conv2d,", "3", "batch_norm,", "1", "depthwise_conv2d;",
            f"{filters:,}", "filters"] in [line.split() for line in text], text
    assert len(format_summary(summary, every_layer=True).splitlines()) > len(text) + 80
    with RunReader(str(tmp_path / "run")) as run:  # the last norms are those of the weights now
        np.testing.assert_allclose(run.norms(F.WEIGHT_NORM)[-1],
                                   [np.linalg.norm(v.numpy()) for v in model.trainable_variables],
                                   rtol=1e-5)


def test_a_second_fit_continues_the_run_and_overwrite_starts_afresh(tmp_path, caplog):
    keras.utils.set_random_seed(8)
    model = compiled(keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="c"),
                                       keras.layers.Flatten(), keras.layers.Dense(2, name="d")]))
    x, y = data((6, 6, 1), 2)
    run_dir = str(tmp_path / "run")
    callback = TensorVizCallback(run_dir)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[callback])
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[callback])
    assert "continuing after its step 2" in caplog.text  # logged: tensorviz.recording
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[TensorVizCallback(run_dir)])
    with RunReader(run_dir) as run:
        np.testing.assert_array_equal(run.step_table()[F.STEP], np.arange(1, 9))
        np.testing.assert_array_equal(run.step_table()[F.EPOCH], [0, 0, 1, 1, 2, 2, 3, 3])
    model.fit(x, y, batch_size=16, epochs=1, verbose=0,
              callbacks=[TensorVizCallback(run_dir, overwrite=True)])
    with RunReader(run_dir) as run:
        np.testing.assert_array_equal(run.step_table()[F.STEP], [1, 2])
    other = compiled(keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Flatten(),
                                       keras.layers.Dense(2, name="only")]))
    with pytest.raises(RecordingError, match="holds a run of another model"):
        other.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[TensorVizCallback(run_dir)])
    assert "train_step" not in other.__dict__


def test_bad_input_is_refused_before_training_starts(tmp_path):
    x, y = data((6, 6, 1), 2)
    nothing = compiled(keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Flatten(),
                                         keras.layers.Activation("softmax")]), metrics=())
    with pytest.raises(RecordingError, match="no layer TensorViz records"):
        nothing.fit(x, y, epochs=1, verbose=0, callbacks=[TensorVizCallback(str(tmp_path / "a"))])
    model = compiled(keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3),
                                       keras.layers.Flatten(), keras.layers.Dense(2)]))
    before = [v.numpy() for v in model.weights]
    with pytest.raises(TensorVizError, match="probe batch does not fit the model"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[
            TensorVizCallback(str(tmp_path / "b"), probe=(np.zeros((4, 5, 5, 1)), np.zeros(4)))])
    with pytest.raises(TensorVizError, match="below what every step records"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[
            TensorVizCallback(str(tmp_path / "c"), max_bytes_per_step=10)])
    for old, new in zip(before, model.weights):  # not one step was trained
        np.testing.assert_array_equal(old, new.numpy())
    assert not os.path.exists(tmp_path / "b" / F.STORE_FILENAME)


def test_a_recording_failure_stops_recording_never_the_training(tmp_path, caplog, monkeypatch):
    from tensorviz_pv.store.writer import RunWriter

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    model = compiled(keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="c"),
                                       keras.layers.Flatten(), keras.layers.Dense(2, name="d")]))
    x, y = data((6, 6, 1), 2, n=64)
    monkeypatch.setattr(RunWriter, "add_tensor", disk_full)
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0,
                        callbacks=[TensorVizCallback(str(tmp_path / "run"), conv_every=1)])
    assert len(history.history["loss"]) == 3  # all epochs trained
    assert "recording stopped" in caplog.text
    assert "train_step" not in model.__dict__ and "apply" not in model.optimizer.__dict__
    monkeypatch.undo()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)  # a plain fit afterwards works
    with RunReader(str(tmp_path / "run")) as run:  # what was written before still opens
        assert run.layers == ["c", "d"]

