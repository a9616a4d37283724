"""In-graph hooks that expose what model.fit computes but does not return: the loss and
accuracy of each batch (not Keras's running epoch mean), the learning rate, the L2 norm of every
gradient and of every weight after the update, and copies of the gradients of chosen variables.

They wrap the model's compute_loss and the optimizer's apply on the instances, so the user's
train step stays Keras's own; the values land in small tf.Variables read after each step.
"""

import tensorflow as tf


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


class RecordingHooks:
    """Installs the hooks on a compiled model; `variables` are the trainable variables whose
    norms are recorded (in this order), `gradient_copies` the paths whose full gradient is kept."""

    MARK = "_tensorviz_hooks"

    def __init__(self, model, gradient_copies=()):
        self.model = model
        self.variables = list(model.trainable_variables)
        self.paths = [v.path for v in self.variables]
        n = len(self.variables)
        self.loss_accuracy = _stash((2,))
        self.norms = _stash((2 * n + 1,))   # learning rate, gradient norms, weight norms
        self.gradients = {path: _stash(v.shape) for path, v in zip(self.paths, self.variables)
                          if path in set(gradient_copies)}
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
                # under a distribution strategy each replica holds its share of the batch and
                # a loss already divided by the replica count: sum the losses, mean the accuracy
                context = tf.distribute.get_replica_context()
                total, accuracy = tf.cast(loss, tf.float32), batch_accuracy(y, y_pred)
                if context is not None and context.num_replicas_in_sync > 1:
                    total = context.all_reduce(tf.distribute.ReduceOp.SUM, total)
                    accuracy = context.all_reduce(tf.distribute.ReduceOp.MEAN, accuracy)
                hooks.loss_accuracy.assign(tf.stack([total, accuracy]))
            return loss

        def apply(grads, trainable_variables=None):
            grads = list(grads)
            variables = list(trainable_variables) if trainable_variables is not None \
                else hooks.variables
            result = original_apply(grads, trainable_variables)
            hooks._record(grads, variables, optimizer)
            return result

        model.compute_loss, optimizer.apply = compute_loss, apply
        self._originals = (original_loss, original_apply)
        setattr(model, self.MARK, self)
        model.train_function = None  # retrace with the hooks in place

    def uninstall(self):
        for name in ("compute_loss",):
            self.model.__dict__.pop(name, None)
        self.model.optimizer.__dict__.pop("apply", None)
        setattr(self.model, self.MARK, None)
        self.model.train_function = None

    def _record(self, grads, variables, optimizer):
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            # per-replica gradients of the scaled loss; their sum is the batch's gradient
            present = [i for i, g in enumerate(grads) if g is not None]
            summed = context.all_reduce(tf.distribute.ReduceOp.SUM, [grads[i] for i in present])
            grads = list(grads)
            for i, g in zip(present, summed):
                grads[i] = g
        by_path = {v.path: (g, v) for g, v in zip(grads, variables)}
        zero = tf.constant(0.0, tf.float32)
        grad_norms, weight_norms = [], []
        for path in self.paths:
            grad, variable = by_path.get(path, (None, None))
            grad_norms.append(zero if grad is None else tf.norm(tf.cast(grad, tf.float32)))
            weight_norms.append(zero if variable is None
                                else tf.norm(tf.cast(variable.value, tf.float32)))
            if path in self.gradients and grad is not None:
                self.gradients[path].assign(tf.cast(grad, tf.float32))
        learning_rate = tf.cast(optimizer.learning_rate, tf.float32)
        self.norms.assign(tf.stack([learning_rate] + grad_norms + weight_norms))

    def read_step(self):
        """(loss, accuracy, learning rate, gradient norms, weight norms) of the last step."""
        loss, accuracy = self.loss_accuracy.numpy()
        norms = self.norms.numpy()
        n = len(self.paths)
        return float(loss), float(accuracy), float(norms[0]), norms[1:n + 1], norms[n + 1:]

    def gradient(self, path):
        return self.gradients[path].numpy()
