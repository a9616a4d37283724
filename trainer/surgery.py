"""Filter surgery: a smaller copy of a functional Keras model with some conv filters merged or
removed, the weights carried over (trainer/channel_graph.py finds what depends on what).

A plan names, per conv layer, the filters to go: Merge objects (trainer/reduction.py: `removed`
folded into `kept` by w_k += scale * w_j in every reader, the offset into the reader's bias, or
into the moving mean of the BatchNormalization after a reader without bias) or plain filter
indices (removed, pruned). Every layer carrying the channels is sliced: BatchNormalization's
gamma, beta, mean and variance, a depthwise kernel's channels, a separable conv's depthwise and
pointwise rows, the rows of a Dense layer after Flatten (channels interleaved with positions) or
after global pooling. A residual group is reduced together (one plan for all its members)."""

import numpy as np
from keras import layers as L

from .channel_graph import ChannelGraph, SurgeryError  # noqa: F401 (SurgeryError: API)


def removed_filters(plan):
    """The filter indices a plan (Merges or ints) removes."""
    return sorted({int(getattr(item, "removed", item)) for item in plan})


class _Plan:
    """Per channel space: the indices kept and the merges folded into readers."""

    def __init__(self, graph, plans):
        self.graph = graph
        self.keep, self.folds, self.notes, self.members = {}, {}, {}, {}
        refused = graph.why_not_reducible()
        groups = {m: g for g in graph.groups() for m in g.members}
        chosen = {}
        for name, plan in plans.items():
            if name not in graph.space_of:
                raise SurgeryError(f"{name!r}: the model has no conv layer of that name")
            if name in refused:
                raise SurgeryError(f"{name!r}: its filters cannot be reduced: {refused[name]}")
            group, removed = groups[name], removed_filters(plan)
            if not removed:
                continue
            earlier = chosen.get(id(group))
            if earlier is not None and earlier[1] != removed:
                raise SurgeryError(f"{name!r} and {earlier[0]!r} are tied by residual adds: "
                                   "give one plan for the group "
                                   f"({', '.join(group.members)})")
            chosen[id(group)] = (name, removed)
            self._check(name, plan, removed)
            for member in group.members:
                space = graph.space_of[member]
                count = int(graph.model.get_layer(member).filters)
                self.keep[space] = np.setdiff1d(np.arange(count), removed)
                self.members[member] = self.keep[space]
                merges = [m for m in plan if hasattr(m, "scale")]
                if merges and group.fold_refused:
                    self.notes[member] = group.fold_refused
                elif merges:
                    self.folds[space] = merges

    def _check(self, name, plan, removed):
        count = int(self.graph.model.get_layer(name).filters)
        kept = {int(m.kept) for m in plan if hasattr(m, "kept")}
        if removed[0] < 0 or removed[-1] >= count:
            raise SurgeryError(f"{name!r}: filter {removed[-1] if removed[-1] >= count else removed[0]}"
                               f" does not exist (the layer has {count})")
        if kept & set(removed) or any(k < 0 or k >= count for k in kept):
            raise SurgeryError(f"{name!r}: a merge keeps a filter that is removed or missing")
        if len(removed) >= count:
            raise SurgeryError(f"{name!r}: the plan removes all {count} filters")

    def rows(self, tensor):
        """(kept channel indices, [(kept row, removed row, scale, offset)]) of a tensor."""
        kept, folds, offset = [], [], 0
        for segment in self.graph.segments[id(tensor)]:
            size, m = segment.count, segment.multiplier
            keep = self.keep.get(segment.space, np.arange(size))
            kept += [offset + k * m + j for k in keep for j in range(m)]
            if m == 1:
                folds += [(offset + g.kept, offset + g.removed, g.scale, g.offset)
                          for g in self.folds.get(segment.space, [])]
            offset += size * m
        return np.asarray(kept, dtype=int), folds


def _fold(kernel, kept_rows, folds, channels):
    """A reader's kernel (..., channels, out) with the folds applied and only kept_rows left,
    and the bias change the offsets make (out,)."""
    blocks = np.array(kernel, dtype=np.float64).reshape(-1, channels, kernel.shape[-1])
    shift = np.zeros(kernel.shape[-1])
    for kept, removed, scale, offset in folds:
        blocks[:, kept] += scale * blocks[:, removed]
        shift += offset * blocks[:, removed].sum(axis=0)
    blocks = blocks[:, kept_rows]
    shape = kernel.shape[:-2] + (len(kept_rows), kernel.shape[-1]) if len(kernel.shape) > 2 \
        else (-1, kernel.shape[-1])
    return blocks.reshape(shape).astype(np.float32), shift


