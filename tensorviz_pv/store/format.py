"""Every name in the run store, in one place; the writer, the reader and the trainer use it.

A run store is one HDF5 file (docs/FORMAT.md); layout.py gives every series' shape, type and bytes. Rows of the step tables are optimizer updates:
row s holds the loss and gradients of the batch that produced update s, and the weights after it.
Tensor series hold snapshots at a cadence, each with the step it was taken at; step 0 is the
initial state before any update.
"""

from collections import namedtuple

FORMAT_NAME = "tensorviz-run"
FORMAT_VERSION = 3  # 2: any layer kind (KINDS), full layer paths, per-step metrics; 3: steering events
FILE_EXTENSION = ".tvz"
STORE_FILENAME = "run" + FILE_EXTENSION
CHECKPOINT_DIR = "checkpoints"  # Keras checkpoints to resume from (trainer/checkpoints.py)
LOCK_SUFFIX = ".lock"  # the writer lock beside the store: run.tvz.lock (lock.py)
CHECKED_SUFFIX = ".checked"  # the last `tensorviz check` beside the store: run.tvz.checked
STEERING_DIR = "steering"  # the live training's command channel (steering.py)
DASHBOARD_STATE = "dashboard.pvsm"  # the GUI dashboard's state, saved in the run directory

# root attributes
ATTR_FORMAT = "format"
ATTR_VERSION = "format_version"
ATTR_RUN_INFO = "run_info"  # JSON: dataset, hyper-parameters, layers, cadence

# one row per optimizer update
STEPS_GROUP = "steps"
STEP = "step"
EPOCH = "epoch"
LOSS = "loss"
ACCURACY = "accuracy"
LEARNING_RATE = "learning_rate"
STEP_COLUMNS = (STEP, EPOCH, LOSS, ACCURACY, LEARNING_RATE)
STEP_COLUMN_DTYPES = {STEP: "int64", EPOCH: "int32", LOSS: "float32",
                      ACCURACY: "float32", LEARNING_RATE: "float32"}

# L2 norms of every trainable variable, one row per update, one column per variable
NORMS_GROUP = "norms"
WEIGHT_NORM = "weight"
GRADIENT_NORM = "gradient"
ATTR_VARIABLES = "variables"  # JSON list of variable names, the columns

# Keras's own batch values of every mean-based metric it tracks (loss, per-output losses,
# compiled metrics), one row per update; columns named by the JSON attribute `names`
METRICS_GROUP = "metrics"
METRICS_VALUE = "value"
ATTR_METRIC_NAMES = "names"

# snapshots: tensors/<layer path>/<quantity>/{step, value}; a quantity is the name Keras gives
# the layer's variable (kernel, bias, depthwise_kernel, gamma, moving_mean...), that name +
# GRADIENT_SUFFIX for its gradient, ACTIVATION or ALIVE
TENSORS_GROUP = "tensors"
SERIES_STEP = "step"
SERIES_VALUE = "value"
GRADIENT_SUFFIX = "_gradient"
KERNEL = "kernel"
BIAS = "bias"
KERNEL_GRADIENT = KERNEL + GRADIENT_SUFFIX
BIAS_GRADIENT = BIAS + GRADIENT_SUFFIX
DEPTHWISE_KERNEL = "depthwise_kernel"
ACTIVATION = "activation"
ALIVE = "alive"  # conv layers: which of the original filters exist (1) or were merged away (0)
# the Filter Atlas, at the activation snapshots: (3, k, filters) float32, rows image index,
# response, flat position of the peak (analysis/atlas.py); NaN for a merged-away filter
ATLAS = "atlas"
# training health, per layer (docs/FORMAT.md): every step (or the health cadence) a histogram of
# the weights, the gradient and the update, each over [-r, r] of its own range r
HISTOGRAM = "histogram"  # (3, HISTOGRAM_BINS) uint16 counts: weights, gradients, updates
HISTOGRAM_RANGE = "histogram_range"  # (3,) float32: r, a power of two that only grows
HISTOGRAM_BINS = 64
HISTOGRAM_OF = ("weights", "gradients", "updates")  # the rows of a histogram
UPDATE_RATIO = "update_ratio"  # () float32: |update| / |weights| after the step
FILTER_NORMS = "filter_norms"  # (2, filters) float32: each filter's weight and gradient norm
# at the activation snapshots, per filter over the atlas images (the probe batch without one)
ACTIVATION_STATS = "activation_stats"  # (4, filters) float32, rows as ACTIVATION_STAT_ROWS
ACTIVATION_STAT_ROWS = ("mean", "std", "zero_fraction", "saturated_fraction")
ZERO_FRACTION = ACTIVATION_STAT_ROWS.index("zero_fraction")  # 1: a dead filter
WHOLE_LAYER = (HISTOGRAM, HISTOGRAM_RANGE, UPDATE_RATIO)  # series of the layer, not per filter
HEALTH_SERIES = WHOLE_LAYER + (FILTER_NORMS,)  # the training health's per-step series

