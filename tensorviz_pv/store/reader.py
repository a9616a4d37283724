"""The reader of the run store (numpy + h5py only): the per-step tables, the snapshots of every
series, and what the views and the alerts ask of a run; store_file.py opens and checks the file.
"""

import json

import numpy as np

from ..errors import StoreError
from . import format as F
from .steering_events import steering_events
from .store_file import StoreFile


class RunReader(StoreFile):
    """Reads a store, also while a trainer is still writing it (SWMR)."""

    def _forget(self):
        super()._forget()
        self._series_steps = {}
        self._step_column = None
        self._last_value = {}

    # ---- per-update tables
    def step_count(self):
        """Rows readable in every per-step dataset (a live writer may be one block ahead in
        some, a killed one may have left some rows without their companions)."""
        paths = [F.steps_path(c) for c in F.STEP_COLUMNS] + \
            [F.norms_path(w) for w in (F.WEIGHT_NORM, F.GRADIENT_NORM)]
        if F.metrics_path(F.METRICS_VALUE) in self.file:
            paths.append(F.metrics_path(F.METRICS_VALUE))
        return min(self._dataset(path).shape[0] for path in paths)

    def step_table(self):
        n = self.step_count()
        return {c: self._read(F.steps_path(c), slice(0, n)) for c in F.STEP_COLUMNS}

    def step_row(self, step):
        """{column: value} of the step table's row for `step`, or None when it has none."""
        n = self.step_count()
        if n == 0:
            return None
        if self._step_column is None or len(self._step_column) != n:
            self._step_column = self._read(F.steps_path(F.STEP), slice(0, n))
        row = int(np.searchsorted(self._step_column, step))
        if row >= n or self._step_column[row] != step:
            return None
        return {c: self._read(F.steps_path(c), row) for c in F.STEP_COLUMNS}

    def norms(self, which):
        n = self.step_count()
        return self._read(F.norms_path(which), slice(0, n))

    def _table(self, group, columns, required=False):
        """{column: array} of a table of `group` (empty when the store has none, unless
        `required`: a StoreError names it), the rows a killed writer left without their
        companions left out."""
        if group not in self.file and not required:
            return {c: np.zeros(0) for c in columns}
        values = {c: self._read(f"{group}/{c}") for c in columns}
        n = min(len(v) for v in values.values())
        return {c: v[:n] for c, v in values.items()}

    def merges(self):
        """The merge events ({column: array}); empty for runs without filter reduction or
        stores written before reduction existed."""
        return self._table(F.MERGES_GROUP, F.MERGE_COLUMNS)

    def steering_table(self):
        """{column: array} of the store's steering table (empty in stores of version 2)."""
        return self._table(F.STEERING_GROUP, F.STEERING_COLUMNS)

    def steering_events(self):
        """Every command sent to the training and its outcome, in order (steering_events.py:
        [{"seq", "command", "value", "status", "step", "reason", "answered_step",
        "answered", "source"}])."""
        return steering_events(self)

    def alive_at(self, layer, step):
        """Which of the layer's original filters exist in the tensors recorded at `step` (all,
        without reduction). A reduction recorded at step s happens after that step's
        snapshots: its row applies to the steps after s."""
        if self.has_series(layer, F.ALIVE) and len(self.series_steps(layer, F.ALIVE)):
            steps = self.series_steps(layer, F.ALIVE)
            index = max(int(np.searchsorted(steps, step, side="left")) - 1, 0)
            return np.asarray(self.series_value(layer, F.ALIVE, index)).astype(bool)
        return np.ones(self.layer_info(layer)["filters"], dtype=bool)

    def evaluation(self):
        return self._table(F.EVALUATION_GROUP, F.EVAL_COLUMNS, required=True)

    # ---- snapshots
    def layer_info(self, layer):
        for entry in self.info.get("layers", []):
            if entry["name"] == layer:
                return entry
        raise StoreError(f"{self.path}: no layer named {layer!r} "
                         f"(layers: {', '.join(self.layers) or 'none'})")

    def has_series(self, layer, quantity):
        return (F.series_path(layer, quantity, F.SERIES_STEP) in self.file
                and F.series_path(layer, quantity, F.SERIES_VALUE) in self.file)

    def series_steps(self, layer, quantity):
        """Steps of a series' snapshots (cached until the file is reopened by refresh)."""
        key = (layer, quantity)
        if key not in self._series_steps:
            self.layer_info(layer)
            if not self.has_series(layer, quantity):
                raise StoreError(f"{self.path}: {quantity} of layer {layer!r} was not recorded")
            step_path = F.series_path(layer, quantity, F.SERIES_STEP)
            rows = min(self._dataset(step_path).shape[0],
                       self._dataset(F.series_path(layer, quantity, F.SERIES_VALUE)).shape[0])
            self._series_steps[key] = self._read(step_path, slice(0, rows),
                                                 f"the snapshot steps of {layer} {quantity}")
        return self._series_steps[key]

    def series_value(self, layer, quantity, index):
        """One snapshot. The last one read per series is kept: the reader and the views below
        it ask for the same snapshot at each time step (conv1's activations are 0.8 MB)."""
        key = (layer, quantity)
        cached = self._last_value.get(key)
        if cached is None or cached[0] != index:
            step = self.series_steps(layer, quantity)[index]
            value = self._read(F.series_path(layer, quantity, F.SERIES_VALUE), index,
                               f"{layer} {quantity} of step {step}")
            value.setflags(write=False)
            self._last_value[key] = cached = (index, value)
        return cached[1]

    def series_all(self, layer, quantity):
        """(steps, values) of every record of a series in one read (the per-step health
        series: small records, many steps)."""
        steps = self.series_steps(layer, quantity)
        return steps, self.series_rows(layer, quantity, 0, len(steps))

    def series_rows(self, layer, quantity, start, stop):
        """Records start..stop-1 of a series (a long run's is read a chunk at a time)."""
        return self._read(F.series_path(layer, quantity, F.SERIES_VALUE), slice(start, stop),
                          f"{layer} {quantity}")

    def health_inputs(self):
        """The arrays analysis.health.alerts reads, as keyword arguments (what was recorded:
        runs of an older TensorViz have no health series, and get the alerts their norms and
        loss allow)."""
        table = self.step_table()
        variables = self.variables
        layer_gradients, layer_ratios, dead = {}, {}, {}
        for layer in self.layers:
            if self.has_series(layer, F.UPDATE_RATIO):
                layer_ratios[layer] = self.series_all(layer, F.UPDATE_RATIO)
            kind = F.layer_kind(self.layer_info(layer))
            column = f"{layer}/{kind.weights}"
            if column in variables:
                layer_gradients[layer] = (table[F.STEP],
                                          self.norms(F.GRADIENT_NORM)[:, variables.index(column)])
            if self.has_series(layer, F.ACTIVATION_STATS):
                steps, stats = self.series_all(layer, F.ACTIVATION_STATS)
                dead[layer] = (steps, stats[:, F.ZERO_FRACTION])
                if self.has_series(layer, F.FILTER_NORMS):
                    norm_steps, norms = self.series_all(layer, F.FILTER_NORMS)
                    dead[layer] += (norm_steps, norms[:, 1])
        return {"steps": table[F.STEP], "loss": table[F.LOSS],
                "weight_norms": self.norms(F.WEIGHT_NORM),
                "gradient_norms": self.norms(F.GRADIENT_NORM),
                "layer_gradients": layer_gradients, "layer_ratios": layer_ratios, "dead": dead}

    def snapshot_steps(self, layer, quantity):
        """series_steps of a series that has at least one snapshot (else a clear error)."""
        steps = self.series_steps(layer, quantity)
        if len(steps) == 0:
            raise StoreError(f"{self.path}: layer {layer!r} has no {quantity} snapshot yet")
        return steps

    def snapshot_index(self, layer, quantity, step):
        """Index of the latest snapshot taken at or before `step` (the first one when `step`
        precedes every snapshot)."""
        steps = self.snapshot_steps(layer, quantity)
        return max(int(np.searchsorted(steps, step, side="right")) - 1, 0)

    def tensor_at(self, layer, quantity, step):
        """(snapshot step, value) of the snapshot shown at `step` (see snapshot_index)."""
        index = self.snapshot_index(layer, quantity, step)
        return int(self.series_steps(layer, quantity)[index]), self.series_value(layer, quantity, index)

    def series_names(self, layer):
        """The quantities recorded of a layer (kernel, bias, kernel_gradient, activation...),
        in the order they were created. A layer's path may hold other layers' groups too."""
        group = self.file.get("/".join((F.TENSORS_GROUP, layer)))
        if group is None:
            return []
        return [name for name in group if self.has_series(layer, name)]

    def last_step(self):
        """The last step whose row is complete (0 before the first)."""
        count = self.step_count()
        return int(self._read(F.steps_path(F.STEP), count - 1)) if count else 0

    def time_steps(self):
        """Every step that something was recorded at, up to the last complete row: the
        viewer's time axis (a live writer flushes snapshots before their step's row)."""
        parts = [self._read(F.steps_path(F.STEP), slice(0, self.step_count()))]
        for layer in self.layers:
            for quantity in self.series_names(layer):
                parts.append(self.series_steps(layer, quantity))
                # an incomplete series is reported by the view that needs it
        steps = np.unique(np.concatenate(parts)).astype(np.int64)
        return steps[steps <= self.last_step()]

    def metrics(self):
        """(names, values (steps, metrics)): Keras's batch values of its mean-based metrics
        (none in stores of format version 1)."""
        if F.METRICS_GROUP not in self.file:
            return [], np.zeros((self.step_count(), 0), dtype=np.float32)
        path = F.metrics_path(F.METRICS_VALUE)
        try:
            names = json.loads(self._dataset(path).attrs[F.ATTR_METRIC_NAMES])
        except (OSError, ValueError) as error:
            raise StoreError(f"{self.path}: the metric names are damaged ({error})") from None
        return names, self._read(path, slice(0, self.step_count()))

    def atlas(self):
        """(images (N, positions..., channels) float32, labels) of the Filter Atlas."""
        if F.atlas_path(F.ATLAS_IMAGES) not in self.file:
            raise StoreError(f"{self.path}: no atlas images were recorded (a run of an older "
                             "TensorViz, or one recorded with atlas_size=0)")
        return (self._read(F.atlas_path(F.ATLAS_IMAGES)).astype(np.float32),
                self._read(F.atlas_path(F.ATLAS_LABELS)))

    def has_atlas(self):
        return F.atlas_path(F.ATLAS_IMAGES) in self.file

    def has_probe(self):
        return F.probe_path(F.PROBE_IMAGES) in self.file

    def probe(self):
        if F.probe_path(F.PROBE_IMAGES) not in self.file:
            raise StoreError(f"{self.path}: no probe batch was recorded")
        return self._read(F.probe_path(F.PROBE_IMAGES)), self._read(F.probe_path(F.PROBE_LABELS))
