"""`tensorviz info RUN_DIR`: a run's summary, as text or one JSON object (docs/INFO.md)."""

import json

from tensorviz_pv.analysis.health import alerts
from tensorviz_pv.store.reader import RunReader
from tensorviz_pv.store.summary import format_summary, run_summary

from .common import checked_store


def add_parser(sub):
    info = sub.add_parser("info", help="summarise a run")
    info.add_argument("run_dir", metavar="RUN_DIR")
    info.add_argument("--json", action="store_true", help="one JSON object (docs/INFO.md)")
    info.add_argument("--layers", action="store_true",
                      help="list every layer (a model of more than 30 is listed by blocks)")
    return info


def run(args):
    """Print the run's summary, its health alerts included."""
    store = checked_store(args.run_dir)
    summary = run_summary(store)
    with RunReader(store) as reader:
        summary["alerts"] = alerts(**reader.health_inputs())  # Alert values
    print(json.dumps(summary, indent=2, default=lambda alert: alert.as_dict()) if args.json
          else format_summary(summary, args.layers))
    return 0
