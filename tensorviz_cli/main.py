"""The `tensorviz` command: train, sweep, compare, info, render, paraview."""

import argparse
import difflib
import json
import os
import shlex
import signal
import sys
import tempfile

from tensorviz_pv.errors import SettingError, StoreError, TensorVizError
from tensorviz_pv.store.reader import RunReader, resolve_store_path
from trainer.config import LR_SCHEDULES, OPTIMIZERS, TrainConfig, parse_budget

from .scripts import (FIGURES, chosen_figures, comparison_script, figures_script, parse_size,
                      parse_steps)

DEFAULTS = TrainConfig(run_dir="")


def _positive_ints(text):
    try:
        values = tuple(int(part) for part in str(text).split(",") if part.strip())
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give positive integers, e.g. 16,32")
    return values


def _budget(text):
    try:
        return parse_budget(text)
    except TensorVizError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _names(text):
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _add_train_options(train):
    d = DEFAULTS
    train.add_argument("--dataset", default=d.dataset,
                       help="mnist-5k (default, offline), mnist, fashion-mnist, or a PATH to "
                            "IDX files / an .npz")
    train.add_argument("--epochs", type=int, default=d.epochs)
    train.add_argument("--max-samples", type=int, default=d.max_samples,
                       help="use at most this many training images")
    train.add_argument("--batch-size", type=int, default=d.batch_size)
    train.add_argument("--lr", type=float, default=d.lr, help="learning rate")
    train.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=d.lr_schedule,
                       help="exponential: x0.9 per epoch; cosine: to 0")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer)
    train.add_argument("--momentum", type=float, default=d.momentum, help="for --optimizer momentum")
    train.add_argument("--conv-filters", type=_positive_ints, default=d.conv_filters,
                       help="filters per conv layer, comma-separated (also sets how many)")
    train.add_argument("--fc-units", type=int, default=d.fc_units)
    train.add_argument("--dropout", type=float, default=d.dropout)
    train.add_argument("--seed", type=int, default=d.seed)
    train.add_argument("--conv-every", type=int, default=d.conv_every,
                       help="conv weights/gradients every N steps (default: from the budget, 10 "
                            "if it allows)")
    train.add_argument("--dense-every", type=int, default=d.dense_every,
                       help="dense weights every N steps (default: from the budget; 0: epoch "
                            "ends only)")
    train.add_argument("--activations-every", type=int, default=d.activations_every,
                       help="probe activations every N steps (default: from the budget, 100 if "
                            "it allows)")
    train.add_argument("--budget", type=_budget, default=d.budget,
                       help="disk budget in bytes per step, averaged over the run: the snapshot "
                            "cadences not given are chosen to keep it (default 100k; none: no "
                            "limit)")
    train.add_argument("--reduce", action="store_true",
                       help="merge correlated filters during training (the poster's Fig. 5)")
    train.add_argument("--reduce-threshold", type=float, default=d.reduce_threshold,
                       help="merge filters whose probe activations correlate at r >= this")
    train.add_argument("--reduce-layers", type=_names, default=d.reduce_layers,
                       help="conv layers to reduce, comma-separated (default conv1)")
    train.add_argument("--reduce-every", type=int, default=d.reduce_every,
                       help="reduce every N epochs")
    train.add_argument("--min-filters", type=int, default=d.min_filters,
                       help="never reduce a layer below this many filters")
    train.add_argument("--no-record", action="store_true",
                       help="plain model.fit with nothing recorded (a baseline to compare with)")
    train.add_argument("--continue-on-nan", action="store_true",
                       help="keep training when the loss or weights become NaN/Inf")
    train.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    train.add_argument("--overwrite", action="store_true", help="replace an existing run")


