"""The `tensorviz` command: train, steer, sweep, info, reduce, check, render, compare, paraview, serve (a module each, with
its options and what it does). Here: the parser's top, the dispatch, and how a command ends: a
TensorVizError said in one line (exit 2), Ctrl-C (130) and SIGTERM (143) stop it as cleanly."""

import argparse
import signal
import sys

from tensorviz_pv.errors import TensorVizError
from tensorviz_pv.messages import show_messages

from . import check, compare, info, paraview, reduce, render, serve, steer, sweep, train

COMMANDS = (train, steer, sweep, info, reduce, check, render, compare, paraview, serve)  # in the order --help lists them


def build_parser():
    """The parser of every command; each one's namespace holds its `run_command`."""
    parser = argparse.ArgumentParser(prog="tensorviz", description=(
        "Record the training of a convolutional network and watch it in ParaView."))
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub).set_defaults(run_command=command.run)
    return parser


class Terminated(BaseException):
    """SIGTERM (a scheduler's time limit, `kill`): stop as Ctrl-C does, the store flushed."""


def _terminate(signum, frame):
    raise Terminated()


def main(argv=None):
    args = build_parser().parse_args(argv)
    show_messages()  # what the library logs, printed (tensorviz_pv/messages.py)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.run_command(args)
    except TensorVizError as error:
        print(f"tensorviz {args.command}: error: {error}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated) as stop:
        how = "interrupted" if isinstance(stop, KeyboardInterrupt) else "terminated"
        hint = "; the store keeps every step flushed: continue with --resume" \
            if args.command == "train" else ""
        print(f"\ntensorviz {args.command}: {how}{hint}", file=sys.stderr)
        return 130 if isinstance(stop, KeyboardInterrupt) else 143


if __name__ == "__main__":
    sys.exit(main())
