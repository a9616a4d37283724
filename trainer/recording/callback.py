"""TensorVizCallback: the Keras hooks that record a training into a TensorViz run store; the
work is its rooms' (this package), checkpoints another callback's (checkpoints.RunCheckpoints)."""

import shutil

import keras

from tensorviz_pv.errors import TensorVizError
from tensorviz_pv.store.run_dir import RunDir

from ..config import DEFAULT_BUDGET, parse_budget
from ..multi_worker import is_chief, mend_keras_fit
from . import at_exit
from .alerts import HealthWatch, say_alerts, say_nonfinite, say_stopped, say_unfinished
from .atlas import ATLAS_SHARE, ATLAS_SIZE
from .attachment import Attachment
from .filter_ids import FilterIds
from .images import ProbeImages
from .layers import is_built
from .resume import continue_run, store_continues, worker_dir
from .snapshots import Snapshots
from .steps import HealthRecords, StepRows, evaluation_row
from .store_plan import StorePlan

mend_keras_fit()  # Keras's fit under MultiWorkerMirroredStrategy, which the callback records


class TensorVizCallback(keras.callbacks.Callback):
    """Records the training of a Keras model into a TensorViz run store (RUN_DIR/run.tvz), which
    ParaView's TensorViz plugin reads, also while training goes on.

    Per-step values are computed in the training graph and read back every few steps, and
    snapshots are written by a thread of their own: recording adds no host synchronisation per
    step. Any Keras model: Sequential, functional, subclassed (recording starts once its first
    step has built it), nested models, custom train steps, several outputs, mixed precision,
    tf.distribute strategies (under MultiWorkerMirroredStrategy only the chief writes run_dir;
    the other workers record into a temporary folder they remove). Conv1D/2D/3D, transposed,
    depthwise and separable convolutions, Dense, BatchNormalization and LayerNormalization
    layers are recorded, found recursively and named by their full path; a layer with weights
    of another kind is named in a warning and in `tensorviz info`.

    Args:
        run_dir: the run directory; the store `run.tvz` is created in it. A store already
            there is continued after its last step (a second `fit`), unless `overwrite`.
        probe: (inputs, labels) of the fixed probe batch whose activations are recorded (the
            first 16 are kept; labels as class ids); by default the first 16 samples of the
            first training batch, recorded from step 1 on.
        test_data: (x, y) evaluated at every epoch end, recorded beside the validation metrics.
        conv_every: steps between snapshots of the convolution and normalization layers'
            variables and the convolutions' gradients (default: from the budget, 10 if it allows).
        dense_every: steps between snapshots of dense layers (default: from the budget; 0:
            epoch ends only).
        activations_every: steps between snapshots of the probe activations (default: from the
            budget, 100 if it allows).
        max_bytes_per_step: the disk budget in bytes per step averaged over the run, e.g.
            100_000 or "2M" (default 100 kB; None: no limit). The cadences not given are chosen
            to keep it: small layers often, large ones rarely; per-step values always.
        run_info: a dict stored with the run (dataset, hyper-parameters...); `tensorviz info`
            shows it.
        resume_from: {"epoch", "step"} of the checkpoint a resumed run starts from
            (checkpoints.latest_checkpoint): the store is continued after that step.
        overwrite: replace a store already in `run_dir` instead of continuing it.
        stop_on_nonfinite: stop training when the loss or the weights become NaN/Inf (it is
            recorded and reported either way).
        keep_open: keep the store open across several `fit` calls (training with filter
            reduction, one fit per stretch); call `close()` at the end.
        stop_training_on_failure: when recording fails (a full disk), stop training too
            (`tensorviz train` does); by default training goes on without recording.
        atlas_size: how many images the Filter Atlas ranks at each activation snapshot (which
            of them excite each conv filter most, and where): the first `atlas_size` of
            `probe` (default 256, capped at 16 MiB of images; the probe batch itself when no
            probe is given; 0: no atlas).
        health_every: steps between the training-health records (histograms, update ratios,
            filter norms; the update is then the mean over those steps): default every step up
            to 16 recorded layers, every layers / 16 steps beyond (their cost grows with the
            layers: MobileNetV2's 105 took a fifth of its step time at every step).
        atlas_share: the largest share of the training time the atlas's ranking may take: an
            activation snapshot ranks it only when the last ranking took at most this share of
            the time since (default 0.02; the first and each fit's last snapshot always do;
            None: at every activation snapshot).

    Example:

        callback = TensorVizCallback("runs/mine", probe=(x_test, y_test))
        model.fit(x_train, y_train, epochs=3, callbacks=[callback, RunCheckpoints("runs/mine")])
        # then: tensorviz paraview runs/mine
    """

    def __init__(self, run_dir, probe=None, test_data=None, conv_every=None, dense_every=None,
                 activations_every=None, max_bytes_per_step=DEFAULT_BUDGET, run_info=None,
                 resume_from=None, overwrite=False, stop_on_nonfinite=True, keep_open=False,
                 stop_training_on_failure=False, atlas_size=ATLAS_SIZE, atlas_share=ATLAS_SHARE,
                 health_every=None):
        super().__init__()
        self._run_dir = RunDir(run_dir)  # a worker other than the chief: a temporary one
        self._health_every = health_every
        self._store_plan = StorePlan({"conv_every": conv_every, "dense_every": dense_every,
                                      "activations_every": activations_every,
                                      "health_every": health_every},
                                     parse_budget(max_bytes_per_step), dict(run_info or {}))
        self._images = ProbeImages(probe, atlas_size)
        self._test_data = test_data
        self._resume_from, self._overwrite = resume_from, overwrite
        self._stop_on_nonfinite, self._keep_open = stop_on_nonfinite, keep_open
        self._stop_training_on_failure = stop_training_on_failure
        self._worker_dir = None
        self._attached = None  # Attachment: recording's parts in the model
        self._filter_ids = None  # FilterIds: the original filters each conv layer holds now
        self._output = None  # StoreOutput, once the store exists
        self._watch = HealthWatch()  # the alerts said while training
        self._snapshots = Snapshots(self._watch, atlas_share)
        self._rows = StepRows(HealthRecords(self._watch, self._snapshots))
        self._step = self._epoch = self._epoch_offset = self._epoch_first_step = 0
        self._hooked_from = 0  # the hooks' first recorded step is the one after this
        self._stopped = None

    # ---- what others ask of it
    @property
    def store_path(self):
        return self._run_dir.store

    @property
    def step(self):
        """The global step of the last training batch."""
        return self._step

    @property
    def stopped(self):
        """Why recording stopped, or None while it records."""
        return self._stopped

    def latest(self):
        """(the last step read back from the training graph, its loss, its accuracy)."""
        return (self._rows.read_to,) + self._rows.latest

    def flush(self):
        """Write every step so far to the store now (a steered pause)."""
        if self._stopped is None and self._output is not None:
            self._drain()
            self._output.flush()

    def record_steering(self, **row):
        """A steering command's outcome, into the store now (RunWriter.add_steering_event);
        nothing while recording is stopped or before the store exists."""
        if self._stopped is None and self._output is not None:
            self._output.steering_event(**row)

    # ---- the model
    def set_model(self, model):
        if self._stopped is None and at_exit.unfinished(self):
            self.finish_unfinished_fit()  # a new fit with this callback, after one that raised
        super().set_model(model)
        if self._stopped is None and is_built(model):
            self._attach(model)

    def _attach(self, model):
        """Install recording's parts in a built model."""
        self._attached = Attachment(model, self._run_dir.path, self._images, self._health_every,
                                    self._attached)
        self._filter_ids = self._filter_ids or FilterIds(*self._attached.conv_filters())

    def _detach(self):
        if self._attached is not None:
            self._attached.detach()

    # ---- the run's start
    def on_train_begin(self, logs=None):
        if self._stopped is not None:
            return
        at_exit.fit_begins(self)
        if self._output is not None:  # a further fit of a kept-open run (filter reduction): the
            self._hooks_count_from(self._step)  # store is open, the hooks are new
            return
        try:
            if not is_chief(self.model.distribute_strategy):  # it records into a folder of
                self._worker_dir = worker_dir()  # its own, removed at the end
                self._run_dir = RunDir(self._worker_dir)
            if store_continues(self.store_path, self._overwrite, self._resume_from):
                self._continue()
            elif self._resume_from is not None:  # a new run from another's checkpoint (a fork)
                self._step = self._epoch_first_step = int(self._resume_from["step"])
            if self._attached is not None:
                self._attached.say_unrecorded()
                self._store_plan.check_budget(self._attached)
                self._begin_recording()
        except TensorVizError:  # bad input: said before training starts, the model untouched
            at_exit.fit_ends(self)
            self._detach()
            raise
        except Exception as error:  # noqa: BLE001 - a failure stops recording, not training
            self._stop(error)

    def _continue(self):
        self._step, self._epoch_offset, self._output, self._filter_ids = continue_run(
            self.store_path, self._attached, self._images, self._snapshots, self._filter_ids,
            self._resume_from)

    def _hooks_count_from(self, step):
        self._hooked_from = self._rows.read_to = step
        self._attached.starts_at(step)

    def _begin_recording(self):
        """Step 0 of a new run (in memory until the store exists), or the plan of a continued
        one; the hooks' steps count from here."""
        self._hooks_count_from(self._step)
        if self._output is None:
            self._snapshots.take_first(self._attached, self._filter_ids, self._step)
        else:
            self._store_plan.plan(self._attached, self._snapshots, self._filter_ids, {
                path: value.shape for path, value in self._attached.activations().items()},
                self.params or {})  # none yet when a resumed reduction begins before the fit

    def _create_store(self):
        """The store of a new run, and what was recorded before it existed."""
        new = self._store_plan.create(self.store_path, self.model, self.params, self._attached,
                                      self._images, self._snapshots, self._filter_ids,
                                      self._hooked_from)
        self._output = new.output
        self._snapshots.start(self._output, self._attached, self._filter_ids, self._hooked_from,
                              self._step, new.activations if new.captured is not None else None)

    # ---- every step
    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = self._epoch_offset + epoch
        self._epoch_first_step = self._step
        if self._attached is not None and self._stopped is None:
            self._attached.hooks.metrics.reset()

    def on_train_batch_end(self, batch, logs=None):
        self._step = self._epoch_first_step + batch + 1
        if self._stopped is not None:
            return
        try:
            if self._attached is None:  # a model built by its first step: recording starts now
                self._attach(self.model)
                self._attached.hooks.metrics.reset(now=True)
                self.model.make_train_function(force=True)
                self._begin_recording()
                return
            if self._attached.hooks.failure:
                raise RuntimeError("the recording hooks could not be traced "
                                   f"({self._attached.hooks.failure})")
            if self._output is None:
                self._create_store()
            due = self._snapshots.due(self._step)
            if due:  # most steps take none
                self._snapshot(due)
            if self._rows.due(self._step) or self._output.flush_due():
                self._drain()
                self._output.maybe_flush()
            self._output.check()
        except Exception as error:  # noqa: BLE001 - a failure stops recording, not training
            self._stop(error)

    def _snapshot(self, keys, ending=False):
        self._snapshots.write(self._output, self._attached, self._filter_ids, keys, self._step,
                              ending)

    def _drain(self):
        """Move the steps since the last drain from the in-graph ring buffer to the store."""
        nonfinite = self._rows.read(self._attached, self._output, self._filter_ids,
                                    self._hooked_from, self._step, self._epoch)
        if nonfinite is not None:
            say_nonfinite(*nonfinite, self.store_path, self._stop_on_nonfinite)
            self.model.stop_training |= self._stop_on_nonfinite

    # ---- every epoch, the end
    def on_epoch_end(self, epoch, logs=None):
        if self._stopped is not None or self._output is None:
            return
        try:
            self._drain()
            done = self._epoch + 1
            self._snapshot(self._snapshots.due_at_epoch_end(done, self._step))
            self._output.evaluation(**evaluation_row(self.model, logs, self._test_data, done,
                                                     self._step))
            self._output.settle()  # the store holds the epoch before its checkpoint is saved
            say_alerts(self._watch.check(), self._run_dir.path)
        except Exception as error:  # noqa: BLE001 - a failure stops recording, not training
            self._stop(error)

    def on_train_end(self, logs=None):
        try:
            if self._stopped is None and self._output is not None:
                self._drain()
                self._snapshots.finish(self._output, self._attached, self._filter_ids, self._step)
                self._output.settle()
        except Exception as error:  # noqa: BLE001 - a failure stops recording, not training
            self._stop(error)
        finally:
            at_exit.fit_ends(self)
            if not self._keep_open:
                self.close()
            self._detach()

    def finish_unfinished_fit(self):
        """The fit raised, so Keras never called on_train_end: its steps still in the training
        graph are written, the store closed, the hooks taken out (at exit, or when this callback
        starts another fit)."""
        if self._output is not None:
            say_unfinished(self._step, self.store_path)
        self.on_train_end()

    def close(self):
        """Write what is queued, close the store, and take the hooks out of the model."""
        if self._output is not None:
            self._output.close()
            self._output = None
        if self._worker_dir is not None:  # a further fit takes a new one
            shutil.rmtree(self._worker_dir, ignore_errors=True)
            self._worker_dir = None
        self._detach()

    def _stop(self, error):
        """Recording failed: say so, keep what was written, and train on without the hooks."""
        self._stopped = f"{type(error).__name__}: {error}"
        say_stopped(self._step, self._stopped, self._stop_training_on_failure, self.store_path)
        if self._output is not None:
            self._output.fail(error)
        self.close()
        if self.model is not None:
            self.model.make_train_function(force=True)
            if self._stop_training_on_failure:
                self.model.stop_training = True
