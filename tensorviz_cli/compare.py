"""`tensorviz compare RUN RUN...`: norms side by side, layer similarity (CKA) and filters matched
between two runs, drawn by a pvbatch script, with a state file for the GUI."""

import os

from tensorviz_pv.errors import SettingError
from tensorviz_pv.store.runs import find_runs

from .common import checked_store, ensure_writable_folder, paraview_paths, run_script
from .launch import ROOT
from .scripts import comparison_script, parse_size


def add_parser(sub):
    compare = sub.add_parser("compare", help="compare runs: norms, layer similarity (CKA), "
                                             "filters matched between two runs")
    compare.add_argument("runs", metavar="RUN", nargs="+",
                         help="run directories, stores, or folders of runs (a sweep's)")
    compare.add_argument("--out", required=True, help="directory for the PNGs and compare.pvsm")
    compare.add_argument("--layer", default=None,
                         help="the layer of the norm chart (default: the first shared)")
    compare.add_argument("--matching-layer", default=None,
                         help="the layer whose filters are matched between the first two runs "
                              "(default: the last shared layer with probe activations)")
    compare.add_argument("--step", type=int, default=None,
                         help="the step of the matching (default: the last both recorded)")
    compare.add_argument("--size", default="800x600", help="panel size WIDTHxHEIGHT in pixels")
    compare.add_argument("--script", default=None, metavar="FILE",
                         help="also keep the pvbatch script, to edit and run again")
    return compare


def run(args):
    """The comparison figure set of two runs or more, and its state file."""
    size = parse_size(args.size)
    runs = find_runs(args.runs)
    if len(runs) < 2:
        raise SettingError(f"{', '.join(args.runs)}: comparing needs two runs or more "
                           f"(found {len(runs)}: {runs[0][1]})")
    paraview_paths(RUNS=[store for _, store in runs], __out=args.out,
                   __script=args.script or [])
    stores = [os.path.abspath(checked_store(store)) for _, store in runs]
    ensure_writable_folder(args.out, "--out")
    return run_script(comparison_script(ROOT, stores, os.path.abspath(args.out), size,
                                        args.layer, args.matching_layer, args.step),
                      keep_as=args.script)
