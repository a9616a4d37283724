"""What a tiny training leaves behind: Keras's TensorBoard callback (histogram_freq=1) against
TensorViz, side by side on the same model, data and seed.

    .venv/bin/python benchmarks/tensorboard_comparison.py [--epochs 3] [--samples 2000]

Prints, for each: the steps with weight histograms, whether gradients, updates and activations
are there and at which steps, the bytes on disk, and the time to load everything back
(TensorBoard's EventAccumulator with every event kept; TensorViz's RunReader reading every
histogram and norm).
"""

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402

from tensorviz_pv.store import format as F  # noqa: E402
from tensorviz_pv.store.reader import RunReader  # noqa: E402
from trainer.recording.callback import TensorVizCallback  # noqa: E402
from trainer.datasets import load_dataset  # noqa: E402
from trainer.model import poster_model  # noqa: E402


def size_of(folder):
    return sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(folder) for name in names)


def train(callback, data, epochs):
    keras.utils.set_random_seed(0)
    model = poster_model(data.x_train.shape[1:], 10)
    model.compile(keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(data.x_train, data.y_train, batch_size=50, epochs=epochs, callbacks=[callback],
              verbose=0)


def tensorboard_side(folder, data, epochs):
    train(keras.callbacks.TensorBoard(folder, histogram_freq=1), data, epochs)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    start = time.perf_counter()
    found = {}
    for root, _, names in os.walk(folder):
        if any(name.startswith("events") for name in names):
            events = EventAccumulator(root, size_guidance={"histograms": 0, "tensors": 0,
                                                           "scalars": 0})
            events.Reload()
            for tag in events.Tags().get("tensors", []):
                found[tag] = [e.step for e in events.Tensors(tag)]
            for tag in events.Tags().get("histograms", []):
                found[tag] = [e.step for e in events.Histograms(tag)]
    load = time.perf_counter() - start
    histograms = {tag: steps for tag, steps in found.items() if "kernel" in tag or "bias" in tag}
    steps = sorted({s for v in histograms.values() for s in v})
    gradients = [tag for tag in found if "grad" in tag.lower()]
    return {"histogram steps": steps, "histogram tags": len(histograms),
            "gradients": gradients, "bytes": size_of(folder), "load s": load}


def tensorviz_side(folder, data, epochs):
    train(TensorVizCallback(folder, probe=(data.x_test[:256], data.y_test[:256])), data, epochs)
    start = time.perf_counter()
    with RunReader(folder) as run:
        steps = set()
        for layer in run.layers:
            hist_steps, _ = run.series_all(layer, F.HISTOGRAM)
            run.series_all(layer, F.HISTOGRAM_RANGE)
            steps |= set(int(s) for s in hist_steps)
        run.norms(F.WEIGHT_NORM), run.norms(F.GRADIENT_NORM)
        activation_steps = run.series_steps(run.layers[0], F.ACTIVATION)
        layers = len(run.layers)
    load = time.perf_counter() - start
    import h5py
    health = 0
    with h5py.File(os.path.join(folder, F.STORE_FILENAME), "r", locking=False) as f:
        for layer in f[F.TENSORS_GROUP]:
            for quantity in F.HEALTH_SERIES:
                if F.series_path(layer, quantity, F.SERIES_VALUE) in f:
                    health += sum(f[F.series_path(layer, quantity, part)].id.get_storage_size()
                                  for part in (F.SERIES_STEP, F.SERIES_VALUE))
    return {"histogram steps": sorted(steps), "layers": layers, "health bytes": health,
            "activation steps": [int(s) for s in activation_steps],
            "bytes": size_of(folder), "load s": load}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    data = load_dataset("mnist-5k").limited(args.samples)
    with tempfile.TemporaryDirectory() as tb, tempfile.TemporaryDirectory() as tv:
        board = tensorboard_side(tb, data, args.epochs)
        viz = tensorviz_side(tv, data, args.epochs)
    steps = args.epochs * (args.samples // 50)
    print(f"{args.epochs} epochs of {args.samples} digits, batch 50: {steps} steps")
    print("| | TensorBoard (histogram_freq=1) | TensorViz |")
    print("|---|---|---|")
    print(f"| steps with weight histograms | {len(board['histogram steps'])} (once per epoch) "
          f"| {len(viz['histogram steps'])} (every step) |")
    print(f"| gradient histograms | {'yes' if board['gradients'] else 'none'} | every step, "
          "with the norms of every variable's gradient |")
    print("| update histograms, update ratios | none | every step |")
    print(f"| activations | none | probe activations at {len(viz['activation steps'])} steps, "
          "per-filter statistics and the Filter Atlas |")
    print(f"| bytes on disk | {board['bytes']:,} | {viz['bytes']:,} in all, of which the "
          f"histograms, ratios and filter norms {viz['health bytes']:,} |")
    print(f"| load everything | {1000 * board['load s']:.1f} ms | {1000 * viz['load s']:.1f} ms |")


if __name__ == "__main__":
    main()
