"""Training health from recorded arrays (numpy only): histograms over time on one set of bins,
and the alerts that say what went wrong and since when.

Histograms are recorded over [-r, r] in B bins, r a power of two that only grows (trainer/recording/
health_pass.py); a step's counts move onto a wider range exactly while the ranges differ by at most
a factor B/2 (each new bin is whole old bins; beyond that an old bin goes where its centre falls).
"""

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
from scipy.ndimage import minimum_filter1d

from ..store import format as F
from .decimate import column_sums

# alert thresholds: a gradient norm 10x its recent median is an explosion, 1e-3x its early one
# a collapse; an update ratio (|update| / |weights|) is usually near 1e-3
EXPLODE = 10.0
VANISH = 1e-3
RATIO_LOW, RATIO_HIGH = 1e-5, 1e-1
WINDOW = 20  # steps of the medians the gradient alerts compare with
PLATEAU = 0.01  # a loss that fell by less than 1 % over the last quarter of the run...
STALLED = 0.5  # ...while still above half its start has stopped falling


def rebinned(counts, ranges, to_range):
    """counts (steps, B) over [-ranges[s], ranges[s]] -> (steps, B) over [-to_range, to_range]
    (to_range >= every range; a row with range 0 is taken as on to_range already)."""
    counts = np.asarray(counts, dtype=np.float64)
    steps, bins = counts.shape
    ranges = np.asarray(ranges, dtype=np.float64)
    ranges = np.where(ranges > 0, ranges, to_range)
    centres = bin_centres(1.0, bins)  # of the old bins, in units of r
    # each old bin goes to the new bin that holds its centre: whole bins while r doubles
    target = np.floor((centres[None, :] * (ranges / to_range)[:, None] + 1) / 2 * bins)
    target = np.clip(target.astype(np.int64), 0, bins - 1) + bins * np.arange(steps)[:, None]
    out = np.zeros(steps * bins)
    np.add.at(out, target.ravel(), counts.ravel())
    return out.reshape(steps, bins)


def distribution(counts, ranges, starts=None):
    """(image (columns, B) of log10(1 + count) on the widest range, that range r): a layer's
    histograms over time on one set of bins, [-r, r]. `counts` (records, B) or read(a, b)
    giving records a..b-1 (a long run is read in chunks); `starts` the first record of each
    column (decimate.column_starts; default each record its own): a column's histogram is the
    sum of its records', so a count in an outer bin at any one step stays in the picture."""
    ranges = np.asarray(ranges, dtype=np.float64)
    widest = float(np.nanmax(ranges)) if len(ranges) and np.nanmax(ranges) > 0 else 1.0
    read = counts if callable(counts) else (lambda a, b: counts[a:b])
    starts = np.arange(len(ranges)) if starts is None else starts
    total = column_sums(read, len(ranges), starts, segment_key=ranges,
                        convert=lambda sums, on: rebinned(sums, on, widest))
    return np.log10(1.0 + total.reshape(len(starts), -1)), widest


def histograms_of(snapshots, bins=F.HISTOGRAM_BINS):
    """(counts (snapshots, bins), ranges): histograms of whole tensors (probe activations) on
    one range, the power of two that covers every finite value of every snapshot."""
    snapshots = [np.asarray(s, dtype=np.float64).ravel() for s in snapshots]
    finite = [s[np.isfinite(s)] for s in snapshots]
    largest = max((np.abs(s).max() for s in finite if s.size), default=0.0)
    r = 2.0 ** np.ceil(np.log2(largest)) if largest > 0 else 1.0
    counts = np.stack([np.histogram(s, bins=bins, range=(-r, r))[0] for s in finite]) \
        if finite else np.zeros((0, bins))
    return counts, np.full(len(finite), r)


def bin_centres(r, bins):
    """The centres of `bins` equal bins over [-r, r]."""
    return (np.arange(bins) + 0.5) / bins * 2 * r - r


def dead_since(steps, zero_fraction, gradient_steps=None, gradient_norms=None):
    """(dead, silent), each {filter: the first step from which it never fired again}, of the
    filters with no output at the last snapshot; zero_fraction (snapshots, filters), NaN for
    merged filters. With the filters' per-step gradient norms (steps, filters): a filter whose
    gradient is nonzero at the last recorded step still learns, so it is only silent (on the
    probe images, in inference mode: BatchNorm's moving statistics may lag the training's); a
    dead one dates from the step after its last nonzero gradient when that is earlier (a dead
    ReLU filter gets none). Without gradient norms every silent filter counts as dead."""
    zero = np.asarray(zero_fraction, dtype=np.float64)
    gradients = np.asarray(gradient_norms) if gradient_norms is not None \
        and len(gradient_norms) else None
    dead, silent = {}, {}
    for f in range(zero.shape[1]):
        column = zero[:, f]
        if not np.isfinite(column[-1]) or column[-1] < 1.0:
            continue
        alive = np.nonzero(~(column >= 1.0))[0]
        since = int(steps[alive[-1] + 1 if len(alive) else 0])
        if gradients is not None:
            moving = np.nonzero(gradients[:, f] > 0)[0]
            still = moving[-1] + 1 if len(moving) else 0  # the first step of no gradient
            if still == len(gradient_steps):
                silent[f] = since
                continue
            since = min(since, int(gradient_steps[still]))
        dead[f] = since
    return dead, silent


