"""Keras checkpoints of a run, to resume it from: a callback of its own, apart from the recording
(as Keras keeps BackupAndRestore and ModelCheckpoint apart from TensorBoard).

RUN_DIR/checkpoints/epoch-NNNN.keras is the model after epoch NNNN (epoch-0000: before
training); epoch-NNNN.json beside it, written last, holds {"epoch", "step"}: a checkpoint
without it is an interrupted save and is never resumed from. A steered checkpoint (`tensorviz
steer --checkpoint`, `--stop`, `--fork`) is step-NNNNNNNN.keras, taken mid-epoch at that step
({"epoch": the epoch in progress, "step", "steered": true}): a fork continues from it;
`--resume` does not (Keras restarts an epoch from its first batch), it continues from the last
epoch's checkpoint. Both are written under a temporary name and renamed, so a killed save
leaves no half file under the real name; a damaged checkpoint is passed over for the one
before it.
"""

import json
import os
import re
import zipfile

import keras

from tensorviz_pv.messages import logger
from tensorviz_pv.store.run_dir import RunDir

from .multi_worker import is_chief

LOG = logger("train")
# what RunCheckpoints and a steered checkpoint write
NAME = re.compile(r"(epoch-\d{4}|step-\d{8})\.(keras|json)(\.partial(\.keras)?)?$")
STEERED = "step-"


def checkpoint_path(run_dir, epoch):
    return os.path.join(RunDir(run_dir).checkpoints, f"epoch-{epoch:04d}.keras")


def steered_checkpoint_path(run_dir, step):
    return os.path.join(RunDir(run_dir).checkpoints, f"{STEERED}{step:08d}.keras")


def checkpoints(run_dir, steered=False):
    """[(path, {"epoch", "step"})] of the complete, intact checkpoints, newest first (steered
    ones too when `steered`); a damaged one is named on stderr and passed over."""
    directory = RunDir(run_dir).checkpoints
    if not os.path.isdir(directory):
        return []
    found = []
    names = [n for n in os.listdir(directory) if NAME.match(n) and n.endswith(".keras")
             and (steered or not n.startswith(STEERED))]
    for name in sorted(names, reverse=True):
        path = os.path.join(directory, name)
        try:
            with open(path[:-len(".keras")] + ".json") as f:
                meta = json.load(f)
            int(meta["epoch"]), int(meta["step"])
        except FileNotFoundError:
            continue  # an interrupted save
        except (OSError, ValueError, KeyError, TypeError) as error:
            LOG.warning(f"TensorViz: {path}: its metadata is damaged ({error}); passed over")
            continue
        if not intact(path):
            LOG.warning(f"TensorViz: {path}: damaged (not a complete Keras file); passed over")
            continue
        found.append((path, meta))
    return sorted(found, key=lambda item: -int(item[1]["step"]))  # stable: epoch ends first


def intact(path):
    """Whether a .keras file is a whole zip archive with correct checksums."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError):
        return False


def latest_checkpoint(run_dir, at_most_step=None, steered=False):
    """(path, {"epoch", "step"}) of the newest intact checkpoint (at or before `at_most_step`;
    steered ones too when `steered`), or None."""
    for path, meta in checkpoints(run_dir, steered):
        if at_most_step is None or int(meta["step"]) <= at_most_step:
            return path, meta
    return None


def save_checkpoint(model, path, meta):
    """The model at `path`, then `meta` beside it (written last: the checkpoint is complete
    then), each under a temporary name renamed into place; OSError leaves no part of it."""
    meta_path = path[:-len(".keras")] + ".json"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        model.save(path + ".partial.keras")  # Keras wants the extension
        os.replace(path + ".partial.keras", path)
        with open(meta_path + ".partial", "w") as f:
            json.dump(meta, f)
        os.replace(meta_path + ".partial", meta_path)
    except OSError:
        for partial in (path + ".partial.keras", meta_path + ".partial", path):
            if os.path.exists(partial):  # no metadata: none of them is a checkpoint
                os.remove(partial)
        raise


def save_steered_checkpoint(model, run_dir, step, epoch):
    """A checkpoint at `step`, mid-epoch (`epoch` the one in progress, counted from 0): the
    path, or OSError."""
    path = steered_checkpoint_path(run_dir, step)
    save_checkpoint(model, path, {"epoch": epoch, "step": step, "steered": True})
    return path


def remove_checkpoints(run_dir):
    """Remove what RunCheckpoints wrote (nothing else in the folder); the folder if empty."""
    directory = RunDir(run_dir).checkpoints
    if not os.path.isdir(directory):
        return
    for name in os.listdir(directory):
        if NAME.match(name):
            os.remove(os.path.join(directory, name))
    if not os.listdir(directory):
        os.rmdir(directory)


class RunCheckpoints(keras.callbacks.Callback):
    """Saves the model at every epoch end into the run directory, with the epoch and the global
    step it was taken at (the step a resumed run's store continues after).

    Args:
        run_dir: the run directory (the checkpoints go into its `checkpoints/`).
        resume_from: {"epoch", "step"} of the checkpoint a resumed run starts from (the
            second item of `latest_checkpoint`), or None for a new run.

    Example:

        model.fit(x, y, epochs=3, callbacks=[TensorVizCallback("runs/a"), RunCheckpoints("runs/a")])
        path, resume = latest_checkpoint("runs/a")
        model = keras.models.load_model(path)
        model.fit(x, y, epochs=6, initial_epoch=resume["epoch"], callbacks=[
            TensorVizCallback("runs/a", resume_from=resume), RunCheckpoints("runs/a", resume)])
    """

    def __init__(self, run_dir, resume_from=None):
        super().__init__()
        self.run_dir = run_dir
        self.step = int(resume_from["step"]) if resume_from else 0
        self._first_epoch = int(resume_from["epoch"]) if resume_from else 0
        self.failed = None  # why a save failed: training was stopped then

    def on_train_begin(self, logs=None):
        if not checkpoints(self.run_dir):  # a new run (or a fork): its start, too, so that a
            self._save(self._first_epoch)  # run killed before its first epoch's end resumes

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1

    def on_epoch_end(self, epoch, logs=None):
        self._save(epoch + 1)

    def _save(self, epoch):
        if not is_chief(self.model.distribute_strategy):
            return  # the chief saves a multi-worker training's checkpoints (the same model)
        path = checkpoint_path(self.run_dir, epoch)
        try:
            save_checkpoint(self.model, path, {"epoch": epoch, "step": self.step})
        except OSError as error:  # a full disk, say: stop, with what was saved before intact
            self.failed = f"{path}: the checkpoint could not be saved ({error.strerror or error})"
            # training already stopping: the failure that stopped it (a full disk) was said
            say = LOG.debug if self.model.stop_training else LOG.warning
            say(f"\nTensorViz: {self.failed}; training stops (the earlier checkpoints and the "
                "store are kept)")
            self.model.stop_training = True
