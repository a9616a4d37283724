"""Which filters of a whole model to merge at a reduction (`--reduce-layers all` or named conv
layers): every reducible group of conv layers (trainer/channel_graph.py) is planned from the
probe's activations at the tensor its readers see, by the correlation threshold."""

import keras
import numpy as np

from .channel_graph import ChannelGraph, SurgeryError
from .reduction import plan_merges

ALL = "all"


def chosen_groups(model, layers):
    """The reducible groups that `layers` (conv layer names, or ('all',)) ask for; SurgeryError
    naming a layer that does not exist or cannot be reduced, and why."""
    graph = ChannelGraph(model)
    groups = graph.groups()
    if tuple(layers) == (ALL,):
        return groups
    refused = graph.why_not_reducible()
    for name in layers:
        if name in refused:
            raise SurgeryError(f"--reduce-layers: {name!r} cannot be reduced: {refused[name]}")
        if name not in graph.space_of:
            raise SurgeryError(f"--reduce-layers: {model.name} has no conv layer {name!r} "
                               f"(conv layers: {', '.join(graph.space_of)}; or 'all')")
    return [group for group in groups if set(group.members) & set(layers)]


def plan_model(model, probe, layers, threshold, min_filters):
    """({first member of each group: [Merge]}, {first member: Group}) for the groups that
    `layers` ask for, planned on the probe inputs' activations."""
    groups = chosen_groups(model, layers)
    if not groups:
        return {}, {}
    reader = keras.Model(model.inputs[0], [group.measured for group in groups])
    activations = reader(probe, training=False)
    if len(groups) == 1:
        activations = [activations]
    plans = {}
    for group, activation in zip(groups, activations):
        merges = plan_merges(np.asarray(keras.ops.convert_to_numpy(activation)), threshold,
                             min_filters)
        if merges:
            plans[group.members[0]] = merges
    return plans, {group.members[0]: group for group in groups}


THRESHOLDS = tuple(round(0.95 - 0.05 * i, 2) for i in range(19))  # 0.95 ... 0.05


def plan_to_target(model, probe, layers, target_macs, min_filters, highest=0.95):
    """(plans, groups, threshold): the plans at the highest threshold (from `highest` down in
    steps of 0.05) whose reduced model has at most `target_macs` multiply-accumulates per
    image; the lowest threshold's plans when none gets there, and none when the model is there
    already."""
    from .surgery import count_macs, reduce_model

    if count_macs(model) <= target_macs:
        return {}, {}, None
    plans, groups, threshold = {}, {}, None
    for threshold in [t for t in THRESHOLDS if t <= highest]:
        plans, groups = plan_model(model, probe, layers, threshold, min_filters)
        if plans and count_macs(reduce_model(model, plans)[0]) <= target_macs:
            break
    return plans, groups, threshold
