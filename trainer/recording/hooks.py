"""In-graph hooks that expose what model.fit computes but does not return: each step's metrics
(step_metrics.py: Keras's own batch values, and what a custom train step returns), the learning
rate, the L2 norm of every gradient (with
a loss-scale optimizer's scale taken out) and of every weight after the update, copies of the
gradients of chosen variables, and the first training batch (the default probe).

They wrap the model's train_step and the optimizer's apply on the instances, so the user's train
step, custom or Keras's own, stays as it is. Each step's values go to one row of a ring buffer (a
tf.Variable), written once per step and read by Python every few steps: no device-to-host copy
per step. Whatever goes wrong while the hooks are traced, training goes on without them and
`failure` says why.
"""

import keras
import numpy as np
import tensorflow as tf

from tensorviz_pv.store import format as F
from tensorviz_pv.store.layout import HEALTH, METRICS_FOUND, step_row_layout

from .in_graph import replica_sum, stash
from .step_metrics import METRIC_SLOTS, StepMetrics

RING_ROWS = 64
PROBE_SIZE = 16


class StepRow:
    """One step's values, as read back from the ring buffer: `parts` the row split by its
    layout (step_row_layout), of which the first `metric_count` metric slots are used;
    `found[i]`: whether metric i holds a value the step produced (not one the recorder could
    not obtain)."""

    def __init__(self, parts, metric_count):
        self.learning_rate = float(parts[F.LEARNING_RATE][0])
        self.metrics = parts[F.METRICS_GROUP][:metric_count].astype(np.float32)
        self.found = parts[METRICS_FOUND][:metric_count] > 0
        self.gradient_norms = np.sqrt(parts[F.GRADIENT_NORM])
        self.weight_norms = np.sqrt(parts[F.WEIGHT_NORM])
        self.health = parts[HEALTH]  # the HealthPass's part


