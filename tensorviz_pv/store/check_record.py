"""The result of a run's last `tensorviz check` (scrub.py), kept beside its store as JSON
(run.tvz.checked, run_dir.py) without touching the store, and what `tensorviz info` says of it:
when, intact or how much damage, and whether the store changed since (its size or mtime)."""

import json
import os
import tempfile

from .run_dir import checked_path

NEVER = "never checked (tensorviz check RUN reads every byte)"


def record_check(result):
    """Write a check's result beside its store (atomically: a temporary file renamed). None, or
    why it could not be written (a read-only run directory, say)."""
    path = checked_path(result["store"]["path"])
    folder = os.path.dirname(os.path.abspath(path))
    temporary = None
    try:
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=os.path.basename(path) + ".")
        with os.fdopen(descriptor, "w") as f:
            json.dump(result, f, indent=1)
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None and os.path.exists(temporary):
            os.remove(temporary)
        return f"{folder}: {error.strerror}"
    return None


def check_status(store):
    """The last check of a store (`info --json`'s `check`): {"checked": when, "intact",
    "damaged_datasets" of the store, "damaged_files": the store when it did not open, the
    checkpoints and their metadata, "changed_since": whether the store's size or mtime differ
    from the check's}; None when it was never checked (or its record does not read)."""
    try:
        with open(checked_path(store)) as f:
            record = json.load(f)
        stat = os.stat(store)
        checked = record["store"]
        damaged = record["damaged"]
        return {"checked": record["checked"], "intact": bool(record["intact"]),
                "damaged_datasets": sum(1 for damage in damaged if "dataset" in damage),
                "damaged_files": len({damage["file"] for damage in damaged if "dataset" not in damage}),
                "changed_since": (stat.st_size, stat.st_mtime_ns) != (checked["size"],
                                                                       checked["mtime_ns"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_text(status):
    """The line `tensorviz info` gives the last check (check_status)."""
    if status is None:
        return NEVER
    if status["changed_since"]:
        return f"checked {status['checked']}, changed since"
    if status["intact"]:
        return f"checked {status['checked']}: intact"
    counts = [(status["damaged_datasets"], "damaged dataset"), (status["damaged_files"], "damaged file")]
    return f"checked {status['checked']}: " + ", ".join(
        f"{count} {noun}{'s' if count != 1 else ''}" for count, noun in counts if count)
