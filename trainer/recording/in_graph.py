"""Small pieces of the recording hooks' training-graph code: their variables, and sums over
replicas."""

import tensorflow as tf


def stash(shape, dtype=tf.float32):
    """A variable the hooks write in the step. Plain (fit runs outside the strategy's scope):
    every replica writes the same all-reduced values, or a row of its own."""
    return tf.Variable(tf.zeros(shape, dtype), trainable=False,
                       aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)


def replica_sum(values):
    """Sum over replicas under a distribution strategy (identity on one device)."""
    context = tf.distribute.get_replica_context()
    if context is not None and context.num_replicas_in_sync > 1:
        return context.all_reduce(tf.distribute.ReduceOp.SUM, values)
    return values


def replica_count():
    context = tf.distribute.get_replica_context()
    return context.num_replicas_in_sync if context is not None else 1
