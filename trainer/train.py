"""`tensorviz train`: train the poster's network on a dataset and record it into its run
directory, as a TrainConfig asks."""

import os
import time

from tensorviz_pv.errors import StoreError
from tensorviz_pv.messages import logger
from tensorviz_pv.store import format as F
from tensorviz_pv.store.lock import WriterLock, describe, live_writer
from tensorviz_pv.store.reader import RunReader
from tensorviz_pv.store.run_dir import RunDir
from tensorviz_pv.store.steering import APPLIED, SteeringChannel

from .config import TrainError, parent_optimizer
from .datasets import load_dataset
from .folders import unwritable_reason
from .multi_worker import cluster_task

LOG = logger("train")


def check_run_dir(run_dir, resume, overwrite):
    """Refuse an unusable RUN_DIR before loading TensorFlow or touching any file."""
    store = RunDir(run_dir).store
    if os.path.exists(run_dir) and not os.path.isdir(run_dir):
        raise TrainError(f"{run_dir}: exists and is not a directory")
    if resume:
        if not os.path.exists(store):
            raise TrainError(f"{run_dir}: no run to resume ({store} is missing)")
    elif os.path.exists(store) and not overwrite:
        writer = live_writer(store)
        if writer is not None:  # --resume and --overwrite would both be refused
            raise TrainError(f"{run_dir}: a training is writing this run now: "
                             f"{describe(writer)}; wait for it to end, or stop it first")
        raise TrainError(f"{run_dir}: already holds a run; use --resume to continue it "
                         "or --overwrite to replace it")
    elif overwrite and not os.path.exists(store) and os.path.isdir(run_dir) and os.listdir(run_dir):
        raise TrainError(f"{run_dir}: holds no TensorViz run ({F.STORE_FILENAME} is missing); "
                         "--overwrite replaces runs only, never other files")
    reason = unwritable_reason(run_dir)
    if reason:
        raise TrainError(f"{run_dir}: not writable ({reason})")


def check_parent(parent, run_dir):
    """Refuse a --fork-from that names no run, or the new run itself."""
    if not RunDir(parent).holds_store():
        raise TrainError(f"{parent}: no run to fork from ({RunDir(parent).store} is missing)")
    if os.path.realpath(parent) == os.path.realpath(run_dir):
        raise TrainError(f"{run_dir}: a fork goes into a new run directory, not its parent's")


def make_optimizer(keras, config, steps_per_epoch):
    lr = config.learning_rate
    if config.lr_schedule == "exponential":
        lr = keras.optimizers.schedules.ExponentialDecay(lr, steps_per_epoch, 0.9)
    elif config.lr_schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(lr, steps_per_epoch * config.epochs)
    if config.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=lr)
    momentum = config.momentum if config.optimizer == "momentum" else 0.0
    return keras.optimizers.SGD(learning_rate=lr, momentum=momentum)


def remove_run(run_dir):
    """--overwrite: what TensorViz wrote goes (the store, its checkpoints, the dashboard state),
    nothing else; a run.tvz that is not a TensorViz store is refused, untouched."""
    from .checkpoints import remove_checkpoints  # Keras: once the request is checked
    store = RunDir(run_dir).store
    if os.path.exists(store):
        try:
            RunReader(store).close()
        except StoreError as error:
            raise TrainError(f"{error}; --overwrite removes TensorViz stores only: move it away "
                             "first") from None
        os.remove(store)
    dashboard = RunDir(run_dir).dashboard_state
    if os.path.exists(dashboard):
        os.remove(dashboard)
    remove_checkpoints(run_dir)


def fork_point(parent, step):
    """(checkpoint path, {"epoch", "step"}) a fork of run `parent` continues from: its newest
    checkpoint at or before `step` (None: its newest), steered ones included."""
    from .checkpoints import latest_checkpoint  # Keras: once the request is checked
    found = latest_checkpoint(parent, at_most_step=step, steered=True)
    if found is None:
        at = "" if step is None else f" at or before step {step}"
        raise TrainError(f"{parent}: no intact checkpoint{at} to fork from")
    return found[0], {"epoch": int(found[1]["epoch"]), "step": int(found[1]["step"])}


def unreduced_macs(config, dataset, resume_from):
    """The multiply-accumulates per image of the model before any reduction, when the model
    trained on may be reduced already (a resumed or forked run: --reduce-target is a share of
    the original's); None otherwise."""
    if not (resume_from and config.reduce_target):
        return None
    from .model import build_model
    from .surgery import count_macs
    return count_macs(build_model(config, dataset.x_train.shape[1:], dataset.classes))


