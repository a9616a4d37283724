"""Where TensorViz's per-step recording cost goes, on the poster's network: the steady-state time
per training step with each part of the recording hooks switched on in turn, against plain fit,
and the memory-bandwidth floor of exact norms (one read of every weight and gradient).

    .venv/bin/python benchmarks/step_profile.py [--reps 5] [--samples 4000] [--batch-size 50]

Arms (interleaved in each repetition, medians compared as ratios to plain fit):
  plain        model.fit alone
  norms        the hooks' ring row: batch metrics, learning rate, every weight's and gradient's
               L2 norm (no health, no gradient copies)
  + copies     and the copies of the convolutions' gradients (read at snapshot steps)
  + health     and the health pass (histograms, update ratios, filter norms): all the hooks
  callback     TensorVizCallback as `tensorviz train` uses it (snapshots, probe, atlas, writes)
The floor: the time numpy and TensorFlow take to sum the squares of every trainable weight and
gradient once (what exact norms must read at least, unless fused into the optimizer's pass).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from recording_overhead import StepClock  # noqa: E402
from trainer.recording.callback import TensorVizCallback  # noqa: E402
from trainer.datasets import load_dataset  # noqa: E402
from trainer.recording.health_pass import HealthPass, LayerHealth  # noqa: E402
from trainer.recording.layers import find_layers, variable_names  # noqa: E402
from trainer.model import poster_model  # noqa: E402
from trainer.recording.hooks import RecordingHooks  # noqa: E402
from tensorviz_pv.store import format as F  # noqa: E402

ARMS = ["plain", "norms", "+ copies", "+ health", "callback"]
EPOCHS = 2


def hooks_for(model, arm):
    layers, _ = find_layers(model)
    copies = [v.path for layer in layers for v in layer.gradients()] if arm != "norms" else ()
    health = None
    if arm == "+ health":
        health = HealthPass([LayerHealth(layer.path, layer.variables[layer.kind.weights],
                                         F.quantity_layout(layer.kind, layer.kind.weights))
                             for layer in layers if layer.kind.weights in layer.variables])
    return RecordingHooks(model, variable_names(model, layers), gradient_copies=copies,
                          health=health)


def one_fit(arm, data, batch_size, workdir, rep):
    keras.utils.set_random_seed(0)
    model = poster_model(data.x_train.shape[1:], data.classes)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.build((None,) + data.x_train.shape[1:])
    callbacks = []
    if arm == "callback":
        run_dir = os.path.join(workdir, f"run-{rep}")
        callbacks.append(TensorVizCallback(run_dir, probe=(data.x_test, data.y_test),
                                           test_data=(data.x_test, data.y_test)))
    elif arm != "plain":
        model(data.x_train[:1])  # built: the hooks need its variables
        hooks_for(model, arm)
    clock = StepClock(EPOCHS - 1)
    model.fit(data.x_train, data.y_train, batch_size=batch_size, epochs=EPOCHS,
              callbacks=callbacks + [clock], verbose=0)
    return clock.per_step


def floor(model):
    """Seconds to sum the squares of every trainable weight and a gradient-sized array once."""
    arrays = [v.numpy().astype(np.float32) for v in model.trainable_variables]
    tensors = [tf.constant(a) for a in arrays]
    sums = tf.function(lambda: [tf.nn.l2_loss(t) for t in tensors] * 2)
    sums()
    timings = {}
    for name, work in (("numpy", lambda: [np.dot(a.ravel(), a.ravel()) for a in arrays * 2]),
                       ("tensorflow", sums)):
        started = time.perf_counter()
        for _ in range(50):
            work()
        timings[name] = (time.perf_counter() - started) / 50
    return timings, sum(a.nbytes for a in arrays)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=50)
    args = parser.parse_args()
    data = load_dataset("mnist-5k").limited(args.samples)
    steps = {arm: [] for arm in ARMS}
    with tempfile.TemporaryDirectory() as workdir:
        one_fit("plain", data, args.batch_size, workdir, -1)  # warm caches
        for rep in range(args.reps):
            for arm in ARMS[rep % len(ARMS):] + ARMS[:rep % len(ARMS)]:  # rotate the order
                steps[arm].append(one_fit(arm, data, args.batch_size, workdir, rep))
    base = statistics.median(steps["plain"])
    print(f"poster network, batch {args.batch_size}, {args.reps} interleaved repetitions, "
          f"steady-state step of the last of {EPOCHS} epochs")
    print(f"{'arm':<10} {'ms/step':>8} {'ratio':>6}  {'added ms':>8}")
    for arm in ARMS:
        median = statistics.median(steps[arm])
        print(f"{arm:<10} {1e3 * median:8.2f} {median / base:6.3f}  {1e3 * (median - base):8.2f}")
    model = poster_model(data.x_train.shape[1:], data.classes)
    model(data.x_train[:1])
    timings, size = floor(model)
    print(f"floor: weights + gradients = 2 x {size / 1e6:.1f} MB read once: numpy "
          f"{1e3 * timings['numpy']:.2f} ms, TensorFlow l2_loss {1e3 * timings['tensorflow']:.2f} ms "
          f"({timings['tensorflow'] / base:.3f} of a plain step)")


if __name__ == "__main__":
    main()