def _parser():
    parser = argparse.ArgumentParser(prog="tensorviz", description=(
        "Record the training of a convolutional network and watch it in ParaView."))
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train the poster's network and record the run")
    train.add_argument("run_dir", metavar="RUN_DIR")
    _add_train_options(train)

    sweep = sub.add_parser("sweep", help="train one run per learning rate (or conv1 width) and "
                                         "render their norms and accuracy side by side")
    sweep.add_argument("out_dir", metavar="OUT_DIR")
    sweep.add_argument("--lr", default="0.01,0.05,2.0",
                       help="learning rates, comma-separated (default 0.01,0.05,2.0: 2.0 is "
                            "too high and the weights stall)")
    sweep.add_argument("--widths", default=None,
                       help="conv1 filter counts to compare instead, comma-separated (e.g. 4,16,32)")
    sweep.add_argument("--dataset", default=DEFAULTS.dataset)
    sweep.add_argument("--epochs", type=int, default=2)
    sweep.add_argument("--max-samples", type=int, default=DEFAULTS.max_samples)
    sweep.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
    sweep.add_argument("--seed", type=int, default=DEFAULTS.seed)
    sweep.add_argument("--size", default="800x600", help="chart size WIDTHxHEIGHT")

    info = sub.add_parser("info", help="summarise a run")
    info.add_argument("run_dir", metavar="RUN_DIR")
    info.add_argument("--json", action="store_true", help="one JSON object (docs/INFO.md)")
    info.add_argument("--layers", action="store_true",
                      help="list every layer (a model of more than 30 is listed by blocks)")

    render = sub.add_parser("render", help="render the poster's figures to PNGs with pvbatch")
    render.add_argument("run_dir", metavar="RUN_DIR")
    render.add_argument("--out", required=True, help="directory for the PNGs")
    render.add_argument("--figures", default=",".join(FIGURES),
                        help="which figures, comma-separated (default: all: %(default)s)")
    render.add_argument("--layer", default=None, help="layer of Fig. 2 (default: the first)")
    render.add_argument("--steps", default=None, help="the steps of Fig. 2, e.g. 0,4000,8000")
    render.add_argument("--size", default="800x700", help="panel size WIDTHxHEIGHT in pixels")
    render.add_argument("--script", default=None, metavar="FILE",
                        help="also keep the pvbatch script that makes the figures, to edit and "
                             "run again (pvbatch FILE)")
    render.add_argument("--mpi", type=int, default=1, metavar="N",
                        help="render with N pvbatch processes under mpiexec (ParaView's MPI: "
                             "each draws its share of the glyphs)")

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
    return parser


def train_config(args):
    """The TrainConfig of `tensorviz train`'s options."""
    options = {name: value for name, value in vars(args).items()
               if name in TrainConfig.__dataclass_fields__}
    return TrainConfig(record=not args.no_record, **options)


def _store_of(run_dir, layer=None):
    """The run's store, checked to open (a damaged one is said here, before ParaView starts),
    and to hold `layer` when one is named."""
    path = resolve_store_path(run_dir)
    if not os.path.exists(path):
        raise StoreError(f"{run_dir}: no TensorViz run there ({path} is missing)")
    with RunReader(path) as run:
        for note in run.notes:
            print(f"tensorviz: {note}", file=sys.stderr)
        if layer is not None and layer not in run.layers:
            close = difflib.get_close_matches(layer, run.layers, n=3, cutoff=0.6)
            raise SettingError(f"--layer {layer}: no such layer in {run_dir}"
                               + (f"; did you mean {' or '.join(close)}?" if close else "")
                               + f" (`tensorviz info {run_dir} --layers` lists its "
                               f"{len(run.layers)})")
    return path


def _writable(folder, what):
    from trainer.folders import unwritable_reason
    reason = unwritable_reason(folder)
    if reason:
        raise SettingError(f"{what} {folder}: not writable ({reason})")
    os.makedirs(folder, exist_ok=True)


