"""`tensorviz info`: a summary of a run store as one JSON-ready dict (docs/INFO.md)."""

import json
from collections import Counter

import numpy as np

from .check_record import check_status, check_text
from .layer_groups import LIST_MOST, Group, group_layers
from . import format as F
from .reader import RunReader


def _float(value):
    value = float(value)
    return value if np.isfinite(value) else None


def run_summary(path):
    with RunReader(path) as run:
        table = run.step_table()
        steps = table[F.STEP]
        layers = []
        for entry in run.info.get("layers", []):
            recorded = {}
            for quantity in run.series_names(entry["name"]):
                snapshot_steps = run.series_steps(entry["name"], quantity)
                recorded[quantity] = {"snapshots": int(len(snapshot_steps)),
                                      "last_step": int(snapshot_steps[-1]) if len(snapshot_steps) else None}
            last_step = int(steps[-1]) if len(steps) else 0
            layers.append({"name": entry["name"], "kind": entry["kind"],
                           "kernel_shape": entry["kernel_shape"], "bias_shape": entry["bias_shape"],
                           "filters": entry["filters"],
                           "filters_now": int(run.alive_at(entry["name"], last_step).sum())
                           if entry["kind"] == F.CONV else entry["filters"],
                           "cadence": entry.get("cadence"), "recorded": recorded})
        metric_names, metric_values = run.metrics()
        evaluation = run.evaluation()
        merges = run.merges()
        last = len(steps) - 1
        return {
            "store": run.path,
            "format": F.FORMAT_NAME,
            "format_version": int(run.file.attrs[F.ATTR_VERSION]),
            "steps": {"count": int(len(steps)),
                      "first": int(steps[0]) if len(steps) else None,
                      "last": int(steps[-1]) if len(steps) else None},
            "time_steps": int(len(run.time_steps())),
            "layers": layers,
            "layer_blocks": [{"name": group.label, "layers": [layers[i]["name"] for i in group.members]}
                             for group in group_layers([layer["name"] for layer in layers])],
            "unrecorded_layers": run.info.get("unrecorded_layers", []),
            "recording": run.info.get("recording"),
            "atlas_size": int(run.info.get("atlas_size", 0)),
            "metrics": {name: _float(metric_values[-1, i]) if len(metric_values) else None
                        for i, name in enumerate(metric_names)},
            "variables": run.variables,
            "cadence": run.info.get("cadence"),
            "dataset": run.info.get("dataset"),
            "hyperparameters": run.info.get("hyperparameters"),
            "last": None if last < 0 else {
                # epochs counted from 1 here, as in `evaluation` (the step table counts from 0)
                "step": int(steps[last]), "epoch": int(table[F.EPOCH][last]) + 1,
                "loss": _float(table[F.LOSS][last]), "accuracy": _float(table[F.ACCURACY][last]),
                "learning_rate": _float(table[F.LEARNING_RATE][last])},
            "merges": [{"step": int(merges["step"][i]), "layer": run.layers[int(merges["layer"][i])],
                        "kept": int(merges["kept"][i]), "removed": int(merges["removed"][i]),
                        "correlation": _float(merges["correlation"][i])}
                       for i in range(len(merges["step"]))],
            "evaluation": [{c: (int(evaluation[c][i]) if c in ("epoch", "step")
                                else _float(evaluation[c][i])) for c in F.EVAL_COLUMNS}
                           for i in range(len(evaluation["epoch"]))],
            "check": check_status(run.path),
            "parent": run.info.get("parent"),
            "steering": [_steering_row(event) for event in run.steering_events()],
        }


def _steering_row(event):
    """A steering event as `info` gives it: the command, its value, where applied or why
    refused, and when (docs/INFO.md)."""
    return {key: event[key] for key in ("seq", "command", "value", "status", "step", "reason",
                                        "answered_step", "answered")}


def _steering_text(event):
    value = "" if event["value"] is None else f" {json.dumps(event['value'])}"
    if event["status"] == "applied":
        outcome = f"applied at step {event['step']}"
    elif event["status"] == "refused":
        at = "" if event["answered_step"] is None else f" at step {event['answered_step']}"
        outcome = f"refused{at}"
    else:
        outcome = event["status"]
    why = f": {event['reason']}" if event["reason"] else ""
    return f"steer      #{event['seq']} {event['command'] or '(unreadable)'}{value} {outcome}{why}"


def _cadence_text(cadence):
    """' every 10 steps + epoch ends' for a layer's weight snapshots ('' for old stores)."""
    if not cadence or "weights" not in cadence:
        return ""
    every, epochs = cadence["weights"]
    parts = ([f"every {every} steps"] if every else []) + \
        (["epoch ends" if epochs == 1 else f"every {epochs} epochs"] if epochs else [])
    return ", snapshots " + (" + ".join(parts) or "at the first and last step")


