"""The alerts of a run while it trains: the health watch that finds them (analysis/health.py
over the recent steps), and how the recording says them, a loss or weights gone NaN/Inf, and
its own failure."""

import numpy as np

from tensorviz_pv.analysis.health import Alert, alerts
from tensorviz_pv.messages import logger
from tensorviz_pv.store import format as F

LOG = logger("recording")


class HealthWatch:
    """The alerts of a run while it trains (analysis/health.py over the last HISTORY steps
    kept in memory): `check()` returns the alerts not reported before, once each (kind and
    layer)."""

    HISTORY = 10_000

    def __init__(self):
        self.steps, self.loss = [], []
        self.gradients, self.ratios, self.filter_gradients = {}, {}, {}
        self.stats = {}  # layer -> ([snapshot steps], [zero fractions])
        self.reported = set()

    def add_step(self, step, loss, gradients, ratios, filter_gradients):
        """gradients {layer: norm of its weights' gradient}, ratios {layer: update ratio},
        filter_gradients {layer: each filter's gradient norm} of one step."""
        self.steps.append(step)
        self.loss.append(loss)
        for store, values in ((self.gradients, gradients), (self.ratios, ratios),
                              (self.filter_gradients, filter_gradients)):
            for layer, value in values.items():
                store.setdefault(layer, []).append(value)
        if len(self.steps) > self.HISTORY + 1000:  # trimmed in blocks, not every step
            cut = len(self.steps) - self.HISTORY
            self.steps, self.loss = self.steps[cut:], self.loss[cut:]
            for store in (self.gradients, self.ratios, self.filter_gradients):
                for layer in store:
                    store[layer] = store[layer][cut:]

    def add_statistics(self, layer, step, statistics):
        steps, zeros = self.stats.setdefault(layer, ([], []))
        steps.append(step)
        zeros.append(np.asarray(statistics)[F.ZERO_FRACTION])

    def check(self):
        steps = np.asarray(self.steps)
        aligned = {layer: values for layer, values in self.filter_gradients.items()
                   if len(values) == len(steps)}
        dead = {layer: (np.asarray(s), np.asarray(z))
                + ((steps, np.asarray(aligned[layer])) if layer in aligned else ())
                for layer, (s, z) in self.stats.items()}
        found = alerts(steps, np.asarray(self.loss, dtype=np.float64),
                       layer_gradients={k: (steps, np.asarray(v)) for k, v in self.gradients.items()
                                        if len(v) == len(steps)},
                       layer_ratios={k: (steps, np.asarray(v)) for k, v in self.ratios.items()
                                     if len(v) == len(steps)},
                       dead=dead)
        new = [a for a in found if (a.kind, a.layer) not in self.reported]
        self.reported |= {(a.kind, a.layer) for a in new}
        return new


def say_alerts(found, run_dir):
    """Log alerts (Alert values): one line per kind, its layers named when several have it."""
    by_kind = {}
    for one in found:
        by_kind.setdefault(one.kind, []).append(one)
    for kind, same in by_kind.items():
        if len(same) > 1:
            layers = ", ".join(one.layer for one in same if one.layer)
            same = [Alert(kind, min(one.step for one in same), None, f"in {layers}")]
        LOG.warning(f"\nTensorViz: alert from {same[0]} (details: tensorviz info {run_dir})")


def say_nonfinite(step, loss, store_path, stopping):
    LOG.warning(f"\nTensorViz: loss or weights became NaN/Inf at step {step} (loss {loss}); "
                f"recorded in {store_path}" + ("; stopping" if stopping else "; continuing"))


def say_stopped(step, reason, training_stops, store_path):
    then = "training stops" if training_stops else "training goes on"
    LOG.warning(f"\nTensorViz: recording stopped at step {step} ({reason}); {then}; "
                f"{store_path} keeps the steps written before")


def say_unfinished(step, store_path):
    LOG.warning(f"\nTensorViz: the fit ended at step {step} without finishing (an exception or "
                f"Ctrl-C); {store_path} keeps the steps up to it and is closed")
