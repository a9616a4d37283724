"""A synthetic run store with known contents, for tests and benchmarks (no TensorFlow).

Weights follow a random walk from a seeded generator, so a test can recompute every value.
"""

import numpy as np

from . import store_format as F
from .store import RunWriter, SeriesSpec

LAYERS = [
    {"name": "conv1", "kind": F.CONV, "kernel_shape": [3, 3, 1, 4], "bias_shape": [4], "filters": 4,
     "activation_shape": [5, 5, 4]},
    {"name": "fc1", "kind": F.DENSE, "kernel_shape": [10, 3], "bias_shape": [3], "filters": 3},
]


def expected_kernel(layer, step, seed=0):
    """The kernel the synthetic run holds for `layer` at `step` (any step, snapshot or not)."""
    shape = next(entry["kernel_shape"] for entry in LAYERS if entry["name"] == layer)
    rng = np.random.default_rng([seed, step, len(layer)])
    return (0.1 * rng.standard_normal(shape) + 0.001 * step).astype(np.float32)


PROBE = 2
ACTIVATION_SHAPE = (PROBE, 5, 5, 4)


def expected_activation(step, seed=0):
    """conv1's probe activations: filter 1 = 2 x filter 0 + 0.1 (r = 1), filter 2 dead (all
    zero), filter 3 independent noise."""
    rng = np.random.default_rng([seed, step, 99])
    base = rng.random(ACTIVATION_SHAPE[:3])
    activation = np.zeros(ACTIVATION_SHAPE, dtype=np.float32)
    activation[..., 0] = base
    activation[..., 1] = 2 * base + 0.1
    activation[..., 3] = rng.random(ACTIVATION_SHAPE[:3])
    return activation


def probe_images():
    images = np.linspace(0, 1, PROBE * 28 * 28, dtype=np.float32).reshape(PROBE, 28, 28, 1)
    return images, np.arange(PROBE)


def write_synthetic_run(path, steps=30, every=10, seed=0, close=True, activations=True):
    """Steps 1..steps in the tables; kernels of every layer (and conv1's probe activations)
    at 0, every `every`, and the last."""
    info = {"layers": LAYERS, "dataset": {"name": "synthetic"}, "cadence": {"conv_every": every},
            "hyperparameters": {"seed": seed}}
    variables = [f"{layer['name']}/kernel" for layer in LAYERS]
    specs = [SeriesSpec(layer["name"], F.KERNEL, layer["kernel_shape"]) for layer in LAYERS]
    probe = (None, None)
    if activations:
        specs.append(SeriesSpec("conv1", F.ACTIVATION, ACTIVATION_SHAPE))
        probe = probe_images()
    writer = RunWriter.create(path, info, variables, specs, *probe)
    snapshot_steps = sorted(set([0] + list(range(every, steps + 1, every)) + [steps]))
    for step in range(0, steps + 1):
        if step > 0:
            norms = [float(np.linalg.norm(expected_kernel(l["name"], step, seed))) for l in LAYERS]
            writer.add_step(step, (step - 1) // 10, 1.0 / step, step / (steps + 1.0), 0.01,
                            norms, [0.5 * n for n in norms])
        if step in snapshot_steps:
            for layer in LAYERS:
                writer.add_tensor(layer["name"], F.KERNEL, step,
                                  expected_kernel(layer["name"], step, seed))
            if activations:
                writer.add_tensor("conv1", F.ACTIVATION, step, expected_activation(step, seed))
    writer.add_evaluation(epoch=1, step=steps, val_loss=0.5, val_accuracy=0.9)
    if close:
        writer.close()
    else:
        writer.flush()
    return snapshot_steps, writer
