"""Training on several workers (tf.distribute.MultiWorkerMirroredStrategy): which worker writes
the run, what TF_CONFIG says, and two mends that Keras 3's fit needs to run there at all.

Only the chief writes the run store and checkpoints; every other worker records into a private
temporary directory that is removed at its end (as Keras's own checkpoint callbacks do in
multi-worker training): all workers then run the very same steps and collective operations
(an evaluation at an epoch end is one), and the values they record are the same global-batch
values, so nothing of theirs is lost.
"""

import json
import os
from collections import namedtuple

from tensorviz_pv.errors import TensorVizError


class ClusterError(TensorVizError):
    """TF_CONFIG that cannot describe this worker: said before TensorFlow starts."""


class Task(namedtuple("Task", "kind index workers chief")):
    """This process in the cluster TF_CONFIG describes."""

    @property
    def name(self):
        return f"{self.kind} {self.index}"


def cluster_task(environ=None):
    """This process's Task from TF_CONFIG, or None when it is not set (one process trains
    alone). A TF_CONFIG that is not what tf.distribute reads is a ClusterError naming what is
    wrong."""
    text = (environ if environ is not None else os.environ).get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        kind, index = task["type"], int(task["index"])
        hosts = {name: list(addresses) for name, addresses in cluster.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ClusterError(f"TF_CONFIG: not a cluster description ({type(error).__name__}: "
                           f"{error}); expected {{\"cluster\": {{\"worker\": [\"host:port\", ...]}}, "
                           "\"task\": {\"type\": \"worker\", \"index\": 0}}") from None
    if kind not in hosts or not 0 <= index < len(hosts[kind]):
        raise ClusterError(f"TF_CONFIG: task {kind} {index} is not in its cluster "
                           f"({', '.join(f'{len(h)} {n}' for n, h in hosts.items())})")
    return _task(kind, index, hosts)


def _task(kind, index, cluster):
    """The Task of `kind` `index` in `cluster` ({task type: addresses}); the chief by
    tf.distribute's rule: the chief task, or worker 0 of a cluster with no chief."""
    workers = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
    chief = kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cluster)
    return Task(kind, index, workers, chief)


def strategy_task(strategy):
    """This process's Task in a strategy's cluster, or None when it trains alone."""
    resolver = getattr(strategy, "cluster_resolver", None)
    kind = getattr(resolver, "task_type", None)
    if not kind:
        return None
    return _task(kind, resolver.task_id, resolver.cluster_spec().as_dict())


def is_chief(strategy):
    """Whether this process writes the run: the chief, or the only process there is."""
    task = strategy_task(strategy)
    return task is None or task.chief


def worker_count(strategy):
    """How many processes train together (1 without a cluster)."""
    task = strategy_task(strategy)
    return 1 if task is None else task.workers


def mend_keras_fit():
    """Keras 3's fit fails under MultiWorkerMirroredStrategy with more than one worker
    (keras-team/keras#20585): it reduces a whole (inputs, labels) structure across workers to
    get a sample batch for building, and reduces each scalar log with axis=0. Both are mended
    for that case only: the sample batch is this worker's first replica's; a log is averaged
    over the replicas of every worker. Other strategies run Keras's own code. Idempotent."""
    from keras.src.backend.tensorflow import trainer as keras_trainer

    if getattr(keras_trainer, "_tensorviz_mended", False):
        return
    multi_worker = getattr(keras_trainer, "_collective_all_reduce_multi_worker", None)
    symbolic_build = getattr(keras_trainer.TensorFlowTrainer, "_maybe_symbolic_build", None)
    reduce_per_replica = getattr(keras_trainer, "reduce_per_replica", None)
    if multi_worker is None or symbolic_build is None or reduce_per_replica is None:
        return  # another Keras: its own code stands

    import tensorflow as tf

    def first_local(value, strategy):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    def mended_symbolic_build(self, iterator=None, data_batch=None):
        strategy = self._distribute_strategy
        if strategy is None or iterator is None or not multi_worker(strategy):
            return symbolic_build(self, iterator=iterator, data_batch=data_batch)
        for _, _, batches in iterator:
            data_batch = tf.nest.map_structure(lambda v: first_local(v, strategy), next(batches))
            break
        with strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    def mended_reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and multi_worker(strategy):
            # the mean over every replica of every worker, element by element, as Keras
            # takes it over the replicas of one worker
            return tf.nest.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return reduce_per_replica(values, strategy, reduction)

    keras_trainer.TensorFlowTrainer._maybe_symbolic_build = mended_symbolic_build
    keras_trainer.reduce_per_replica = mended_reduce_per_replica
    keras_trainer._tensorviz_mended = True
