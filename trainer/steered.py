"""Merging filters on a steering command in `tensorviz train` (issue 23): "filter 7 into filter 3
of conv1", with the merge that keeps the network's function (reduction.py: the least-squares
scale and offset of the removed filter's probe activations on the kept one's, folded into the
next layer). The model must be rebuilt, which a running fit cannot: a merge is checked when it
arrives (refused at once with the reason), then the fit ends at the end of that epoch, the
rebuilt, smaller model is recorded like a filter reduction (merges, alive filters) at that
step, and a new fit goes on from the next epoch."""

import numpy as np

from tensorviz_pv.analysis.correlation import pearson, samples_from_activations
from tensorviz_pv.messages import logger

from .reduction import Merge, reduced_model

LOG = logger("train")


class SteeredMerges:
    """The merges of a `tensorviz train` run: `recording` its ReducingCallback, `rebuild` what
    builds the model with given conv filters (reduction.reduced_model's), `layers` the conv
    layers that can be merged in (each followed by a layer the merge folds into)."""

    def __init__(self, recording, rebuild, layers, why_not=None):
        self._recording, self._rebuild, self._layers = recording, rebuild, list(layers)
        self._why_not = why_not

    @classmethod
    def unavailable(cls, why):
        """Merges that every command is refused, saying `why`."""
        return cls(None, None, (), why)

    def refusal(self, value, waiting):
        """Why the merge `value` ({"layer", "keep", "remove"}, original filter ids; keep None:
        into the filter whose probe activations correlate best with remove's, picked when it
        is applied) cannot be done, `waiting` the merges accepted before it this epoch; None
        when it can."""
        layer, keep, remove = value["layer"], value["keep"], value["remove"]
        if self._why_not:
            return self._why_not
        if self._recording.stopped:  # the merge is planned from the recorded probe activations
            return f"recording has stopped ({self._recording.stopped}): no merge without it"
        if layer not in self._layers:
            return (f"no conv layer {layer!r} to merge filters in (layers: "
                    f"{', '.join(self._layers)})")
        filters = self._recording.original_filters(layer)
        alive = set(self._recording.filter_ids_now(layer).tolist())
        gone = {merge["remove"] for merge in waiting if merge["layer"] == layer}
        for f in (remove,) if keep is None else (keep, remove):
            if f >= filters:
                return f"{layer} has no filter {f} (filters 0-{filters - 1})"
            if f not in alive:
                return f"filter {f} of {layer} was merged away already"
            if f in gone:
                return f"filter {f} of {layer} is merged away at this epoch's end already"
        if not alive - gone - {remove}:
            return f"filter {remove} is the last filter of {layer}"
        return None

    def _best_partner(self, layer, remove, candidates, activations):
        """The filter of `candidates` (original ids) whose probe `activations` correlate best
        with filter `remove`'s."""
        now = list(self._recording.filter_ids_now(layer))
        samples = samples_from_activations(activations[layer])
        r, _ = pearson(samples)
        ids = sorted(candidates)
        return ids[int(np.argmax([r[now.index(remove), now.index(f)] for f in ids]))]

    def apply(self, model, merges):
        """The rebuilt model with `merges` ([value], checked by refusal) applied and recorded;
        (model, [what each answer says])."""
        activations = self._recording.probe_activations()
        step = self._recording.step
        plans, said = {}, []
        for value in merges:
            layer = value["layer"]
            now = list(self._recording.filter_ids_now(layer))
            picked = value["keep"] is None
            if picked:  # the best-correlated of the filters that stay
                gone = {merge["remove"] for merge in merges if merge["layer"] == layer}
                value = dict(value, keep=self._best_partner(
                    layer, value["remove"], set(now) - gone, activations))
            kept, removed = now.index(value["keep"]), now.index(value["remove"])
            samples = samples_from_activations(activations[layer])
            r, dead = pearson(samples[:, [kept, removed]])
            if dead[0]:  # a dead kept filter: the removed one's mean stands in for it
                scale, offset = 0.0, float(samples[:, removed].mean())
            else:
                scale, offset = (float(c) for c in np.polyfit(samples[:, kept],
                                                              samples[:, removed], 1))
            plans.setdefault(layer, []).append(Merge(kept, removed, float(r[0, 1]), scale, offset))
            said.append(f"filter {value['remove']} merged into "
                        + ("its best-correlated filter, " if picked else "")
                        + f"filter {value['keep']} of {layer} "
                        f"at step {step}, the end of its epoch: the model was rebuilt there "
                        f"(r = {r[0, 1]:.3f}, scale {scale:.3g}, offset {offset:.3g})")
        model, kept = reduced_model(model, plans, self._rebuild)
        self._recording.record_reduction(plans, kept)
        counts = self._recording.filter_counts()
        LOG.info(f"TensorViz: step {step}: merged {len(merges)} filter(s) on command; now "
                 + ", ".join(f"{name} {counts[name]}" for name in plans))
        return model, said


def fit_steered(model, fit_epochs, initial_epoch, epochs, steering):
    """`fit_epochs(model, first, last)` from `initial_epoch` to `epochs`, ending and rebuilding
    the model wherever the SteeringCallback `steering` has merges due; the last model."""
    epoch = initial_epoch
    while epoch < epochs:
        fit_epochs(model, epoch, epochs)
        if steering is None or not steering.merges_due():
            break
        epoch = steering.ended_for_merges
        model = steering.apply_merges(model)
    return model
