"""`tensorviz steer RUN_DIR`: steer a live training through its run directory's command channel
(tensorviz_pv/store/steering.py); with no option, its state and the commands sent so far."""

import json
import sys

from tensorviz_pv.store.lock import live_writer
from tensorviz_pv.store.run_dir import RunDir
from tensorviz_pv.store.steering import APPLIED, SteeringChannel, checked_command

WAIT_SECONDS = 30  # for the training's answer (a step takes well under that)


def add_parser(sub):
    steer = sub.add_parser("steer", help="steer a live training (learning rate, pause, stop)")
    steer.add_argument("run_dir", metavar="RUN_DIR")
    what = steer.add_mutually_exclusive_group()
    what.add_argument("--lr", type=float, metavar="X", help="the learning rate from the next step")
    what.add_argument("--pause", action="store_true", help="hold at the next step boundary")
    what.add_argument("--resume", action="store_true", help="go on after a pause")
    what.add_argument("--stop", action="store_true", help="end the training after this step")
    steer.add_argument("--json", action="store_true", help="the history as one JSON object")
    steer.add_argument("--wait", type=float, default=WAIT_SECONDS,
                       help=f"seconds to wait for the training's answer (default {WAIT_SECONDS})")
    return steer


def _command(args):
    if args.lr is not None:
        return "learning_rate", args.lr
    for kind in ("pause", "resume", "stop"):
        if getattr(args, kind):
            return kind, None
    return None


def run(args):
    """Send one command and wait for its answer (exit 0 applied, 1 refused or no live
    training), or print the history."""
    channel = SteeringChannel(args.run_dir).open()
    command = _command(args)
    if command is None:
        return _show(channel, args)
    command = checked_command(*command)  # a bad value: exit 2 before anything is sent
    if live_writer(RunDir(args.run_dir).store) is None:
        print(f"tensorviz steer: {args.run_dir}: no training is running there", file=sys.stderr)
        return 1
    seq = channel.send(*command)
    answer = channel.wait(seq, args.wait)
    if answer is None:
        print(f"tensorviz steer: {args.run_dir}: no answer within {args.wait:g} s (command "
              f"{seq} stays queued)", file=sys.stderr)
        return 1
    said = f" ({answer['reason']})" if answer.get("reason") else ""
    if answer["status"] == APPLIED:
        print(f"tensorviz steer: {command[0]} applied at step {answer['step']}{said}")
        return 0
    print(f"tensorviz steer: {command[0]} refused{said}", file=sys.stderr)
    return 1


def _show(channel, args):
    rows = channel.rows()
    live = live_writer(RunDir(args.run_dir).store) is not None
    if args.json:
        print(json.dumps({"live": live, "steering": rows}, indent=2))
        return 0
    print(f"{args.run_dir}: {'a training is running' if live else 'no training running'}; "
          f"{len(rows)} command(s)")
    for row in rows:
        value = "" if row["value"] is None else f" {row['value']}"
        where = f" at step {row['step']}" if row.get("step") is not None else ""
        why = f": {row['reason']}" if row.get("reason") else ""
        print(f"  {row['seq']:>4}  {row['command']}{value}  {row['status']}{where}{why}")
    return 0
