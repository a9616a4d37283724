"""What `tensorviz train` is asked to do, as one typed configuration; `tensorviz sweep` makes
one per run, the command line makes one from its options."""

import math
import re
from dataclasses import dataclass
from typing import Optional, Tuple

from tensorviz_pv.errors import TensorVizError

LR_SCHEDULES = ("constant", "exponential", "cosine")
OPTIMIZERS = ("sgd", "momentum", "adam")
# each optimizer's learning rate when none is given: Adam at SGD's 0.05 kills every conv filter
# of the poster network within 3 steps (test accuracy 0.09-0.14). One epoch of mnist-5k: adam
# 1e-3 0.93, momentum 0.05 0.95 (0.90 at 0.01), sgd 0.05 0.84
DEFAULT_LEARNING_RATES = {"sgd": 0.05, "momentum": 0.05, "adam": 0.001}
DEFAULT_BUDGET = 100_000  # disk budget, bytes per step
MODEL_NAMES = ("poster", "resnet20", "mobilenetv2")  # trainer/model.py's MODELS


class TrainError(TensorVizError):
    """A problem with the request, found before anything was touched."""


class BudgetError(TensorVizError):
    """A disk budget that cannot be kept, or cannot be read."""


def parse_budget(text):
    """'100k', '2.5M', '1G' or a number of bytes per step -> int; 'none' -> None (no limit)."""
    if text is None or str(text).strip().lower() in ("none", "off", "unlimited"):
        return None
    match = re.fullmatch(r"\s*([0-9.]+)\s*([kmg]?)b?\s*", str(text).lower())
    if not match:
        raise BudgetError(f"budget {text!r}: give bytes per step, e.g. 100k, 2M or none")
    value = float(match.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[match.group(2)]
    if value <= 0:
        raise BudgetError(f"budget {text!r}: give a positive number of bytes per step, or none")
    return int(value)


@dataclass(frozen=True)
class TrainConfig:
    """A training run of the poster's network and what is recorded of it.

    run_dir: where the run goes (the store and the checkpoints).
    model: poster (the poster's network, conv_filters/fc_units/dropout apply), resnet20 or
        mobilenetv2 (trainer/model.py).
    dataset: mnist-5k (embedded, offline), mnist, fashion-mnist, or a path (datasets.py).
    max_samples: use at most this many training images (None: all).
    lr_schedule: constant, exponential (x0.9 per epoch) or cosine (to 0 at the end).
    lr: the learning rate (None: the optimizer's default, DEFAULT_LEARNING_RATES).
    optimizer: sgd, momentum (with `momentum`) or adam.
    conv_filters: filters of each conv layer (also sets how many there are).
    conv_every, dense_every, activations_every: snapshot cadence in steps (None: chosen to
        keep the budget; 0: step 0 and epoch ends only).
    budget: the disk budget, bytes per step averaged over the run (None: no limit).
    reduce: merge correlated filters of `reduce_layers` (conv layer names, or ('all',): every
        reducible one) every `reduce_every` epochs (r >= `reduce_threshold`, never below
        `min_filters`); with `reduce_target` (a share of the multiply-accumulates, e.g. 0.5) the
        threshold is lowered from reduce_threshold in steps of 0.05 until the model keeps at
        most that share of its original MACs, and reductions stop once it does.
    record: False trains with plain model.fit and records nothing (a baseline).
    steer: let `tensorviz steer RUN_DIR` steer the training (RUN_DIR/steering/).
    continue_on_nan: keep training when the loss or the weights become NaN/Inf.
    resume: continue the run in run_dir from its last checkpoint.
    fork_from: a parent run directory: this new run continues from the parent's newest
        checkpoint at or before `fork_step` (None: its newest), `lr` its learning rate (None:
        the checkpoint's); its store names its parent and that step.
    overwrite: replace the run in run_dir (only a run's own files go).
    """

    run_dir: str
    model: str = "poster"
    dataset: str = "mnist-5k"
    epochs: int = 3
    max_samples: Optional[int] = None
    batch_size: int = 50
    lr: Optional[float] = None
    lr_schedule: str = "constant"
    optimizer: str = "sgd"
    momentum: float = 0.9
    conv_filters: Tuple[int, ...] = (16, 32)
    fc_units: int = 1024
    dropout: float = 0.0
    seed: int = 0
    conv_every: Optional[int] = None
    dense_every: Optional[int] = None
    activations_every: Optional[int] = None
    budget: Optional[int] = DEFAULT_BUDGET
    reduce: bool = False
    reduce_threshold: float = 0.85
    reduce_layers: Tuple[str, ...] = ("conv1",)
    reduce_every: int = 1
    reduce_target: Optional[float] = None
    min_filters: int = 4
    record: bool = True
    steer: bool = True
    continue_on_nan: bool = False
    resume: bool = False
    fork_from: Optional[str] = None
    fork_step: Optional[int] = None
    overwrite: bool = False

    @property
    def learning_rate(self):
        """The learning rate asked for, or the optimizer's default."""
        return self.lr if self.lr is not None else DEFAULT_LEARNING_RATES.get(self.optimizer)

    @property
    def conv_layer_names(self):
        return [f"conv{i}" for i in range(1, len(self.conv_filters) + 1)]

    def check(self):
        """TrainError for a request that cannot be carried out (before anything is touched)."""
        if self.resume and self.overwrite:
            raise TrainError("--resume and --overwrite exclude each other")
        if self.fork_from is not None and self.resume:
            raise TrainError("--fork-from and --resume exclude each other (a fork is a new run)")
        if self.fork_step is not None and (self.fork_from is None or self.fork_step < 0):
            raise TrainError(f"--fork-step {self.fork_step}: give a step >= 0, with --fork-from")
        for option, value, low in (("--epochs", self.epochs, 1), ("--batch-size", self.batch_size, 1),
                                   ("--fc-units", self.fc_units, 1),
                                   ("--max-samples", self.max_samples, 1),
                                   ("--min-filters", self.min_filters, 1)):
            if value is not None and value < low:
                raise TrainError(f"{option} {value}: give a whole number of at least {low}")
        for option, value in (("--conv-every", self.conv_every), ("--dense-every", self.dense_every),
                              ("--activations-every", self.activations_every)):
            if value is not None and value < 0:
                raise TrainError(f"{option} {value}: give a number of steps (0: epoch ends only)")
        if self.lr is not None and not (math.isfinite(self.lr) and self.lr > 0):
            raise TrainError(f"--lr {self.lr}: give a positive learning rate")
        if not (0 <= self.dropout < 1):
            raise TrainError(f"--dropout {self.dropout}: give a fraction in [0, 1)")
        if not (0 <= self.momentum < 1):
            raise TrainError(f"--momentum {self.momentum}: give a fraction in [0, 1)")
        if not (-1 <= self.reduce_threshold <= 1):
            raise TrainError(f"--reduce-threshold {self.reduce_threshold}: a correlation, in [-1, 1]")
        if not self.conv_filters or min(self.conv_filters) < 1:
            raise TrainError(f"--conv-filters {','.join(map(str, self.conv_filters))!r}: give "
                             "positive integers, e.g. 16,32")
        if self.lr_schedule not in LR_SCHEDULES:
            raise TrainError(f"--lr-schedule {self.lr_schedule!r}: one of {', '.join(LR_SCHEDULES)}")
        if self.optimizer not in OPTIMIZERS:
            raise TrainError(f"--optimizer {self.optimizer!r}: one of {', '.join(OPTIMIZERS)}")
        if self.model not in MODEL_NAMES:
            raise TrainError(f"--model {self.model!r}: one of {', '.join(MODEL_NAMES)}")
        if self.reduce:
            if self.reduce_every < 1:
                raise TrainError(f"--reduce-every {self.reduce_every}: give a number of epochs >= 1")
            if self.reduce_target is not None and not (0 < self.reduce_target <= 1):
                raise TrainError(f"--reduce-target {self.reduce_target}: a share of the "
                                 "multiply-accumulates, in (0, 1]")
            if self.model != "poster" or self.reduce_layers == ("all",):
                return  # checked against the model's graph once it is built
            unknown = [name for name in self.reduce_layers if name not in self.conv_layer_names]
            if unknown or not self.reduce_layers:
                raise TrainError(f"--reduce-layers: no conv layer {(unknown or [''])[0]!r} "
                                 f"(conv layers: {', '.join(self.conv_layer_names)})")

    def hyperparameters(self):
        """What the store's run info records of the training set-up."""
        return {"model": self.model, "epochs": self.epochs, "batch_size": self.batch_size,
                "learning_rate": self.learning_rate,
                "lr_schedule": self.lr_schedule, "optimizer": self.optimizer,
                "momentum": self.momentum if self.optimizer == "momentum" else None,
                "seed": self.seed, "max_samples": self.max_samples,
                **({"conv_filters": list(self.conv_filters), "fc_units": self.fc_units,
                    "dropout": self.dropout} if self.model == "poster" else {})}


def parent_optimizer(parent):
    """The optimizer a run was trained with (its run info; "sgd" when it does not say): a
    fork keeps it unless asked for another."""
    from tensorviz_pv.store.reader import RunReader
    from tensorviz_pv.store.run_dir import RunDir
    with RunReader(RunDir(parent).store) as run:
        return (run.info.get("hyperparameters") or {}).get("optimizer") or "sgd"