def _new_weights(plan, layer, mean_shift):
    """The layer's weights in the reduced model (list), or None where they stay."""
    graph = plan.graph
    if not layer.weights:
        return None
    tensor = graph.inputs_of[layer.name][0]
    kept_rows, folds = plan.rows(tensor)
    channels = sum(s.count * s.multiplier for s in graph.segments[id(tensor)])
    out_keep = plan.keep.get(graph.space_of.get(layer.name))
    weights = [np.asarray(w) for w in layer.get_weights()]
    if isinstance(layer, L.DepthwiseConv2D):
        m = layer.depth_multiplier
        kernel = weights[0][:, :, kept_rows]
        rest = [b[[c * m + j for c in kept_rows for j in range(m)]] for b in weights[1:]]
        return [kernel] + rest
    if isinstance(layer, L.SeparableConv2D):
        m = layer.depth_multiplier
        out = out_keep if out_keep is not None else np.arange(layer.filters)
        rows = [c * m + j for c in kept_rows for j in range(m)]
        new = [weights[0][:, :, kept_rows], weights[1][:, :, rows][..., out]]
        return new + [b[out] for b in weights[2:]]
    if isinstance(layer, (L.Conv2D, L.Dense)):
        # after Flatten the rows are (positions, channels), channels last: the same blocks
        kernel, shift = _fold(weights[0], kept_rows, folds, channels)
        bias = weights[1].astype(np.float64) + shift if layer.use_bias else None
        if not layer.use_bias and folds:
            bn = graph.consumers[id(layer.output)][0]
            mean_shift[bn.name] = shift
        if out_keep is not None:
            kernel = kernel[..., out_keep]
            bias = bias[out_keep] if bias is not None else None
        return [kernel] + ([bias.astype(np.float32)] if bias is not None else [])
    if isinstance(layer, L.BatchNormalization):
        names = [w.path.split("/")[-1] for w in layer.weights]
        if layer.name in mean_shift and "moving_mean" in names:
            index = names.index("moving_mean")
            weights[index] = weights[index] - mean_shift[layer.name]
        return [w[..., kept_rows] for w in weights]
    if isinstance(layer, L.PReLU):
        return [w[..., kept_rows] for w in weights]
    return None


def reduce_model(model, plans):
    """(reduced model, {conv layer: original indices kept}, {conv layer: note}) for plans
    {conv layer: [Merge] or [filter index]}; the note says where merges were pruned instead
    of folded. The model is not compiled. SurgeryError for a plan that cannot be applied."""
    graph = ChannelGraph(model)
    plan = _Plan(graph, plans)
    config = model.get_config()
    for entry in config["layers"]:
        entry.pop("build_config", None)
        layer = entry["config"]
        space = graph.space_of.get(entry.get("name", layer.get("name")))
        if space in plan.keep:
            layer["filters"] = int(len(plan.keep[space]))
    weights, mean_shift = {}, {}
    for layer in graph.order:
        weights[layer.name] = _new_weights(plan, layer, mean_shift)
    new = model.__class__.from_config(config)
    for layer in graph.order:
        values = weights[layer.name]
        new.get_layer(layer.name).set_weights(values if values is not None
                                              else layer.get_weights())
    return new, plan.members, plan.notes


def count_macs(model):
    """Multiply-accumulates of one forward pass of one image (conv, depthwise, separable and
    dense layers)."""
    total = 0
    for layer in model.layers:
        if not layer.weights or not hasattr(layer, "kernel") and \
                not isinstance(layer, L.SeparableConv2D):
            continue
        out = layer.output.shape
        positions = int(np.prod([int(s) for s in out[1:-1]])) if len(out) > 2 else 1
        if isinstance(layer, L.SeparableConv2D):
            dw, pw = layer.depthwise_kernel.shape, layer.pointwise_kernel.shape
            total += positions * (int(np.prod(dw)) + int(np.prod(pw)))
        elif isinstance(layer, (L.Conv2D, L.Dense, L.DepthwiseConv2D)):
            total += positions * int(np.prod(layer.kernel.shape))
    return total

