"""TensorViz's recording on a GPU: plain fit, Keras's TensorBoard callback and TensorViz's, side by
side in one run, for ResNet50 (batch 128) and the poster's network (batch 50), with XLA
(jit_compile) off and on and with mixed_float16. Run it through benchmarks/gpu_check.sh, which
finds or makes a Python with a GPU TensorFlow.

    python benchmarks/gpu_check.py [--reps 3] [--epochs 2] [--samples 4096] [--models ...]
    python benchmarks/gpu_check.py --smoke      # 3 steps per arm on whatever device, to see it runs

Per model and variant, the arms run interleaved (recording_overhead.py's fits and clock) and are
compared by their medians:
  step ratio    steady time per step against plain fit (DESIGN.md: within 0.02 of TensorBoard's)
  fit ratio     the whole fit's wall time against plain fit (tracing, compiling, epoch ends)
  host reads    values fetched from the device to numpy per step (EagerTensor._numpy calls: each
                waits for the device; counted for the whole fit over its steps)
  bytes/step    the TensorViz store's bytes per recorded step on this run, and the plan's figure
"""

import argparse
import contextlib
import math
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.framework import ops  # noqa: E402

from recording_overhead import (BYTES, WARMUP_BATCHES, RandomImages, interleaved,  # noqa: E402
                                one_fit, ratios)

ARMS = ["plain", "tensorboard", "tensorviz"]
MODELS = {"resnet50": ((32, 32, 3), 128), "poster": ((28, 28, 1), 50)}  # input, batch
# (name, jit_compile, dtype policy)
VARIANTS = [("fp32", False, "float32"), ("fp32 xla", True, "float32"),
            ("mixed_float16", False, "mixed_float16"), ("mixed_float16 xla", True, "mixed_float16")]


@contextlib.contextmanager
def counted_host_reads():
    """Counts EagerTensor values read into numpy (`.numpy()`, `np.asarray`, `float()` all go
    through `_numpy`) while the block runs; yields a one-item list holding the count."""
    original = ops._EagerTensorBase._numpy
    count = [0]

    def counting(self):
        count[0] += 1
        return original(self)

    ops._EagerTensorBase._numpy = counting
    try:
        yield count
    finally:
        ops._EagerTensorBase._numpy = original


@contextlib.contextmanager
def dtype_policy(name):
    previous = keras.mixed_precision.dtype_policy().name
    keras.mixed_precision.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(previous)


def measure(model, variant, args):
    """({arm: [(s/step, fit s, host reads per step)]}, batch) of one model and variant (runs
    in a folder of their own: a TensorViz run found there would be resumed)."""
    shape, batch = MODELS[model]
    batch = args.batch_size or batch
    _, jit, policy = variant
    data = RandomImages(args.samples, shape)
    steps = args.epochs * math.ceil(args.samples / batch)
    warmup = 0 if args.smoke else WARMUP_BATCHES

    def fit(arm, rep):
        with counted_host_reads() as reads:
            per_step, seconds = one_fit(model, arm, data, args.epochs, batch, workdir, rep,
                                        jit_compile=jit, warmup=warmup)
        return per_step, seconds, reads[0] / steps

    with dtype_policy(policy), tempfile.TemporaryDirectory() as workdir:
        if not args.smoke:
            fit("plain", -1)  # warm caches, the first compilation of kernels
        return interleaved(ARMS, args.reps, fit), batch


def report(model, variant, batch, results, args):
    print(f"\n{model}, batch {batch}, {variant[0]}: {args.reps} interleaved repetitions, "
          f"{args.epochs} epochs of {args.samples} random images")
    print(f"{'arm':<12} {'ms/step':>8} {'step ratio':>11} {'fit s':>7} {'fit ratio':>10} "
          f"{'host reads/step':>16}")
    for arm, step, step_ratio, seconds, fit_ratio in ratios(results):
        reads = sorted(r[2] for r in results[arm])[len(results[arm]) // 2]
        print(f"{arm:<12} {1000 * step:8.2f} {step_ratio:11.3f} {seconds:7.2f} {fit_ratio:10.3f} "
              f"{reads:16.2f}")
    if BYTES:
        measured, planned, layers, with_weights = BYTES[-1]
        print(f"TensorViz store: {measured:,.0f} bytes per step on this run, the plan "
              f"{planned:,}; {layers} layers recorded of {with_weights} with weights")
    BYTES.clear()


def chosen_variants(model, args):
    if args.variants:
        return [v for v in VARIANTS if v[0] in args.variants.split(",")]
    return VARIANTS[:1] if args.smoke and model == "resnet50" else VARIANTS


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="resnet50,poster")
    parser.add_argument("--variants", default=None,
                        help=f"of {', '.join(v[0] for v in VARIANTS)} (default: all; --smoke: "
                             "ResNet50 in fp32 only, XLA compiling it on a CPU takes minutes)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--batch-size", type=int, default=None, help="default: per model")
    parser.add_argument("--smoke", action="store_true",
                        help="3 steps per arm, 1 repetition: that it runs, no figures to trust")
    args = parser.parse_args()
    if args.smoke:
        args.reps, args.epochs, args.batch_size = 1, 1, args.batch_size or 8
        args.samples = 3 * args.batch_size
    gpus = [tf.config.experimental.get_device_details(g).get("device_name", g.name)
            for g in tf.config.list_physical_devices("GPU")]
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}; GPUs: {', '.join(gpus) or 'none'}")
    if not gpus and not args.smoke:
        print("no GPU visible to TensorFlow: these figures would be the CPU's "
              "(benchmarks/gpu_check.sh makes a venv with a GPU TensorFlow)")
    for model in args.models.split(","):
        for variant in chosen_variants(model, args):
            results, batch = measure(model, variant, args)
            report(model, variant, batch, results, args)


if __name__ == "__main__":
    main()
