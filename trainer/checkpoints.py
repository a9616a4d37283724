"""Keras checkpoints of a run, to resume it from: a callback of its own, apart from the recording
(as Keras keeps BackupAndRestore and ModelCheckpoint apart from TensorBoard).

RUN_DIR/checkpoints/epoch-NNNN.keras is the model after epoch NNNN; epoch-NNNN.json beside it,
written last, holds {"epoch", "step"}: a checkpoint without it is an interrupted save and is
never resumed from.
"""

import json
import os

import keras

from tensorviz_pv.store import format as F


def checkpoint_path(run_dir, epoch):
    return os.path.join(run_dir, F.CHECKPOINT_DIR, f"epoch-{epoch:04d}.keras")


def latest_checkpoint(run_dir):
    """(path, {"epoch", "step"}) of the newest complete checkpoint, or None."""
    directory = os.path.join(run_dir, F.CHECKPOINT_DIR)
    if not os.path.isdir(directory):
        return None
    names = sorted(n for n in os.listdir(directory) if n.endswith(".keras"))
    for name in reversed(names):
        meta = os.path.join(directory, name[:-len(".keras")] + ".json")
        if os.path.exists(meta):
            with open(meta) as f:
                return os.path.join(directory, name), json.load(f)
    return None


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

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1

    def on_epoch_end(self, epoch, logs=None):
        path = checkpoint_path(self.run_dir, epoch + 1)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.model.save(path)
        with open(path[:-len(".keras")] + ".json", "w") as f:
            json.dump({"epoch": epoch + 1, "step": self.step}, f)
