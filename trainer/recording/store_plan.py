"""What a run's store will hold, planned from what the callback found in the model: every tensor
series by the cadence group that writes it, the cadences that keep the disk budget, the run's
metadata (run_info), and the new store made from them. The shapes and bytes come from
store/layout.py."""

import os
import time
from collections import namedtuple

import keras

from tensorviz_pv.messages import logger
from tensorviz_pv.store.layout import (activation_series, alive_series, atlas_series,
                                       step_row_bytes)
from tensorviz_pv.store.writer import RunWriter

from ..multi_worker import worker_count
from .cadence import ACTIVATIONS, HEALTH, WEIGHTS, layer_groups, plan
from .step_metrics import METRIC_SLOTS
from .output import StoreOutput
from .probe import first_input, probe_labels

LOG = logger("recording")

# a new store: its StoreOutput, the probe activations of its first step, the probe captured
# from the first batch (None: given)
NewStore = namedtuple("NewStore", "output activations captured")


class StorePlan:
    """The plan of a run's store: the cadence options (`overrides`), the disk `budget` and the
    `extra_info` given to the callback; `plan` chooses the cadences, `create` makes a new store."""

    def __init__(self, overrides, budget, extra_info):
        self.overrides, self.budget, self.extra_info = overrides, budget, extra_info
        self.expected_bytes = None  # per step, as planned

    def check_budget(self, attached):
        """BudgetError, before training starts, when the per-step records alone exceed it."""
        plan([], per_step_bytes(len(attached.hooks.paths)), self.budget)

    def plan(self, attached, snapshots, filter_ids, activation_shapes, params):
        """Every series of the store and the cadence of every group (set in `snapshots`),
        chosen to keep the budget: (series by group, the layers whose atlas is recorded)."""
        atlas_layers = {path for path in activation_shapes
                        if snapshots.records_atlas(attached, path)}
        series = planned_series(attached.layers, activation_shapes,
                                attached.atlas_pass.k if atlas_layers else 0, atlas_layers,
                                attached.health_parts, filter_ids.original)
        every = attached.health_pass.every if attached.health_pass is not None else 1
        snapshots.groups, self.expected_bytes = plan_cadence(
            series, attached.layers, self.overrides, every, self.budget,
            len(attached.hooks.paths), params)
        return series, atlas_layers

    def create(self, path, model, params, attached, images, snapshots, filter_ids, first_step):
        """The store of a new run at `path` (a NewStore), once its first recorded step has run:
        Keras's metrics are known then, and the default probe was captured from that step's
        batch. `params` Keras's fit parameters; `snapshots` get their groups and atlas layers."""
        captured = attached.hooks.probe() if not images.given else None
        if captured is not None and captured[0].ndim >= 2:
            images.use((captured[0], probe_labels(captured[1])))
            attached.look_through(images)
        activations = attached.activations()
        shapes = {layer: value.shape for layer, value in activations.items()}
        series, atlas_layers = self.plan(attached, snapshots, filter_ids, shapes, params)
        snapshots.atlas_layers = atlas_layers
        metric_columns = list(attached.hooks.metrics.names)
        sizes = {"budget": self.budget, "expected_bytes_per_step": self.expected_bytes,
                 "probe_size": len(first_input(images.probe[0])) if activations else 0,
                 "atlas_size": len(first_input(images.atlas[0])) if atlas_layers else 0}
        info = run_info(model, attached, snapshots.groups, shapes,
                        attached.receptive_fields(images.atlas[0]) if atlas_layers else {},
                        first_step, metric_columns, sizes, self.extra_info)
        for entry in info["layers"]:  # what filter reduction's NaN entries follow (FORMAT.md)
            entry["input_filters_of"] = filter_ids.input_of.get(entry["name"])
            entry["filters_follow"] = filter_ids.channels_of.get(entry["name"])
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        writer = RunWriter.create(path, info, attached.hooks.names,
                                  store_series(series, attached.layers, filter_ids.original),
                                  *(images.stored_probe() if activations else (None, None)),
                                  metric_names=metric_columns,
                                  atlas=images.stored_atlas() if atlas_layers else None)
        health_series = {(spec.layer, spec.quantity) for (_, what), specs in series.items()
                         if what == HEALTH for spec in specs}
        return NewStore(StoreOutput(writer, metric_columns, health_series), activations, captured)


