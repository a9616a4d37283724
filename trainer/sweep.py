"""`tensorviz sweep`: one run per learning rate (or conv1 width), then their norms and accuracy
side by side (the poster's hyper-parameter study)."""

import dataclasses
import os

from tensorviz_pv.messages import logger
from tensorviz_pv.store.run_dir import RunDir

from .config import TrainError
from .train import train

LOG = logger("train")


def sweep_configs(base, out_dir, learning_rates=None, widths=None):
    """[(label, TrainConfig)]: `base` with one learning rate, or one conv1 width, per run; each
    run in OUT_DIR/lr-<value> or OUT_DIR/conv1-<value>."""
    name, values = ("conv1", widths) if widths else ("lr", learning_rates)
    configs = []
    for value in values:
        try:
            change = {"conv_filters": (int(value),) + tuple(base.conv_filters[1:])} \
                if name == "conv1" else {"lr": float(value)}
        except ValueError:
            raise TrainError(f"sweep value {value!r} is not a number") from None
        run_dir = os.path.join(out_dir, f"{name}-{value}")
        configs.append((f"{name} {value}", dataclasses.replace(base, run_dir=run_dir, **change)))
    return configs


def run_sweep(configs):
    """Train each configuration whose run does not exist yet; returns [(label, store path)]."""
    runs = []
    for label, config in configs:
        store = os.path.abspath(RunDir(config.run_dir).store)
        if not os.path.exists(store):
            LOG.info(f"tensorviz sweep: {label} -> {config.run_dir}")
            train(config)
        runs.append((label, store))
    return runs

