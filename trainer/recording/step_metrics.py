"""Each step's metrics as the training graph computes them: Keras's batch value of every
mean-based metric it tracks (the loss, each output's loss, each compiled metric: not the running
epoch means of its logs), and the scalars a train step returns that no metric tracks (a custom
step's own {"loss": loss}). Each value is marked found or not: a value the recorder could not
obtain is never taken for the training's own NaN."""

import numpy as np
import tensorflow as tf

from .in_graph import replica_count, replica_sum, stash

METRIC_SLOTS = 16  # metrics recorded per step at most


def mean_metrics(model):
    """[(name, metric)]: the metrics Keras tracks as a total and a count (the loss trackers,
    compiled metrics such as accuracy), named as in Keras's logs ('loss', 'out_a_loss',
    'out_a_accuracy')."""
    found, seen = [], set()

    def add(name, metric):
        if hasattr(metric, "total") and hasattr(metric, "count") and id(metric) not in seen:
            seen.add(id(metric))
            while name in [n for n, _ in found]:
                name += "_1"
            found.append((name, metric))

    for metric in model.metrics:
        per_output = getattr(metric, "_flat_metrics", None)  # Keras's CompileMetrics
        if per_output is None:
            add(metric.name, metric)
            continue
        for metrics in list(per_output) + list(getattr(metric, "_flat_weighted_metrics", []) or []):
            for sub in (metrics.metrics if metrics else []):
                prefix = f"{metrics.output_name}_" if getattr(metrics, "output_name", None) else ""
                add(prefix + sub.name, sub)
    return found


def returned_scalars(logs):
    """{name: float32 scalar}: the numeric scalars a train step returned (a dict of logs),
    averaged over replicas."""
    if not isinstance(logs, dict):
        return {}
    found = {}
    for name, value in logs.items():
        try:
            value = tf.convert_to_tensor(value)
        except (TypeError, ValueError):
            continue
        if (value.dtype.is_floating or value.dtype.is_integer) \
                and value.shape.num_elements() == 1:
            value = tf.reshape(tf.cast(value, tf.float32), [])
            found[str(name)] = replica_sum(value) / replica_count()
    return found


class StepMetrics:
    """The metric slots of a model's step rows; `names` (known once the train step is traced)
    name the slots in use."""

    def __init__(self, model, replicas):
        self._model = model
        self.names = []
        self._returned = []  # the names of the scalars the train step returns
        self._totals = stash((replicas, METRIC_SLOTS, 2))  # per replica: last total, count

    def values(self, logs):
        """(values, found) of the slots, in the step. A mean-based metric's value is the change
        of its total over the change of its count in this step, summed over replicas; where its
        count did not move (a loss tracker the train step never updates), the value the step
        returned under its name. Then the scalars the step returned that no metric tracks.
        `found` is 0 where the step produced no value."""
        metrics = mean_metrics(self._model)[:METRIC_SLOTS]
        returned = returned_scalars(logs)
        self._returned = list(returned)
        tracked = [name for name, _ in metrics]
        own = [name for name in returned if name not in tracked][:METRIC_SLOTS - len(metrics)]
        self.names = tracked + own
        values, found = [], []
        if metrics:
            change = self._changes(metrics)
            for slot, name in enumerate(tracked):
                counted = change[slot, 1] > 0
                value = change[slot, 0] / change[slot, 1]
                if name in returned:
                    value, counted = tf.where(counted, value, returned[name]), tf.constant(True)
                values.append(value)
                found.append(counted)
        for name in own:
            values.append(returned[name])
            found.append(tf.constant(True))
        padding = METRIC_SLOTS - len(values)
        values = tf.concat([tf.stack(values) if values else tf.zeros([0]),
                            tf.fill([padding], np.nan)], axis=0)
        found = tf.concat([tf.cast(tf.stack(found), tf.float32) if found else tf.zeros([0]),
                           tf.zeros([padding])], axis=0)
        return values, found

    def _changes(self, metrics):
        """(METRIC_SLOTS, 2): each metric's total and count changes since the last step."""
        now = tf.stack([tf.stack([tf.cast(m.total, tf.float32), tf.cast(m.count, tf.float32)])
                        for _, m in metrics])
        now = tf.pad(now, [[0, METRIC_SLOTS - len(metrics)], [0, 0]])
        context = tf.distribute.get_replica_context()
        replica = context.replica_id_in_sync_group if context is not None else 0
        change = now - self._totals[replica]
        self._totals.scatter_nd_update([[replica]], [now])
        return replica_sum(change)

    def reset(self, now=False):
        """Keras resets its metrics at every epoch start: so do the totals the changes are
        taken from. now=True: from the metrics' present totals (hooks installed mid-epoch)."""
        totals = np.zeros(self._totals.shape, dtype=np.float32)
        if now:
            for slot, (_, metric) in enumerate(mean_metrics(self._model)[:METRIC_SLOTS]):
                totals[0, slot] = float(metric.total.numpy()), float(metric.count.numpy())
        self._totals.assign(totals)

    def loss_source(self, compute_loss_used):
        """Where the recorded loss comes from, in words (run_info's recording.loss); once the
        train step has run."""
        if compute_loss_used:
            return "Keras's compute_loss"
        tracker = dict(mean_metrics(self._model)).get("loss")
        if tracker is not None and float(tracker.count.numpy()) > 0:
            return "the model's own 'loss' metric (its train_step does not call compute_loss)"
        if "loss" in self._returned:
            return "the 'loss' its train_step returns (its train_step does not call compute_loss)"
        return ("not recorded: its train_step neither calls compute_loss nor updates or returns "
                "a 'loss'")
