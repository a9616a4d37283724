"""How often each layer is snapshotted: chosen from the model's size so that a run stays within
a disk budget, in bytes per step averaged over the run. Small layers are snapshotted often,
large ones rarely; the per-step records (loss, metrics, every variable's norms) always.

A group is what one snapshot of a layer writes: its weights (with their gradients, for layers
that slide over positions), its probe activations, or its training health. Each group has a
Cadence: every `every` steps and at the end of every `epochs`-th epoch, besides step 0 and the
last step (not health: it is taken from the steps' ring rows).
"""

import math
from dataclasses import dataclass, field

from ..config import BudgetError

# the poster's cadence: conv weights every 10 steps, dense ones at epoch ends, activations
# every 100 steps; all of them at every epoch end. Training health (histograms, filter norms):
# every step, relaxed like the others when the budget needs it
DEFAULT_EVERY = {"spatial": 10, "dense": 0, "norm": 10, "activations": 100, "health": 1}
ASSUMED_STEPS = 10_000  # a run's length when fit does not say it


@dataclass
class Cadence:
    every: int  # steps between snapshots (0: none)
    epochs: int = 1  # epochs between epoch-end snapshots (0: none)

    def due(self, step):
        return self.every > 0 and step % self.every == 0

    def due_at_epoch_end(self, epochs_done):
        return self.epochs > 0 and epochs_done % self.epochs == 0

    def rate(self, steps_per_epoch):
        """Snapshots per step."""
        by_steps = 1.0 / self.every if self.every else 0.0
        by_epochs = 1.0 / (self.epochs * steps_per_epoch) if self.epochs and steps_per_epoch else 0.0
        return by_steps + by_epochs


@dataclass
class Group:
    layer: str
    what: str  # WEIGHTS, ACTIVATIONS or HEALTH
    bytes: int  # per snapshot
    cadence: Cadence
    fixed: bool = False  # chosen by the user: the budget leaves it alone
    one_offs: int = field(default=2)  # snapshots taken anyway: step 0 and the last step


def _relax(cadence, steps_per_epoch, total_steps):
    """Halve the rate of the cadence's larger term; False when there is nothing left to halve."""
    by_steps = 1.0 / cadence.every if cadence.every else 0.0
    by_epochs = 1.0 / (cadence.epochs * steps_per_epoch) if cadence.epochs and steps_per_epoch else 0.0
    if by_steps == 0 and by_epochs == 0:
        return False
    if by_steps >= by_epochs:
        cadence.every *= 2
        if cadence.every > total_steps:
            cadence.every = 0
    else:
        cadence.epochs *= 2
        if cadence.epochs * steps_per_epoch > total_steps:
            cadence.epochs = 0
    return True


def plan(groups, per_step_bytes, budget, steps_per_epoch=None, total_steps=None):
    """Relax the cadence of the costliest groups until the run's bytes per step fit `budget`
    (None: no limit); returns the expected bytes per step, the step-0 and last snapshots
    included. On a run too short to spread those, the periodic snapshots still get half the
    budget. BudgetError when the per-step records alone exceed the budget."""
    total_steps = total_steps or ASSUMED_STEPS
    if budget is not None and per_step_bytes > budget:
        raise BudgetError(f"a budget of {budget:,} bytes per step is below what every step "
                          f"records ({per_step_bytes:,} bytes: loss, metrics and the norm of "
                          "every variable and gradient); raise it")

    def periodic(group):
        return group.bytes * group.cadence.rate(steps_per_epoch)

    one_offs = sum(group.bytes * group.one_offs for group in groups) / total_steps
    if budget is not None:
        target = max(budget - per_step_bytes - one_offs, budget / 2)
        relaxable = [group for group in groups if not group.fixed]
        while sum(periodic(group) for group in groups) > target and relaxable:
            costliest = max(relaxable, key=periodic)
            if not _relax(costliest.cadence, steps_per_epoch, total_steps):
                relaxable.remove(costliest)
    return int(math.ceil(per_step_bytes + one_offs + sum(periodic(group) for group in groups)))


WEIGHTS, ACTIVATIONS, HEALTH = "weights", "activations", "health"  # what a group writes


def default_cadence(what, kind, overrides, health_every=DEFAULT_EVERY[HEALTH]):
    """(Cadence, fixed) of a group: the user's cadence for it, or the default to relax (the
    health's: every `health_every` steps)."""
    if what == HEALTH:  # no epoch-end extra
        every = overrides.get("health_every")
        return Cadence(int(every if every is not None else health_every), 0), every is not None
    key = ACTIVATIONS if what == ACTIVATIONS else \
        ("spatial" if kind.spatial else "norm" if kind.layout == "vector" else "dense")
    option = {ACTIVATIONS: "activations_every", "spatial": "conv_every", "norm": "conv_every",
              "dense": "dense_every"}[key]
    if overrides.get(option) is not None:
        return Cadence(int(overrides[option])), True
    return Cadence(DEFAULT_EVERY[key]), False


def layer_groups(series, kinds, overrides, health_every=DEFAULT_EVERY[HEALTH]):
    """{(layer, what): Group} of the recorded layers: `series` {(layer, WEIGHTS | ACTIVATIONS |
    HEALTH): the SeriesSpecs a snapshot of that group writes}, `kinds` {layer: LayerKind};
    cadences from `overrides` or the defaults. The groups keep the order of `series`."""
    groups = {}
    for (path, what), specs in series.items():
        cadence, fixed = default_cadence(what, kinds[path], overrides, health_every)
        groups[(path, what)] = Group(path, what, sum(spec.bytes for spec in specs), cadence, fixed,
                                     one_offs=0 if what == HEALTH else 2)
    return groups