def resume_point(run_dir):
    """(checkpoint path, {"epoch", "step"}): the newest intact checkpoint at or before the last
    step the store holds, so that the resumed run is contiguous."""
    from .checkpoints import latest_checkpoint  # Keras: once the request is checked
    with RunReader(RunDir(run_dir).store) as run:
        last = run.last_step()
    found, newest = latest_checkpoint(run_dir, at_most_step=last), latest_checkpoint(run_dir)
    if found is None:
        raise TrainError(f"{run_dir}: no intact checkpoint at or before step {last}, the last "
                         "step the store holds; --overwrite starts the run afresh")
    if newest is not None and newest[0] != found[0]:
        LOG.warning(f"TensorViz: {newest[0]} (step {newest[1]['step']}) is past the store's last "
                    f"step ({last}); resuming from {found[0]} (step {found[1]['step']})")
    say_undone_commands(run_dir, int(found[1]["step"]))
    return found


def say_undone_commands(run_dir, step):
    """Commands applied after the step a resume starts from: their effect is undone, and they
    are not applied again (a command is answered once); say so."""
    channel = SteeringChannel(run_dir)
    for row in channel.rows() if os.path.isdir(channel.path) else []:
        if row["status"] == APPLIED and row["step"] is not None and row["step"] > step:
            LOG.warning(f"TensorViz: steering command {row['seq']} ({row['command']}"
                        f"{'' if row['value'] is None else ' ' + str(row['value'])}), applied at "
                        f"step {row['step']}, is undone by resuming from step {step}, and not "
                        "applied again: send it again if it is still wanted")


def train(config):
    """Train and record as `config` (a TrainConfig) asks; returns the exit status. With
    TF_CONFIG set, this process is one worker of a MultiWorkerMirroredStrategy training, and
    only the chief writes RUN_DIR."""
    # every check before anything is touched or TensorFlow loads
    config.check()
    task = cluster_task()
    if task is not None and config.reduce:
        raise TrainError("--reduce: filter reduction rebuilds the model between fits, which "
                         "a multi-worker training (TF_CONFIG) cannot; train on one worker")
    if config.record and (task is None or task.chief):
        check_run_dir(config.run_dir, config.resume, config.overwrite)
        if config.fork_from is not None:
            check_parent(config.fork_from, config.run_dir)
    dataset = load_dataset(config.dataset).limited(config.max_samples)
    if config.reduce:
        _check_reduce_layers(config, dataset)
    if not config.record:
        return _train(config, dataset, task)
    if task is not None and not task.chief:
        return _train_beside_the_chief(config, dataset, task)
    os.makedirs(config.run_dir, exist_ok=True)
    # one writer per run, from the first file touched to the last written
    with WriterLock(RunDir(config.run_dir).store):
        if config.overwrite:
            remove_run(config.run_dir)
        return _train(config, dataset, task)


def _check_reduce_layers(config, dataset):
    """--reduce-layers against the model's graph, before RUN_DIR is touched."""
    from .channel_graph import SurgeryError
    from .model import build_model
    from .reduction_plans import chosen_groups
    try:
        chosen_groups(build_model(config, dataset.x_train.shape[1:], dataset.classes),
                      config.reduce_layers)
    except SurgeryError as error:
        raise TrainError(str(error)) from None


def _train_beside_the_chief(config, dataset, task):
    """A worker other than the chief: the same training, which writes nothing into RUN_DIR (the
    callbacks leave that to the chief). A resumed run reads its checkpoint from RUN_DIR, which
    must then be the chief's, shared."""
    if config.resume and not os.path.exists(RunDir(config.run_dir).store):
        raise TrainError(f"{config.run_dir}: no run to resume on {task.name}: --resume on "
                         "every worker needs the chief's RUN_DIR (a shared folder)")
    return _train(config, dataset, task)


