"""Recording overhead: TensorViz's callback and Keras's TensorBoard callback against plain fit.

    .venv/bin/python benchmarks/recording_overhead.py [--model poster|mobilenet|resnet50]
        [--length short|full|both] [--reps 5] [--epochs 2] [--samples 4000] [--batch-size 50]

Two lengths of fit, each its own table: short (--epochs of --samples images: 160 steps by
default, where the fixed costs weigh: tracing, the atlas, the first and last snapshots,
checkpoints) and full (one epoch of 55,000 images, 1,100 steps at batch 50, as one epoch of
MNIST or Fashion-MNIST: the embedded digits repeated, which costs the same).

The "no atlas" arm is TensorViz without its Filter Atlas (atlas_size=0): the atlas's own cost.

poster: the poster's network on the embedded MNIST digits; mobilenet, resnet50: Keras's
MobileNetV2 / ResNet50 (weights=None) at 32 x 32 x 3 on random images (their content does not
change the cost). The TensorViz arm records at the default disk budget; its store's bytes per
step are printed, with the budget plan's figure for a 10,000-step run.

Same model, seed and data for every arm; the arms are interleaved in each repetition (the machine
is shared and noisy) and the medians are compared as ratios. Two figures per arm:
  step ratio   the steady-state time per training step (the budget in DESIGN.md: <= 1.05),
               from batch 10 of the last epoch to its end, measured after every callback ran
  fit ratio    the wall time of the whole fit, epoch-end work included (evaluation, checkpoints,
               TensorBoard's histograms), which weighs more on this small epoch than on 55k images
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

from tensorviz_pv.store.reader import RunReader  # noqa: E402

from trainer.recording.callback import TensorVizCallback  # noqa: E402
from trainer.checkpoints import RunCheckpoints  # noqa: E402
from trainer.datasets import load_dataset  # noqa: E402
from trainer.model import poster_model  # noqa: E402

WARMUP_BATCHES = 10
BYTES = []  # (store bytes per step, planned bytes per step, layers recorded, layers with weights)


class StepClock(keras.callbacks.Callback):
    """Steady-state seconds per step of the last epoch; placed last, it sees every callback's work."""

    def __init__(self, last_epoch, warmup=WARMUP_BATCHES):
        super().__init__()
        self.last_epoch = last_epoch
        self.warmup = warmup
        self.per_step = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch != self.last_epoch:
            return
        if batch == self.warmup:
            self.start = time.perf_counter()
        elif batch > self.warmup:
            self.per_step = (time.perf_counter() - self.start) / (batch - self.warmup)


class RandomImages:
    """Images of the applications' size, with the attributes of a trainer dataset."""

    def __init__(self, count, shape=(32, 32, 3), classes=10, seed=0):
        rng = np.random.default_rng(seed)
        self.x_train = rng.random((count,) + shape, dtype=np.float32)
        self.y_train = rng.integers(0, classes, count)
        self.x_val, self.y_val = self.x_train[:256], self.y_train[:256]
        self.x_test, self.y_test = self.x_val, self.y_val
        self.classes = classes


def build(model_name, data):
    if model_name == "poster":
        return poster_model(data.x_train.shape[1:], data.classes)
    application = {"mobilenet": "MobileNetV2", "resnet50": "ResNet50"}[model_name]
    return getattr(keras.applications, application)(input_shape=data.x_train.shape[1:],
                                                    weights=None, classes=data.classes)


