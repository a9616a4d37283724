"""The steering of a live training as the views show it: a short label for each command (the
events of RunReader.steering_events(): dicts of seq, command, value, status, step, reason), the
marks drawn on the time axis at the steps where commands took effect, their labels' layout, and
the training's state."""

from ..store.steering import APPLIED

MOST_SHOWN = 8  # of the last commands, in a table or a panel
LABEL_CHARACTERS = 28  # a mark's label on a chart's axis, at most


def event_label(row):
    """A short label: "lr 0.01", "pause", "merge conv1 7>3" (filter 7 into filter 3)."""
    kind, value = row.get("command"), row.get("value")
    if kind is None:
        return "unreadable command"
    if kind == "learning_rate":
        return f"lr {value:g}"
    if kind == "merge":
        return f"merge {value['layer']} {value['remove']}>{value['keep']}"[:LABEL_CHARACTERS]
    if kind == "fork":
        return f"fork at {value['step']}"
    return kind


def applied_marks(rows):
    """[(step, label)] of the commands applied, one per step (the labels of the commands
    applied at one step joined), in step order."""
    marks = {}
    for row in rows:
        if row.get("status") == APPLIED and row.get("step") is not None:
            marks.setdefault(int(row["step"]), []).append(event_label(row))
    return [(step, ", ".join(labels)[:LABEL_CHARACTERS]) for step, labels in sorted(marks.items())]


def training_state(rows, live):
    """"live", "paused" (the last pause or resume applied was a pause) or "ended" (no process
    writes the run)."""
    if not live:
        return "ended"
    held = [row["command"] for row in rows if row.get("status") == APPLIED
            and row.get("command") in ("pause", "resume")]
    return "paused" if held and held[-1] == "pause" else "live"


def outcome_text(row):
    """"applied at step 12", "refused: why", "pending"."""
    if row.get("status") == APPLIED:
        said = f"applied at step {row['step']}"
    else:
        said = str(row.get("status"))
    return said + (f": {row['reason']}" if row.get("reason") else "")


def mark_labels(marks, first, last, width, character_width):
    """(tick labels, key) of marks [(step, label)] on an axis from `first` to `last` step that
    is `width` pixels long, a label's character `character_width` pixels wide: each mark
    labelled in full when every label fits beside its neighbours; else numbered 1, 2, 3...
    and the key ("1 lr 0.01   2 pause") says what each number stands for."""
    span = max(last - first, 1)
    positions = [(step - first) / span * width for step, _ in marks]
    halves = [(len(label) + 1) * character_width / 2 for _, label in marks]
    fits = all(b - a >= ha + hb for a, b, ha, hb in
               zip(positions, positions[1:], halves, halves[1:]))
    if fits:
        return [label for _, label in marks], ""
    numbers = [str(index + 1) for index in range(len(marks))]
    return numbers, "   ".join(f"{n} {label}" for n, (_, label) in zip(numbers, marks))
