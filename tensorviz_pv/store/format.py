"""Every name in the run store, in one place; the writer, the reader and the trainer use it.

A run store is one HDF5 file (docs/FORMAT.md). Rows of the step tables are optimizer updates:
row s holds the loss and gradients of the batch that produced update s, and the weights after it.
Tensor series hold snapshots at a cadence, each with the step it was taken at; step 0 is the
initial state before any update.
"""

FORMAT_NAME = "tensorviz-run"
FORMAT_VERSION = 1
FILE_EXTENSION = ".tvz"
STORE_FILENAME = "run" + FILE_EXTENSION
CHECKPOINT_DIR = "checkpoints"

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

# snapshots: tensors/<layer>/<quantity>/{step, value}
TENSORS_GROUP = "tensors"
SERIES_STEP = "step"
SERIES_VALUE = "value"
KERNEL = "kernel"
BIAS = "bias"
KERNEL_GRADIENT = "kernel_gradient"
BIAS_GRADIENT = "bias_gradient"
ACTIVATION = "activation"
ALIVE = "alive"  # conv layers: which of the original filters exist (1) or were merged away (0)
QUANTITIES = (KERNEL, BIAS, KERNEL_GRADIENT, BIAS_GRADIENT, ACTIVATION, ALIVE)

# the fixed probe batch whose activations are recorded
PROBE_GROUP = "probe"
PROBE_IMAGES = "images"
PROBE_LABELS = "labels"

# filter reduction: one row per filter merged away (ids are the original filter indices; tensors
# keep the original layout, NaN where a filter or its input channel no longer exists)
MERGES_GROUP = "merges"
MERGE_COLUMNS = ("step", "layer", "kept", "removed", "correlation", "scale", "offset")
MERGE_COLUMN_DTYPES = {"step": "int64", "layer": "int32", "kept": "int32", "removed": "int32"}

# one row per finished epoch
EVALUATION_GROUP = "evaluation"
EVAL_COLUMNS = ("epoch", "step", "val_loss", "val_accuracy", "test_loss", "test_accuracy")
EVAL_COLUMN_DTYPES = {"epoch": "int32", "step": "int64"}  # the others float32

# layer kinds in run_info["layers"][i]["kind"]
CONV = "conv2d"
DENSE = "dense"


def layer_entry(name, kind, kernel_shape, bias_shape, activation_shape=None, **extra):
    """One entry of run_info["layers"]: what the reader and every view know of a layer.
    `filters` is the kernel's last axis; `activation_shape` (H, W, C) when the probe batch's
    activations are recorded."""
    entry = {"name": name, "kind": kind, "kernel_shape": [int(n) for n in kernel_shape],
             "bias_shape": None if bias_shape is None else [int(n) for n in bias_shape],
             "filters": int(kernel_shape[-1])}
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


def evaluation_path(column):
    return "/".join((EVALUATION_GROUP, column))


def merges_path(column):
    return "/".join((MERGES_GROUP, column))


def probe_path(part):
    return "/".join((PROBE_GROUP, part))
