"""Training health as recorded, against independent computations: each histogram against
np.histogram of the snapshot at the same step, filter norms and update ratios against the
snapshots, dead fractions against the probe activations; and each alert on a run made to fail
that way, none on a healthy one."""

import json

import keras
import numpy as np
import pytest

from tensorviz_pv.analysis.health import alerts
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader
from trainer.recording.callback import TensorVizCallback
from trainer.recording.health_pass import SAMPLE_MOST

from conftest import tensorviz


def model(activation="relu", jit_compile=False):
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(6, 3, activation=activation, name="conv1")(inputs)
    x = keras.layers.Conv2DTranspose(4, 3, strides=2, activation=activation, name="up")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(300, activation="relu", name="wide")(x)  # 554,700 weights: sampled
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.SGD(0.05, momentum=0.9), loss="sparse_categorical_crossentropy",
                  jit_compile=jit_compile)
    return model


@pytest.fixture(scope="module", params=[False, True], ids=["graph", "xla"])
def recorded(tmp_path_factory, request):
    """A recorded run; under XLA too (jit_compile: Keras's default on a GPU), where the
    health pass takes its histograms by segment sums (XLA has no histogram kernel: the
    hooks' step failed to compile and training stopped)."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    # float16 values: the atlas (kept as float16) and the probe are then the same images
    x = rng.random((64, 12, 12, 1), dtype=np.float32).astype(np.float16).astype(np.float32)
    y = rng.integers(0, 3, 64)
    run_dir = tmp_path_factory.mktemp("health")
    callback = TensorVizCallback(run_dir, probe=(x[:16], y[:16]), conv_every=1, dense_every=1,
                                 activations_every=1, max_bytes_per_step=None, atlas_share=None)
    model(jit_compile=request.param).fit(x, y, batch_size=16, epochs=2, callbacks=[callback],
                                         verbose=0)
    return RunReader(str(run_dir / F.STORE_FILENAME)), (x, y)


def close_histograms(got, values, r):
    expected, _ = np.histogram(values, bins=F.HISTOGRAM_BINS, range=(-r, r))
    # float32 in the graph against float64 here: a value on a bin edge may land one bin over
    assert np.abs(got.astype(int) - expected).sum() <= 2
    assert got.sum() == len(values)


def test_histograms_equal_np_histogram_of_the_snapshots(recorded):
    run, _ = recorded
    for layer, quantity in (("conv1", F.KERNEL), ("up", F.KERNEL), ("wide", F.KERNEL),
                            ("conv1", F.KERNEL_GRADIENT), ("up", F.KERNEL_GRADIENT)):
        row = 0 if quantity == F.KERNEL else 1
        steps = run.series_steps(layer, quantity)
        hist_steps, hists = run.series_all(layer, F.HISTOGRAM)
        _, ranges = run.series_all(layer, F.HISTOGRAM_RANGE)
        assert list(hist_steps) == list(range(1, 9))
        assert (np.diff(ranges, axis=0) >= 0).all()  # ranges only grow
        for index, step in enumerate(steps):
            if step == 0:
                continue
            i = int(np.searchsorted(hist_steps, step))
            values = np.asarray(run.series_value(layer, quantity, index)).ravel()
            stride = -(-values.size // SAMPLE_MOST)
            assert (stride > 1) == (layer == "wide")
            r = ranges[i, row]
            assert r == 2.0 ** np.ceil(np.log2(r))  # a power of two...
            assert r >= np.abs(values[::stride]).max()  # ...that covers the values
            close_histograms(hists[i, row], values[::stride], r)


def test_updates_filter_norms_and_ratios_equal_the_snapshots(recorded):
    run, _ = recorded
    for layer, axes in (("conv1", (0, 1, 2)), ("up", (0, 1, 3)), ("out", (0,))):
        steps = list(run.series_steps(layer, F.KERNEL))
        kernels = [np.asarray(run.series_value(layer, F.KERNEL, i), np.float64)
                   for i in range(len(steps))]
        hist_steps, norms = run.series_all(layer, F.FILTER_NORMS)
        _, ratios = run.series_all(layer, F.UPDATE_RATIO)
        _, hists = run.series_all(layer, F.HISTOGRAM)
        _, ranges = run.series_all(layer, F.HISTOGRAM_RANGE)
        for step in range(2, 9):
            i, before = list(hist_steps).index(step), kernels[steps.index(step - 1)]
            after = kernels[steps.index(step)]
            np.testing.assert_allclose(norms[i, 0], np.sqrt((after ** 2).sum(axis=axes)), rtol=1e-4)
            update = after - before
            np.testing.assert_allclose(ratios[i], np.linalg.norm(update) / np.linalg.norm(after),
                                       rtol=1e-3)
            close_histograms(hists[i, 2], update.ravel(), ranges[i, 2])
            if layer != "out":  # gradients of convolutions are recorded
                gradient = np.asarray(run.tensor_at(layer, F.KERNEL_GRADIENT, step)[1], np.float64)
                np.testing.assert_allclose(norms[i, 1], np.sqrt((gradient ** 2).sum(axis=axes)),
                                           rtol=1e-4)


def test_dead_fractions_equal_the_probe_activations(recorded):
    run, _ = recorded
    for layer in ("conv1", "up"):
        steps, stats = run.series_all(layer, F.ACTIVATION_STATS)
        assert list(steps) == list(run.series_steps(layer, F.ACTIVATION))
        for i in range(len(steps)):
            activation = np.asarray(run.series_value(layer, F.ACTIVATION, i), np.float64)
            flat = activation.reshape(-1, activation.shape[-1])  # the atlas is the probe here
            np.testing.assert_allclose(stats[i, 0], flat.mean(axis=0), rtol=1e-4, atol=1e-7)
            np.testing.assert_allclose(stats[i, 1], flat.std(axis=0), rtol=1e-3, atol=1e-6)
            np.testing.assert_allclose(stats[i, 2], (flat == 0).mean(axis=0), atol=1e-6)
            assert np.isnan(stats[i, 3]).all()  # ReLU: nothing saturates


@pytest.mark.parametrize("lr, expected", [
    (2.0, {"dead filters", "loss not falling", "vanishing gradients"}),  # the ReLUs die
    (1e-5, {"update ratio", "loss not falling"}),  # barely moves
])
def test_a_run_made_to_fail_raises_its_alert(tmp_path, lr, expected):
    run_dir = tmp_path / "run"
    result = tensorviz("train", run_dir, "--max-samples", 4000, "--epochs", 2, "--batch-size",
                       50, "--lr", lr)  # 160 steps: a collapse shows for 20 steps in a row
    assert "alert" in result.stderr
    with RunReader(str(run_dir)) as run:
        found = alerts(**run.health_inputs())
    assert expected <= {a.kind for a in found}, found
    if lr == 2.0:
        dead = [a for a in found if a.kind == "dead filters" and a.layer == "conv1"][0]
        assert dead.step <= 25  # "the ReLUs die within 25 steps"
        info = tensorviz("info", run_dir).stdout
        assert "dead filters, conv1" in info
        summary = json.loads(tensorviz("info", run_dir, "--json").stdout)
        assert summary["alerts"] == [a.as_dict() for a in found]  # the same list, as JSON


def test_a_healthy_run_raises_none(tmp_path):
    run_dir = tmp_path / "run"
    result = tensorviz("train", run_dir, "--max-samples", 2000, "--epochs", 2, "--batch-size", 50)
    assert "alert" not in result.stderr
    with RunReader(str(run_dir)) as run:
        assert alerts(**run.health_inputs()) == []


def test_a_diverging_run_raises_exploding_gradients_and_nan(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 8)).astype(np.float32) * 10
    y = x @ rng.normal(size=(8, 1)).astype(np.float32)
    inputs = keras.Input((8,))
    regression = keras.Model(inputs, keras.layers.Dense(1, name="linear")(inputs))
    # 1.5x 2 / (the largest eigenvalue, 258): the error doubles every step
    regression.compile(keras.optimizers.SGD(0.0116), loss="mse")
    callback = TensorVizCallback(tmp_path, max_bytes_per_step=None)
    regression.fit(x, y, batch_size=8, epochs=3, callbacks=[callback], verbose=0)
    with RunReader(str(tmp_path / F.STORE_FILENAME)) as run:
        found = {a.kind: a for a in alerts(**run.health_inputs())}
    assert {"exploding gradients", "NaN/Inf"} <= set(found), found
    assert found["exploding gradients"].step < found["NaN/Inf"].step


def test_health_every_n_steps_records_the_mean_update_over_them(tmp_path):
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x, y = rng.random((64, 12, 12, 1), dtype=np.float32), rng.integers(0, 3, 64)
    callback = TensorVizCallback(tmp_path, conv_every=1, max_bytes_per_step=None, health_every=2)
    model().fit(x, y, batch_size=16, epochs=2, callbacks=[callback], verbose=0)
    with RunReader(str(tmp_path / F.STORE_FILENAME)) as run:
        steps, ratios = run.series_all("conv1", F.UPDATE_RATIO)
        assert list(steps) == [2, 4, 6, 8]
        kernel = {int(s): np.asarray(run.series_value("conv1", F.KERNEL, i), np.float64)
                  for i, s in enumerate(run.series_steps("conv1", F.KERNEL))}
        for step, ratio in zip(steps[1:], ratios[1:]):  # step 2's "previous" is step 0's
            mean_update = (kernel[step] - kernel[step - 2]) / 2
            np.testing.assert_allclose(ratio, np.linalg.norm(mean_update)
                                       / np.linalg.norm(kernel[step]), rtol=1e-3)


@pytest.mark.parametrize("xla", [False, True], ids=["graph", "xla"])
def test_health_pass_leaves_nan_and_inf_out_of_each_layers_histogram(xla):
    """The pass measures every layer in one vector: each layer's histograms, ranges and norms
    must still be its own, and a NaN or Inf of one layer's gradient must leave its histogram
    (the norms report it) and touch no other layer's."""
    import tensorflow as tf
    from trainer.recording.health_pass import HealthPass, LayerHealth

    rng = np.random.default_rng(5)
    shapes = {"conv": ((3, 3, 2, 5), "conv"), "wide": ((90, 70), "dense"),  # 6,300: sampled
              "norm": ((7,), "vector")}
    variables = {name: keras.Variable(rng.normal(size=shape).astype(np.float32) * (i + 1),
                                      name=name)
                 for i, (name, (shape, _)) in enumerate(shapes.items())}
    parts = [LayerHealth(name, variables[name], layout) for name, (_, layout) in shapes.items()]
    health = HealthPass(parts, xla=xla)
    before = {name: v.numpy() for name, v in variables.items()}
    grads = {name: rng.normal(size=v.shape).astype(np.float32) * 0.01 * (i + 1)
             for i, (name, v) in enumerate(variables.items())}
    grads["conv"].flat[[3, 40]] = [np.nan, np.inf]
    for name, v in variables.items():
        v.assign(before[name] - grads[name] if name != "conv" else before[name] * 1.5)
    row = tf.function(lambda g: health.row(g, tf.constant(0, tf.int64)), jit_compile=xla)(
        {v.path: tf.constant(grads[name]) for name, v in variables.items()}).numpy()
    found = health.split(row)

    def sample(part, value):
        return value.reshape(-1)[::part.stride].astype(np.float64)

    for part in parts:
        name = part.path
        values = [sample(part, variables[name].numpy()), sample(part, grads[name]),
                  sample(part, variables[name].numpy() - before[name])]
        r = found[name][F.HISTOGRAM_RANGE]
        for q, value in enumerate(values):
            finite = value[np.isfinite(value)]
            assert r[q] == 2.0 ** np.ceil(np.log2(np.abs(finite).max()))  # the power of two
            close_histograms(found[name][F.HISTOGRAM][q], finite, r[q])
        assert found[name][F.HISTOGRAM][1].sum() == len(values[1]) - (2 if name == "conv" else 0)
        assert found[name][F.UPDATE_RATIO] == pytest.approx(
            np.linalg.norm(values[2]) / np.linalg.norm(values[0]), rel=1e-5)
        if part.filters:
            weights, gradient = found[name][F.FILTER_NORMS]
            layout = variables[name].numpy().reshape(-1, part.filters)
            np.testing.assert_allclose(weights, np.linalg.norm(layout, axis=0), rtol=1e-5)
            if name != "conv":
                np.testing.assert_allclose(gradient, np.linalg.norm(
                    grads[name].reshape(-1, part.filters), axis=0), rtol=1e-5)