# the fixed probe batch whose activations are recorded
PROBE_GROUP = "probe"
PROBE_IMAGES = "images"
PROBE_LABELS = "labels"

# the atlas images whose patches the Filter Atlas shows (a larger fixed set than the probe)
ATLAS_GROUP = "atlas"
ATLAS_IMAGES = "images"  # (N, positions..., channels) float16
ATLAS_LABELS = "labels"

# filter reduction: one row per filter merged away (ids are the original filter indices; tensors
# keep the original layout, NaN where a filter or its input channel no longer exists)
MERGES_GROUP = "merges"
MERGE_COLUMNS = ("step", "layer", "kept", "removed", "correlation", "scale", "offset")
MERGE_COLUMN_DTYPES = {"step": "int64", "layer": "int32", "kept": "int32", "removed": "int32"}

# steering (issue 23): one row per command the training answered, in the order answered. Text
# columns are fixed-length UTF-8 bytes (SWMR appends them like numbers); value is JSON text
STEERING_GROUP = "steering"
STEERING_COLUMNS = ("seq", "kind", "value", "status", "step", "reason", "answered")
STEERING_COLUMN_DTYPES = {"seq": "int64", "kind": "S16", "value": "S512", "status": "S8",
                          "step": "int64", "reason": "S512", "answered": "float64"}

# one row per finished epoch
EVALUATION_GROUP = "evaluation"
EVAL_COLUMNS = ("epoch", "step", "val_loss", "val_accuracy", "test_loss", "test_accuracy")
EVAL_COLUMN_DTYPES = {"epoch": "int32", "step": "int64"}  # the others float32

# Layer kinds, run_info["layers"][i]["kind"]. weights/bias: the variables the views call the
# layer's weights and biases; layout: how the weights' axes are laid out (analysis/kernels.py
# turns every layout into conv's (spatial..., in, out)); spatial: filters that slide over
# positions (their gradients and probe activations are recorded).
LayerKind = namedtuple("LayerKind", "name weights bias layout spatial")
KINDS = {kind.name: kind for kind in [
    LayerKind("conv1d", KERNEL, BIAS, "conv", True),
    LayerKind("conv2d", KERNEL, BIAS, "conv", True),
    LayerKind("conv3d", KERNEL, BIAS, "conv", True),
    LayerKind("conv1d_transpose", KERNEL, BIAS, "transpose", True),
    LayerKind("conv2d_transpose", KERNEL, BIAS, "transpose", True),
    LayerKind("conv3d_transpose", KERNEL, BIAS, "transpose", True),
    LayerKind("depthwise_conv1d", KERNEL, BIAS, "depthwise", True),
    LayerKind("depthwise_conv2d", KERNEL, BIAS, "depthwise", True),
    LayerKind("separable_conv1d", "pointwise_kernel", BIAS, "conv", True),
    LayerKind("separable_conv2d", "pointwise_kernel", BIAS, "conv", True),
    LayerKind("dense", KERNEL, BIAS, "dense", False),
    LayerKind("batch_norm", "gamma", "beta", "vector", False),
    LayerKind("layer_norm", "gamma", "beta", "vector", False),
]}
CONV = "conv2d"  # the poster's conv layers (filter reduction works on these)
DENSE = "dense"


