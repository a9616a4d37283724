"""Does filter reduction make a larger network faster? resnet20 (and mobilenetv2) on
Fashion-MNIST, side by side in one run:

  unreduced     trained STEPS, then FINETUNE steps as the others are
  correlation   trained STEPS, then TensorViz's correlation merging (trainer/reduction_plans.py,
                folded where exact, residual groups pruned together) to about KEEP_MACS of the
                multiply-accumulates, then FINETUNE steps
  l1            the same filter counts per layer, removing the filters of smallest L1 norm
                (Li et al. 2017, "Pruning filters for efficient ConvNets"), then FINETUNE steps
  random        the same filter counts, filters removed at random, then FINETUNE steps

Each: test accuracy, parameters, MACs per image, training step time (batch 64) and inference
latency (batch 1 and 64) on this CPU, timed in interleaved rounds (ratios to unreduced).

    nice -n 10 .venv/bin/python benchmarks/reduction_speed.py               # full budget
    .venv/bin/python benchmarks/reduction_speed.py --steps 30 --finetune 10 --max-samples 2000
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from trainer.datasets import load_dataset  # noqa: E402
from trainer.model import mobilenetv2, resnet20  # noqa: E402
from trainer.reduction_plans import plan_to_target  # noqa: E402
from trainer.surgery import count_macs, reduce_model, removed_filters  # noqa: E402

BUILDERS = {"resnet20": resnet20, "mobilenetv2": mobilenetv2}


def compiled(model, lr, steps):
    """SGD with momentum, the learning rate decaying to 0 over `steps` (cosine): the final
    weights settle, so one evaluation at the end says something."""
    schedule = keras.optimizers.schedules.CosineDecay(lr, max(steps, 1))
    model.compile(optimizer=keras.optimizers.SGD(schedule, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def batches(data, batch, seed):
    x, y = data
    return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed) \
        .repeat().batch(batch, drop_remainder=True).prefetch(2)


def train(model, data, steps, seed, batch):
    if steps:
        model.fit(batches(data, batch, seed), steps_per_epoch=steps, epochs=1, verbose=0)
    return model


def l1_plan(model, counts, groups):
    """Per group, the `counts` filters of smallest L1 norm (summed over the tied layers)."""
    plans = {}
    for first, n in counts.items():
        norms = sum(np.abs(model.get_layer(m).get_weights()[-1 if isinstance(
            model.get_layer(m), keras.layers.SeparableConv2D) else 0]).reshape(
            -1, model.get_layer(m).filters).sum(axis=0) for m in groups[first].members)
        plans[first] = list(np.argsort(norms)[:n])
    return plans


def random_plan(model, counts, seed):
    rng = np.random.default_rng(seed)
    return {first: list(rng.choice(model.get_layer(first).filters, n, replace=False))
            for first, n in counts.items()}


def timed(function, repeats):
    function()  # warm (traced)
    started = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - started) / repeats


def timings(models, x, y, rounds):
    """{name: {what: median seconds}}, the models interleaved in every round."""
    calls = {}
    for name, model in models.items():
        infer = tf.function(tf.autograph.experimental.do_not_convert(
            lambda images, m=model: m(images, training=False)))
        calls[name] = {"train_step": (lambda m=model: m.train_on_batch(x[:64], y[:64]), 5),
                       "infer_b1": (lambda f=infer: f(x[:1]).numpy(), 30),
                       "infer_b64": (lambda f=infer: f(x[:64]).numpy(), 8)}
    samples = {name: {what: [] for what in calls[name]} for name in models}
    for _ in range(rounds):
        for what in ("infer_b1", "infer_b64", "train_step"):
            for name in models:
                function, repeats = calls[name][what]
                samples[name][what].append(timed(function, repeats))
    return {name: {what: float(np.median(v)) for what, v in per.items()}
            for name, per in samples.items()}


def run_model(name, data, args):
    keras.utils.set_random_seed(args.seed)
    shape, classes = data.x_train.shape[1:], data.classes
    train_data, probe = (data.x_train, data.y_train), data.x_train[:args.probe]
    base = train(compiled(BUILDERS[name](shape, classes), args.lr, args.steps), train_data,
                 args.steps, args.seed, args.batch)
    plans, groups, threshold = plan_to_target(base, probe, ("all",),
                                              args.keep_macs * count_macs(base), args.min_filters)
    counts = {first: len(removed_filters(plan)) for first, plan in plans.items()}
    # every variant, the unreduced one too, then trains FINETUNE steps at the same schedule
    variants = {"unreduced": compiled(reduce_model(base, {})[0], args.finetune_lr, args.finetune)}
    for variant, plan in (("correlation", plans), ("l1", l1_plan(base, counts, groups)),
                          ("random", random_plan(base, counts, args.seed))):
        variants[variant] = compiled(reduce_model(base, plan)[0], args.finetune_lr, args.finetune)
    results = {}
    for variant, model in variants.items():
        started = time.time()
        train(model, train_data, args.finetune, args.seed + 1, args.batch)
        test = model.evaluate(data.x_test, data.y_test, verbose=0, return_dict=True)
        results[variant] = {"accuracy": float(test["accuracy"]), "parameters": model.count_params(),
                            "macs": count_macs(model), "finetune_s": time.time() - started}
    speed = timings(variants, data.x_test, data.y_test, args.rounds)
    for variant in results:
        results[variant].update(speed[variant])
    filters = {m: int(variants["correlation"].get_layer(m).filters) for g in groups.values()
               for m in g.members}
    return {"threshold": threshold, "filters": filters, "variants": results}


def table(name, result):
    base = result["variants"]["unreduced"]
    lines = [f"{name}: correlation threshold {result['threshold']}",
             "variant       test acc  delta   params    MACs/img   MACs x  train x  infer b1 x"
             "  infer b64 x  (b64 ms)"]
    for variant, r in result["variants"].items():
        lines.append(
            f"{variant:12s}  {r['accuracy']:.4f}  {100 * (r['accuracy'] - base['accuracy']):+5.2f}  "
            f"{r['parameters']:8,d}  {r['macs']:11,d}  {base['macs'] / r['macs']:5.2f}  "
            f"{base['train_step'] / r['train_step']:6.2f}  {base['infer_b1'] / r['infer_b1']:9.2f}  "
            f"{base['infer_b64'] / r['infer_b64']:10.2f}  {1000 * r['infer_b64']:8.1f}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="resnet20", help="resnet20,mobilenetv2")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--max-samples", type=int, default=None, help="training images used")
    parser.add_argument("--steps", type=int, default=1200, help="training steps before reducing")
    parser.add_argument("--finetune", type=int, default=400,
                        help="steps after it (the unreduced model trains them too)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05, help="cosine-decayed over --steps")
    parser.add_argument("--finetune-lr", type=float, default=0.01,
                        help="cosine-decayed over --finetune, for every variant")
    parser.add_argument("--keep-macs", type=float, default=0.5)
    parser.add_argument("--min-filters", type=int, default=4)
    parser.add_argument("--probe", type=int, default=256, help="training images planned on")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()
    data = load_dataset(args.dataset).limited(args.max_samples)
    print(f"{args.dataset}: {len(data.x_train)} training images, {len(data.x_test)} test; "
          f"{args.steps} + {args.finetune} steps of batch {args.batch}; keep {args.keep_macs} "
          f"of the MACs; {os.cpu_count()} CPUs", flush=True)
    results = {}
    for name in args.models.split(","):
        started = time.time()
        results[name] = run_model(name.strip(), data, args)
        print(table(name, results[name]), f"\n({time.time() - started:.0f} s)", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
