"""A fit ended by an exception from another callback (argv: RUN_DIR, the exception's kind), with
a store writer slowed down while it holds HDF5's lock: the moment the interpreter shut down
in a deadlock before (MobileNetV2 at 32x32 left so, now and then)."""

import sys
import time

import h5py
import keras
import numpy as np

from trainer.recording import TensorVizCallback
from trainer.recording.output import StoreOutput

write_tensors = StoreOutput._write_tensors


def slow_write_tensors(self, *args):
    with h5py._objects.phil:  # what a long write of a large layer looks like to shutdown
        time.sleep(0.5)
    write_tensors(self, *args)


class Raises(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 2:
            raise KeyboardInterrupt() if sys.argv[2] == "interrupt" else RuntimeError("boom")


def small_model(samples):
    """A compiled conv net and `samples` random images with labels."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, name="conv"),
                              keras.layers.Flatten(), keras.layers.Dense(3, name="head")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    return model, rng.random((samples, 8, 8, 1), dtype=np.float32), rng.integers(0, 3, samples)


if __name__ == "__main__":
    StoreOutput._write_tensors = slow_write_tensors
    model, x, y = small_model(64)
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[
        TensorVizCallback(sys.argv[1], conv_every=1, activations_every=1), Raises()])
