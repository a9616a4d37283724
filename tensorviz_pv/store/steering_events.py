"""The steering events of a run (issue 23): every command its training answered, read from the
store's steering table (format version 3), and the commands still waiting in the run
directory's channel. A store without events (version 2, or a fit that steered without
recording) gives the channel's rows (steering.py's SteeringChannel.rows()) instead."""

import json
import os

from . import format as F
from .steering import SteeringChannel

PENDING = "pending"


def _decoded(column, values):
    if F.STEERING_COLUMN_DTYPES[column].startswith("S"):
        return [bytes(value).decode("utf-8", "replace") for value in values]
    return values.tolist()


def _value(text):
    try:
        return json.loads(text)
    except ValueError:  # a value cut to its column's width
        return text


def store_events(run):
    """[event] of the store's steering table (RunReader `run`), in the order answered: each
    {"seq", "command", "value", "status", "step", "reason", "answered_step", "answered"}:
    `step` where applied (None when refused, as in the channel's rows), `answered_step` the
    step boundary the training answered at (applied or refused), `answered` the wall time."""
    columns = {c: _decoded(c, values) for c, values in run.steering_table().items()}
    count = len(columns["seq"])
    events = []
    for i in range(count):
        applied = columns["status"][i] == "applied"
        events.append({"seq": int(columns["seq"][i]), "command": columns["kind"][i] or None,
                       "value": _value(columns["value"][i]), "status": columns["status"][i],
                       "step": int(columns["step"][i]) if applied else None,
                       "reason": columns["reason"][i] or None,
                       "answered_step": int(columns["step"][i]),
                       "answered": float(columns["answered"][i]), "source": "store"})
    return events


def steering_events(run):
    """Every steering event of the run (RunReader `run`): the store's (store_events), then the
    channel's commands not answered yet ("status": "pending"); for a store without events,
    every row of the channel (no `answered_step` or `answered`: None). Each has "source":
    "store" or "channel". [] for a run that was never steered."""
    events = store_events(run)
    channel = SteeringChannel(os.path.dirname(os.path.abspath(run.path)))
    if not os.path.isdir(channel.path):
        return events
    recorded = {event["seq"] for event in events}
    for row in channel.rows():
        # (recorded, not events: that grows in this loop, and would drop every answered row
        # after the first of a store without events)
        if row["seq"] in recorded or (recorded and row["status"] != PENDING):
            continue  # the answers the store lacks were undone by a resume from before them
        events.append(dict(row, answered_step=None, answered=None, source="channel"))
    return events
