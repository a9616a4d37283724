"""What a run store says was merged away by filter reduction, as a mask over a tensor of it."""

from ..analysis.lineage import removed_mask
from ..store import format as F


def input_source(run, layer):
    """The conv layer whose filters are `layer`'s input channels, or None: as the store says
    (from the model's graph), or, in stores written before it said, the layer before it."""
    entry = run.layer_info(layer)
    if "input_filters_of" in entry:
        return entry["input_filters_of"]
    names = run.layers
    index = names.index(layer)
    if index > 0 and run.layer_info(names[index - 1])["kind"] == F.CONV:
        return names[index - 1]
    return None


def removed_entries(run, layer, quantity, step, shape):
    """removed_mask of a layer's tensor at `step`, from the run's record of who exists."""
    entry = run.layer_info(layer)
    kind = entry["kind"]
    own = layer if kind == F.CONV else entry.get("filters_follow")  # BN follows its conv
    alive = run.alive_at(own, step) if own else None
    source = input_source(run, layer)
    alive_inputs = run.alive_at(source, step) \
        if source is not None and quantity in (F.KERNEL, F.KERNEL_GRADIENT) else None
    return removed_mask(shape, kind, alive, alive_inputs)
