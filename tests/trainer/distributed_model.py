"""The small conv net that the distribution tests train in child processes (run from the
checkout's root: `sys.path.insert(0, "tests/trainer")`), built under a strategy's scope."""

import keras
import numpy as np


def compiled_model(strategy, samples):
    """(model, x, y): a Conv2D and a Dense layer, seeded, compiled with SGD, and `samples`
    random 8 x 8 images of 4 classes."""
    rng = np.random.default_rng(0)
    x, y = rng.random((samples, 8, 8, 1), dtype=np.float32), rng.integers(0, 4, samples)
    keras.utils.set_random_seed(1)
    with strategy.scope():
        inputs = keras.Input((8, 8, 1))
        h = keras.layers.Conv2D(3, 3, activation="relu", name="c1")(inputs)
        out = keras.layers.Dense(4, activation="softmax", name="d1")(keras.layers.Flatten()(h))
        model = keras.Model(inputs, out)
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    return model, x, y
