"""Snapshots of the cadence groups ((layer, WEIGHTS | ACTIVATIONS | HEALTH) -> Group): which are
due at a step, their values taken on the training thread (one traced read of every variable and
gradient copy, no host copy), handed to the store output to convert and write off it. The
Filter Atlas is ranked with the activations when its schedule allows, and each filter's
activation statistics go to the health watch."""

import time

from tensorviz_pv.store import format as F

from .atlas import AtlasSchedule
from .cadence import ACTIVATIONS, WEIGHTS


class Snapshots:
    """`watch` the HealthWatch that hears each atlas ranking's statistics; `atlas_share` the
    AtlasSchedule's share."""

    def __init__(self, watch, atlas_share):
        self.groups = {}  # (layer, what) -> its cadence Group
        self.atlas_layers = None  # layers whose atlas the store holds (None: a new store, all)
        self._last = {}  # group -> the step of its latest snapshot
        self._pending = []  # the snapshots of a new run's step 0, until its store exists
        self._watch = watch
        self._schedule = AtlasSchedule(atlas_share)

    def due(self, step):
        return {key for key, group in self.groups.items() if group.cadence.due(step)}

    def due_at_epoch_end(self, epochs_done, step):
        """The groups due at this epoch end that no snapshot of this step holds yet."""
        return {key for key, group in self.groups.items()
                if group.cadence.due_at_epoch_end(epochs_done) and self._last.get(key) != step}

    def not_taken_at(self, step):
        return {key for key in self.groups if self._last.get(key) != step}

    def taken(self, keys, step):
        for key in keys:
            self._last[key] = step

    def continue_from(self, last):
        """A continued run: {group: the step of its latest snapshot in the store}."""
        self._last.update(last)

    def records_atlas(self, attached, path):
        return attached.atlas_pass is not None and (self.atlas_layers is None
                                                    or path in self.atlas_layers)

    def take_first(self, attached, filter_ids, step):
        """A new run's first snapshot of every layer (no gradients yet), kept until its store
        exists."""
        everything = {(layer.path, what) for layer in attached.layers
                      for what in (WEIGHTS, ACTIVATIONS)}
        self._pending = self.take(attached, filter_ids, everything, step, gradients=False)

    def start(self, output, attached, filter_ids, first_step, step, activations=None):
        """A new store: the snapshots of `first_step` taken before it existed, which filters
        exist, and, when the probe was captured from the first batch, its `activations` {layer:
        value} at `step` with the atlas."""
        self.taken(self.groups, first_step)
        for args in self._pending:
            output.tensors(*args, filter_ids)
        self._pending = []
        output.alive(first_step, filter_ids)
        if activations:
            output.tensors(step, [(path, F.ACTIVATION, value) for path, value in activations.items()]
                           + self.atlas(attached, filter_ids, list(activations), step), filter_ids)
            self.taken({key for key in self.groups if key[1] == ACTIVATIONS}, step)

    def take(self, attached, filter_ids, keys, step, gradients=True, ending=False):
        """The values, now, of the groups `keys`: [(step, [(layer, quantity, tensor)])]."""
        taken = []
        if any(what == WEIGHTS for _, what in keys):
            items = _weight_items(attached)
            values = attached.hooks.read_tensors([variable for _, _, variable, _ in items])
            taken.append((step, [(path, quantity, value) for (path, quantity, _, gradient), value
                                 in zip(items, values)
                                 if (path, WEIGHTS) in keys and (gradients or not gradient)]))
        chosen = {path for path, what in keys if what == ACTIVATIONS}
        if attached.probe_pass is not None and chosen:
            values = attached.probe_pass.tensors()
            taken.append((step, [(path, F.ACTIVATION, values[path]) for path in values
                                 if path in chosen]
                          + self.atlas(attached, filter_ids, [p for p in values if p in chosen],
                                       step, ending)))
        return taken

    def write(self, output, attached, filter_ids, keys, step, ending=False):
        """Take the groups `keys` now and hand them to the output."""
        for args in self.take(attached, filter_ids, keys, step, ending=ending):
            output.tensors(*args, filter_ids)
        self.taken(keys, step)

    def finish(self, output, attached, filter_ids, step):
        """A fit's last step: every group not snapshotted at it yet, and the atlas (ranked
        again if its snapshot here skipped it)."""
        self.write(output, attached, filter_ids, self.not_taken_at(step), step, ending=True)
        if self._schedule.last_step not in (None, step):
            paths = [path for path, what in self.groups if what == ACTIVATIONS]
            output.tensors(step, self.atlas(attached, filter_ids, paths, step, ending=True),
                           filter_ids)

    def atlas(self, attached, filter_ids, paths, step, ending=False):
        """[(layer, ATLAS | ACTIVATION_STATS, its value now)] for those of `paths` whose atlas
        is recorded, when the schedule lets it be ranked now."""
        chosen = [path for path in paths if self.records_atlas(attached, path)]
        if not chosen or not self._schedule.due(ending):
            return []
        started = time.monotonic()
        found = attached.atlas_pass()
        self._schedule.ranked(started, step)
        for path in chosen:
            if path in found:
                self._watch.add_statistics(path, step, filter_ids.expand(
                    path, F.ACTIVATION_STATS, found[path][1]))
        return [(path, quantity, value) for path in chosen if path in found
                for quantity, value in zip((F.ATLAS, F.ACTIVATION_STATS), found[path])]


def _weight_items(attached):
    """(layer, quantity, tf variable, gradient?) of everything a weights snapshot may hold, in
    one fixed order: one traced read serves every snapshot."""
    items = []
    for layer in attached.layers:
        items += [(layer.path, name, v, False) for name, v in layer.variables.items()]
        items += [(layer.path, F.gradient_of(v.name), attached.hooks.gradients[v.path], True)
                  for v in layer.gradients()]
    return items
