"""TensorVizCallback: records a Keras model's training into a TensorViz run store.

Every step: loss, accuracy, learning rate, and the L2 norm of every trainable variable and of its
gradient. At a cadence (and at step 0 and every epoch end): the kernels, biases and gradients of
Conv2D layers, the kernels and biases of Dense layers, and the activations of every Conv2D layer
for a fixed probe batch. Every epoch: validation/test loss and accuracy. Checkpoints to resume
from are another callback's work (checkpoints.RunCheckpoints).
"""

import os
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from tensorviz_pv.store import format as F
from tensorviz_pv.store.writer import RunWriter, SeriesSpec

from .filter_ids import FilterIds
from .recording_hooks import RecordingHooks

DEFAULT_CADENCE = {"conv_every": 10, "dense_every": 0, "activations_every": 100}
PROBE_SIZE = 16
DRAIN_EVERY = 32  # steps between reads of the in-graph ring buffer (it holds 64)


def _kind(layer):
    if isinstance(layer, keras.layers.Conv2D):
        return F.CONV
    if isinstance(layer, keras.layers.Dense):
        return F.DENSE
    return None


class TensorVizCallback(keras.callbacks.Callback):
    """Records the training of a Keras model into a TensorViz run store (RUN_DIR/run.tvz), which
    ParaView's TensorViz plugin reads, also while training goes on.

    Per-step values are computed in the training graph and read back every few steps, so that
    recording adds no host synchronisation per step. The model must be compiled; Conv2D and
    Dense layers are recorded.

    Args:
        run_dir: the run directory; the store `run.tvz` is created in it (it must not exist
            yet, unless `resume_from` is given).
        probe: (images, labels) of the fixed probe batch whose activations are recorded (the
            first 16 are kept); None records no activations.
        test_data: (x, y) evaluated at every epoch end, recorded beside the validation metrics.
        conv_every: steps between snapshots of conv kernels, biases and their gradients
            (default 10; 0: at step 0 and epoch ends only).
        dense_every: steps between snapshots of dense kernels and biases (default 0).
        activations_every: steps between snapshots of the probe activations (default 100).
        run_info: a dict stored with the run (dataset, hyper-parameters...); `tensorviz info`
            shows it.
        resume_from: {"epoch", "step"} of the checkpoint a resumed run starts from
            (checkpoints.latest_checkpoint): the store is continued after that step, with no
            step missing or doubled.
        stop_on_nonfinite: stop training when the loss or the weights become NaN/Inf (it is
            recorded and reported either way).
        keep_open: keep the store open across several `fit` calls (training with filter
            reduction, one fit per stretch); call `close()` at the end.

    Example:

        callback = TensorVizCallback("runs/mine", probe=(x_test, y_test), conv_every=20)
        model.fit(x_train, y_train, epochs=3, callbacks=[callback, RunCheckpoints("runs/mine")])
        # then: tensorviz paraview runs/mine
    """

    def __init__(self, run_dir, probe=None, test_data=None, conv_every=None, dense_every=None,
                 activations_every=None, run_info=None, resume_from=None,
                 stop_on_nonfinite=True, keep_open=False):
        super().__init__()
        self.run_dir = run_dir
        self.store_path = os.path.join(run_dir, F.STORE_FILENAME)
        cadence = dict(DEFAULT_CADENCE)
        for key, value in (("conv_every", conv_every), ("dense_every", dense_every),
                           ("activations_every", activations_every)):
            if value is not None:
                cadence[key] = int(value)
        self.cadence = cadence
        self.probe = None if probe is None else (np.asarray(probe[0][:PROBE_SIZE]),
                                                 np.asarray(probe[1][:PROBE_SIZE]))
        self.test_data = test_data
        self.extra_info = dict(run_info or {})
        self.resume_from = resume_from
        self.stop_on_nonfinite = stop_on_nonfinite
        self.keep_open = keep_open
        # set by set_model: the recorded layers, the in-graph hooks, the probe's forward pass
        self.layers = []  # (keras layer, kind)
        self.input_of = {}  # layer name -> the conv layer whose filters are its input channels
        self.hooks = None
        self.probe_model = None
        self._probe_function = None
        # set by on_train_begin
        self.writer = None
        self.filter_ids = None  # FilterIds: the original filters each conv layer holds now
        self.step = 0
        self.epoch = 0
        self.first_step = self.first_iteration = self.drained_step = 0
        self.nonfinite_step = None
        self.last_loss_accuracy = (float("nan"), float("nan"))

    # ---- setup
    def set_model(self, model):
        super().set_model(model)
        self.layers = [(layer, kind) for layer in model.layers
                       if (kind := _kind(layer)) is not None]
        conv_paths = [layer.kernel.path for layer, kind in self.layers if kind == F.CONV]
        conv_paths += [layer.bias.path for layer, kind in self.layers
                       if kind == F.CONV and layer.bias is not None]
        self.hooks = RecordingHooks(model, gradient_copies=conv_paths)
        self.input_of = {layer.name: previous.name for (previous, previous_kind), (layer, _)
                         in zip(self.layers, self.layers[1:]) if previous_kind == F.CONV}
        self.probe_model = None
        self._probe_function = None
        if self.probe is not None and any(kind == F.CONV for _, kind in self.layers):
            try:
                inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
                self.probe_model = keras.Model(
                    inputs, [layer.output for layer, kind in self.layers if kind == F.CONV])
            except (ValueError, AttributeError, TypeError):
                self.probe_model = None  # subclassed models have no symbolic outputs

    def _series_specs(self):
        specs = []
        for layer, kind in self.layers:
            specs.append(SeriesSpec(layer.name, F.KERNEL, layer.kernel.shape))
            if layer.bias is not None:
                specs.append(SeriesSpec(layer.name, F.BIAS, layer.bias.shape))
            if kind == F.CONV:
                specs.append(SeriesSpec(layer.name, F.KERNEL_GRADIENT, layer.kernel.shape))
                if layer.bias is not None:
                    specs.append(SeriesSpec(layer.name, F.BIAS_GRADIENT, layer.bias.shape))
                if self.probe_model is not None:
                    shape = (len(self.probe[0]),) + tuple(layer.output.shape[1:])
                    specs.append(SeriesSpec(layer.name, F.ACTIVATION, shape))
                specs.append(SeriesSpec(layer.name, F.ALIVE, (layer.kernel.shape[-1],), "uint8"))
        return specs

    def _layer_info(self):
        return [F.layer_entry(
            layer.name, kind, layer.kernel.shape, None if layer.bias is None else layer.bias.shape,
            activation_shape=layer.output.shape[1:]
            if kind == F.CONV and self.probe_model is not None else None,
            activation=getattr(layer.activation, "__name__", str(layer.activation)))
            for layer, kind in self.layers]

    def run_info(self):
        info = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "keras_version": keras.__version__,
                "model_name": self.model.name,
                "parameters": int(self.model.count_params()),
                "optimizer": self.model.optimizer.__class__.__name__,
                "layers": self._layer_info(),
                "variables": self.hooks.paths,
                "cadence": self.cadence,
                "probe_size": 0 if self.probe_model is None else len(self.probe[0])}
        info.update(self.extra_info)
        return info

    def on_train_begin(self, logs=None):
        if self.writer is not None:
            pass  # a further fit of a kept-open run (filter reduction): the store is open
        elif self.resume_from is not None:
            self.step = int(self.resume_from["step"])
            self.epoch = int(self.resume_from["epoch"])
            self.writer = RunWriter.append_to(self.store_path, self.step)
            self.writer.flush()
            self.filter_ids = FilterIds.from_store(self.store_path, self.step, self.input_of)
        else:
            os.makedirs(self.run_dir, exist_ok=True)
            probe = self.probe if self.probe_model is not None else (None, None)
            self.writer = RunWriter.create(self.store_path, self.run_info(), self.hooks.paths,
                                           self._series_specs(), probe[0], probe[1])
            self.step = 0
            self.filter_ids = FilterIds({layer.name: int(layer.kernel.shape[-1])
                                         for layer, kind in self.layers if kind == F.CONV},
                                        self.input_of)
            self._snapshot(conv=True, dense=True, activations=True, gradients=False)
            self._record_alive()
            self.writer.flush()
        # step s of this fit is optimizer iteration first_iteration + (s - first_step)
        self.first_step, self.first_iteration = self.step, self.hooks.iterations()
        self.drained_step = self.step

    # ---- per step
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        self._snapshot(conv=self._due("conv_every"), dense=self._due("dense_every"),
                       activations=self._due("activations_every"), gradients=True)
        if self.step - self.drained_step >= DRAIN_EVERY or self.writer.flush_due():
            self._drain()
            self.writer.maybe_flush()

    def _iteration(self, step):
        return self.first_iteration + step - self.first_step

    def _drain(self):
        """Move the steps since the last drain from the in-graph ring buffer to the store."""
        rows = self.hooks.read_rows(self._iteration(self.drained_step + 1),
                                    self._iteration(self.step))
        for step, row in enumerate(rows, start=self.drained_step + 1):
            self.writer.add_step(step, self.epoch, row.loss, row.accuracy, row.learning_rate,
                                 row.weight_norms, row.gradient_norms)
            if not row.finite and self.nonfinite_step is None:
                self._report_nonfinite(step, row.loss)
        if rows:
            self.last_loss_accuracy = (rows[-1].loss, rows[-1].accuracy)
        self.drained_step = self.step

    def _report_nonfinite(self, step, loss):
        self.nonfinite_step = step
        print(f"\nTensorViz: loss or weights became NaN/Inf at step {step} (loss {loss}); "
              f"recorded in {self.store_path}"
              + ("; stopping" if self.stop_on_nonfinite else "; continuing"), file=sys.stderr)
        if self.stop_on_nonfinite:
            self.model.stop_training = True

    def _due(self, key):
        every = self.cadence[key]
        return every > 0 and self.step % every == 0

    def _snapshot(self, conv, dense, activations, gradients):
        """Record the due tensors, read from TensorFlow in one transfer."""
        wanted = []  # (layer name, quantity, tf variable)
        for layer, kind in self.layers:
            if (kind == F.CONV and conv) or (kind == F.DENSE and dense):
                wanted.append((layer.name, F.KERNEL, layer.kernel))
                if layer.bias is not None:
                    wanted.append((layer.name, F.BIAS, layer.bias))
            if kind == F.CONV and conv and gradients:
                wanted.append((layer.name, F.KERNEL_GRADIENT, self.hooks.gradients[layer.kernel.path]))
                if layer.bias is not None:
                    wanted.append((layer.name, F.BIAS_GRADIENT, self.hooks.gradients[layer.bias.path]))
        if wanted:
            values = self.hooks.read_tensors([variable for _, _, variable in wanted])
            for (name, quantity, _), value in zip(wanted, values):
                self.writer.add_tensor(name, quantity, self.step,
                                       self.filter_ids.expand(name, quantity, value))
        if activations and self.probe_model is not None:
            for name, value in self.probe_activations().items():
                self.writer.add_tensor(name, F.ACTIVATION, self.step,
                                       self.filter_ids.expand(name, F.ACTIVATION, value))

    # ---- per epoch
    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self._drain()
        self._snapshot(conv=not self._due("conv_every"), dense=not self._due("dense_every"),
                       activations=not self._due("activations_every"), gradients=True)
        row = {"epoch": epoch + 1, "step": self.step,
               "val_loss": logs.get("val_loss", np.nan),
               "val_accuracy": logs.get("val_accuracy", np.nan)}
        if self.test_data is not None:
            test = self.model.evaluate(*self.test_data, verbose=0, return_dict=True)
            row["test_loss"], row["test_accuracy"] = test["loss"], test.get("accuracy", np.nan)
        self.writer.add_evaluation(**row)
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self._drain()
            self.writer.flush()
            if not self.keep_open:
                self.close()
        if self.hooks is not None:
            self.hooks.uninstall()

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    # ---- filter reduction
    def _record_alive(self):
        for name in self.filter_ids.original:
            self.writer.add_tensor(name, F.ALIVE, self.step, self.filter_ids.alive(name))

    def probe_activations(self):
        """{conv layer: activations of the probe batch} under the current weights."""
        if self._probe_function is None:  # traced once: an eager call costs milliseconds
            images = tf.constant(self.probe[0])
            self._probe_function = tf.function(lambda: self.probe_model(images, training=False))
        outputs = self._probe_function()
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        names = [layer.name for layer, kind in self.layers if kind == F.CONV]
        return {name: out.numpy().astype(np.float32)
                for name, out in zip(names, outputs)}

    def record_reduction(self, plans, kept):
        """Record the merges of a reduction (plans: {layer: [Merge]} in current indices,
        kept: {layer: indices kept}) and which original filters now exist."""
        layer_index = {layer.name: i for i, (layer, _) in enumerate(self.layers)}
        for name, merges in plans.items():
            ids = self.filter_ids.ids[name]
            for merge in merges:
                self.writer.add_merge(step=self.step, layer=layer_index[name],
                                      kept=int(ids[merge.kept]), removed=int(ids[merge.removed]),
                                      correlation=merge.correlation, scale=merge.scale,
                                      offset=merge.offset)
        for name, keep in kept.items():
            self.filter_ids.keep(name, keep)
        self._record_alive()
        self.writer.flush()
