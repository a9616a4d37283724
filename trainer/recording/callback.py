"""TensorVizCallback: records a Keras model's training into a TensorViz run store.

Every step: Keras's batch loss and metrics (each output's too), the learning rate, and the L2
norm of every trainable variable and of its gradient. At a cadence chosen per layer to keep a
disk budget (and at step 0, epoch ends and the last step): the variables of every layer with
filters or units and of every normalization layer, the gradients of convolutions, and their
activations for a fixed probe batch. Every epoch: validation/test loss and accuracy.
Checkpoints to resume from are another callback's work (checkpoints.RunCheckpoints).
"""

import atexit
import os
import shutil
import sys
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from tensorviz_pv.errors import TensorVizError
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader
from tensorviz_pv.store.writer import RunWriter, SeriesSpec

from .background import BackgroundWriter
from ..config import DEFAULT_BUDGET, parse_budget
from .cadence import layer_groups, plan
from .filter_ids import FilterIds
from .layers import find_layers, is_built, variable_names
from .atlas import ATLAS_K, ATLAS_SHARE, ATLAS_SIZE, AtlasPass, atlas_count, receptive_fields
from .health_pass import HEALTH_LAYERS_PER_STEP, HealthPass, HealthWatch, LayerHealth
from ..multi_worker import is_chief, mend_keras_fit, worker_count
from .probe import ProbePass, first_input, probe_labels
from .hooks import METRIC_SLOTS, PROBE_SIZE, RecordingHooks

mend_keras_fit()  # Keras's fit under MultiWorkerMirroredStrategy, which the callback records

DRAIN_EVERY = 32  # steps between reads of the in-graph ring buffer (it holds 64)
ACCURACY_NAMES = ("accuracy", "acc")


class RecordingError(TensorVizError):
    """A request the callback cannot record: said before training starts."""


def _first(data, count=PROBE_SIZE):
    """The first `count` samples of an array or a structure of arrays (several inputs)."""
    return tf.nest.map_structure(lambda a: np.asarray(a)[:count], data)


def as_stored(inputs):
    """Atlas inputs as the store keeps them (the first input as float16): a continued run
    ranks the very images the first one did."""
    flat = tf.nest.flatten(inputs)
    first = np.asarray(flat[0])
    if first.dtype.kind == "f":
        first = first.astype(np.float16).astype(first.dtype)
    return tf.nest.pack_sequence_as(inputs, [first] + flat[1:])