def layer_kind(entry):
    """The LayerKind of a run_info layer entry (a kind this TensorViz does not know: a dense-like
    kind, so that a newer store still opens)."""
    return KINDS.get(entry["kind"], KINDS[DENSE])


# what a view asks of a layer: a role, the LayerKind field that names the variable (a kernel; a
# separable convolution's pointwise kernel; a normalization's gamma, and beta for its biases),
# or a variable's own name (depthwise_kernel, moving_mean); shown_variable says which series
WEIGHTS, BIASES = "weights", "bias"


def layer_variables(entry):
    """The names of a layer's variables (a run_info layer entry); a format-1 store's entries
    name none: their kernel and bias."""
    if "variables" in entry:
        return list(entry["variables"])
    return [KERNEL] + ([BIAS] if entry.get("bias_shape") else [])


def shown_variable(entry, role=WEIGHTS, gradient=False):
    """The series a view shows of a layer for `role` (WEIGHTS, BIASES or a variable's name),
    its gradient when `gradient` (recorded for the spatial kinds' variables only); None when
    the layer has no such series. Every view asks here: which variable of a layer kind it
    shows is decided once."""
    kind = layer_kind(entry)
    variable = getattr(kind, role) if role in (WEIGHTS, BIASES) else role
    if variable not in layer_variables(entry) or (gradient and not kind.spatial):
        return None
    return gradient_of(variable) if gradient else variable


def gradient_of(quantity):
    return quantity + GRADIENT_SUFFIX


def base_quantity(quantity):
    """kernel_gradient -> kernel; kernel -> kernel."""
    return quantity[:-len(GRADIENT_SUFFIX)] if quantity.endswith(GRADIENT_SUFFIX) else quantity


def quantity_layout(kind, quantity):
    """The layout of a layer's tensor: the weights' layout for its weights (and their gradients),
    depthwise for a separable layer's depthwise kernel, a vector for the rest."""
    variable = base_quantity(quantity)
    if variable == DEPTHWISE_KERNEL:
        return "depthwise"
    return kind.layout if variable == kind.weights else "vector"


def filters_of(layout, shape):
    """How many filters (output channels, units) a tensor of that layout and shape has."""
    if layout == "transpose":
        return int(shape[-2])
    if layout == "depthwise":
        return int(shape[-2]) * int(shape[-1])
    return int(shape[-1])


def layer_entry(name, kind, variables, activation_shape=None, **extra):
    """One entry of run_info["layers"]: what the reader and every view know of a layer.
    `variables` maps the name of each variable to its shape; `kernel_shape` and `bias_shape` are
    those of the kind's weights and bias, `filters` how many filters the weights have;
    `activation_shape` (positions..., channels) when the probe batch's activations are recorded."""
    layer = KINDS[kind]
    shapes = {role: [int(n) for n in shape] for role, shape in variables.items()}
    weights = shapes.get(layer.weights) or next(iter(shapes.values()))
    entry = {"name": name, "kind": kind, "kernel_shape": weights,
             "bias_shape": shapes.get(layer.bias), "variables": shapes,
             "filters": filters_of(layer.layout if layer.weights in shapes else "vector", weights)}
    if activation_shape is not None:
        entry["activation_shape"] = [int(n) for n in activation_shape]
    entry.update(extra)
    return entry


def steps_path(column):
    return "/".join((STEPS_GROUP, column))


def norms_path(which):
    return "/".join((NORMS_GROUP, which))


def series_path(layer, quantity, part):
    return "/".join((TENSORS_GROUP, layer, quantity, part))


def metrics_path(part):
    return "/".join((METRICS_GROUP, part))


def evaluation_path(column):
    return "/".join((EVALUATION_GROUP, column))


def merges_path(column):
    return "/".join((MERGES_GROUP, column))


def steering_path(column):
    return "/".join((STEERING_GROUP, column))


def probe_path(part):
    return "/".join((PROBE_GROUP, part))


def atlas_path(part):
    return "/".join((ATLAS_GROUP, part))
