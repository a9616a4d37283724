"""What TensorVizCallback records, against independent computations."""

import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from conftest import tensorviz
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader
from trainer.recording.callback import TensorVizCallback
from trainer.checkpoints import RunCheckpoints


def tiny_model(seed=3):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(3, 3, activation="relu", name="c1")(inputs)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(4, activation="softmax", name="d1")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def tiny_data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 8, 8, 1), dtype=np.float32), rng.integers(0, 4, n)


def test_gradients_loss_and_update_match_an_independent_gradient_tape(tmp_path):
    model = tiny_model()
    x, y = tiny_data()
    w0 = [v.numpy() for v in model.trainable_variables]
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy()(y, model(x, training=True))
    grads = [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]
    accuracy = float(np.mean(np.argmax(model(x).numpy(), -1) == y))

    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0,
              callbacks=[TensorVizCallback(str(tmp_path / "run"), conv_every=1)])
    with RunReader(str(tmp_path / "run")) as run:
        table = run.step_table()
        np.testing.assert_allclose(table[F.LOSS][0], float(loss), rtol=1e-5)
        np.testing.assert_allclose(table[F.ACCURACY][0], accuracy)
        np.testing.assert_allclose(table[F.LEARNING_RATE][0], 0.1, rtol=1e-6)
        names = [v.path for v in model.trainable_variables]
        assert run.variables == names
        np.testing.assert_allclose(run.norms(F.GRADIENT_NORM)[0],
                                   [np.linalg.norm(g) for g in grads], rtol=1e-4)
        step, stored = run.tensor_at("c1", F.KERNEL_GRADIENT, 1)
        assert step == 1
        np.testing.assert_allclose(stored, grads[names.index("c1/kernel")], rtol=1e-4, atol=1e-7)
        _, kernel0 = run.tensor_at("c1", F.KERNEL, 0)
        _, kernel1 = run.tensor_at("c1", F.KERNEL, 1)
        np.testing.assert_array_equal(kernel0, w0[names.index("c1/kernel")])
        np.testing.assert_allclose(kernel1, kernel0 - 0.1 * stored, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(run.norms(F.WEIGHT_NORM)[0][names.index("c1/kernel")],
                                   np.linalg.norm(kernel1), rtol=1e-5)


def test_the_learning_rate_is_the_one_each_update_used(tmp_path):
    model = tiny_model()
    schedule = keras.optimizers.schedules.CosineDecay(0.1, decay_steps=8)
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="sparse_categorical_crossentropy")
    x, y = tiny_data(64)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0,
              callbacks=[TensorVizCallback(str(tmp_path / "run"))])
    with RunReader(str(tmp_path / "run")) as run:
        recorded = run.step_table()[F.LEARNING_RATE]
    np.testing.assert_allclose(recorded, [float(schedule(i)) for i in range(8)], rtol=1e-5, atol=1e-7)


def test_probe_activations_equal_a_forward_pass(tmp_path):
    model = tiny_model()
    x, y = tiny_data(32)
    conv = keras.Model(model.inputs[0], model.get_layer("c1").output)
    before = conv(x[:16]).numpy()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[
        TensorVizCallback(str(tmp_path / "run"), probe=(x, y), activations_every=3),
        RunCheckpoints(str(tmp_path / "run"))])
    after = conv(x[:16]).numpy()
    with RunReader(str(tmp_path / "run")) as run:
        images, labels = run.probe()
        np.testing.assert_array_equal(images, x[:16])
        np.testing.assert_array_equal(labels, y[:16])
        steps = run.series_steps("c1", F.ACTIVATION)
        np.testing.assert_array_equal(steps, [0, 3, 4, 6, 8])  # cadence and epoch ends
        np.testing.assert_allclose(run.tensor_at("c1", F.ACTIVATION, 0)[1], before, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(run.tensor_at("c1", F.ACTIVATION, 8)[1], after, rtol=1e-5, atol=1e-6)
    checkpoint = keras.models.load_model(str(tmp_path / "run" / "checkpoints" / "epoch-0002.keras"))
    np.testing.assert_allclose(checkpoint.get_layer("c1").kernel.numpy(),
                               model.get_layer("c1").kernel.numpy())


def test_nan_loss_is_recorded_and_stops_training(tmp_path):
    model = tiny_model()
    model.compile(optimizer=keras.optimizers.SGD(1e30), loss="sparse_categorical_crossentropy")
    x, y = tiny_data(64)
    model.fit(x, y, batch_size=8, epochs=3, verbose=0,
              callbacks=[TensorVizCallback(str(tmp_path / "run"))])
    with RunReader(str(tmp_path / "run")) as run:
        table = run.step_table()
        assert len(table[F.STEP]) < 24  # stopped before the 3 epochs of 8 steps
        last = np.concatenate([[table[F.LOSS][-1]], run.norms(F.WEIGHT_NORM)[-1]])
        assert not np.all(np.isfinite(last))


def test_continue_on_nan_keeps_training(tmp_path):
    model = tiny_model()
    model.compile(optimizer=keras.optimizers.SGD(1e30), loss="sparse_categorical_crossentropy")
    x, y = tiny_data(64)
    model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[
        TensorVizCallback(str(tmp_path / "run"), stop_on_nonfinite=False)])
    with RunReader(str(tmp_path / "run")) as run:
        assert len(run.step_table()[F.STEP]) == 24


