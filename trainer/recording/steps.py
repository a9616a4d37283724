"""The per-step rows: read back from the hooks' in-graph ring buffer every few steps, written
to the store's step tables, and handed to the health watch with each layer's health (written
too where its health group is due). Says which step first has a loss or weights not finite."""

import numpy as np

from tensorviz_pv.store import format as F

from .cadence import HEALTH

DRAIN_EVERY = 32  # steps between reads of the in-graph ring buffer (it holds 64)
ACCURACY_NAMES = ("accuracy", "acc")


def accuracy_column(names):
    """Index of the metric the step table calls accuracy: the first accuracy Keras tracks."""
    for index, name in enumerate(names):
        last = name.rsplit("_", 1)[-1]
        if name in ACCURACY_NAMES or last in ACCURACY_NAMES or name.endswith("accuracy"):
            return index
    return None


class StepRows:
    """The rows read so far: up to `read_to`; `latest` the (loss, accuracy) of the last row
    read; `health` the HealthRecords each row's health goes to."""

    def __init__(self, health):
        self.read_to = 0
        self.health = health
        self.latest = (float("nan"), float("nan"))
        self.nonfinite_step = None  # the first step whose loss or weights were not finite

    def due(self, step):
        return step - self.read_to >= DRAIN_EVERY

    def read(self, attached, output, filter_ids, hooked_from, step, epoch):
        """Move the rows of the steps after `read_to` up to `step` (the hooks counting from
        `hooked_from`) to the output; returns (step, loss) of the first step found not finite
        now, or None."""
        hooks = attached.hooks
        rows = hooks.read_rows(self.read_to + 1 - hooked_from, step - hooked_from)
        position = {name: i for i, name in enumerate(hooks.metrics.names)}
        loss_at, accuracy_at = position.get("loss"), accuracy_column(hooks.metrics.names)
        found = None
        for at, row in enumerate(rows, start=self.read_to + 1):
            metrics = [row.metrics[position[n]] if n in position else np.nan
                       for n in output.metric_columns]
            loss = row.metrics[loss_at] if loss_at is not None else np.nan
            accuracy = row.metrics[accuracy_at] if accuracy_at is not None else np.nan
            output.step(at, epoch, loss, accuracy, row.learning_rate, row.weight_norms,
                        row.gradient_norms, metrics)
            self.health.record(attached, output, filter_ids, at, loss, row)
            # only the training's own values stop it, never a value the recorder did not get
            loss_found = loss_at is not None and row.found[loss_at]
            finite = np.isfinite(row.weight_norms).all() and (not loss_found or np.isfinite(loss)) \
                and (hooks.loss_scaled or np.isfinite(row.gradient_norms).all())
            if not finite and self.nonfinite_step is None:
                self.nonfinite_step = at
                found = (at, loss)
        if rows:
            self.latest = (float(loss), float(accuracy))
        self.read_to = step
        return found


class HealthRecords:
    """Each step's health: to the alert `watch`, and to the store's health series of the
    layers whose health group (in `snapshots`) is due; filter norms in the original filter ids."""

    def __init__(self, watch, snapshots):
        self._watch, self._snapshots = watch, snapshots

    def record(self, attached, output, filter_ids, step, loss, row):
        health_pass = attached.health_pass
        if health_pass is None or not health_pass.computes(step):
            return
        gradients, ratios, filter_gradients = {}, {}, {}
        for path, values in health_pass.split(row.health).items():
            gradients[path] = row.gradient_norms[attached.health_column[path]]
            ratios[path] = values[F.UPDATE_RATIO]
            if F.FILTER_NORMS in values:
                filter_gradients[path] = filter_ids.expand(path, F.FILTER_NORMS,
                                                           values[F.FILTER_NORMS])[1]
            group = self._snapshots.groups.get((path, HEALTH))
            if group is None or not group.cadence.due(step):
                continue
            parts = [(path, quantity, value) for quantity, value in values.items()
                     if (path, quantity) in output.health_series]
            if parts:
                output.tensors(step, parts, filter_ids)
        self._watch.add_step(step, loss, gradients, ratios, filter_gradients)


def evaluation_row(model, logs, test_data, epochs_done, step):
    """The evaluation table's row of an epoch end: Keras's validation values, and the test
    data's (evaluated now) when given."""
    logs = logs or {}
    row = {"epoch": epochs_done, "step": step, "val_loss": logs.get("val_loss", np.nan),
           "val_accuracy": logs.get("val_accuracy", np.nan)}
    if test_data is not None:
        test = model.evaluate(*test_data, verbose=0, return_dict=True)
        accuracy = accuracy_column(list(test))
        row["test_loss"] = test.get("loss", np.nan)
        row["test_accuracy"] = list(test.values())[accuracy] if accuracy is not None else np.nan
    return row