def _train(config, dataset, task):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    import keras  # TensorFlow loads only once the request is known to be valid
    import tensorflow as tf

    from .recording.callback import TensorVizCallback
    from .recording.reducing import ReducingCallback
    from .recording.steering import SteeringCallback, set_learning_rate
    from .reduced_training import poster_rebuild, train_with_reduction
    from .steered import SteeredMerges, fit_steered
    from .checkpoints import RunCheckpoints
    from .model import build_model
    from .progress import ProgressLine

    # a multi-worker strategy must exist before TensorFlow does anything else
    strategy = tf.distribute.MultiWorkerMirroredStrategy() if task is not None \
        else tf.distribute.get_strategy()
    keras.utils.set_random_seed(config.seed)
    steps_per_epoch = -(-len(dataset.x_train) // config.batch_size)
    resume_from = None
    with strategy.scope():
        if config.resume or config.fork_from:
            path, resume_from = resume_point(config.run_dir) if config.resume \
                else fork_point(config.fork_from, config.fork_step)
            try:
                model = keras.models.load_model(path)
            except (OSError, ValueError) as error:
                raise TrainError(f"{path}: cannot be loaded ({error})") from None
            if config.fork_from and config.optimizer != parent_optimizer(config.fork_from):
                model.compile(optimizer=make_optimizer(keras, config, steps_per_epoch),
                              loss=model.loss, metrics=["accuracy"])  # another optimizer
            elif config.fork_from and config.lr is not None:
                set_learning_rate(model, config.lr)
        else:
            model = build_model(config, dataset.x_train.shape[1:], dataset.classes)
            model.compile(optimizer=make_optimizer(keras, config, steps_per_epoch),
                          loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if not config.record:
        return _train_plain(model, dataset, config)
    # one worker: steering the chief alone would take the workers' steps apart
    steer = config.steer and task is None
    # steered merges rebuild the model between fits, as filter reduction does
    callback = (ReducingCallback if config.reduce or steer else TensorVizCallback)(
        config.run_dir, probe=(dataset.x_test, dataset.y_test),
        test_data=(dataset.x_test, dataset.y_test), resume_from=resume_from,
        conv_every=config.conv_every, dense_every=config.dense_every,
        activations_every=config.activations_every, max_bytes_per_step=config.budget,
        stop_on_nonfinite=not config.continue_on_nan,
        stop_training_on_failure=True,
        run_info={"dataset": dataset.summary(), "hyperparameters": config.hyperparameters(),
                  "tensorflow_version": _tf_version(),
                  **({"parent": {"run": os.path.abspath(config.fork_from), **resume_from}}
                     if config.fork_from else {})})
    initial_epoch = resume_from["epoch"] if resume_from else 0
    chief = task is None or task.chief
    where = f"recording into {callback.store_path}" if chief else \
        f"{task.name} of {task.workers}: the chief records into {config.run_dir} (if shared)"
    LOG.info(f"TensorViz: training on {dataset.name} ({len(dataset.x_train)} images), {where}")
    started = time.time()
    progress = ProgressLine(callback, config.epochs, steps_per_epoch)
    checkpoints = RunCheckpoints(config.run_dir, resume_from)
    # a steered merge is planned on a conv's own output, which only the poster network's
    # layers feed straight into the layer it folds into
    merges = SteeredMerges(callback, poster_rebuild(dataset, config), config.conv_layer_names) \
        if config.model == "poster" else SteeredMerges.unavailable(
            f"merging filters on command is built for --model poster; --model {config.model} "
            "reduces with --reduce")
    steering = [SteeringCallback(config.run_dir, callback, merges)] if steer else []
    fit = dict(batch_size=config.batch_size, validation_data=(dataset.x_val, dataset.y_val),
               callbacks=[callback, *steering, checkpoints, progress], verbose=0)

    def fit_epochs(model, first, last):
        model.fit(dataset.x_train, dataset.y_train, initial_epoch=first, epochs=last, **fit)

    try:
        if config.reduce:
            train_with_reduction(model, dataset, config, callback, initial_epoch, fit_epochs,
                                 *(steering or [None]), unreduced_macs=unreduced_macs(
                                     config, dataset, resume_from))
        else:
            fit_steered(model, fit_epochs, initial_epoch, config.epochs, *(steering or [None]))
    except tf.errors.UnavailableError as error:  # a worker of a multi-worker training is gone
        if task is None:
            raise
        LOG.warning(f"\nTensorViz: {task.name}: another worker of the training is gone "
                    f"(TensorFlow: {type(error).__name__}); stopped at step {callback.step}"
                    + (f"; {callback.store_path} keeps the steps written before" if chief else ""))
        return 1
    finally:  # also when fit raises (Ctrl-C, memory): flushed rows kept, model unhooked
        for control in steering:  # first: what it answers last goes into the open store
            control.close()
        callback.close()
    if callback.stopped or checkpoints.failed:
        return 1  # the callback that failed said why, in one line
    LOG.info(f"TensorViz: {callback.step} steps in {time.time() - started:.1f} s; "
             + (f"run store: {callback.store_path}" if chief
                else f"{task.name}: the chief wrote the run"))
    return 0


def _train_plain(model, dataset, config):
    """The same training with nothing recorded: the baseline for accuracy and speed."""
    started = time.time()
    model.fit(dataset.x_train, dataset.y_train, batch_size=config.batch_size,
              epochs=config.epochs, validation_data=(dataset.x_val, dataset.y_val), verbose=2)
    test = model.evaluate(dataset.x_test, dataset.y_test, verbose=0, return_dict=True)
    LOG.info(f"TensorViz (not recording): test accuracy {test['accuracy']:.4f}, test loss "
             f"{test['loss']:.4f}, {time.time() - started:.1f} s")
    return 0


def _tf_version():
    import tensorflow as tf
    return tf.__version__
