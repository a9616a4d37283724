"""`tensorviz check RUN_DIR`: read every byte of a run, as a file system's scrub reads a disk
(every chunk of the store against its checksum, every checkpoint against its CRCs, every dataset
the run info says was recorded looked for), name each damaged one, and record the result
beside the store (run.tvz.checked: `tensorviz info` reports it). Exit 0 intact, 1 damage found."""

import json
import sys
import time

from tensorviz_pv.store.check_record import record_check
from tensorviz_pv.store.scrub import describe, scrub_run

from .common import existing_store


def add_parser(sub):
    check = sub.add_parser("check", help="read every byte of a run and report damage "
                                          "(exit 1 when there is some)")
    check.add_argument("run_dir", metavar="RUN_DIR")
    check.add_argument("--json", action="store_true",
                       help="the result as one JSON object (as recorded beside the store)")
    return check


class ProgressBar:
    """The bytes read, as a bar redrawn in place on a terminal (nothing in a log)."""

    WIDTH = 30

    def __init__(self, stream=None, interval=0.1):
        self.stream = stream or sys.stderr
        self.shown = self.stream.isatty()
        self.interval, self.last = interval, float("-inf")

    def __call__(self, done, total):
        now = time.monotonic()
        if not self.shown or (now - self.last < self.interval and done < total):
            return
        self.last = now
        filled = self.WIDTH * done // total if total else self.WIDTH
        self.stream.write(f"\r\033[Kchecking [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
                          f"{done / 1e6:,.0f} of {total / 1e6:,.0f} MB")
        self.stream.flush()

    def close(self):
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _result_lines(run_dir, result):
    if result["intact"]:
        return [f"{run_dir}: intact ({result['bytes'] / 1e6:,.1f} MB read: the store and "
                f"{result['checkpoints']} checkpoints)"]
    damaged = result["damaged"]
    return [f"{run_dir}: {len(damaged)} damaged:"] + ["  " + describe(damage) for damage in damaged]


def run(args):
    """Check the run, print what is damaged, record the result beside the store."""
    store = existing_store(args.run_dir)
    bar = ProgressBar()
    try:
        result = scrub_run(store, bar)
    finally:
        bar.close()
    print(json.dumps(result, indent=2) if args.json else "\n".join(_result_lines(args.run_dir, result)))
    unrecorded = record_check(result)
    if unrecorded:
        print(f"tensorviz check: the result is not recorded beside the store ({unrecorded})",
              file=sys.stderr)
    return 0 if result["intact"] else 1