def test_resume_continues_with_contiguous_steps(tmp_path):
    run_dir = tmp_path / "resumed"
    tensorviz("train", run_dir, "--max-samples", 100, "--epochs", 1, "--batch-size", 50)
    result = tensorviz("train", run_dir, "--max-samples", 100, "--epochs", 3,
                       "--batch-size", 50, "--resume")
    assert "recording into" in result.stdout
    with RunReader(str(run_dir)) as run:
        np.testing.assert_array_equal(run.step_table()[F.STEP], np.arange(1, 7))
        np.testing.assert_array_equal(run.evaluation()["epoch"], [1, 2, 3])
        np.testing.assert_array_equal(run.evaluation()["step"], [2, 4, 6])
        np.testing.assert_array_equal(run.series_steps("conv1", F.KERNEL), [0, 2, 4, 6])


def test_sigkill_leaves_a_readable_store(tmp_path):
    run_dir = tmp_path / "killed"
    command = [os.path.join(os.path.dirname(sys.executable), "tensorviz"), "train", str(run_dir),
               "--max-samples", 2000, "--epochs", 50, "--batch-size", 20]
    process = subprocess.Popen([str(c) for c in command], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    store = run_dir / F.STORE_FILENAME
    seen = 0
    deadline = time.time() + 240
    try:
        while time.time() < deadline and seen < 30:
            time.sleep(0.5)
            if store.exists():
                try:
                    with RunReader(str(store)) as live:
                        seen = live.step_count()
                except Exception:
                    pass  # the file may be in creation
        assert seen >= 30, "the trainer never got going"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    with RunReader(str(store)) as run:
        steps = run.step_table()[F.STEP]
        assert len(steps) >= seen
        np.testing.assert_array_equal(steps, np.arange(1, len(steps) + 1))
        for quantity in (F.KERNEL, F.KERNEL_GRADIENT):
            snapshots = run.series_steps("conv1", quantity)
            assert len(snapshots) >= 1
            assert run.tensor_at("conv1", quantity, snapshots[-1])[1].shape == (3, 3, 1, 16)


def test_bad_conv_filters_flag():
    result = tensorviz("train", "/tmp/never-made", "--conv-filters", "16,x", check=False)
    assert result.returncode == 2 and "--conv-filters" in result.stderr
    assert not os.path.exists("/tmp/never-made")


def test_a_sequential_model_in_user_code(tmp_path):
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((8, 8, 1)),
                              keras.layers.Conv2D(2, 3, activation="relu", name="a"),
                              keras.layers.Conv2D(3, 3, activation="relu", name="b"),
                              keras.layers.Flatten(),
                              keras.layers.Dense(4, activation="softmax", name="out")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x, y = tiny_data(32)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0,
              callbacks=[TensorVizCallback(str(tmp_path / "seq"), probe=(x, y), conv_every=2)])
    with RunReader(str(tmp_path / "seq")) as run:
        assert run.layers == ["a", "b", "out"]
        assert run.layer_info("b")["activation_shape"] == [4, 4, 3]
        np.testing.assert_array_equal(run.series_steps("b", F.KERNEL), [0, 2, 4])
        np.testing.assert_allclose(run.tensor_at("out", F.KERNEL, 4)[1],
                                   model.get_layer("out").kernel.numpy())
        np.testing.assert_allclose(run.step_table()[F.LEARNING_RATE], 0.01, rtol=1e-6)
