"""Model families this project did not write, trained with the callback as a new user would:
for each, the layers recorded, the recorded per-step loss against Keras's own batch values, and
`tensorviz render` of the run (figures written, lines it says). The closing table of issue 21.

    .venv/bin/python benchmarks/model_families.py [--out DIR] [--only NAME,...] [--no-render]

Each family trains 2 epochs of a few steps on random data (cost does not depend on content).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests", "trainer")]

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tensorviz_pv.store import format as F  # noqa: E402
from tensorviz_pv.store.reader import RunReader  # noqa: E402
from test_model_families import KerasBatchLogs, Subclassed, data, every_kind_model  # noqa: E402
from test_own_train_steps import BatchLogs, OwnStep  # noqa: E402
from trainer.recording import TensorVizCallback  # noqa: E402

L = keras.layers


def sequential(shape, *layers):
    return keras.Sequential([keras.Input(shape), *layers])


def keras_io_convnet():  # keras.io/examples/vision/mnist_convnet
    return sequential((28, 28, 1), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(),
                      L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(), L.Flatten(),
                      L.Dropout(0.5), L.Dense(10, activation="softmax"))


def bn_pooling():
    return sequential((32, 32, 3), L.Conv2D(16, 3, padding="same"), L.BatchNormalization(),
                      L.ReLU(), L.MaxPooling2D(), L.Conv2D(32, 3, padding="same"),
                      L.BatchNormalization(), L.ReLU(), L.GlobalAveragePooling2D(),
                      L.Dense(10, activation="softmax"))


def residual_separable():
    inputs = keras.Input((16, 16, 3))
    x = L.Conv2D(16, 3, padding="same", name="stem")(inputs)
    for i in range(2):
        y = L.SeparableConv2D(16, 3, padding="same", activation="relu", name=f"sep{i}")(x)
        y = L.DepthwiseConv2D(3, padding="same", name=f"dw{i}")(y)
        y = L.BatchNormalization(name=f"bn{i}")(y)
        x = L.Add()([x, y])
    return keras.Model(inputs, L.Dense(10, activation="softmax")(L.GlobalAveragePooling2D()(x)))


def autoencoder():
    inputs = keras.Input((16, 16, 1))
    x = L.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="down")(inputs)
    x = L.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu", name="up")(x)
    return keras.Model(inputs, L.Conv2D(1, 3, padding="same", name="out")(x))


def nested_backbone():
    backbone = sequential((16, 16, 3), L.Conv2D(8, 3, name="c1"), L.BatchNormalization(name="bn"),
                          L.Conv2D(8, 3, name="c2"))
    inputs = keras.Input((16, 16, 3))
    return keras.Model(inputs, L.Dense(10, activation="softmax", name="head")(
        L.GlobalAveragePooling2D()(backbone(inputs))))


def application(name):
    return lambda: getattr(keras.applications, name)(input_shape=(32, 32, 3), weights=None,
                                                     classes=10)


# name: (build, input shape, classes; None: the input itself is the target), compile options
FAMILIES = {
    "keras.io convnet": (keras_io_convnet, (28, 28, 1), 10, {}),
    "BatchNorm + pooling on tf.data": (bn_pooling, (32, 32, 3), 10, {"tf_data": True}),
    "MobileNetV2 32x32": (application("MobileNetV2"), (32, 32, 3), 10, {}),
    "ResNet50 32x32": (application("ResNet50"), (32, 32, 3), 10, {}),
    "EfficientNetB0 32x32": (application("EfficientNetB0"), (32, 32, 3), 10, {}),
    "residual separable + depthwise": (residual_separable, (16, 16, 3), 10, {}),
    "every conv kind (nested block)": (every_kind_model, (12, 12, 3), 3, {}),
    "Conv1D": (lambda: sequential((20, 2), L.Conv1D(5, 4, name="c1"), L.Flatten(),
                                  L.Dense(3, activation="softmax")), (20, 2), 3, {}),
    "Conv3D": (lambda: sequential((5, 6, 6, 1), L.Conv3D(4, 3, name="c3"),
                                  L.GlobalAveragePooling3D(), L.Dense(3, activation="softmax")),
               (5, 6, 6, 1), 3, {}),
    "mixed_float16": (lambda: sequential((16, 16, 1), L.Conv2D(8, 3, activation="relu"),
                                         L.Flatten(), L.Dense(3),
                                         L.Activation("softmax", dtype="float32")),
                      (16, 16, 1), 3, {"policy": "mixed_float16"}),
    "Conv2DTranspose autoencoder": (autoencoder, (16, 16, 1), None, {"loss": "mse"}),
    "nested backbone": (nested_backbone, (16, 16, 3), 10, {}),
    "subclassed with own metrics (built lazily)": (Subclassed, (8, 8, 3), 3, {"own_step": True}),
    "subclassed returning its own loss": (lambda: OwnStep(lambda loss: {"loss": loss}), (8, 8, 3),
                                         3, {"own_step": True, "raw_logs": True}),
}


def train(name, run_dir):
    build, shape, classes, options = FAMILIES[name]
    keras.mixed_precision.set_global_policy(options.get("policy", "float32"))
    keras.utils.set_random_seed(0)
    try:
        model = build()
        x, y = data(shape, classes or 2, n=64)
        if classes is None:
            y = x
        if options.get("own_step"):
            model.compile(optimizer=keras.optimizers.SGD(0.05))
        else:
            model.compile(optimizer=keras.optimizers.SGD(0.05),
                          loss=options.get("loss", "sparse_categorical_crossentropy"),
                          metrics=[] if classes is None else ["accuracy"])
        logs = BatchLogs() if options.get("raw_logs") else KerasBatchLogs()
        source = tf.data.Dataset.from_tensor_slices((x, y)).batch(16) \
            if options.get("tf_data") else x
        started = time.perf_counter()
        model.fit(source, None if options.get("tf_data") else y, batch_size=None
                  if options.get("tf_data") else 16, epochs=2, verbose=0, shuffle=False,
                  callbacks=[TensorVizCallback(run_dir), logs])
        seconds = time.perf_counter() - started
    finally:
        keras.mixed_precision.set_global_policy("float32")
    keras_losses = np.array([entry["loss"] for entry in logs.logs]) if options.get("raw_logs") \
        else logs.batch_values("loss")
    with RunReader(run_dir) as run:
        table = run.step_table()
        recorded = table[F.LOSS]
        expected = keras_losses[table[F.STEP] - 1]
        with_weights = sum(len(layer.weights) > 0 and not layer._layers
                           for layer in model._flatten_layers(include_self=False)
                           if not isinstance(layer, keras.Model))
        return {"family": name, "layers recorded": len(run.layers),
                "layers with weights": with_weights, "steps": len(recorded),
                "loss: largest difference from Keras's": f"{np.max(np.abs(recorded - expected)):.1e}",
                "loss from": run.info["recording"]["loss"], "fit s": round(seconds, 1)}


def render(run_dir, out):
    started = time.perf_counter()
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "tensorviz"), "render",
                           run_dir, "--out", out], capture_output=True, text=True)
    pngs = [f for f in os.listdir(out) if f.endswith(".png")] if os.path.isdir(out) else []
    said = [line for line in (done.stdout + done.stderr).splitlines()
            if "skip" in line.lower() or "error" in line.lower() or "cannot" in line.lower()]
    return {"render exit": done.returncode, "figures": len(pngs),
            "render s": round(time.perf_counter() - started, 1), "render said": said[:3]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None, help="keep the runs and figures here")
    parser.add_argument("--only", default="", help="comma-separated family names")
    parser.add_argument("--no-render", action="store_true")
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(FAMILIES)
    out = args.out or tempfile.mkdtemp(prefix="families-")
    rows = []
    for index, name in enumerate(names):
        run_dir = os.path.join(out, f"family{index}")
        row = train(name, run_dir)
        if not args.no_render:
            row.update(render(run_dir, os.path.join(out, f"figures{index}")))
        rows.append(row)
        print(json.dumps(row), flush=True)
    keys = list(rows[0])
    print("\n| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(str(row.get(k, "")) for k in keys) + " |")


if __name__ == "__main__":
    main()
