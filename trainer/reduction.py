"""Filter reduction (the poster's Fig. 5): merge a conv layer's filters whose activations
correlate, and rewire the next layer so that the network's function is kept.

Method. Over the probe batch, filters linked by Pearson r >= threshold (transitively) form a
group. Each group keeps one representative k (the member with the largest activation variance)
and every other member j is merged into it: a least-squares fit a_j ~ c * a_k + d over the
probe activations (after ReLU) gives the scale c and offset d, and the next layer's input
weights of channel j are folded into channel k (w_k += c * w_j) with the offset moved into its
bias (b += d * sum of w_j over the kernel's positions). Then j is removed.

Why not average the group's kernels: that changes the kept filter's output too, while folding
leaves it as it was and is exact whenever a_j is an affine function of a_k (identical filters:
c = 1, d = 0), and the best linear stand-in otherwise. Max-pooling between the layers commutes
with c * a + d for c > 0, which r > 0 ensures. (Zero padding at the image border makes the
offset part approximate at the border.)
"""

from dataclasses import dataclass

import numpy as np

from tensorviz_pv.analysis.correlation import pearson, samples_from_activations, threshold_groups


@dataclass
class Merge:
    """Filter `removed` folded into filter `kept` (indices in the layer as it is now)."""
    kept: int
    removed: int
    correlation: float
    scale: float
    offset: float


def plan_merges(activation, threshold, min_filters):
    """The merges of one layer, given its probe activations (images, H, W, C)."""
    samples = samples_from_activations(activation)
    r, dead = pearson(samples)
    groups = threshold_groups(r, dead, threshold)
    variance = samples.var(axis=0)
    candidates = []
    for label in range(groups.max() + 1 if groups.size else 0):
        members = np.flatnonzero(groups == label)
        if len(members) < 2:
            continue
        kept = int(members[np.argmax(variance[members])])
        candidates += [(float(r[kept, j]), kept, int(j)) for j in members if j != kept]
    candidates.sort(key=lambda c: -c[0])  # the most alike first, while filters remain
    merges, remaining = [], samples.shape[1]
    for correlation, kept, removed in candidates:
        if remaining - 1 < min_filters:
            break
        scale, offset = np.polyfit(samples[:, kept], samples[:, removed], 1)
        merges.append(Merge(kept, removed, correlation, float(scale), float(offset)))
        remaining -= 1
    return merges


def fold_into_next(kernel, bias, merges, channels):
    """The next layer's kernel and bias with the merged input channels folded in and removed.

    kernel: (kh, kw, C, out) for a conv layer, or (S * C, out) for a dense layer after a
    channels-last flatten of S positions; `channels` is C."""
    kernel = np.array(kernel, dtype=np.float64)
    bias = np.array(bias, dtype=np.float64)
    shape = kernel.shape
    blocks = kernel.reshape(-1, channels, shape[-1])  # (positions, C, out)
    for merge in merges:
        blocks[:, merge.kept] += merge.scale * blocks[:, merge.removed]
        bias += merge.offset * blocks[:, merge.removed].sum(axis=0)
    keep = np.setdiff1d(np.arange(channels), [m.removed for m in merges])
    blocks = blocks[:, keep]
    if len(shape) == 4:
        folded = blocks.reshape(shape[0], shape[1], len(keep), shape[-1])
    else:
        folded = blocks.reshape(-1, shape[-1])
    return folded.astype(np.float32), bias.astype(np.float32)


def remove_filters(kernel, bias, merges):
    """The layer's own kernel (..., C) and bias (C,) without the merged-away filters."""
    keep = np.setdiff1d(np.arange(kernel.shape[-1]), [m.removed for m in merges])
    return kernel[..., keep], bias[keep], keep


def reduce_weights(weights, order, plans):
    """Apply the plans ({conv layer: [Merge]}) to `weights` ({layer: (kernel, bias)}), where
    `order` lists the layers in network order; returns (new weights, {layer: kept indices})."""
    weights = dict(weights)
    kept_indices = {}
    for index, layer in enumerate(order):
        merges = plans.get(layer) or []
        if not merges:
            continue
        kernel, bias = weights[layer]
        channels = kernel.shape[-1]
        kernel, bias, keep = remove_filters(kernel, bias, merges)
        weights[layer] = (kernel, bias)
        kept_indices[layer] = keep
        following = order[index + 1]
        weights[following] = fold_into_next(*weights[following], merges, channels)
    return weights, kept_indices


def reduced_model(model, plans, rebuild=None):
    """A new compiled model with the plans ({conv layer: [Merge]}) applied, and {conv layer:
    indices kept}. Any functional model goes through trainer/surgery.py; `rebuild(conv_filters)`
    (the poster network's builder) is the older path for a chain of conv and dense layers."""
    if rebuild is None:
        from .surgery import reduce_model
        new, kept, _ = reduce_model(model, plans)
    else:
        new, kept = _rebuilt_model(model, plans, rebuild)
    return compiled_like(new, model), kept


def _rebuilt_model(model, plans, rebuild):
    import keras

    order = [layer.name for layer in model.layers if hasattr(layer, "kernel")]
    weights = {name: (model.get_layer(name).kernel.numpy(), model.get_layer(name).bias.numpy())
               for name in order}
    new_weights, kept = reduce_weights(weights, order, plans)
    conv_filters = [new_weights[name][0].shape[-1] for name in order
                    if isinstance(model.get_layer(name), keras.layers.Conv2D)]
    new = rebuild(conv_filters)
    for name in order:
        new.get_layer(name).set_weights(list(new_weights[name]))
    return new, kept


def compiled_like(new, model):
    """`new` compiled as `model` is, its optimizer's step count carried on."""
    if model.optimizer is None:
        return new
    optimizer = model.optimizer.__class__.from_config(model.optimizer.get_config())
    new.compile(optimizer=optimizer, loss=model.loss, metrics=["accuracy"])
    optimizer.build(new.trainable_variables)
    optimizer.iterations.assign(model.optimizer.iterations)  # schedules continue where they were
    return new
