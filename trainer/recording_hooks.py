"""In-graph hooks that expose what model.fit computes but does not return: the loss and
accuracy of each batch (not Keras's running epoch mean), the learning rate, the L2 norm of every
gradient and of every weight after the update, and copies of the gradients of chosen variables.

They wrap the model's compute_loss and the optimizer's apply on the instances, so the user's
train step stays Keras's own. Each step's values go to one row of a ring buffer (a tf.Variable
indexed by the optimizer's iteration count), which Python reads once every few steps: no
device-to-host copy per step.
"""

import numpy as np
import tensorflow as tf

RING_ROWS = 64


def batch_accuracy(y, y_pred):
    """Share of the batch whose predicted class is the label (sparse, one-hot or binary)."""
    y_pred = tf.convert_to_tensor(y_pred)
    y = tf.convert_to_tensor(y)
    if y_pred.shape[-1] == 1:
        predicted = tf.cast(tf.reshape(y_pred, [-1]) > 0.5, tf.int64)
        labels = tf.cast(tf.reshape(y, [-1]) > 0.5, tf.int64)
    else:
        predicted = tf.argmax(y_pred, axis=-1)
        if y.shape.rank == y_pred.shape.rank and y.shape[-1] == y_pred.shape[-1]:
            labels = tf.argmax(y, axis=-1)
        else:
            labels = tf.cast(tf.reshape(y, tf.shape(predicted)), tf.int64)
    return tf.reduce_mean(tf.cast(tf.equal(labels, predicted), tf.float32))


def _stash(shape, dtype=tf.float32):
    return tf.Variable(tf.zeros(shape, dtype), trainable=False,
                       aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)


def _replica_sum(values):
    """Sum over replicas under a distribution strategy (identity on one device)."""
    context = tf.distribute.get_replica_context()
    if context is not None and context.num_replicas_in_sync > 1:
        return context.all_reduce(tf.distribute.ReduceOp.SUM, values)
    return values


class StepRow:
    """One step's values, as read back from the ring buffer."""

    def __init__(self, row, n):
        self.loss, self.accuracy, self.learning_rate = float(row[0]), float(row[1]), float(row[2])
        self.gradient_norms = np.sqrt(row[3:3 + n])
        self.weight_norms = np.sqrt(row[3 + n:3 + 2 * n])

    @property
    def finite(self):
        return bool(np.isfinite(self.loss) and np.isfinite(self.gradient_norms).all()
                    and np.isfinite(self.weight_norms).all())


class RecordingHooks:
    """Installs the hooks on a compiled model; `gradient_copies` are the variable paths whose
    full gradient is kept (read at a cadence with `read_tensors`)."""

    MARK = "_tensorviz_hooks"

    def __init__(self, model, gradient_copies=()):
        self.model = model
        self.variables = list(model.trainable_variables)
        self.paths = [v.path for v in self.variables]
        n = len(self.variables)
        self.loss_accuracy = _stash((2,))
        # loss, accuracy, learning rate, squared gradient norms, squared weight norms
        self.ring = _stash((RING_ROWS, 3 + 2 * n))
        self.gradients = {path: _stash(v.shape) for path, v in zip(self.paths, self.variables)
                          if path in set(gradient_copies)}
        self._readers = {}
        self._install()

    def _install(self):
        model, optimizer = self.model, self.model.optimizer
        if getattr(model, self.MARK, None) is not None:
            getattr(model, self.MARK).uninstall()
        original_loss, original_apply = model.compute_loss, optimizer.apply
        hooks = self

        def compute_loss(x=None, y=None, y_pred=None, sample_weight=None, training=True):
            loss = original_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                 training=training)
            if training:
                # each replica holds its share of the batch and a loss already divided by
                # the replica count: the sum is the batch's loss; accuracies average
                total, accuracy = _replica_sum([tf.cast(loss, tf.float32),
                                                batch_accuracy(y, y_pred)])
                replicas = tf.distribute.get_strategy().num_replicas_in_sync
                hooks.loss_accuracy.assign(tf.stack([total, accuracy / replicas]))
            return loss

        def apply(grads, trainable_variables=None):
            grads = list(grads)
            variables = list(trainable_variables) if trainable_variables is not None \
                else hooks.variables
            # the rate this update uses: apply() advances the iteration a schedule reads
            learning_rate = tf.cast(optimizer.learning_rate, tf.float32)
            result = original_apply(grads, trainable_variables)
            hooks._record(grads, variables, learning_rate)
            return result

        model.compute_loss, optimizer.apply = compute_loss, apply
        setattr(model, self.MARK, self)
        model.train_function = None  # retrace with the hooks in place

    def uninstall(self):
        self.model.__dict__.pop("compute_loss", None)
        self.model.optimizer.__dict__.pop("apply", None)
        setattr(self.model, self.MARK, None)
        self.model.train_function = None

    def _record(self, grads, variables, learning_rate):
        present = [i for i, g in enumerate(grads) if g is not None]
        summed = _replica_sum([tf.cast(grads[i], tf.float32) for i in present])
        grads = list(grads)
        for i, g in zip(present, summed):
            grads[i] = g
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
        row = tf.concat([self.loss_accuracy.read_value(), [learning_rate],
                         tf.stack(grad_squares), tf.stack(weight_squares)], axis=0)
        index = tf.math.floormod(tf.cast(self.model.optimizer.iterations, tf.int64) - 1, RING_ROWS)
        self.ring.scatter_nd_update(tf.reshape(index, [1, 1]), row[None, :])

    def iterations(self):
        return int(self.model.optimizer.iterations.numpy())

    def read_rows(self, first_iteration, last_iteration):
        """StepRows of the optimizer iterations first..last (at most RING_ROWS of them)."""
        if last_iteration < first_iteration:
            return []
        if last_iteration - first_iteration >= RING_ROWS:
            raise RuntimeError("recording ring buffer overrun: read it more often")
        ring = self.ring.numpy()
        n = len(self.paths)
        return [StepRow(ring[(i - 1) % RING_ROWS], n)
                for i in range(first_iteration, last_iteration + 1)]

    def read_tensors(self, variables):
        """numpy copies of tf variables (weights or gradient stashes) in one host transfer."""
        key = tuple(id(v) for v in variables)
        if key not in self._readers:
            self._readers[key] = tf.function(lambda: tf.concat(
                [tf.reshape(tf.cast(v, tf.float32), [-1]) for v in variables], axis=0))
        flat = self._readers[key]().numpy()
        sizes = [int(np.prod(v.shape)) for v in variables]
        parts = np.split(flat, np.cumsum(sizes)[:-1])
        return [part.reshape(tuple(v.shape)) for part, v in zip(parts, variables)]