def _recording_lines(summary):
    cadence, recording = summary["cadence"] or {}, summary["recording"]
    lines = []
    if "budget_bytes_per_step" in cadence:
        budget = cadence["budget_bytes_per_step"]
        lines.append(f"recording  every step: loss, metrics ({', '.join(summary['metrics']) or 'none'}),"
                     f" learning rate, every variable's and gradient's norm; snapshots per layer as "
                     f"listed, and at the first and last step; budget "
                     f"{'none' if budget is None else f'{budget:,} bytes/step'}, expected "
                     f"{cadence['expected_bytes_per_step']:,} bytes/step")
    elif cadence:  # format version 1
        lines.append("cadence    every step: loss, accuracy, learning rate, weight and gradient "
                     "norms; snapshots every " + ", ".join(f"{k}={v}" for k, v in cadence.items())
                     + " steps (0: epoch ends only), and at step 0 and every epoch end")
    if recording:
        lines.append(f"note       loss from {recording['loss']}; probe: {recording['probe']}"
                     + (f"; Filter Atlas of {summary['atlas_size']} images" if summary["atlas_size"]
                        else "")
                     + (f"; recording began at step {recording['first_step']} ("
                        + ("a fork: its parent recorded the steps before" if summary.get("parent")
                           else "the model was built by its first step") + ")"
                        if recording["first_step"] else ""))
        if recording.get("replicas", 1) > 1:
            workers = recording.get("workers", 1)
            lines.append(f"trained    on {recording['replicas']} replicas"
                         + (f" of {workers} workers (the chief recorded)" if workers > 1 else "")
                         + f" ({recording.get('strategy', 'a tf.distribute strategy')}): every "
                         "value is the global batch's")
    return lines


def _short(value):
    """A metric as a person reads it (4 significant digits; --json keeps every digit)."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _dataset_text(dataset):
    """`tensorviz train`'s dataset entry as its sizes; whatever else a run_info gave, as is."""
    sizes = ("train", "validation", "test")
    if isinstance(dataset, dict) and all(key in dataset for key in ("name",) + sizes):
        return (f"{dataset['name']}: {dataset['train']} train / {dataset['validation']} "
                f"validation / {dataset['test']} test")
    return str(dataset)


def format_summary(summary, every_layer=False):
    """The summary as lines a person reads; a model of more than LIST_MOST recorded layers by
    blocks (store/layer_groups.py), unless `every_layer`."""
    lines = [f"store      {summary['store']}  ({summary['format']} v{summary['format_version']})"]
    if "check" in summary:
        lines.append(f"check      {check_text(summary['check'])}")
    s = summary["steps"]
    lines.append(f"steps      {s['count']} (first {s['first']}, last {s['last']}); "
                 f"{summary['time_steps']} time steps in the viewer")
    if summary["dataset"]:
        lines.append(f"dataset    {_dataset_text(summary['dataset'])}")
    if summary["hyperparameters"]:
        lines.append("hyper      " + ", ".join(f"{k}={v}" for k, v in summary["hyperparameters"].items()))
    lines += _recording_lines(summary)
    layers = summary["layers"]
    groups = group_layers([layer["name"] for layer in layers])
    by_block = not every_layer and len(layers) > LIST_MOST
    lines.append(f"layers     {len(layers)} recorded"
                 + (f", in {len(groups)} blocks (--layers lists each)" if by_block else ""))
    width = max([len(layer["name"]) for layer in layers] + [8])
    for group in (groups if by_block else [Group(None, [i]) for i in range(len(layers))]):
        members = [layers[i] for i in group.members]
        if len(members) > 1:
            kinds = Counter(layer["kind"] for layer in members)
            lines.append(f"  {group.label:<{width}} {len(members)} layers: "
                         + ", ".join(f"{count} {kind}" for kind, count in kinds.items())
                         + f"; {sum(layer['filters'] for layer in members):,} filters")
            continue
        layer = members[0]
        recorded = ", ".join(f"{q} x{r['snapshots']}" for q, r in layer["recorded"].items())
        now = "" if layer["filters_now"] == layer["filters"] else f" (now {layer['filters_now']})"
        lines.append(f"  {layer['name']:<{width}} {layer['kind']:<16} {tuple(layer['kernel_shape'])}"
                     f" filters {layer['filters']}{now}{_cadence_text(layer['cadence'])}: {recorded}")
    unrecorded = summary["unrecorded_layers"]
    if not every_layer and len(unrecorded) > LIST_MOST:
        classes = Counter(layer["class"] for layer in unrecorded)
        lines.append(f"  {len(unrecorded)} layers not recorded (kinds TensorViz does not record): "
                     + ", ".join(f"{count} {name}" for name, count in classes.most_common()))
        unrecorded = []
    for layer in unrecorded:
        lines.append(f"  {layer['name']:<{width}} {layer['class']:<16} not recorded (a kind "
                     "TensorViz does not record)")
    if summary["last"]:
        last = summary["last"]
        lines.append(f"last step  {last['step']} (epoch {last['epoch']}): loss {_short(last['loss'])}, "
                     f"accuracy {_short(last['accuracy'])}, learning rate {_short(last['learning_rate'])}")
    for found in summary.get("alerts", []):  # Alert values (analysis/health.py) say themselves
        lines.append(f"alert      {found}")
    if "alerts" in summary and not summary["alerts"]:
        lines.append("alerts     none (dead filters, exploding or vanishing gradients, update "
                     "ratios, a stalled loss, NaN/Inf)")
    parent = summary.get("parent")
    if parent:
        lines.append(f"parent     {parent['run']} at step {parent['step']} (a fork of that run)")
    lines += [_steering_text(event) for event in summary.get("steering", [])]
    for merge in summary["merges"]:
        lines.append(f"merge      step {merge['step']}: {merge['layer']} filter {merge['removed']} "
                     f"into {merge['kept']} (r = {merge['correlation']:.3f})")
    for row in summary["evaluation"]:
        lines.append(f"epoch {row['epoch']:>3}  step {row['step']:>6}  val loss {_short(row['val_loss'])}  "
                     f"val acc {_short(row['val_accuracy'])}  test loss {_short(row['test_loss'])}  "
                     f"test acc {_short(row['test_accuracy'])}")
    return "\n".join(lines)
