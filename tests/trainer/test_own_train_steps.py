"""Custom train steps as research code writes them (GAN, contrastive): no compute_loss, no Keras
metric tracker. The loss they return is recorded as Keras's logs carry it, and only the training's
own NaN/Inf stops a training, never a value the recorder could not obtain."""

import keras
import numpy as np
import tensorflow as tf

from tensorviz_pv.analysis.health import alerts
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader
from tensorviz_pv.store.summary import run_summary
from trainer.recording import TensorVizCallback


class OwnStep(keras.Model):
    """Returns `returns(loss)` from a train step that computes its loss by itself."""

    def __init__(self, returns):
        super().__init__()
        self.conv = keras.layers.Conv2D(4, 3, activation="relu", name="conv")
        self.pool = keras.layers.GlobalAveragePooling2D()
        self.head = keras.layers.Dense(3, name="head")
        self.loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.returns = returns

    def call(self, x, training=False):
        return self.head(self.pool(self.conv(x)))

    def train_step(self, batch):
        x, y = batch
        with tf.GradientTape() as tape:
            loss = self.loss_fn(y, self(x, training=True))
        self.optimizer.apply(tape.gradient(loss, self.trainable_variables),
                             self.trainable_variables)
        return self.returns(loss)


class BatchLogs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.logs = []

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append({k: float(v) for k, v in logs.items()})


def fit(tmp_path, returns, epochs=2):
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 8, 8, 3), dtype=np.float32), rng.integers(0, 3, 64)
    model = OwnStep(returns)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    logs = BatchLogs()
    history = model.fit(x, y, batch_size=8, epochs=epochs, verbose=0,
                        callbacks=[TensorVizCallback(str(tmp_path / "run")), logs])
    return history, logs.logs


def test_the_loss_a_train_step_returns_is_recorded_and_the_training_runs_to_its_end(tmp_path):
    history, logs = fit(tmp_path, lambda loss: {"loss": loss, "twice": 2.0 * loss})
    assert len(history.history["loss"]) == 2  # not stopped after the first epoch
    with RunReader(str(tmp_path / "run")) as run:
        table = run.step_table()
        np.testing.assert_array_equal(table[F.STEP], np.arange(2, 17))  # built by step 1
        batch_losses = np.array([entry["loss"] for entry in logs])
        np.testing.assert_allclose(table[F.LOSS], batch_losses[1:], rtol=1e-6)
        assert np.isfinite(table[F.LOSS]).all()
        # a returned scalar no metric tracks is a metric column of its own
        names, values = run.metrics()
        np.testing.assert_allclose(values[:, names.index("twice")], 2.0 * batch_losses[1:],
                                   rtol=1e-6)
    summary = run_summary(str(tmp_path / "run"))
    assert "returns" in summary["recording"]["loss"]
    with RunReader(str(tmp_path / "run")) as run:
        assert not [a for a in alerts(**run.health_inputs()) if a.kind == "NaN/Inf"]


def test_a_step_that_returns_no_loss_is_never_stopped_for_it(tmp_path, caplog):
    history, _ = fit(tmp_path, lambda loss: {"objective": loss})
    assert len(history.history["objective"]) == 2
    assert "NaN/Inf" not in caplog.text and "stopping" not in caplog.text
    with RunReader(str(tmp_path / "run")) as run:
        table = run.step_table()
        assert len(table[F.STEP]) == 15 and np.isnan(table[F.LOSS]).all()
        names, values = run.metrics()
        assert np.isfinite(values[:, names.index("objective")]).all()
    summary = run_summary(str(tmp_path / "run"))
    assert summary["recording"]["loss"].startswith("not recorded")
    with RunReader(str(tmp_path / "run")) as run:
        assert not [a for a in alerts(**run.health_inputs()) if a.kind == "NaN/Inf"]


def test_the_training_s_own_nan_loss_still_stops_it(tmp_path, caplog):
    nan_from_step_5 = tf.Variable(0, dtype=tf.int64, trainable=False)

    def returns(loss):
        nan_from_step_5.assign_add(1)
        return {"loss": tf.where(nan_from_step_5 >= 5, np.nan, loss)}

    history, _ = fit(tmp_path, returns, epochs=3)
    assert len(history.history["loss"]) == 1  # stopped at the first drain after step 5
    assert "NaN/Inf at step 5" in caplog.text