def full_epoch(data, images=55_000):
    """`data` with its training images repeated to `images` (one epoch of MNIST's size)."""
    repeat = -(-images // len(data.x_train))
    full = RandomImages(1)
    full.x_train = np.concatenate([data.x_train] * repeat)[:images]
    full.y_train = np.concatenate([data.y_train] * repeat)[:images]
    full.x_val, full.y_val, full.x_test, full.y_test = data.x_val, data.y_val, data.x_test, data.y_test
    full.classes = data.classes
    return full


def one_fit(model_name, arm, data, epochs, batch_size, workdir, rep, jit_compile="auto",
            warmup=WARMUP_BATCHES):
    """(steady seconds per step, seconds of the whole fit) of one arm; jit_compile as Keras's
    compile takes it; `warmup` batches of the last epoch are left out of the step time."""
    keras.utils.set_random_seed(0)
    model = build(model_name, data)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=jit_compile)
    callbacks = []
    if arm in ("tensorviz", "no atlas"):
        run_dir = os.path.join(workdir, f"{arm}-{rep}")  # what `tensorviz train` records
        callbacks += [TensorVizCallback(run_dir, probe=(data.x_test, data.y_test),
                                        test_data=(data.x_test, data.y_test),
                                        **({"atlas_size": 0} if arm == "no atlas" else {})),
                      RunCheckpoints(run_dir)]
    elif arm == "tensorboard":
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(workdir, f"tb-{rep}"),
                                                     histogram_freq=1))
    clock = StepClock(epochs - 1, warmup)
    started = time.perf_counter()
    model.fit(data.x_train, data.y_train, batch_size=batch_size, epochs=epochs,
              validation_data=(data.x_val, data.y_val), callbacks=callbacks + [clock], verbose=0)
    elapsed = time.perf_counter() - started
    if arm == "tensorviz":
        with RunReader(run_dir) as run:
            steps = len(run.step_table()["step"])
            planned = run.info["cadence"]["expected_bytes_per_step"]
        store = os.path.getsize(os.path.join(run_dir, "run.tvz"))
        recorded = sum(len(layer.weights) > 0 for layer in model._flatten_layers(include_self=False))
        BYTES.append((store / steps, planned, len(run.layers), recorded))
    return clock.per_step, elapsed


def interleaved(arms, reps, fit):
    """{arm: [fit(arm, rep) for each repetition]}, the arms run in an order rotated at every
    repetition (the machine is shared and noisy: no arm always runs first)."""
    results = {arm: [] for arm in arms}
    for rep in range(reps):
        for arm in arms[rep % len(arms):] + arms[:rep % len(arms)]:
            results[arm].append(fit(arm, rep))
    return results


def ratios(results, base="plain"):
    """(arm, median s/step, step ratio, median fit s, fit ratio) per arm of `results` ({arm:
    [(s/step, fit s, ...)]}), against arm `base`."""
    medians = {arm: [statistics.median(r[i] for r in runs) for i in (0, 1)]
               for arm, runs in results.items()}
    base_step, base_fit = medians[base]
    return [(arm, step, step / base_step, fit, fit / base_fit)
            for arm, (step, fit) in medians.items()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=["poster", "mobilenet", "resnet50"], default="poster")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--length", choices=["short", "full", "both"], default="both")
    args = parser.parse_args()
    data = load_dataset("mnist-5k").limited(args.samples) if args.model == "poster" \
        else RandomImages(args.samples)
    lengths = {"short": (data, args.epochs), "full": (full_epoch(data), 1)}
    lengths = {name: lengths[name] for name in lengths if args.length in (name, "both")}
    arms = ["plain", "tensorviz", "no atlas", "tensorboard"]
    import importlib.util
    if importlib.util.find_spec("tensorboard") is None:
        arms.remove("tensorboard")
        print("tensorboard is not installed: its arm is skipped (pip install tensorboard)")
    runs = [(length, arm) for length in lengths for arm in arms]
    with tempfile.TemporaryDirectory() as workdir:
        one_fit(args.model, "plain", data, 1, args.batch_size, workdir, -1)  # warm caches
        results = interleaved(runs, args.reps, lambda run, rep: one_fit(
            args.model, run[1], lengths[run[0]][0], lengths[run[0]][1], args.batch_size, workdir,
            f"{run[0]}-{rep}"))
    for length, (length_data, epochs) in lengths.items():
        print(f"\n{args.model}, {length}: {args.reps} interleaved repetitions, {epochs} epoch(s) "
              f"of {len(length_data.x_train)} images, batch {args.batch_size}")
        print(f"{'arm':<12} {'ms/step':>8} {'step ratio':>11} {'fit s':>7} {'fit ratio':>10}")
        for arm, step, step_ratio, fit, fit_ratio in ratios(
                {arm: results[length, arm] for arm in arms}):
            print(f"{arm:<12} {1000 * step:8.2f} {step_ratio:11.3f} {fit:7.2f} {fit_ratio:10.3f}")

    if BYTES:
        measured, planned, layers, with_weights = BYTES[-1]
        print(f"TensorViz store: {measured:,.0f} bytes per step on this short run (its step-0 and "
              f"last snapshots dominate); the budget's plan for this run {planned:,} bytes per "
              f"step; {layers} layers recorded of {with_weights} with weights")


if __name__ == "__main__":
    main()

