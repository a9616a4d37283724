"""`tensorviz train`: train the poster's network on a dataset and record it into RUN_DIR."""

import os
import shutil
import tempfile
import time

from tensorviz_pv import store_format as F

from .datasets import load_dataset


class TrainError(Exception):
    """A problem with the request, found before anything was touched."""


def check_run_dir(run_dir, resume, overwrite):
    """Refuse an unusable RUN_DIR before loading TensorFlow or touching any file."""
    if resume and overwrite:
        raise TrainError("--resume and --overwrite exclude each other")
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


def parse_filters(text):
    try:
        filters = [int(part) for part in str(text).split(",") if part.strip()]
    except ValueError:
        filters = []
    if not filters or min(filters) < 1:
        raise TrainError(f"--conv-filters {text!r}: give positive integers, e.g. 16,32")
    return filters


def make_optimizer(keras, args, steps_per_epoch):
    lr = args.lr
    if args.lr_schedule == "exponential":
        lr = keras.optimizers.schedules.ExponentialDecay(args.lr, steps_per_epoch, 0.9)
    elif args.lr_schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(args.lr, steps_per_epoch * args.epochs)
    if args.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=lr)
    momentum = args.momentum if args.optimizer == "momentum" else 0.0
    return keras.optimizers.SGD(learning_rate=lr, momentum=momentum)


def reduce_layers(args, conv_filters):
    """The layers --reduce-layers names, checked against the network's conv layers."""
    layers = [name.strip() for name in args.reduce_layers.split(",") if name.strip()]
    conv_names = [f"conv{i}" for i in range(1, len(conv_filters) + 1)]
    unknown = [name for name in layers if name not in conv_names]
    if unknown:
        raise TrainError(f"--reduce-layers: no conv layer {unknown[0]!r} "
                         f"(conv layers: {', '.join(conv_names)})")
    return layers


def remove_run(run_dir):
    """--overwrite: the run's own files go (store, checkpoints, dashboard), nothing else."""
    for name in (F.STORE_FILENAME, "dashboard.pvsm"):
        path = os.path.join(run_dir, name)
        if os.path.exists(path):
            os.remove(path)
    shutil.rmtree(os.path.join(run_dir, F.CHECKPOINT_DIR), ignore_errors=True)