def _run_script(text, keep_as=None, ranks=1):
    """Run a figures script under pvbatch, on `ranks` MPI processes (kept at `keep_as`, else
    in a temporary file)."""
    from .launch import run
    if keep_as:
        _writable(os.path.dirname(os.path.abspath(keep_as)), "--script")
        with open(keep_as, "w") as f:
            f.write(text)
        again = f"mpiexec -n {ranks} pvbatch" if ranks > 1 else "pvbatch"
        print(f"tensorviz: wrote {keep_as}; run it again with: {again} {shlex.quote(keep_as)}")
        return run("pvbatch", [os.path.abspath(keep_as)], ranks=ranks).returncode
    with tempfile.NamedTemporaryFile("w", suffix=".py", prefix="tensorviz-") as f:
        f.write(text)
        f.flush()
        return run("pvbatch", [f.name], ranks=ranks).returncode


def cmd_train(args):
    from trainer.train import train
    return train(train_config(args))


def cmd_sweep(args):
    """Train the sweep's runs (an existing run of the sweep is kept), then compare them
    (sweep.png: their norms and accuracy; tensorviz compare's other figures and state file)."""
    from .launch import ROOT
    from trainer.sweep import run_sweep, sweep_configs
    size = parse_size(args.size)
    base = TrainConfig(run_dir="", dataset=args.dataset, epochs=args.epochs,
                       max_samples=args.max_samples, batch_size=args.batch_size, seed=args.seed)
    configs = sweep_configs(base, args.out_dir, learning_rates=_names(args.lr),
                            widths=_names(args.widths) if args.widths else None)
    _writable(args.out_dir, "OUT_DIR")
    runs = run_sweep(configs)
    return _run_script(comparison_script(ROOT, [store for _, store in runs],
                                         os.path.abspath(args.out_dir), size,
                                         norms_name="sweep.png"))


def cmd_compare(args):
    """The comparison figure set of two runs or more, and its state file."""
    from tensorviz_pv.store.runs import find_runs
    from .launch import ROOT
    size = parse_size(args.size)
    runs = find_runs(args.runs)
    if len(runs) < 2:
        raise SettingError(f"{', '.join(args.runs)}: comparing needs two runs or more "
                           f"(found {len(runs)}: {runs[0][1]})")
    stores = [os.path.abspath(_store_of(store)) for _, store in runs]
    _writable(args.out, "--out")
    return _run_script(comparison_script(ROOT, stores, os.path.abspath(args.out), size,
                                         args.layer, args.matching_layer, args.step),
                       keep_as=args.script)


def cmd_info(args):
    from tensorviz_pv.analysis.health import alerts
    from tensorviz_pv.store.reader import RunReader
    from tensorviz_pv.store.summary import format_summary, run_summary
    summary = run_summary(_store_of(args.run_dir))
    with RunReader(_store_of(args.run_dir)) as run:
        summary["alerts"] = alerts(**run.health_inputs())
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary, args.layers))
    return 0


def cmd_render(args):
    from .launch import ROOT
    figures, size, steps = chosen_figures(args.figures), parse_size(args.size), parse_steps(args.steps)
    if args.mpi < 1:
        raise SettingError(f"--mpi {args.mpi}: give a number of processes, 1 or more")
    store = os.path.abspath(_store_of(args.run_dir))
    _writable(args.out, "--out")
    return _run_script(figures_script(ROOT, store, os.path.abspath(args.out), figures, size,
                                      args.layer, steps), keep_as=args.script, ranks=args.mpi)


def cmd_paraview(args):
    from .launch import ROOT, command, paraview_env, welcome_dialog_shows
    if args.layer and (args.state or args.plain or not args.run_dir):
        raise SettingError("--layer: the layer of the dashboard of RUN_DIR (not with --state or "
                           "--plain)")
    store = os.path.abspath(_store_of(args.run_dir, args.layer)) \
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


class Terminated(BaseException):
    """SIGTERM (a scheduler's time limit, `kill`): stop as Ctrl-C does, the store flushed."""


def _terminate(signum, frame):
    raise Terminated()


def main(argv=None):
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return {"train": cmd_train, "info": cmd_info, "render": cmd_render,
                "paraview": cmd_paraview, "sweep": cmd_sweep,
                "compare": cmd_compare}[args.command](args)
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
