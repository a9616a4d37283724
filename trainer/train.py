"""`tensorviz train`: train the poster's network on a dataset and record it into its run
directory, as a TrainConfig asks."""

import os
import shutil
import tempfile
import time

from tensorviz_pv.store import format as F

from .config import TrainError
from .datasets import load_dataset


def check_run_dir(run_dir, resume, overwrite):
    """Refuse an unusable RUN_DIR before loading TensorFlow or touching any file."""
    store = os.path.join(run_dir, F.STORE_FILENAME)
    if os.path.exists(run_dir) and not os.path.isdir(run_dir):
        raise TrainError(f"{run_dir}: exists and is not a directory")
    if resume:
        if not os.path.exists(store):
            raise TrainError(f"{run_dir}: no run to resume ({store} is missing)")
    elif os.path.exists(store) and not overwrite:
        raise TrainError(f"{run_dir}: already holds a run; use --resume to continue it "
                         "or --overwrite to replace it")
    elif overwrite and not os.path.exists(store) and os.path.isdir(run_dir) and os.listdir(run_dir):
        raise TrainError(f"{run_dir}: holds no TensorViz run ({F.STORE_FILENAME} is missing); "
                         "--overwrite replaces runs only, never other files")
    existing = run_dir
    while not os.path.exists(existing):
        existing = os.path.dirname(os.path.abspath(existing))
    if not os.path.isdir(existing):
        raise TrainError(f"{run_dir}: not writable ({existing} is not a directory)")
    try:  # a real probe: permission bits say nothing for root or read-only mounts
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise TrainError(f"{run_dir}: not writable ({existing}: {error.strerror})") from None


def make_optimizer(keras, config, steps_per_epoch):
    lr = config.lr
    if config.lr_schedule == "exponential":
        lr = keras.optimizers.schedules.ExponentialDecay(config.lr, steps_per_epoch, 0.9)
    elif config.lr_schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(config.lr, steps_per_epoch * config.epochs)
    if config.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=lr)
    momentum = config.momentum if config.optimizer == "momentum" else 0.0
    return keras.optimizers.SGD(learning_rate=lr, momentum=momentum)


def remove_run(run_dir):
    """--overwrite: the run's own files go (store, checkpoints, dashboard), nothing else."""
    for name in (F.STORE_FILENAME, "dashboard.pvsm"):
        path = os.path.join(run_dir, name)
        if os.path.exists(path):
            os.remove(path)
    shutil.rmtree(os.path.join(run_dir, F.CHECKPOINT_DIR), ignore_errors=True)


