"""`tensorviz paraview [RUN_DIR]`: the ParaView GUI with the plugin loaded and, given a run, the
TensorViz dashboard of it (or the run alone: --plain; a state file: --state)."""

import os
import sys

from tensorviz_pv.errors import SettingError

from .common import checked_store, paraview_paths
from .launch import ROOT, command, paraview_env, welcome_dialog_shows


def add_parser(sub):
    paraview = sub.add_parser("paraview", help="open the ParaView GUI with the plugin loaded "
                                                "(and, given a run, the TensorViz dashboard)")
    paraview.add_argument("run_dir", metavar="RUN_DIR", nargs="?")
    paraview.add_argument("--follow", action="store_true",
                          help="while a trainer writes the run, show each new step by itself")
    paraview.add_argument("--plain", action="store_true",
                          help="just open the run, without the dashboard layout")
    paraview.add_argument("--state", default=None, metavar="FILE",
                          help="open a state file (a comparison's compare.pvsm, a dashboard.pvsm)")
    paraview.add_argument("--layer", default=None, metavar="NAME",
                          help="the layer the dashboard shows (default: the first convolution; "
                               "`tensorviz info RUN --layers` lists them)")
    return paraview


def run(args):
    """Replace this process with ParaView's GUI (the run's store checked first)."""
    if args.layer and (args.state or args.plain or not args.run_dir):
        raise SettingError("--layer: the layer of the dashboard of RUN_DIR (not with --state or "
                           "--plain)")
    paraview_paths(RUN_DIR=args.run_dir or [], __state=args.state or [])
    store = os.path.abspath(checked_store(args.run_dir, args.layer)) \
        if args.run_dir and not args.state else None
    argv, env = [], paraview_env()
    if welcome_dialog_shows():  # a first start: its modal dialog would cover the dashboard
        print("tensorviz paraview: ParaView would open with its welcome dialog; starting it with "
              "settings of its own (--dr): yours are not read, nor changed", file=sys.stderr)
        argv.append("--dr")
    if args.state:
        if not os.path.isfile(args.state):
            raise SettingError(f"--state {args.state}: no such file")
        argv.append("--state=" + os.path.abspath(args.state))
    elif store:
        if args.plain:
            argv.append("--data=" + store)
        else:
            argv.append("--script=" + os.path.join(ROOT, "tensorviz_pv", "figures",
                                                   "gui_dashboard.py"))
            env["TENSORVIZ_RUN"] = store
            if args.layer:
                env["TENSORVIZ_LAYER"] = args.layer
            if args.follow:
                env["TENSORVIZ_FOLLOW"] = "1"
    argv = command("paraview", argv)
    os.execve(argv[0], argv, env)