class RecordingHooks:
    """Installs the hooks on a compiled, built model; `names` are the store's names of its
    trainable variables, `gradient_copies` the variable paths whose full gradient is kept (read
    at a cadence with `read_tensors`), `health` the HealthPass of the layers whose training
    health is recorded (or None)."""

    MARK = "_tensorviz_hooks"

    def __init__(self, model, names, gradient_copies=(), capture_probe=False, health=None):
        self.model = model
        self.optimizer = model.optimizer
        self.variables = list(model.trainable_variables)
        self.paths = [v.path for v in self.variables]
        self.names = list(names)  # the store's name of each variable
        n = len(self.variables)
        replicas = model.distribute_strategy.num_replicas_in_sync
        self.metrics = StepMetrics(model, replicas)
        self.compute_loss_used = False
        self.failure = None  # why the hooks record nothing, if they could not be traced
        self.loss_scaled = isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer)
        self.counter = stash((), tf.int64)  # steps recorded since the hooks were installed
        self.health = health
        self.row_layout = step_row_layout(n, METRIC_SLOTS, health.width if health is not None else 0)
        self.ring = stash((RING_ROWS, self.row_layout.width))
        # the row without its metrics (taken after the update, in the train step)
        self.step_values = stash((sum(width for name, width in self.row_layout.fields
                                      if name not in (F.METRICS_GROUP, METRICS_FOUND)),))
        self.gradients = {path: stash(v.shape) for path, v in zip(self.paths, self.variables)
                          if path in set(gradient_copies)}
        self.probe_inputs = self.probe_labels = None
        if capture_probe:  # any shape: the batch's is known when the step is traced
            self.probe_inputs = tf.Variable(tf.zeros([0]), shape=tf.TensorShape(None),
                                            trainable=False)
            self.probe_labels = tf.Variable(tf.zeros([0]), shape=tf.TensorShape(None),
                                            trainable=False)
        self._readers = {}
        self._install()

    # ---- installing
    def _install(self):
        model, optimizer = self.model, self.optimizer
        if getattr(model, self.MARK, None) is not None:
            getattr(model, self.MARK).uninstall()
        original_step, original_loss, original_apply = model.train_step, model.compute_loss, optimizer.apply
        hooks = self

        def train_step(data):
            probe = hooks._guarded(hooks._probe_part, data) if hooks.probe_inputs is not None \
                else None
            logs = original_step(data)
            hooks._guarded(hooks._record_step, probe, logs)
            return logs

        def compute_loss(*args, **kwargs):
            hooks.compute_loss_used = True  # at trace time: the loss is Keras's batch loss
            return original_loss(*args, **kwargs)

        def apply(grads, trainable_variables=None):
            grads = list(grads)
            variables = list(trainable_variables) if trainable_variables is not None \
                else hooks.variables
            # the rate and the loss scale this update uses, read before apply moves them on
            learning_rate = tf.cast(optimizer.learning_rate, tf.float32)
            scale = None
            if hooks.loss_scaled:
                if not optimizer.built:  # as its apply would: its scale exists once built
                    with keras.name_scope(optimizer.name, caller=optimizer):
                        optimizer.build(variables)
                    optimizer.built = True
                scale = tf.cast(optimizer.dynamic_scale, tf.float32)
            result = original_apply(grads, trainable_variables)
            hooks._guarded(hooks._record_update, grads, variables, learning_rate, scale)
            return result

        model.train_step, model.compute_loss, optimizer.apply = train_step, compute_loss, apply
        setattr(model, self.MARK, self)
        model.train_function = None  # retrace with the hooks in place

    def uninstall(self):
        """Put the model back as it was (its next fit traces a train step without hooks)."""
        for owner, name in ((self.model, "train_step"), (self.model, "compute_loss"),
                            (self.optimizer, "apply")):
            owner.__dict__.pop(name, None)
        if getattr(self.model, self.MARK, None) is self:
            setattr(self.model, self.MARK, None)
        self.model.train_function = None

    def _guarded(self, record, *args):
        """Trace `record` into the step; if it cannot be traced, the step runs without it."""
        if self.failure is not None:
            return None
        try:
            return record(*args)
        except Exception as error:  # noqa: BLE001 - any failure here must not stop training
            self.failure = f"{type(error).__name__}: {error}"

    # ---- in the training graph
    def _probe_part(self, data):
        """This replica's first PROBE_SIZE inputs and labels of the batch (the default probe
        is kept from the first step's)."""
        x, y = (data[0], data[1] if len(data) > 1 else None) if isinstance(data, (tuple, list)) \
            else (data, None)
        inputs = tf.nest.flatten(x)[0]
        labels = tf.nest.flatten(y)[0] if y is not None else tf.zeros([tf.shape(inputs)[0]])
        return tf.cast(inputs[:PROBE_SIZE], tf.float32), tf.cast(labels[:PROBE_SIZE], tf.float32)

    def _keep_probe(self, strategy, probe):
        """On the first step, keep the global batch's first PROBE_SIZE samples: every
        replica's part in replica order. Cross-replica (a collective may not sit in a
        replica's conditional)."""
        def keep():
            for variable, part in zip((self.probe_inputs, self.probe_labels), probe):
                if strategy.num_replicas_in_sync > 1:
                    part = strategy.gather(part, axis=0)
                variable.assign(part[:PROBE_SIZE])
            return tf.constant(0)

        tf.cond(tf.equal(self.counter, 0), keep, lambda: tf.constant(0))

    def _record_update(self, grads, variables, learning_rate, scale):
        present = [i for i, g in enumerate(grads) if g is not None]
        summed = replica_sum([tf.cast(grads[i], tf.float32) for i in present])
        grads = list(grads)
        for i, g in zip(present, summed):
            grads[i] = g if scale is None else g / scale  # a loss-scaled gradient, unscaled
        by_path = {v.path: (g, v) for g, v in zip(grads, variables)}
        zero = tf.constant(0.0, tf.float32)
        grad_squares, weight_squares = [], []
        for path in self.paths:
            grad, variable = by_path.get(path, (None, None))
            grad_squares.append(zero if grad is None else 2.0 * tf.nn.l2_loss(grad))
            value = None if variable is None else tf.cast(variable.value, tf.float32)
            weight_squares.append(zero if value is None else 2.0 * tf.nn.l2_loss(value))
            if path in self.gradients and grad is not None:
                self.gradients[path].assign(grad)
        health = [self.health.row({path: g for path, (g, _) in by_path.items()}, self.counter)] \
            if self.health is not None else []
        self.step_values.assign(tf.concat([[learning_rate], tf.stack(grad_squares),
                                           tf.stack(weight_squares)] + health, axis=0))

    def _record_step(self, probe, logs):
        metrics, found = self.metrics.values(logs)

        def write(strategy, row, probe):  # once per step, whatever the number of replicas
            row = strategy.experimental_local_results(row)[0] if strategy.num_replicas_in_sync > 1 \
                else row
            if probe is not None:
                self._keep_probe(strategy, probe)
            index = tf.math.floormod(self.counter, RING_ROWS)
            self.ring.scatter_nd_update(tf.reshape(index, [1, 1]), row[None, :])
            self.counter.assign_add(1)

        values = self.step_values.read_value()  # the row's fields, in its layout's order
        row = tf.concat([values[:1], metrics, found, values[1:]], axis=0)
        assert row.shape[0] == self.row_layout.width, (row.shape, self.row_layout.fields)
        tf.distribute.get_replica_context().merge_call(write, args=(row, probe))

    # ---- from Python
    def loss_source(self):
        """Where the recorded loss comes from, in words; once the train step has run."""
        return self.metrics.loss_source(self.compute_loss_used)

    def steps_recorded(self):
        return int(self.counter.numpy())

    def read_rows(self, first, last):
        """StepRows of the recorded steps first..last (1-based; at most RING_ROWS of them)."""
        if last < first:
            return []
        if last - first >= RING_ROWS:
            raise RuntimeError("recording ring buffer overrun: read it more often")
        ring = self.ring.numpy()
        return [StepRow(self.row_layout.split(ring[(i - 1) % RING_ROWS]), len(self.metrics.names))
                for i in range(first, last + 1)]

    @property
    def captures_probe(self):
        """Whether the probe is the first training batch's (no probe was given)."""
        return self.probe_inputs is not None

    def stop_capturing_probe(self):
        """The probe is known (a continued run's): the first batch's is not captured."""
        self.probe_inputs = self.probe_labels = None

    def probe(self):
        """(inputs, labels) of the captured first batch, or None before it was captured."""
        if self.probe_inputs is None or self.steps_recorded() == 0:
            return None
        return self.probe_inputs.numpy(), self.probe_labels.numpy()

    def read_tensors(self, variables):
        """The values of tf variables (weights or gradient stashes) now, as tensors: one traced
        read of the whole list (cached per list, so keep the list the same). A read is no copy:
        TensorFlow copies a variable's buffer when it is next updated while a read holds it, so
        these stay the values of this step; `.numpy()` later, off the training thread."""
        key = tuple(id(v) for v in variables)
        if key not in self._readers:
            self._readers = {key: tf.function(lambda: [tf.identity(v) for v in variables])}
        return self._readers[key]()
