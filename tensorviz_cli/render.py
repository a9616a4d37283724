"""`tensorviz render RUN_DIR --out DIR`: the poster's figures as PNGs, drawn by a pvbatch script
(scripts.py writes it; --script FILE keeps it to edit)."""

import os

from tensorviz_pv.errors import SettingError

from .common import checked_store, ensure_writable_folder, paraview_paths, run_script
from .launch import ROOT
from .scripts import FIGURES, chosen_figures, figures_script, parse_size, parse_steps


def add_parser(sub):
    render = sub.add_parser("render", help="render the poster's figures to PNGs with pvbatch")
    render.add_argument("run_dir", metavar="RUN_DIR")
    render.add_argument("--out", required=True, help="directory for the PNGs")
    render.add_argument("--figures", default=",".join(FIGURES),
                        help="which figures, comma-separated (default: all: %(default)s)")
    render.add_argument("--layer", default=None, help="layer of Fig. 2, 5 and 6 (default: the first)")
    render.add_argument("--steps", default=None, help="the steps of Fig. 2, e.g. 0,4000,8000")
    render.add_argument("--size", default="800x700", help="panel size WIDTHxHEIGHT in pixels")
    render.add_argument("--script", default=None, metavar="FILE",
                        help="also keep the pvbatch script that makes the figures, to edit and "
                             "run again (pvbatch FILE)")
    render.add_argument("--mpi", type=int, default=1, metavar="N",
                        help="render with N pvbatch processes under mpiexec (ParaView's MPI: "
                             "each draws its share of the glyphs)")
    return render


def run(args):
    """Write the pvbatch script of the figures asked for and run it (on --mpi processes)."""
    figures, size, steps = chosen_figures(args.figures), parse_size(args.size), parse_steps(args.steps)
    if args.mpi < 1:
        raise SettingError(f"--mpi {args.mpi}: give a number of processes, 1 or more")
    paraview_paths(RUN_DIR=args.run_dir, __out=args.out, __script=args.script or [])
    store = os.path.abspath(checked_store(args.run_dir))
    ensure_writable_folder(args.out, "--out")
    return run_script(figures_script(ROOT, store, os.path.abspath(args.out), figures, size,
                                     args.layer, steps), keep_as=args.script, ranks=args.mpi)
