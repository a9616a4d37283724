"""A store already in the run directory: the run is continued after its last step (a second
fit), or after the checkpoint's step it resumes from, with the very probe and atlas images and
the filters it had then. And a worker other than the chief of a multi-worker training records
into a temporary folder of its own instead."""

import atexit
import os
import shutil
import tempfile
from collections import namedtuple

from tensorviz_pv.messages import logger
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader
from tensorviz_pv.store.writer import RunWriter

from .cadence import ACTIVATIONS, WEIGHTS
from .errors import RecordingError
from .filter_ids import FilterIds
from .images import several_inputs
from .output import StoreOutput

LOG = logger("recording")

# where a continued run stands: its step and the epochs of earlier fits, the StoreOutput that
# continues its store, its filters now
Continued = namedtuple("Continued", "step epoch_offset output filter_ids")


def worker_dir():
    """A private folder for a worker other than the chief (every worker runs the same steps and
    collective operations; only the chief's run is kept), removed at exit (fit may raise)."""
    folder = tempfile.mkdtemp(prefix="tensorviz-worker-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def store_continues(store_path, overwrite, resume_from):
    """Whether a store is there to continue: not with `overwrite` (a new run, unless resuming
    from a checkpoint), which removes it."""
    if overwrite and resume_from is None and os.path.exists(store_path):
        os.remove(store_path)
    return os.path.exists(store_path)


def continue_run(store_path, attached, images, snapshots, filter_ids, resume_from):
    """Continue the store at `store_path` with the model's `attached` parts (None: the model is
    built by its first step); `images` and `snapshots` take the stored probe, atlas and where
    each group's snapshots stand; `filter_ids` (None before attaching) follow the stored ones.
    RecordingError when the store holds a run of another model."""
    layers = attached.layers if attached is not None else []
    with RunReader(store_path) as run:
        times, variables = run.time_steps(), run.variables
        epochs = run.step_table()[F.EPOCH]
        stored_probe = run.probe() if not images.given and run.has_probe() else None
        stored_atlas = run.atlas() if run.has_atlas() else None
        health_series = {(path, quantity) for path in run.layers
                         for quantity in F.HEALTH_SERIES if run.has_series(path, quantity)}
        snapshots.atlas_layers = {layer.path for layer in layers
                                  if run.has_series(layer.path, F.ATLAS)}
    if attached is not None and variables != attached.hooks.names:
        names = attached.hooks.names
        raise RecordingError(
            f"{store_path}: holds a run of another model (variables {', '.join(variables[:3])}, "
            f"...; this model has {', '.join(names[:3])}, ...); pass overwrite=True or use "
            "another run directory")
    epoch_offset = 0
    if resume_from is not None:
        step = int(resume_from["step"])
        how = f"resuming from the checkpoint of step {step}"
    else:
        step = int(times[-1]) if len(times) else 0
        epoch_offset = int(epochs[-1]) + 1 if len(epochs) else 0
        how = f"continuing after its step {step} (overwrite=True starts afresh)"
    LOG.warning(f"TensorViz: {store_path} exists: {how}")
    if stored_atlas is not None and not several_inputs(images.atlas or images.probe):
        images.atlas = stored_atlas  # the same atlas images as before
    elif stored_atlas is not None:  # the store keeps a several-input model's first input only
        snapshots.atlas_layers = set()
    if attached is not None and (stored_probe is not None or images.given):
        if stored_probe is not None:  # the same probe images
            attached.hooks.stop_capturing_probe()
            images.use(stored_probe)
        attached.look_through(images)
    writer = RunWriter.append_to(store_path, step)
    for note in writer.notes:
        LOG.warning(f"TensorViz: {note}")
    with RunReader(store_path) as run:
        metric_columns = run.metrics()[0]
        if filter_ids is not None:
            filter_ids = FilterIds.from_store(run, step, filter_ids.input_of,
                                              filter_ids.channels_of)
        last = {}
        for layer in layers:  # where each group's snapshots stand: none twice
            for what, quantity in ((WEIGHTS, layer.kind.weights), (ACTIVATIONS, F.ACTIVATION)):
                steps = run.series_steps(layer.path, quantity) \
                    if run.has_series(layer.path, quantity) else []
                if len(steps):
                    last[(layer.path, what)] = int(steps[-1])
    snapshots.continue_from(last)
    return Continued(step, epoch_offset, StoreOutput(writer, metric_columns, health_series),
                     filter_ids)
