"""Synthetic run stores with known contents, for tests and benchmarks (no TensorFlow).

write_synthetic_run: a tiny run whose every value a test can recompute (seeded generators).
write_poster_shaped_run: a run of the poster network's shapes at the trainer's default cadence,
for the viewer's speed (benchmarks/view_latency.py).
"""

import numpy as np

from . import format as F
from .layout import SeriesSpec, health_series
from .writer import RunWriter

LAYERS = [F.layer_entry("conv1", F.CONV, {F.KERNEL: [3, 3, 1, 4], F.BIAS: [4]},
                        activation_shape=[5, 5, 4]),
          F.layer_entry("fc1", F.DENSE, {F.KERNEL: [10, 3], F.BIAS: [3]})]


def poster_layers(fc_units=1024):
    """The poster's network (without its 10-unit output layer) at 28 x 28; a wider FC layer
    stands for a larger model's largest layer (5,120 units: 8 M weights)."""
    return [F.layer_entry("conv1", F.CONV, {F.KERNEL: [3, 3, 1, 16], F.BIAS: [16]},
                          activation_shape=[28, 28, 16]),
            F.layer_entry("conv2", F.CONV, {F.KERNEL: [3, 3, 16, 32], F.BIAS: [32]},
                          activation_shape=[14, 14, 32]),
            F.layer_entry("fc1", F.DENSE, {F.KERNEL: [1568, fc_units], F.BIAS: [fc_units]})]


POSTER_LAYERS = poster_layers()  # with 16 probe images
POSTER_PROBE = 16


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


def expected_atlas(step, images=6, k=2, filters=4):
    """conv1's Filter Atlas at a step of the synthetic run: (3, k, filters), image
    (rank + filter + step) mod images, responses falling with rank, peak at position 0."""
    atlas = np.zeros((3, k, filters), dtype=np.float32)
    rank, filter_index = np.meshgrid(np.arange(k), np.arange(filters), indexing="ij")
    atlas[0] = (rank + filter_index + step) % images
    atlas[1] = 1.0 / (1 + rank) + 0.01 * filter_index
    return atlas


def write_synthetic_run(path, steps=30, every=10, seed=0, close=True, activations=True,
                        atlas=False):
    """Steps 1..steps in the tables; kernels of every layer (and conv1's probe activations,
    and with `atlas` its Filter Atlas of 6 probe images) at 0, every `every`, and the last."""
    info = {"layers": LAYERS, "dataset": {"name": "synthetic"}, "cadence": {"conv_every": every},
            "hyperparameters": {"seed": seed}}
    variables = [f"{layer['name']}/kernel" for layer in LAYERS]
    specs = [SeriesSpec(layer["name"], F.KERNEL, layer["kernel_shape"]) for layer in LAYERS]
    probe = (None, None)
    if activations:
        specs.append(SeriesSpec("conv1", F.ACTIVATION, ACTIVATION_SHAPE))
        probe = probe_images()
    atlas_images = None
    if atlas:
        specs.append(SeriesSpec("conv1", F.ATLAS, expected_atlas(0).shape))
        images, labels = probe_images()  # six atlas images: the probe's, dimmed twice
        atlas_images = (np.concatenate([images, 0.5 * images, 0.25 * images]),
                        np.concatenate([labels] * 3))
    writer = RunWriter.create(path, info, variables, specs, *probe, atlas=atlas_images)
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
            if atlas:
                writer.add_tensor("conv1", F.ATLAS, step, expected_atlas(step))
    writer.add_evaluation(epoch=1, step=steps, val_loss=0.5, val_accuracy=0.9)
    if close:
        writer.close()
    else:
        writer.flush()
    return snapshot_steps, writer


