"""`tensorviz steer RUN_DIR`: steer a live training through its run directory's command channel
(tensorviz_pv/store/steering.py); with no option, its state and the commands sent so far.
`--fork` is carried out here: the training answers with the checkpoint to continue from (a
finished run's newest checkpoint is used as it is), and this command starts the new run
(trainer/forks.py)."""

import json
import os
import sys

from tensorviz_pv.errors import SettingError
from tensorviz_pv.store.lock import live_writer
from tensorviz_pv.store.run_dir import RunDir
from tensorviz_pv.store.steering import APPLIED, SteeringChannel, checked_command
from trainer.config import OPTIMIZERS
from trainer.forks import start_fork

WAIT_SECONDS = 30  # for the training's answer (a step takes well under that)
MERGE_WAIT_SECONDS = 600  # a merge is answered at the end of the epoch it arrived in


def add_parser(sub):
    steer = sub.add_parser("steer", help="steer a live training (learning rate, pause, "
                                         "checkpoint, stop, merge, fork)")
    steer.add_argument("run_dir", metavar="RUN_DIR")
    what = steer.add_mutually_exclusive_group()
    what.add_argument("--pause", action="store_true", help="hold at the next step boundary")
    what.add_argument("--resume", action="store_true", help="go on after a pause")
    what.add_argument("--checkpoint", action="store_true",
                      help="save a checkpoint at the next step boundary (a fork can continue "
                           "from it)")
    what.add_argument("--stop", action="store_true",
                      help="save a checkpoint and end the training after this step (exit 0)")
    what.add_argument("--merge", metavar="LAYER:KEEP,REMOVE",
                      help="merge filter REMOVE into filter KEEP of LAYER (original filter ids; "
                           "LAYER:REMOVE: into its best-correlated filter), keeping the "
                           "network's function; applied at the end of the epoch")
    what.add_argument("--fork", nargs=2, metavar=("STEP", "NEW_RUN"),
                      help="a new run continued from the newest checkpoint at or before STEP "
                           "(--lr: its learning rate), trained in the background")
    steer.add_argument("--lr", type=float, metavar="X",
                       help="the learning rate from the next step (with --fork: the fork's)")
    steer.add_argument("--epochs", type=int, metavar="N",
                       help="with --fork: the fork's last epoch (default: the parent's)")
    steer.add_argument("--optimizer", choices=OPTIMIZERS,
                       help="with --fork: the fork's optimizer (default: the parent's, its state "
                            "kept; another starts afresh at --lr or its default rate)")
    steer.add_argument("--json", action="store_true", help="the history as one JSON object")
    steer.add_argument("--wait", type=float, default=None,
                       help=f"seconds to wait for the training's answer (default {WAIT_SECONDS}; "
                            f"{MERGE_WAIT_SECONDS} for a merge)")
    return steer


def parse_merge(text):
    """'conv1:3,7' -> {"layer": "conv1", "keep": 3, "remove": 7}; 'conv1:7' -> keep None (the
    training picks filter 7's best-correlated partner); SettingError otherwise."""
    layer, _, filters = text.rpartition(":")
    keep, _, remove = filters.rpartition(",")
    try:
        if not layer or (filters.count(",") == 1 and not keep):
            raise ValueError(text)
        value = {"layer": layer, "keep": int(keep) if keep else None, "remove": int(remove)}
    except ValueError:
        raise SettingError(f"--merge {text!r}: give LAYER:KEEP,REMOVE, e.g. conv1:3,7 (or "
                           "LAYER:REMOVE: into its best-correlated filter)") from None
    return checked_command("merge", value)[1]


def _command(args):
    """(kind, value) of the options, checked (SettingError: exit 2); None: show the history."""
    if args.fork is not None:
        step, new_run = args.fork
        try:
            step = int(step)
        except ValueError:
            raise SettingError(f"--fork {step!r}: give a step number") from None
        if os.path.exists(new_run) and (not os.path.isdir(new_run) or os.listdir(new_run)):
            raise SettingError(f"--fork: {new_run} exists and is not an empty folder; name a new "
                               "run directory")
        return checked_command("fork", {"step": step, "run_dir": os.path.abspath(new_run),
                                        "lr": args.lr, "optimizer": args.optimizer})
    if args.epochs is not None or args.optimizer is not None:
        raise SettingError("--epochs and --optimizer go with --fork")
    if args.merge is not None:
        return "merge", parse_merge(args.merge)
    chosen = [kind for kind in ("pause", "resume", "checkpoint", "stop") if getattr(args, kind)]
    if args.lr is not None:
        if chosen:
            raise SettingError(f"--lr and --{chosen[0]}: one command at a time")
        return checked_command("learning_rate", args.lr)
    return (chosen[0], None) if chosen else None


def run(args):
    """Send one command and wait for its answer (exit 0 applied, 1 refused or no live
    training), or print the history."""
    command = _command(args)  # a bad value: exit 2 before anything is sent
    live = live_writer(RunDir(args.run_dir).store) is not None
    if command is not None and command[0] == "fork" and not live:
        return _start_fork(args, command[1], None)  # a finished run forks from its checkpoint
    channel = SteeringChannel(args.run_dir).open()
    if command is None:
        return _show(channel, args, live)
    if not live:
        print(f"tensorviz steer: {args.run_dir}: no training is running there", file=sys.stderr)
        return 1
    wait = args.wait if args.wait is not None else \
        MERGE_WAIT_SECONDS if command[0] == "merge" else WAIT_SECONDS
    seq = channel.send(*command)
    answer = channel.wait(seq, wait)
    if answer is None:
        later = " (a merge applies at the end of the epoch)" if command[0] == "merge" else ""
        print(f"tensorviz steer: {args.run_dir}: no answer within {wait:g} s{later}; command "
              f"{seq} stays queued", file=sys.stderr)
        return 1
    said = f" ({answer['reason']})" if answer.get("reason") else ""
    if answer["status"] != APPLIED:
        print(f"tensorviz steer: {command[0]} refused{said}", file=sys.stderr)
        return 1
    print(f"tensorviz steer: {command[0]} applied at step {answer['step']}{said}")
    if command[0] == "fork":
        return _start_fork(args, command[1], answer["checkpoint"]["step"])
    return 0


def _start_fork(args, value, step):
    """Start the forked training from the checkpoint of `step` (None: the newest at or before
    the step asked); its output goes to NEW_RUN/train.log."""
    where = f"the checkpoint of step {step}" if step is not None else \
        f"the newest checkpoint at or before step {value['step']}"
    pid, log_path = start_fork(args.run_dir, value, value["step"] if step is None else step,
                               args.epochs, args.optimizer)
    print(f"tensorviz steer: fork {value['run_dir']} trains from {where} (pid {pid}; its "
          f"output: {log_path})")
    return 0


def _show(channel, args, live):
    rows = channel.rows()
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