def per_step_bytes(variables):
    """What every step records: a row of the step tables, with every metric slot the hooks
    may fill (the metrics are known once the first step ran) and two norms per variable."""
    return step_row_bytes(variables, METRIC_SLOTS)


def planned_series(layers, activation_shapes, atlas_k, atlas_layers, health_parts,
                   original_filters):
    """{(layer, WEIGHTS | ACTIVATIONS | HEALTH): [SeriesSpec]}: what each cadence group of the
    RecordedLayers `layers` writes. activation_shapes {layer: probe activations' shape};
    atlas_layers: those whose Filter Atlas (`atlas_k` images per filter) is recorded with
    them; health_parts {layer: LayerHealth}; original_filters {conv layer: its original filter
    count}. The health groups first: the planner breaks ties in this order."""
    series = {(path, HEALTH): part.series(original_filters.get(path))
              for path, part in health_parts.items()}
    for layer in layers:
        series[(layer.path, WEIGHTS)] = layer.weight_series()
        shape = activation_shapes.get(layer.path)
        if shape is not None:
            series[(layer.path, ACTIVATIONS)] = [activation_series(layer.path, shape)] + (
                atlas_series(layer.path, atlas_k, shape[-1]) if layer.path in atlas_layers else [])
    return series


def store_series(series, layers, original_filters):
    """Every series of a new store: the groups' and which filters exist (conv layers)."""
    return [spec for specs in series.values() for spec in specs] + [
        alive_series(layer.path, layer.filters) for layer in layers
        if layer.path in original_filters]


def plan_cadence(series, layers, overrides, health_every, budget, variables, params):
    """(groups {(layer, what): Group}, expected bytes per step): the cadence of every group,
    relaxed to keep `budget`; `params` Keras's fit parameters (steps, epochs)."""
    groups = layer_groups(series, {layer.path: layer.kind for layer in layers}, overrides,
                          health_every)
    steps, epochs = params.get("steps"), params.get("epochs")
    expected = plan(list(groups.values()), per_step_bytes(variables), budget, steps,
                    steps * epochs if steps and epochs else None)
    if budget is not None and expected > budget:
        LOG.warning(f"TensorViz: this run is too short to spread the snapshots of its first "
                    f"and last step: expect {expected:,} bytes per step (budget {budget:,}); a "
                    "longer run keeps it")
    return groups, expected


def run_info(model, attached, groups, activation_shapes, fields, first_step, metric_columns,
             sizes, extra):
    """The store's run_info: the model, each recorded layer (kind, shapes, cadence, receptive
    field from `fields`), how the run is recorded (from `first_step`, Keras's metrics
    `metric_columns`; `sizes`: budget, expected bytes per step, probe and atlas sizes) and
    `extra` (the dataset, the hyper-parameters...)."""
    layers = []
    for layer in attached.layers:
        entry = layer.entry(activation_shapes[layer.path][1:] if layer.path in activation_shapes
                            else None)
        if layer.path in fields:
            entry["receptive_field"] = fields[layer.path]
        entry["cadence"] = {what: [group.cadence.every, group.cadence.epochs]
                            for (path, what), group in groups.items() if path == layer.path}
        layers.append(entry)
    hooks, strategy = attached.hooks, model.distribute_strategy
    info = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "keras_version": keras.__version__,
            "model_name": model.name,
            "parameters": int(model.count_params()),
            "optimizer": model.optimizer.__class__.__name__,
            "layers": layers,
            "unrecorded_layers": [{"name": path, "class": cls} for path, cls in attached.unrecorded],
            "variables": hooks.names,
            "cadence": {"budget_bytes_per_step": sizes["budget"],
                        "expected_bytes_per_step": sizes["expected_bytes_per_step"],
                        "per_layer": "layers[].cadence: [every N steps, every N epochs]"},
            "recording": {"first_step": first_step, "loss": hooks.loss_source(), "metrics": metric_columns,
                          "probe": "the first training batch" if hooks.captures_probe
                          else "given",
                          "convolutions": len(attached.spatial_layers),
                          "strategy": type(strategy).__name__,
                          "replicas": strategy.num_replicas_in_sync,
                          "workers": worker_count(strategy)},
            "probe_size": sizes["probe_size"],
            "atlas_size": sizes["atlas_size"]}
    info.update(extra)
    return info
