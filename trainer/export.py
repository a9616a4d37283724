"""`tensorviz reduce RUN --out DIR`: the run's final (reduced) model as a plain .keras file that
loads without TensorViz, with its size against the model it started as."""

import os

from tensorviz_pv.store.reader import RunReader
from tensorviz_pv.store.run_dir import RunDir

from .config import TrainError


def export_reduced(run_dir, out_dir):
    """Save the newest checkpoint's model (weights only: no optimizer state) as
    OUT/<model name>.keras; returns {"path", "step", "parameters", "macs", "filters":
    {conv layer: (original, now)}}."""
    store = RunDir(run_dir).store
    if not os.path.exists(store):
        raise TrainError(f"{run_dir}: no TensorViz run ({store} is missing)")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads
    import keras

    from .checkpoints import latest_checkpoint
    from .surgery import count_macs

    found = latest_checkpoint(run_dir)
    if found is None:
        raise TrainError(f"{run_dir}: no intact checkpoint to export")
    path, meta = found
    try:
        model = keras.models.load_model(path, compile=False)
    except (OSError, ValueError) as error:
        raise TrainError(f"{path}: cannot be loaded ({error})") from None
    with RunReader(store) as run:
        original = {e["name"]: e["filters"] for e in run.info["layers"] if e["kind"] == "conv2d"}
    filters = {name: (count, int(model.get_layer(name).filters)) for name, count in
               original.items() if name in {layer.name for layer in model.layers}}
    os.makedirs(out_dir, exist_ok=True)
    target = os.path.join(out_dir, f"{model.name}.keras")
    model.save(target)
    return {"path": target, "step": int(meta["step"]), "parameters": int(model.count_params()),
            "macs": int(count_macs(model)), "filters": filters}