def train(config):
    """Train and record as `config` (a TrainConfig) asks; returns the exit status."""
    # every check before anything is touched or TensorFlow loads
    config.check()
    if config.record:
        check_run_dir(config.run_dir, config.resume, config.overwrite)
    dataset = load_dataset(config.dataset).limited(config.max_samples)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    import keras  # TensorFlow loads only once the request is known to be valid

    from .callback import TensorVizCallback
    from .checkpoints import RunCheckpoints, latest_checkpoint
    from .model import poster_model
    from .progress import ProgressLine

    keras.utils.set_random_seed(config.seed)
    steps_per_epoch = -(-len(dataset.x_train) // config.batch_size)
    resume_from = None
    if config.resume:
        found = latest_checkpoint(config.run_dir)
        if found is None:
            raise TrainError(f"{config.run_dir}: no complete checkpoint to resume from")
        model = keras.models.load_model(found[0])
        resume_from = found[1]
    else:
        if config.overwrite and config.record:
            remove_run(config.run_dir)
        model = poster_model(dataset.x_train.shape[1:], dataset.classes, config.conv_filters,
                             config.fc_units, config.dropout)
        model.compile(optimizer=make_optimizer(keras, config, steps_per_epoch),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if not config.record:
        return _train_plain(model, dataset, config)
    callback = TensorVizCallback(
        config.run_dir, probe=(dataset.x_test, dataset.y_test),
        test_data=(dataset.x_test, dataset.y_test), resume_from=resume_from,
        conv_every=config.conv_every, dense_every=config.dense_every,
        activations_every=config.activations_every, max_bytes_per_step=config.budget,
        stop_on_nonfinite=not config.continue_on_nan, keep_open=config.reduce,
        run_info={"dataset": dataset.summary(), "hyperparameters": config.hyperparameters(),
                  "tensorflow_version": _tf_version()})
    initial_epoch = resume_from["epoch"] if resume_from else 0
    print(f"TensorViz: training on {dataset.name} ({len(dataset.x_train)} images), "
          f"recording into {callback.store_path}", flush=True)
    started = time.time()
    progress = ProgressLine(callback, config.epochs, steps_per_epoch)
    fit = dict(batch_size=config.batch_size, validation_data=(dataset.x_val, dataset.y_val),
               callbacks=[callback, RunCheckpoints(config.run_dir, resume_from), progress],
               verbose=0)
    try:
        if config.reduce:
            train_with_reduction(model, dataset, config, callback, initial_epoch, fit)
        else:
            model.fit(dataset.x_train, dataset.y_train, epochs=config.epochs,
                      initial_epoch=initial_epoch, **fit)
    finally:  # also when fit raises (Ctrl-C, memory): flushed rows kept, model unhooked
        callback.close()
    print(f"TensorViz: {callback.step} steps in {time.time() - started:.1f} s; "
          f"run store: {callback.store_path}", flush=True)
    return 0


def train_with_reduction(model, dataset, config, callback, initial_epoch, fit):
    """One fit per stretch of reduce_every epochs; between them, merge correlated filters of
    reduce_layers into a smaller model that training continues with."""
    from .model import poster_model
    from .reduction import plan_merges, reduced_model

    def rebuild(filters):
        return poster_model(dataset.x_train.shape[1:], dataset.classes, filters,
                            config.fc_units, config.dropout)

    def reduce(model):
        activations = callback.probe_activations()
        plans = {name: plan_merges(activations[name], config.reduce_threshold, config.min_filters)
                 for name in config.reduce_layers}
        plans = {name: merges for name, merges in plans.items() if merges}
        if not plans:
            return model
        model, kept = reduced_model(model, plans, rebuild)
        callback.record_reduction(plans, kept)
        counts = ", ".join(f"{n} {len(callback.filter_ids.ids[n])}" for n in config.reduce_layers)
        print(f"TensorViz: step {callback.step}: merged "
              f"{sum(len(m) for m in plans.values())} filters; now {counts}", flush=True)
        return model

    every, epoch = config.reduce_every, initial_epoch
    if 0 < epoch < config.epochs and epoch % every == 0:
        # a resumed run: its checkpoint was saved just before the reduction due here
        callback.set_model(model)
        callback.on_train_begin()
        model = reduce(model)
    while epoch < config.epochs:
        last = min((epoch // every + 1) * every, config.epochs)  # reductions stay on multiples
        model.fit(dataset.x_train, dataset.y_train, initial_epoch=epoch, epochs=last, **fit)
        epoch = last
        if model.stop_training or epoch >= config.epochs:
            break
        model = reduce(model)
    return model


def _train_plain(model, dataset, config):
    """The same training with nothing recorded: the baseline for accuracy and speed."""
    started = time.time()
    model.fit(dataset.x_train, dataset.y_train, batch_size=config.batch_size,
              epochs=config.epochs, validation_data=(dataset.x_val, dataset.y_val), verbose=2)
    test = model.evaluate(dataset.x_test, dataset.y_test, verbose=0, return_dict=True)
    print(f"TensorViz (not recording): test accuracy {test['accuracy']:.4f}, test loss "
          f"{test['loss']:.4f}, {time.time() - started:.1f} s", flush=True)
    return 0


def _tf_version():
    import tensorflow as tf
    return tf.__version__