def accuracy_column(names):
    """Index of the metric the step table calls accuracy: the first accuracy Keras tracks."""
    for index, name in enumerate(names):
        last = name.rsplit("_", 1)[-1]
        if name in ACCURACY_NAMES or last in ACCURACY_NAMES or name.endswith("accuracy"):
            return index
    return None


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
        self.run_dir = run_dir
        self.store_path = os.path.join(run_dir, F.STORE_FILENAME)
        self.overrides = {"conv_every": conv_every, "dense_every": dense_every,
                          "activations_every": activations_every, "health_every": health_every}
        self.budget = parse_budget(max_bytes_per_step)
        self.probe = None if probe is None else (_first(probe[0]), probe_labels(_first(probe[1])))
        self.atlas_size = atlas_size
        self.atlas_share = atlas_share
        self.atlas_clock = None  # (when the last atlas pass ended, how long it took)
        self.atlas_step = None  # the step of the last atlas ranking
        self.ending = False  # the last snapshot of the fit is being taken
        self.atlas = None  # (inputs, labels) of the Filter Atlas: the first atlas_size of `probe`
        if probe is not None and atlas_size:
            count = atlas_count(first_input(probe[0]), atlas_size)
            self.atlas = (as_stored(_first(probe[0], count)), probe_labels(_first(probe[1], count)))
        self.test_data = test_data
        self.extra_info = dict(run_info or {})
        self.resume_from = resume_from
        self.overwrite = overwrite
        self.stop_on_nonfinite = stop_on_nonfinite
        self.keep_open = keep_open
        self.stop_training_on_failure = stop_training_on_failure
        self.worker_dir = None  # a worker other than the chief records here, removed at the end
        # the model's side: what set_model finds
        self.layers = []  # RecordedLayers, in model order
        self.unrecorded = []  # (path, Keras class) of layers whose weights are not recorded
        self.hooks = None  # RecordingHooks in the train step
        self.probe_pass = None
        self.atlas_pass = None
        self.atlas_layers = None  # layers whose atlas the store holds (None: a new store, all)
        self.filter_ids = None  # FilterIds: the original filters each conv layer holds now
        # the store's side
        self.writer = None  # RunWriter, used on the background thread once the store exists
        self.background = None
        self.pending = []  # snapshots taken before the store exists
        self.groups = {}  # (layer path, "weights" | "activations" | "health") -> cadence Group
        self.health = {}  # layer path -> its LayerHealth (the hooks' health pass's parts)
        self.health_pass = None
        self.health_column = {}  # layer path -> the norm column of its weights
        self.health_series = set()  # (layer, quantity) of the health series the store holds
        self.watch = HealthWatch()  # the alerts said while training
        self.expected_bytes_per_step = None
        self.metric_columns = []  # the store's metric names
        self.last_snapshot = {}  # group key -> step of its latest snapshot
        # where the run is
        self.step = 0
        self.epoch = 0
        self.epoch_offset = 0  # epochs of earlier fits of this run
        self.epoch_first_step = 0
        self.hooked_from = 0  # the hooks' first recorded step is the one after this
        self.drained_step = 0
        self.nonfinite_step = None
        self.stopped = None  # why recording stopped, when it did
        self.last_loss_accuracy = (float("nan"), float("nan"))

    # ---- the model
    def set_model(self, model):
        super().set_model(model)
        if self.stopped is None and is_built(model):
            self._attach(model)

    def _attach(self, model):
        """Find the recorded layers and install the hooks (a model that is built)."""
        self.layers, self.unrecorded = find_layers(model)
        if not self.layers:
            raise RecordingError(f"{self.run_dir}: the model has no layer TensorViz records "
                                 "(Conv1D/2D/3D, transposed, depthwise or separable "
                                 "convolutions, Dense, BatchNormalization, LayerNormalization)")
        copies = [v.path for layer in self.layers for v in layer.gradients()]
        self.hooks = RecordingHooks(model, variable_names(model, self.layers),
                                    gradient_copies=copies, capture_probe=self.probe is None,
                                    health=self._health_pass())
        self.health = {part.path: part for part in self.health_pass.parts} \
            if self.health_pass is not None else {}
        column = {path: i for i, path in enumerate(self.hooks.paths)}
        self.health_column = {path: column[part.variable.path] for path, part in self.health.items()}
        convs = [layer for layer in self.layers if layer.kind.name == F.CONV]
        if self.filter_ids is None:
            input_of = {layer.path: previous.path for previous, layer
                        in zip(self.layers, self.layers[1:]) if previous.kind.name == F.CONV}
            self.filter_ids = FilterIds({layer.path: layer.filters for layer in convs}, input_of)
        if self.probe is not None:
            self._use_probe(self.probe)

    def _health_pass(self):
        """The HealthPass of every recorded layer with trainable weights (None without any);
        the histogram ranges carry over from the previous fit (they only grow)."""
        parts = [LayerHealth(layer.path, layer.variables[layer.kind.weights],
                             F.quantity_layout(layer.kind, layer.kind.weights))
                 for layer in self.layers if layer.kind.weights in layer.variables
                 and layer.variables[layer.kind.weights].trainable]
        every = self.overrides["health_every"] or max(1, len(parts) // HEALTH_LAYERS_PER_STEP)
        self.overrides["health_base"] = every
        xla = getattr(self.model, "jit_compile", False) is True  # Keras's resolved choice
        self.health_pass = HealthPass(parts, previous=self.health_pass, every=every, xla=xla) \
            if parts else None
        return self.health_pass

    def _health_bytes(self):
        return {path: part.bytes(self.filter_ids.original.get(path) if self.filter_ids else None)
                for path, part in self.health.items()}

    def _use_probe(self, probe, atlas=None):
        """Record the activations of the convolutions for these (inputs, labels), and the
        Filter Atlas of `atlas` (default: the atlas chosen already, else the probe's images)."""
        self.probe = probe
        spatial = [layer for layer in self.layers if layer.spatial]
        self.probe_pass = ProbePass(self.model, spatial, probe[0])
        if self.atlas_size:
            self.atlas = atlas or self.atlas or (as_stored(probe[0]), probe[1])
            self.atlas_pass = AtlasPass(self.model, spatial, self.atlas[0],
                                        min(ATLAS_K, len(first_input(self.atlas[0]))))

    def _detach(self):
        if self.hooks is not None:
            self.hooks.uninstall()

    # ---- the run's start
    def on_train_begin(self, logs=None):
        self.ending = False
        if self.stopped is not None:
            return
        if self.writer is not None:  # a further fit of a kept-open run (filter reduction): the
            self.hooked_from = self.drained_step = self.step  # store is open, the hooks are new
            if self.health_pass is not None:
                self.health_pass.step_offset.assign(self.hooked_from)
            return
        try:
            self._leave_the_run_to_the_chief()
            if self.overwrite and self.resume_from is None and os.path.exists(self.store_path):
                os.remove(self.store_path)
            if os.path.exists(self.store_path):
                self._continue_run()
            if self.unrecorded:
                names = ", ".join(f"{path} ({cls})" for path, cls in self.unrecorded[:5])
                print(f"TensorViz: not recorded (a kind TensorViz does not record): {names}"
                      + (f" and {len(self.unrecorded) - 5} more" if len(self.unrecorded) > 5 else ""),
                      file=sys.stderr)
            if self.hooks is not None:
                plan([], self._per_step_bytes(), self.budget)  # a budget too small: said now
                self._begin_recording()
        except TensorVizError:  # bad input: said before training starts, the model untouched
            self._detach()
            raise
        except Exception as error:  # noqa: BLE001 - a failure stops recording, not training
            self._stop(error)

    def _leave_the_run_to_the_chief(self):
        """On a worker other than the chief of a multi-worker training: record into a private
        temporary directory instead of run_dir (every worker runs the same steps and collective
        operations; only the chief's run is kept)."""
        if is_chief(self.model.distribute_strategy):
            return
        self.worker_dir = tempfile.mkdtemp(prefix="tensorviz-worker-")
        atexit.register(shutil.rmtree, self.worker_dir, ignore_errors=True)  # fit may raise
        self.run_dir, self.store_path = self.worker_dir, os.path.join(self.worker_dir,
                                                                      F.STORE_FILENAME)

    def _continue_run(self):
        """A store in run_dir: continue after the resume step, or after its last step."""
        with RunReader(self.store_path) as run:
            times, variables = run.time_steps(), run.variables
            epochs = run.step_table()[F.EPOCH]
            stored_probe = run.probe() if self.probe is None and F.PROBE_GROUP in run.file \
                and F.PROBE_IMAGES in run.file[F.PROBE_GROUP] else None
            stored_atlas = run.atlas() if run.has_atlas() else None
            self.health_series = {(path, quantity) for path in run.layers
                                  for quantity in F.HEALTH_SERIES if run.has_series(path, quantity)}
            self.atlas_layers = {layer.path for layer in self.layers
                                 if run.has_series(layer.path, F.ATLAS)}
        if self.hooks is not None and variables != self.hooks.names:
            raise RecordingError(
                f"{self.store_path}: holds a run of another model (variables "
                f"{', '.join(variables[:3])}, ...; this model has {', '.join(self.hooks.names[:3])}, "
                "...); pass overwrite=True or use another run directory")
        if self.resume_from is not None:
            self.step = int(self.resume_from["step"])
            how = f"resuming from the checkpoint of step {self.step}"
        else:
            self.step = int(times[-1]) if len(times) else 0
            self.epoch_offset = int(epochs[-1]) + 1 if len(epochs) else 0
            how = f"continuing after its step {self.step} (overwrite=True starts afresh)"
        print(f"TensorViz: {self.store_path} exists: {how}", file=sys.stderr)
        given = self.atlas or self.probe
        several = given is not None and len(tf.nest.flatten(given[0])) > 1
        if stored_atlas is not None and not several:
            self.atlas = stored_atlas  # the same atlas images as before
        elif stored_atlas is not None:  # the store keeps a several-input model's first input only
            self.atlas_layers = set()
        if stored_probe is not None and self.hooks is not None:  # the same probe images
            self.hooks.probe_inputs = self.hooks.probe_labels = None
            self._use_probe(stored_probe)
        elif self.probe is not None and self.hooks is not None:
            self._use_probe(self.probe)
        self.writer = RunWriter.append_to(self.store_path, self.step)
        for note in self.writer.notes:
            print(f"TensorViz: {note}", file=sys.stderr)
        self.background = BackgroundWriter()
        with RunReader(self.store_path) as run:
            self.metric_columns = run.metrics()[0]
            if self.filter_ids is not None:
                self.filter_ids = FilterIds.from_store(run, self.step, self.filter_ids.input_of)
            for layer in self.layers:  # where each group's snapshots stand: none twice
                for what, quantity in (("weights", layer.kind.weights),
                                       ("activations", F.ACTIVATION)):
                    steps = run.series_steps(layer.path, quantity) \
                        if run.has_series(layer.path, quantity) else []
                    if len(steps):
                        self.last_snapshot[(layer.path, what)] = int(steps[-1])

    def _begin_recording(self):
        """Step 0 of a new run (in memory until the store exists), or the plan of a continued
        one; the hooks' steps count from here."""
        self.hooked_from = self.drained_step = self.step
        if self.health_pass is not None:
            self.health_pass.step_offset.assign(self.hooked_from)
        if self.writer is None:
            self.pending = self._take_snapshot(
                {(layer.path, what) for layer in self.layers for what in ("weights", "activations")},
                gradients=False)
        else:
            self._plan(self._activation_shapes())

    def _activation_shapes(self):
        """{layer: shape of its recorded probe activations}, from one probe pass."""
        if self.probe_pass is None:
            return {}
        return {path: value.shape for path, value in self.probe_pass().items()}

    def _atlas_shapes(self, activation_shapes):
        """{layer: shape of its atlas snapshots}: (3, k, filters) for the layers recorded."""
        if self.atlas_pass is None:
            return {}
        return {path: (3, self.atlas_pass.k, shape[-1]) for path, shape in activation_shapes.items()
                if self._records_atlas(path)}

    def _records_atlas(self, path):
        return self.atlas_pass is not None and (self.atlas_layers is None or path in self.atlas_layers)

    def _per_step_bytes(self):
        """What every step records: the step columns, the metrics, two norms per variable."""
        return 4 * (len(F.STEP_COLUMNS) + METRIC_SLOTS + 2 * len(self.hooks.paths))

    def _plan(self, activation_shapes):
        """The cadence of every layer's snapshots, chosen to keep the budget."""
        self.groups = layer_groups([layer.shapes() for layer in self.layers], activation_shapes,
                                   self.overrides, self._atlas_shapes(activation_shapes),
                                   self._health_bytes())
        steps, epochs = self.params.get("steps"), self.params.get("epochs")
        self.expected_bytes_per_step = plan(list(self.groups.values()), self._per_step_bytes(),
                                            self.budget, steps,
                                            steps * epochs if steps and epochs else None)
        if self.budget is not None and self.expected_bytes_per_step > self.budget:
            print(f"TensorViz: this run is too short to spread the snapshots of its first and "
                  f"last step: expect {self.expected_bytes_per_step:,} bytes per step (budget "
                  f"{self.budget:,}); a longer run keeps it", file=sys.stderr)

    # ---- every step
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = self.epoch_offset + epoch
        self.epoch_first_step = self.step
        if self.hooks is not None and self.stopped is None:
            self.hooks.reset_metric_totals()

    def on_train_batch_end(self, batch, logs=None):
        self.step = self.epoch_first_step + batch + 1
        if self.stopped is not None:
            return
        try:
            if self.hooks is None:  # a model built by its first step: recording starts now
                self._attach(self.model)
                self.hooks.reset_metric_totals(now=True)
                self.model.make_train_function(force=True)
                self._begin_recording()
                return
            if self.hooks.failure:
                raise RuntimeError(f"the recording hooks could not be traced ({self.hooks.failure})")
            if self.writer is None:
                self._create_store()
            due = {key for key, group in self.groups.items() if group.cadence.due(self.step)}
            self._write_snapshot(due)
            if self.step - self.drained_step >= DRAIN_EVERY or self.writer.flush_due():
                self._drain()
                self.background.submit(self.writer.maybe_flush)
            self._check_background()
        except Exception as error:  # noqa: BLE001 - a failure stops recording, not training
            self._stop(error)

    def _create_store(self):
        """The store of a new run, once the first recorded step has run: Keras's metrics are
        known then, and the default probe was taken from that step's batch."""
        captured = None
        if self.probe is None:
            captured = self.hooks.probe()
            if captured is not None and captured[0].ndim >= 2:
                self._use_probe((captured[0], probe_labels(captured[1])))
        activations = self.probe_pass() if self.probe_pass is not None else {}
        self._plan({path: value.shape for path, value in activations.items()})
        atlas_shapes = self._atlas_shapes({path: value.shape for path, value in activations.items()})
        self.atlas_layers = set(atlas_shapes)
        fields = self._receptive_fields() if atlas_shapes else {}
        self.metric_columns = list(self.hooks.metric_names)
        series = []
        for layer in self.layers:
            for name, variable in layer.variables.items():
                series.append(SeriesSpec(layer.path, name, variable.shape))
            series += [SeriesSpec(layer.path, F.gradient_of(v.name), v.shape)
                       for v in layer.gradients()]
            if layer.path in activations:
                series.append(SeriesSpec(layer.path, F.ACTIVATION, activations[layer.path].shape))
            if layer.path in atlas_shapes:
                series.append(SeriesSpec(layer.path, F.ATLAS, atlas_shapes[layer.path]))
                series.append(SeriesSpec(layer.path, F.ACTIVATION_STATS,
                                         (len(F.ACTIVATION_STAT_ROWS), atlas_shapes[layer.path][-1])))
            if layer.path in self.health:
                original = self.filter_ids.original.get(layer.path)
                for quantity, shape, dtype in self.health[layer.path].series_shapes():
                    if quantity == F.FILTER_NORMS and original:
                        shape = (2, original)
                    series.append(SeriesSpec(layer.path, quantity, shape, dtype))
                    self.health_series.add((layer.path, quantity))
            if layer.path in self.filter_ids.original:
                series.append(SeriesSpec(layer.path, F.ALIVE, (layer.filters,), "uint8"))
        os.makedirs(self.run_dir, exist_ok=True)
        probe = (first_input(self.probe[0]), self.probe[1]) if activations else (None, None)
        atlas = (first_input(self.atlas[0]), self.atlas[1]) if atlas_shapes else None
        self.writer = RunWriter.create(self.store_path, self.run_info(activations, fields),
                                       self.hooks.names, series, *probe,
                                       metric_names=self.metric_columns, atlas=atlas)
        self.background = BackgroundWriter()
        for key in self.groups:
            self.last_snapshot[key] = self.hooked_from
        for args in self.pending:
            self.background.submit(self._write_tensors, *args)
        self.pending = []
        self._record_alive(self.hooked_from)
        if activations and captured is not None:  # the default probe's first snapshot
            self.background.submit(self._write_tensors, self.step, [
                (path, F.ACTIVATION, value) for path, value in activations.items()]
                + self._atlas_now(activations))
            for key in self.groups:
                if key[1] == "activations":
                    self.last_snapshot[key] = self.step

    def _receptive_fields(self):
        """{layer: its receptive field} for the atlas's patches; none (whole images) when the
        model cannot be differentiated with respect to its input."""
        try:
            return receptive_fields(self.model, [layer for layer in self.layers if layer.spatial],
                                    self.atlas[0])
        except Exception as error:  # noqa: BLE001 - the atlas then shows whole images
            print(f"TensorViz: receptive fields not measured ({type(error).__name__}: {error}); "
                  "the Filter Atlas shows whole images", file=sys.stderr)
            return {}

    def _atlas_now(self, paths):
        """[(layer, ATLAS | ACTIVATION_STATS, its value now)] for those of `paths` whose atlas
        is recorded."""
        chosen = [path for path in paths if self._records_atlas(path)]
        if not chosen or not self._atlas_due():
            return []
        started = time.monotonic()
        found = self.atlas_pass()
        self.atlas_clock = (time.monotonic(), time.monotonic() - started)
        self.atlas_step = self.step
        for path in chosen:
            if path in found:
                self.watch.add_statistics(path, self.step, self.filter_ids.expand(
                    path, F.ACTIVATION_STATS, found[path][1]))
        return [(path, quantity, value) for path in chosen if path in found
                for quantity, value in zip((F.ATLAS, F.ACTIVATION_STATS), found[path])]

    def _atlas_due(self):
        """Whether this activation snapshot ranks the atlas too: always at the first and the
        fit's last; otherwise when the last pass took at most `atlas_share` of the time since
        (a large model's atlas pass is seconds: it is then taken less often)."""
        if self.atlas_share is None or self.atlas_clock is None or self.ending:
            return True
        ended, took = self.atlas_clock
        return took <= self.atlas_share * (time.monotonic() - ended)

    def run_info(self, activations, fields=None):
        convs = {layer.path for layer in self.layers if layer.spatial}
        fields = fields or {}
        layers = []
        for layer in self.layers:
            entry = layer.entry(activations[layer.path].shape[1:] if layer.path in activations
                                else None)
            if layer.path in fields:
                entry["receptive_field"] = fields[layer.path]
            entry["cadence"] = {what: [group.cadence.every, group.cadence.epochs]
                                for (path, what), group in self.groups.items() if path == layer.path}
            layers.append(entry)
        loss = "Keras's compute_loss" if self.hooks.compute_loss_used else \
            "the model's own 'loss' metric (its train_step does not call compute_loss)"
        info = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "keras_version": keras.__version__,
                "model_name": self.model.name,
                "parameters": int(self.model.count_params()),
                "optimizer": self.model.optimizer.__class__.__name__,
                "layers": layers,
                "unrecorded_layers": [{"name": path, "class": cls} for path, cls in self.unrecorded],
                "variables": self.hooks.names,
                "cadence": {"budget_bytes_per_step": self.budget,
                            "expected_bytes_per_step": self.expected_bytes_per_step,
                            "per_layer": "layers[].cadence: [every N steps, every N epochs]"},
                "recording": {"first_step": self.hooked_from, "loss": loss,
                              "metrics": self.metric_columns,
                              "probe": "given" if self.probe is not None and self.hooks.probe_inputs
                              is None else "the first training batch",
                              "convolutions": len(convs),
                              "strategy": type(self.model.distribute_strategy).__name__,
                              "replicas": self.model.distribute_strategy.num_replicas_in_sync,
                              "workers": worker_count(self.model.distribute_strategy)},
                "probe_size": len(first_input(self.probe[0])) if activations else 0,
                "atlas_size": len(first_input(self.atlas[0])) if self.atlas_layers else 0}
        info.update(self.extra_info)
        return info

    def _drain(self):
        """Move the steps since the last drain from the in-graph ring buffer to the store."""
        rows = self.hooks.read_rows(self.drained_step + 1 - self.hooked_from,
                                    self.step - self.hooked_from)
        names = self.hooks.metric_names
        position = {name: i for i, name in enumerate(names)}
        loss_at, accuracy_at = position.get("loss"), accuracy_column(names)
        for step, row in enumerate(rows, start=self.drained_step + 1):
            metrics = [row.metrics[position[n]] if n in position else np.nan
                       for n in self.metric_columns]
            loss = row.metrics[loss_at] if loss_at is not None else np.nan
            accuracy = row.metrics[accuracy_at] if accuracy_at is not None else np.nan
            self.background.submit(self.writer.add_step, step, self.epoch, loss, accuracy,
                                   row.learning_rate, row.weight_norms, row.gradient_norms, metrics)
            self._health(step, loss, row)
            finite = np.isfinite(row.weight_norms).all() and (loss_at is None or np.isfinite(loss)) \
                and (self.hooks.loss_scaled or np.isfinite(row.gradient_norms).all())
            if not finite and self.nonfinite_step is None:
                self._report_nonfinite(step, loss)
        if rows:
            self.last_loss_accuracy = (float(loss), float(accuracy))
        self.drained_step = self.step

    def _health(self, step, loss, row):
        """A step's health: to the alert watch, and to the store's health series of the layers
        whose health group is due (filter norms in the original filter ids)."""
        if self.health_pass is None or not self.health_pass.computes(step):
            return
        gradients, ratios, filter_gradients = {}, {}, {}
        split = self.health_pass.split(row.health)
        for path, values in split.items():
            gradients[path] = row.gradient_norms[self.health_column[path]]
            ratios[path] = values[F.UPDATE_RATIO]
            if F.FILTER_NORMS in values:
                filter_gradients[path] = self.filter_ids.expand(path, F.FILTER_NORMS,
                                                                values[F.FILTER_NORMS])[1]
            group = self.groups.get((path, "health"))
            if group is None or not group.cadence.due(step):
                continue
            parts = [(path, quantity, value) for quantity, value in values.items()
                     if (path, quantity) in self.health_series]
            if parts:
                self.background.submit(self._write_tensors, step, parts)
        self.watch.add_step(step, loss, gradients, ratios, filter_gradients)

    def _say_alerts(self):
        """The alerts that appeared since the last epoch end: one line per kind."""
        by_kind = {}
        for found in self.watch.check():
            by_kind.setdefault(found["kind"], []).append(found)
        for kind, found in by_kind.items():
            layers = [f["layer"] for f in found if f["layer"]]
            text = found[0]["text"] if len(found) == 1 else "in " + ", ".join(layers)
            print(f"\nTensorViz: alert from step {min(f['step'] for f in found)}: {kind}"
                  + (f", {layers[0]}" if len(found) == 1 and layers else "") + f": {text} "
                  f"(details: tensorviz info {self.run_dir})", file=sys.stderr)

    def _report_nonfinite(self, step, loss):
        self.nonfinite_step = step
        print(f"\nTensorViz: loss or weights became NaN/Inf at step {step} (loss {loss}); "
              f"recorded in {self.store_path}"
              + ("; stopping" if self.stop_on_nonfinite else "; continuing"), file=sys.stderr)
        if self.stop_on_nonfinite:
            self.model.stop_training = True

    # ---- snapshots
    def _snapshot_items(self):
        """(layer, quantity, tf variable, gradient?) of everything a weights snapshot may hold,
        in one fixed order: one traced read serves every snapshot."""
        items = []
        for layer in self.layers:
            items += [(layer.path, name, v, False) for name, v in layer.variables.items()]
            items += [(layer.path, F.gradient_of(v.name), self.hooks.gradients[v.path], True)
                      for v in layer.gradients()]
        return items

    def _take_snapshot(self, keys, gradients=True):
        """The values, now, of the groups `keys` (layer, "weights" | "activations"): [(step,
        [(layer, quantity, tensor)])], converted and written later, off the training thread."""
        taken = []
        if any(what == "weights" for _, what in keys):
            items = self._snapshot_items()
            values = self.hooks.read_tensors([variable for _, _, variable, _ in items])
            chosen = [(path, quantity, value) for (path, quantity, _, gradient), value
                      in zip(items, values)
                      if (path, "weights") in keys and (gradients or not gradient)]
            taken.append((self.step, chosen))
        chosen = {path for path, what in keys if what == "activations"}
        if self.probe_pass is not None and chosen:
            values = self.probe_pass.tensors()
            taken.append((self.step, [(path, F.ACTIVATION, values[path])
                                      for path in values if path in chosen]
                           + self._atlas_now([path for path in values if path in chosen])))
        return taken

    def _write_snapshot(self, keys, gradients=True):
        for args in self._take_snapshot(keys, gradients):
            self.background.submit(self._write_tensors, *args)
        for key in keys:
            self.last_snapshot[key] = self.step

    def _write_tensors(self, step, parts):
        """On the writer thread: the values as numpy, in the store's original layout."""
        for path, quantity, value in parts:
            self.writer.add_tensor(path, quantity, step,
                                   self.filter_ids.expand(path, quantity, np.asarray(value)))

    # ---- every epoch, the end
    def on_epoch_end(self, epoch, logs=None):
        if self.stopped is not None or self.writer is None:
            return
        try:
            logs = logs or {}
            self._drain()
            done = self.epoch + 1
            due = {key for key, group in self.groups.items()
                   if group.cadence.due_at_epoch_end(done) and self.last_snapshot.get(key) != self.step}
            self._write_snapshot(due)
            row = {"epoch": done, "step": self.step, "val_loss": logs.get("val_loss", np.nan),
                   "val_accuracy": logs.get("val_accuracy", np.nan)}
            if self.test_data is not None:
                test = self.model.evaluate(*self.test_data, verbose=0, return_dict=True)
                accuracy = accuracy_column(list(test))
                row["test_loss"] = test.get("loss", np.nan)
                row["test_accuracy"] = list(test.values())[accuracy] if accuracy is not None else np.nan
            self.background.submit(self.writer.add_evaluation, **row)
            self.background.submit(self.writer.flush)
            self.background.wait()  # the store holds the epoch before its checkpoint is saved
            self._check_background()
            self._say_alerts()
        except Exception as error:  # noqa: BLE001 - a failure stops recording, not training
            self._stop(error)

    def on_train_end(self, logs=None):
        try:
            if self.stopped is None and self.writer is not None:
                self._drain()
                self.ending = True
                last = {key for key in self.groups if self.last_snapshot.get(key) != self.step}
                self._write_snapshot(last)
                if self.atlas_step not in (None, self.step):  # its snapshot here skipped it
                    self.background.submit(self._write_tensors, self.step, self._atlas_now(
                        [path for path, what in self.groups if what == "activations"]))
                self.background.submit(self.writer.flush)
                self.background.wait()
                self._check_background()
        except Exception as error:  # noqa: BLE001 - a failure stops recording, not training
            self._stop(error)
        finally:
            if not self.keep_open:
                self.close()
            self._detach()

    def close(self):
        """Write what is queued, close the store, and take the hooks out of the model."""
        if self.background is not None:
            self.background.stop()
            self.background = None
        if self.writer is not None:
            try:
                self.writer.close()
            except Exception as error:  # noqa: BLE001 - reported, the rest still closes
                print(f"TensorViz: {self.store_path}: closing failed: {error}", file=sys.stderr)
            self.writer = None
        if self.worker_dir is not None:  # a further fit takes a new one
            shutil.rmtree(self.worker_dir, ignore_errors=True)
            self.worker_dir = None
        self._detach()

    def _check_background(self):
        if self.background is not None and self.background.failure is not None:
            raise self.background.failure

    def _stop(self, error):
        """Recording failed: say so, keep what was written, and train on without the hooks."""
        self.stopped = f"{type(error).__name__}: {error}"
        then = "training stops" if self.stop_training_on_failure else "training goes on"
        print(f"\nTensorViz: recording stopped at step {self.step} ({self.stopped}); {then}; "
              f"{self.store_path} keeps the steps written before", file=sys.stderr)
        if self.background is not None:
            self.background.failure = self.background.failure or error
        self.close()
        if self.model is not None:
            self.model.make_train_function(force=True)
            if self.stop_training_on_failure:
                self.model.stop_training = True

    # ---- filter reduction (the trainer's --reduce)
    def _record_alive(self, step):
        for name in self.filter_ids.original:
            self.background.submit(self.writer.add_tensor, name, F.ALIVE, step,
                                   self.filter_ids.alive(name))

    def probe_activations(self):
        """{conv layer: activations of the probe batch} under the current weights."""
        return self.probe_pass() if self.probe_pass is not None else {}

    def record_reduction(self, plans, kept):
        """Record the merges of a reduction (plans: {layer: [Merge]} in current indices,
        kept: {layer: indices kept}) and which original filters now exist."""
        self.background.wait()  # queued snapshots are expanded with the ids before this
        layer_index = {layer.path: i for i, layer in enumerate(self.layers)}
        for name, merges in plans.items():
            ids = self.filter_ids.ids[name]
            for merge in merges:
                self.background.submit(
                    self.writer.add_merge, step=self.step, layer=layer_index[name],
                    kept=int(ids[merge.kept]), removed=int(ids[merge.removed]),
                    correlation=merge.correlation, scale=merge.scale, offset=merge.offset)
        self.background.wait()
        for name, keep in kept.items():
            self.filter_ids.keep(name, keep)
        self._record_alive(self.step)
        self.background.submit(self.writer.flush)
        self.background.wait()