def _first_run(flags, length):
    """Index of the first of `length` consecutive True flags, or None."""
    flags = np.asarray(flags, dtype=bool)
    if len(flags) < length:
        return None
    counts = np.concatenate([[0], np.cumsum(flags, dtype=np.int64)])
    full = np.nonzero(counts[length:] - counts[:-length] == length)[0]
    return int(full[0]) if len(full) else None


def _first_jump(norms):
    """Index i >= WINDOW of the first norm above EXPLODE x the median of the WINDOW norms
    before it (finite, the median > 0), and that median; (None, None) if there is none. A
    jump must exceed EXPLODE x the window's smallest norm, so only those steps (few in any
    run) get their median taken: linear in the run's length, not WINDOW x it."""
    later = norms[WINDOW:]
    finite = np.where(np.isfinite(norms), norms, np.inf)  # a window with NaN has no median
    # the smallest of norms[j:j + WINDOW], the window before later[j]
    smallest = minimum_filter1d(finite[:-1], WINDOW, origin=-(WINDOW // 2))[:len(later)]
    with np.errstate(invalid="ignore"):
        candidates = np.nonzero(np.isfinite(later) & (later > EXPLODE * smallest))[0]
    for start in range(0, len(candidates), 4096):  # in order, a block of medians at a time
        chunk = candidates[start:start + 4096]
        windows = norms[chunk[:, None] + np.arange(WINDOW)]
        medians = np.median(windows, axis=1)
        with np.errstate(invalid="ignore"):
            hits = np.nonzero((medians > 0) & (later[chunk] > EXPLODE * medians))[0]
        if len(hits):
            return WINDOW + int(chunk[hits[0]]), float(medians[hits[0]])
    return None, None


def gradient_alerts(layer, steps, norms):
    """Explosions (a norm EXPLODE x the median of the WINDOW steps before) and collapses (a
    norm below VANISH x the median of the first WINDOW steps, for WINDOW steps in a row)."""
    norms = np.asarray(norms, dtype=np.float64)
    alerts = []
    if len(norms) <= WINDOW:
        return alerts
    i, recent = _first_jump(norms)
    if i is not None:
        alerts.append(alert("exploding gradients", steps[i], layer,
                            f"gradient norm {norms[i]:.3g} at step {int(steps[i])}, "
                            f"{norms[i] / recent:.0f}x the {WINDOW} steps before"))
    early = np.median(norms[:WINDOW])
    if early > 0:
        start = _first_run(norms < VANISH * early, WINDOW)
        if start is not None:
            alerts.append(alert("vanishing gradients", steps[start], layer,
                                f"gradient norm below {VANISH:g} of its start ({early:.3g}) "
                                f"from step {int(steps[start])}"))
    return alerts


def ratio_alerts(layer, steps, ratios):
    """Update ratios far from the usual 1e-3: the median over the last quarter of the run."""
    ratios = np.asarray(ratios, dtype=np.float64)
    if len(ratios) < 2 * WINDOW:
        return []
    tail = ratios[-max(WINDOW, len(ratios) // 4):]
    median = float(np.nanmedian(tail)) if np.isfinite(tail).any() else np.nan
    if not np.isfinite(median) or RATIO_LOW <= median <= RATIO_HIGH:
        return []
    side = "below" if median < RATIO_LOW else "above"
    limit = RATIO_LOW if median < RATIO_LOW else RATIO_HIGH
    first = int(steps[-len(tail)])
    meaning = "barely moves (learning rate too small, or frozen)" if side == "below" \
        else "jumps (learning rate too large)"
    return [alert("update ratio", first, layer,
                  f"|update| / |weights| {median:.2g} (median from step {first}), {side} "
                  f"{limit:g}: the layer {meaning}")]


def loss_alerts(steps, loss):
    """A loss that stopped falling while still high: the last quarter's mean is less than
    PLATEAU below the quarter before's, and above STALLED of the first steps' mean."""
    loss = np.asarray(loss, dtype=np.float64)
    finite = np.isfinite(loss)
    if finite.sum() < 4 * WINDOW:
        return []
    loss, steps = loss[finite], np.asarray(steps)[finite]
    quarter = len(loss) // 4
    start, before, last = loss[:WINDOW].mean(), loss[-2 * quarter:-quarter].mean(), loss[-quarter:].mean()
    if last > (1 - PLATEAU) * before and last > STALLED * start:
        return [alert("loss not falling", steps[-2 * quarter], None,
                      f"mean loss {last:.3g} over the last quarter, {before:.3g} before, "
                      f"{start:.3g} at the start")]
    return []


def nonfinite_alerts(steps, loss, weight_norms, gradient_norms):
    """The first step whose loss or any norm is NaN or Inf. A loss with no finite value at
    all was not recorded (a train step that neither computes nor returns one): the norms say
    whether that training diverged."""
    bad = ~np.isfinite(np.asarray(loss))  # as stored: no float64 copy of a long run
    if bad.all():
        bad[:] = False
    for norms in (weight_norms, gradient_norms):
        if norms is not None and len(norms):
            bad |= ~np.isfinite(np.asarray(norms)).all(axis=1)
    where = np.nonzero(bad)[0]
    if not len(where):
        return []
    return [alert("NaN/Inf", steps[where[0]], None,
                  f"loss or norms not finite from step {int(steps[where[0]])}")]


@dataclass(frozen=True)
class Alert:
    """One alert of a run: its kind, the step it starts at, its layer (None: the whole run) and
    what it found, in words; `filters`: the filter ids it concerns (dead filters)."""

    kind: str
    step: int
    layer: Optional[str]
    text: str
    filters: Optional[Tuple[int, ...]] = None

    def __str__(self):
        """The whole alert in a line: 'step 61: exploding gradients, conv1: gradient norm ...'."""
        return f"step {self.step}: {self.kind}" + (f", {self.layer}" if self.layer else "") \
            + f": {self.text}"

    @property
    def headline(self):
        """Its first words, for a small panel: 'step 61: exploding gradients (conv1)'."""
        return f"step {self.step}: {self.kind}" + (f" ({self.layer})" if self.layer else "")

    def as_dict(self):
        """As `tensorviz info --json` lists it (docs/INFO.md)."""
        return {"kind": self.kind, "step": self.step, "layer": self.layer,
                "filters": None if self.filters is None else list(self.filters), "text": self.text}


def alert(kind, step, layer, text, filters=None):
    return Alert(kind, int(step), layer, text, None if filters is None else tuple(filters))


def alerts(steps, loss, weight_norms=None, gradient_norms=None, layer_gradients=None,
           layer_ratios=None, dead=None):
    """Every alert of a run, in step order. steps, loss: the step table; weight_norms,
    gradient_norms: (steps, variables); layer_gradients {layer: (steps, norms)} of its
    weights' gradient; layer_ratios {layer: (steps, update ratios)}; dead {layer: (snapshot
    steps, zero fractions (snapshots, filters)[, steps, filter gradient norms (steps,
    filters)])}."""
    found = nonfinite_alerts(steps, loss, weight_norms, gradient_norms) + loss_alerts(steps, loss)
    for layer, (layer_steps, norms) in (layer_gradients or {}).items():
        found += gradient_alerts(layer, layer_steps, norms)
    for layer, (layer_steps, ratios) in (layer_ratios or {}).items():
        found += ratio_alerts(layer, layer_steps, ratios)
    for layer, (snapshot_steps, zero, *gradients) in (dead or {}).items():
        if len(snapshot_steps) == 0:
            continue
        total = np.isfinite(np.asarray(zero, dtype=np.float64)[-1]).sum()
        dead_filters, silent_filters = dead_since(snapshot_steps, zero, *gradients)
        for kind, since, seen in (
                ("dead filters", dead_filters, "no output on the atlas images, no gradient"),
                ("silent filters", silent_filters, "no output on the probe images in "
                 "inference mode, yet a gradient: they still learn")):
            if since:
                first, last = min(since.values()), max(since.values())
                when = f"from step {first}" if first == last else f"from steps {first} to {last}"
                found.append(alert(kind, first, layer,
                                   f"{len(since)} of {total} filters {kind.split()[0]} {when} "
                                   f"(filters {compact(sorted(since))}: {seen})",
                                   filters=sorted(since)))
    return sorted(found, key=lambda a: (a.step, a.kind))


def compact(numbers):
    """[0, 1, 2, 5] -> '0-2, 5'."""
    parts, start = [], None
    for i, n in enumerate(numbers):
        if start is None:
            start = n
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            parts.append(f"{start}" if start == n else f"{start}-{n}")
            start = None
    return ", ".join(parts)