def write_poster_shaped_run(path, steps, conv_every=10, activations_every=100, seed=0,
                            checksums=True, fc_units=1024):
    """Steps 1..steps of poster-shaped records: every norm and every layer's histograms each
    step (the conv layers' filter norms too), conv kernels every `conv_every` steps, the FC
    kernel (of `fc_units` units) at 0 and the end, activations every `activations_every`."""
    rng = np.random.default_rng(seed)
    layers = poster_layers(fc_units)
    variables = [f"{l['name']}/kernel" for l in layers] + [f"{l['name']}/bias" for l in layers]
    convs = [l for l in layers if l["kind"] == F.CONV]
    activation_shapes = {l["name"]: (POSTER_PROBE, *l["activation_shape"]) for l in convs}
    specs = [SeriesSpec(l["name"], F.KERNEL, l["kernel_shape"]) for l in layers]
    specs += [SeriesSpec(name, F.ACTIVATION, shape) for name, shape in activation_shapes.items()]
    specs += [spec for l in layers  # as the trainer records them: filter norms of the convs
              for spec in health_series(l["name"], l["filters"] if l in convs else 0)]
    probe = rng.random((POSTER_PROBE, 28, 28, 1), dtype=np.float32), np.arange(POSTER_PROBE) % 10
    writer = RunWriter.create(path, {"layers": layers}, variables, specs, *probe,
                              checksums=checksums)
    kernels = {l["name"]: rng.normal(0, 0.1, l["kernel_shape"]).astype(np.float32) for l in layers}
    for step in range(steps + 1):
        if step:
            norms = rng.random(len(variables))
            writer.add_step(step, step // 1100, 1.0 / step, 0.9, 0.05, norms, norms / 2)
            for layer in layers:  # histograms whose range doubles now and then
                counts = rng.integers(0, 200, (3, F.HISTOGRAM_BINS)).astype(np.uint16)
                writer.add_tensor(layer["name"], F.HISTOGRAM, step, counts)
                writer.add_tensor(layer["name"], F.HISTOGRAM_RANGE, step,
                                  np.full(3, 2.0 ** (step * 4 // steps - 2), np.float32))
                writer.add_tensor(layer["name"], F.UPDATE_RATIO, step, np.float32(1e-3))
            for layer in convs:
                writer.add_tensor(layer["name"], F.FILTER_NORMS, step,
                                  rng.random((2, layer["filters"])).astype(np.float32))
        for layer in layers:
            every = conv_every if layer["kind"] == F.CONV else steps
            if step % every == 0:
                kernels[layer["name"]] += rng.normal(0, 0.001, layer["kernel_shape"]).astype(np.float32)
                writer.add_tensor(layer["name"], F.KERNEL, step, kernels[layer["name"]])
        if step % activations_every == 0:
            for name, shape in activation_shapes.items():
                writer.add_tensor(name, F.ACTIVATION, step,
                                  np.maximum(rng.normal(size=shape), 0).astype(np.float32))
        if step % 500 == 0:
            writer.flush()
    writer.close()


def write_long_run(path, steps, kernel_every=10000, activations_every=100000, seed=0):
    """A poster-shaped run of `steps` steps (a million, say) with the norms and scalars of
    every step, a loss that falls with a spike now and then, the conv kernels every
    `kernel_every` steps and the FC kernel at 0 and the end, activations every
    `activations_every`; no health series. Returns the steps where the loss spikes."""
    rng = np.random.default_rng(seed)
    layers = POSTER_LAYERS
    variables = [f"{l['name']}/kernel" for l in layers]
    convs = [l for l in layers if l["kind"] == F.CONV]
    specs = [SeriesSpec(l["name"], F.KERNEL, l["kernel_shape"]) for l in layers]
    specs += [SeriesSpec(l["name"], F.ACTIVATION, (POSTER_PROBE, *l["activation_shape"]))
              for l in convs]
    probe = rng.random((POSTER_PROBE, 28, 28, 1), dtype=np.float32), np.arange(POSTER_PROBE) % 10
    writer = RunWriter.create(path, {"layers": layers}, variables, specs, *probe)
    loss = 2.3 / np.sqrt(1.0 + np.arange(steps + 1) / 1000.0) * (1 + 0.05 * rng.random(steps + 1))
    spikes = np.sort(rng.choice(np.arange(1, steps + 1), size=5, replace=False))
    loss[spikes] = 50.0
    norms = (1.0 + np.arange(steps + 1)[:, None] / steps * np.arange(1, len(layers) + 1)[None, :])
    norms = norms.astype(np.float32)
    for step in range(steps + 1):
        if step:
            writer.add_step(step, step // 10000, loss[step], 0.9, 0.01, norms[step], norms[step] / 10)
        for layer in layers:
            every = kernel_every if layer["kind"] == F.CONV else steps
            if step % every == 0:
                writer.add_tensor(layer["name"], F.KERNEL, step,
                                  rng.normal(0, 0.1, layer["kernel_shape"]).astype(np.float32))
        if step % activations_every == 0:
            for layer in convs:
                writer.add_tensor(layer["name"], F.ACTIVATION, step, np.maximum(rng.normal(
                    size=(POSTER_PROBE, *layer["activation_shape"])), 0).astype(np.float32))
        if step % 50000 == 0:
            writer.flush()
    writer.close()
    return spikes


# one layer of every kind the trainer records, at the shapes Keras gives them
KIND_LAYERS = [
    ("c1d", "conv1d", {F.KERNEL: (5, 2, 4), F.BIAS: (4,)}, (12, 4)),
    ("block/c3d", "conv3d", {F.KERNEL: (2, 3, 3, 1, 3), F.BIAS: (3,)}, (3, 4, 4, 3)),
    ("up", "conv2d_transpose", {F.KERNEL: (3, 3, 5, 2), F.BIAS: (5,)}, None),
    ("dw", "depthwise_conv2d", {F.KERNEL: (3, 3, 2, 3), F.BIAS: (6,)}, (5, 5, 6)),
    ("sep", "separable_conv2d", {F.DEPTHWISE_KERNEL: (3, 3, 2, 1), "pointwise_kernel": (1, 1, 2, 4),
                                 F.BIAS: (4,)}, None),
    ("bn", "batch_norm", {"gamma": (4,), "beta": (4,), "moving_mean": (4,),
                          "moving_variance": (4,)}, None),
]


KIND_METRICS = ["loss", "out_a_accuracy"]  # the second one is 0.1 x step


def kind_value(layer, quantity, step):
    """What the every-kind run holds for a layer's quantity at a step (seeded)."""
    _, _, variables, activation = next(entry for entry in KIND_LAYERS if entry[0] == layer)
    shape = (PROBE,) + activation if quantity == F.ACTIVATION else variables[F.base_quantity(quantity)]
    rng = np.random.default_rng([step, len(layer), len(quantity)])
    return rng.standard_normal(shape).astype(np.float32)


def write_kinds_run(path, steps=4):
    """Steps 1..steps; every variable, the convolutions' kernel gradients and activations
    recorded at step 0 and the last step."""
    layers, specs = [], []
    for name, kind, variables, activation in KIND_LAYERS:
        layers.append(F.layer_entry(name, kind, variables, activation_shape=activation))
        quantities = list(variables)
        if F.KINDS[kind].spatial:
            quantities.append(F.gradient_of(F.KINDS[kind].weights))
        if activation is not None:
            quantities.append(F.ACTIVATION)
        specs += [SeriesSpec(name, q, kind_value(name, q, 0).shape) for q in quantities]
    variables = [f"{name}/{v}" for name, _, shapes, _ in KIND_LAYERS for v in shapes]
    signals = np.linspace(0, 1, PROBE * 12 * 2, dtype=np.float32).reshape(PROBE, 12, 2)
    writer = RunWriter.create(path, {"layers": layers}, variables, specs, signals, np.arange(PROBE),
                              metric_names=KIND_METRICS)
    for step in range(steps + 1):
        if step:
            writer.add_step(step, 0, 1.0, 0.5, 0.1, np.ones(len(variables)), np.ones(len(variables)),
                            [1.0, 0.1 * step])
        if step in (0, steps):
            for spec in specs:
                writer.add_tensor(spec.layer, spec.quantity, step,
                                  kind_value(spec.layer, spec.quantity, step))
    writer.close()
