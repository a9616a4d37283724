"""`tensorviz train RUN_DIR`: train the poster's network and record the run. Its options are
TrainConfig's (trainer/config.py, no TensorFlow); TensorFlow is imported only when it runs."""

import argparse

from tensorviz_pv.errors import TensorVizError
from tensorviz_pv.store.run_dir import RunDir
from trainer.config import (DEFAULT_LEARNING_RATES, LR_SCHEDULES, MODEL_NAMES, OPTIMIZERS,
                            TrainConfig, parent_optimizer, parse_budget)

DEFAULTS = TrainConfig(run_dir="")


def _positive_ints(text):
    try:
        values = tuple(int(part) for part in str(text).split(",") if part.strip())
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give positive integers, e.g. 16,32")
    return values


def _budget(text):
    try:
        return parse_budget(text)
    except TensorVizError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def comma_separated(text):
    """'conv1, conv2' -> ('conv1', 'conv2')."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _add_options(train):
    d = DEFAULTS
    train.add_argument("--model", choices=MODEL_NAMES, default=d.model,
                       help="poster (default: the poster's network), resnet20 (CIFAR-style "
                            "ResNet-20) or mobilenetv2 (width-reduced)")
    train.add_argument("--dataset", default=d.dataset,
                       help="mnist-5k (default, offline), mnist, fashion-mnist, or a PATH to "
                            "IDX files / an .npz")
    train.add_argument("--epochs", type=int, default=d.epochs)
    train.add_argument("--max-samples", type=int, default=d.max_samples,
                       help="use at most this many training images")
    train.add_argument("--batch-size", type=int, default=d.batch_size)
    train.add_argument("--lr", type=float, default=d.lr,
                       help="learning rate (default: " + ", ".join(
                           f"{value:g} for {name}" for name, value in DEFAULT_LEARNING_RATES.items())
                       + ")")
    train.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=d.lr_schedule,
                       help="exponential: x0.9 per epoch; cosine: to 0")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                       help=f"(default {d.optimizer}; a fork: its parent's)")
    train.add_argument("--momentum", type=float, default=d.momentum, help="for --optimizer momentum")
    train.add_argument("--conv-filters", type=_positive_ints, default=d.conv_filters,
                       help="--model poster: filters per conv layer, comma-separated (also sets "
                            "how many)")
    train.add_argument("--fc-units", type=int, default=d.fc_units)
    train.add_argument("--dropout", type=float, default=d.dropout)
    train.add_argument("--seed", type=int, default=d.seed)
    train.add_argument("--conv-every", type=int, default=d.conv_every,
                       help="conv weights/gradients every N steps (default: from the budget, 10 "
                            "if it allows)")
    train.add_argument("--dense-every", type=int, default=d.dense_every,
                       help="dense weights every N steps (default: from the budget; 0: epoch "
                            "ends only)")
    train.add_argument("--activations-every", type=int, default=d.activations_every,
                       help="probe activations every N steps (default: from the budget, 100 if "
                            "it allows)")
    train.add_argument("--budget", type=_budget, default=d.budget,
                       help="disk budget in bytes per step, averaged over the run: the snapshot "
                            "cadences not given are chosen to keep it (default 100k; none: no "
                            "limit)")
    train.add_argument("--reduce", action="store_true",
                       help="merge correlated filters during training (the poster's Fig. 5)")
    train.add_argument("--reduce-threshold", type=float, default=d.reduce_threshold,
                       help="merge filters whose probe activations correlate at r >= this")
    train.add_argument("--reduce-layers", type=comma_separated, default=d.reduce_layers,
                       help="conv layers to reduce, comma-separated, or 'all' (every reducible "
                            "one; residual-tied layers together) (default conv1)")
    train.add_argument("--reduce-every", type=int, default=d.reduce_every,
                       help="reduce every N epochs")
    train.add_argument("--reduce-target", type=float, default=d.reduce_target, metavar="SHARE",
                       help="lower the threshold (by 0.05) at each reduction until the model "
                            "keeps at most this share of its multiply-accumulates, e.g. 0.5")
    train.add_argument("--min-filters", type=int, default=d.min_filters,
                       help="never reduce a layer below this many filters")
    train.add_argument("--no-record", action="store_true",
                       help="plain model.fit with nothing recorded (a baseline to compare with)")
    train.add_argument("--no-steer", action="store_true",
                       help="no command channel: `tensorviz steer` cannot steer this training")
    train.add_argument("--continue-on-nan", action="store_true",
                       help="keep training when the loss or weights become NaN/Inf")
    train.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    train.add_argument("--fork-from", metavar="PARENT_RUN", default=d.fork_from,
                       help="a new run continued from PARENT_RUN's newest checkpoint at or "
                            "before --fork-step (steered checkpoints included), recorded as its "
                            "child; --lr sets its learning rate")
    train.add_argument("--fork-step", type=int, metavar="STEP", default=d.fork_step,
                       help="with --fork-from: the step to fork at (default: the newest "
                            "checkpoint)")
    train.add_argument("--overwrite", action="store_true", help="replace an existing run")


def add_parser(sub):
    train = sub.add_parser("train", help="train the poster's network and record the run")
    train.add_argument("run_dir", metavar="RUN_DIR")
    _add_options(train)
    return train


def train_config(args):
    """The TrainConfig of `tensorviz train`'s options."""
    options = {name: value for name, value in vars(args).items()
               if name in TrainConfig.__dataclass_fields__}
    if options["optimizer"] is None:
        options["optimizer"] = DEFAULTS.optimizer if args.fork_from is None or \
            not RunDir(args.fork_from).holds_store() else parent_optimizer(args.fork_from)
    return TrainConfig(record=not args.no_record, steer=not args.no_steer, **options)


def run(args):
    from trainer.train import train  # TensorFlow: only now
    return train(train_config(args))
