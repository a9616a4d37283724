"""Starting a fork: a new run that continues a parent run from one of its checkpoints, as a
`tensorviz train NEW_RUN --fork-from PARENT` in the background with the parent's settings (its
run info). `tensorviz steer --fork` starts it once the training has answered; the training
starts it itself for a fork command that asks so (ParaView's Training Control, whose Python has
no TensorFlow to train with)."""

import os
import subprocess
import sys

from tensorviz_pv.errors import SettingError
from tensorviz_pv.store.reader import RunReader
from tensorviz_pv.store.run_dir import RunDir

FORK_LOG = "train.log"  # the forked training's output, in its run directory


def fork_argv(parent, value, step, epochs=None, optimizer=None):
    """The argv of the forked training: `tensorviz train` with the parent's dataset and
    hyper-parameters (its run info), from its checkpoint at or before `step`."""
    with RunReader(RunDir(parent).store) as run:
        info = run.info
    hyper, dataset = info.get("hyperparameters") or {}, info.get("dataset") or {}
    if not dataset.get("name"):
        raise SettingError(f"{parent} was not trained by `tensorviz train` (its run info names "
                           "no dataset): continue its checkpoint in your own code")
    argv = [sys.executable, "-m", "tensorviz_cli.main", "train", value["run_dir"],
            "--fork-from", os.path.abspath(parent)]
    if step is not None:
        argv += ["--fork-step", str(step)]
    options = {"--dataset": dataset.get("name"), "--model": hyper.get("model"),
               "--epochs": epochs or hyper.get("epochs"),
               "--batch-size": hyper.get("batch_size"), "--lr-schedule": hyper.get("lr_schedule"),
               "--optimizer": optimizer or hyper.get("optimizer"),
               "--momentum": hyper.get("momentum"),
               "--seed": hyper.get("seed"), "--max-samples": hyper.get("max_samples"),
               "--fc-units": hyper.get("fc_units"), "--dropout": hyper.get("dropout"),
               "--lr": value.get("lr")}
    if hyper.get("conv_filters"):
        options["--conv-filters"] = ",".join(str(n) for n in hyper["conv_filters"])
    for option, setting in options.items():
        if setting is not None:
            argv += [option, str(setting)]
    return argv


def start_fork(parent, value, step, epochs=None, optimizer=None):
    """Start the forked training in the background (its own session, so that it outlives
    whoever started it); returns (pid, the path of its output)."""
    argv = fork_argv(parent, value, step, epochs, optimizer)
    os.makedirs(value["run_dir"], exist_ok=True)
    log_path = os.path.join(value["run_dir"], FORK_LOG)
    with open(log_path, "ab") as log:
        child = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
    return child.pid, log_path
