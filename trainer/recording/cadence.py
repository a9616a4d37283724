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
    what: str  # "weights" or "activations"
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


def default_cadence(what, kind, overrides):
    """(Cadence, fixed) of a group: the user's cadence for it, or the default to relax."""
    if what == "health":  # every step (or every `health_base`), no epoch-end extra
        every = overrides.get("health_every")
        base = overrides.get("health_base") or DEFAULT_EVERY["health"]
        return Cadence(int(every if every is not None else base), 0), every is not None
    key = "activations" if what == "activations" else \
        ("spatial" if kind.spatial else "norm" if kind.layout == "vector" else "dense")
    option = {"activations": "activations_every", "spatial": "conv_every", "norm": "conv_every",
              "dense": "dense_every"}[key]
    if overrides.get(option) is not None:
        return Cadence(int(overrides[option])), True
    return Cadence(DEFAULT_EVERY[key]), False


def layer_groups(layers, activation_shapes, overrides, atlas_shapes=None, health_bytes=None):
    """{(layer, "weights" | "activations" | "health"): Group} of the recorded layers, given as
    (path, LayerKind, shapes of its variables, shapes of the gradients recorded with them), with
    the probe activations' shapes {path: shape}, the Filter Atlas's recorded with them (and its
    activation statistics, 4 per filter), and the bytes of each layer's health record; cadences
    from `overrides` or the defaults."""
    groups = {}
    atlas_shapes = atlas_shapes or {}
    for path, size in (health_bytes or {}).items():
        cadence, fixed = default_cadence("health", None, overrides)
        groups[(path, "health")] = Group(path, "health", size, cadence, fixed, one_offs=0)
    for path, kind, variables, gradients in layers:
        sizes = {"weights": sum(4 * _count(shape) for shape in list(variables) + list(gradients))}
        if path in activation_shapes:
            sizes["activations"] = 4 * _count(activation_shapes[path])
            if path in atlas_shapes:
                sizes["activations"] += 4 * _count(atlas_shapes[path]) + 4 * 4 * atlas_shapes[path][-1]
        for what, size in sizes.items():
            cadence, fixed = default_cadence(what, kind, overrides)
            groups[(path, what)] = Group(path, what, size, cadence, fixed)
    return groups


def _count(shape):
    return int(math.prod(int(n) for n in shape))