def train(args):
    # every check before anything is touched or TensorFlow loads
    if not args.no_record:
        check_run_dir(args.run_dir, args.resume, args.overwrite)
    conv_filters = parse_filters(args.conv_filters)
    if args.reduce:
        if args.reduce_every < 1:
            raise TrainError(f"--reduce-every {args.reduce_every}: give a number of epochs >= 1")
        reduce_layers(args, conv_filters)
    dataset = load_dataset(args.dataset).limited(args.max_samples)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    import keras  # TensorFlow loads only once the request is known to be valid

    from .callback import TensorVizCallback, latest_checkpoint
    from .model import poster_model
    from .progress import ProgressLine

    keras.utils.set_random_seed(args.seed)
    steps_per_epoch = -(-len(dataset.x_train) // args.batch_size)
    resume_from = None
    if args.resume:
        found = latest_checkpoint(args.run_dir)
        if found is None:
            raise TrainError(f"{args.run_dir}: no complete checkpoint to resume from")
        model = keras.models.load_model(found[0])
        resume_from = found[1]
    else:
        if args.overwrite and not args.no_record:
            remove_run(args.run_dir)
        model = poster_model(dataset.x_train.shape[1:], dataset.classes, conv_filters,
                             args.fc_units, args.dropout)
        model.compile(optimizer=make_optimizer(keras, args, steps_per_epoch),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hyper = {"epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.lr,
             "lr_schedule": args.lr_schedule, "optimizer": args.optimizer,
             "momentum": args.momentum if args.optimizer == "momentum" else None,
             "seed": args.seed, "max_samples": args.max_samples,
             "conv_filters": conv_filters, "fc_units": args.fc_units, "dropout": args.dropout}
    callback = TensorVizCallback(
        args.run_dir, probe=(dataset.x_test, dataset.y_test),
        test_data=(dataset.x_test, dataset.y_test), resume_from=resume_from,
        conv_every=args.conv_every, dense_every=args.dense_every,
        activations_every=args.activations_every,
        stop_on_nonfinite=not args.continue_on_nan,
        run_info={"dataset": dataset.summary(), "hyperparameters": hyper,
                  "tensorflow_version": _tf_version()})
    if args.no_record:
        return _train_plain(model, dataset, args)
    initial_epoch = resume_from["epoch"] if resume_from else 0
    print(f"TensorViz: training on {dataset.name} ({len(dataset.x_train)} images), "
          f"recording into {callback.store_path}", flush=True)
    started = time.time()
    progress = ProgressLine(callback, args.epochs, steps_per_epoch)
    fit = dict(batch_size=args.batch_size, validation_data=(dataset.x_val, dataset.y_val),
               callbacks=[callback, progress], verbose=0)
    try:
        if args.reduce:
            train_with_reduction(model, dataset, args, callback, initial_epoch, fit, conv_filters)
        else:
            model.fit(dataset.x_train, dataset.y_train, epochs=args.epochs,
                      initial_epoch=initial_epoch, **fit)
    finally:  # also when fit raises (Ctrl-C, memory): flushed rows kept, model unhooked
        callback.close()
    print(f"TensorViz: {callback.step} steps in {time.time() - started:.1f} s; "
          f"run store: {callback.store_path}", flush=True)
    return 0


def train_with_reduction(model, dataset, args, callback, initial_epoch, fit, conv_filters):
    """One fit per stretch of --reduce-every epochs; between them, merge correlated filters
    of --reduce-layers into a smaller model that training continues with."""
    from .model import poster_model
    from .reduction import plan_merges, reduced_model

    layers = reduce_layers(args, conv_filters)
    callback.keep_open = True

    def rebuild(filters):
        return poster_model(dataset.x_train.shape[1:], dataset.classes, filters,
                            args.fc_units, args.dropout)

    def reduce(model):
        activations = callback.probe_activations()
        plans = {name: plan_merges(activations[name], args.reduce_threshold, args.min_filters)
                 for name in layers}
        plans = {name: merges for name, merges in plans.items() if merges}
        if not plans:
            return model
        model, kept = reduced_model(model, plans, rebuild)
        callback.record_reduction(plans, kept)
        counts = ", ".join(f"{n} {len(callback.filter_ids[n])}" for n in layers)
        print(f"TensorViz: step {callback.step}: merged "
              f"{sum(len(m) for m in plans.values())} filters; now {counts}", flush=True)
        return model

    every, epoch = args.reduce_every, initial_epoch
    if 0 < epoch < args.epochs and epoch % every == 0:
        # a resumed run: its checkpoint was saved just before the reduction due here
        callback.set_model(model)
        callback.on_train_begin()
        model = reduce(model)
    while epoch < args.epochs:
        last = min((epoch // every + 1) * every, args.epochs)  # reductions stay on multiples
        model.fit(dataset.x_train, dataset.y_train, initial_epoch=epoch, epochs=last, **fit)
        epoch = last
        if model.stop_training or epoch >= args.epochs:
            break
        model = reduce(model)
    return model


def _train_plain(model, dataset, args):
    """The same training with nothing recorded: the baseline for accuracy and speed."""
    started = time.time()
    model.fit(dataset.x_train, dataset.y_train, batch_size=args.batch_size, epochs=args.epochs,
              validation_data=(dataset.x_val, dataset.y_val), verbose=2)
    test = model.evaluate(dataset.x_test, dataset.y_test, verbose=0, return_dict=True)
    print(f"TensorViz (not recording): test accuracy {test['accuracy']:.4f}, test loss "
          f"{test['loss']:.4f}, {time.time() - started:.1f} s", flush=True)
    return 0


def _tf_version():
    import tensorflow as tf
    return tf.__version__
