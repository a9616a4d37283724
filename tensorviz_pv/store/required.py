"""What a store must hold, by its own run info: the tables every writer creates (the step
columns, the norms, the evaluation), what its run info says was recorded (each layer's series
by its cadence groups, the metrics, the probe and the atlas images), and the other half of
every pair found (a series' step and value, every column of a table). `tensorviz check`
reports each one missing (numpy-free: names only)."""

from . import format as F

ALWAYS = ([F.steps_path(column) for column in F.STEP_COLUMNS]
          + [F.norms_path(which) for which in (F.WEIGHT_NORM, F.GRADIENT_NORM)]
          + [F.evaluation_path(column) for column in F.EVAL_COLUMNS])
# groups of columns kept together: one found, every one must be there
TABLES = {F.STEPS_GROUP: [F.steps_path(c) for c in F.STEP_COLUMNS],
          F.EVALUATION_GROUP: [F.evaluation_path(c) for c in F.EVAL_COLUMNS],
          F.MERGES_GROUP: [F.merges_path(c) for c in F.MERGE_COLUMNS],
          F.STEERING_GROUP: [F.steering_path(c) for c in F.STEERING_COLUMNS],
          F.PROBE_GROUP: [F.probe_path(p) for p in (F.PROBE_IMAGES, F.PROBE_LABELS)],
          F.ATLAS_GROUP: [F.atlas_path(p) for p in (F.ATLAS_IMAGES, F.ATLAS_LABELS)]}
SERIES_PARTS = (F.SERIES_STEP, F.SERIES_VALUE)


def recorded_quantities(entry):
    """The quantities a layer's run_info entry says were recorded: a trainer's run plans a
    series for each variable of its weights group, the probe activations of its activations
    group (the atlas and activation statistics with them when the layer has an atlas) and the
    whole-layer health series; none for an entry without cadence groups (synthetic, version 1)."""
    cadence = entry.get("cadence")
    if not isinstance(cadence, dict):
        return []
    quantities = []
    if "weights" in cadence:
        quantities += list(entry.get("variables") or {})
    if "activations" in cadence and entry.get("activation_shape"):
        quantities.append(F.ACTIVATION)
        if "receptive_field" in entry:
            quantities += [F.ATLAS, F.ACTIVATION_STATS]
    if "health" in cadence:
        quantities += list(F.WHOLE_LAYER)
    return quantities


def _series_pair(path):
    """Both parts of the series a dataset path belongs to ([] for other datasets)."""
    parts = path.split("/")
    if parts[0] != F.TENSORS_GROUP or len(parts) < 4 or parts[-1] not in SERIES_PARTS:
        return []
    return ["/".join(parts[:-1] + [part]) for part in SERIES_PARTS]


def required_datasets(info, present):
    """Sorted paths of the datasets a store must hold: `info` its run info, `present` the paths
    of the datasets found in it."""
    required = set(ALWAYS)
    recording = info.get("recording") if isinstance(info.get("recording"), dict) else {}
    if recording.get("metrics"):
        required.add(F.metrics_path(F.METRICS_VALUE))
    if info.get("probe_size"):
        required.update(TABLES[F.PROBE_GROUP])
    if info.get("atlas_size"):
        required.update(TABLES[F.ATLAS_GROUP])
    for entry in info.get("layers", []):
        for quantity in recorded_quantities(entry):
            required.update(F.series_path(entry["name"], quantity, part) for part in SERIES_PARTS)
    for path in present:
        group = path.split("/")[0]
        required.update(TABLES.get(group, []))
        required.update(_series_pair(path))
    return sorted(required)
