"""The `tensorviz` command: train, info, render, paraview."""

import argparse
import json
import os
import sys

from tensorviz_pv import store_format as F
from tensorviz_pv.render import FIGURES
from tensorviz_pv.store import StoreError, resolve_store_path


def _parser():
    parser = argparse.ArgumentParser(prog="tensorviz", description=(
        "Record the training of a convolutional network and watch it in ParaView."))
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train the poster's network and record the run")
    train.add_argument("run_dir", metavar="RUN_DIR")
    train.add_argument("--dataset", default="mnist-5k",
                       help="mnist-5k (default, offline), mnist, fashion-mnist, or a PATH to "
                            "IDX files / an .npz")
    train.add_argument("--epochs", type=int, default=3)
    train.add_argument("--max-samples", type=int, default=None,
                       help="use at most this many training images")
    train.add_argument("--batch-size", type=int, default=50)
    train.add_argument("--lr", type=float, default=0.05, help="learning rate")
    train.add_argument("--lr-schedule", choices=["constant", "exponential", "cosine"],
                       default="constant", help="exponential: x0.9 per epoch; cosine: to 0")
    train.add_argument("--optimizer", choices=["sgd", "momentum", "adam"], default="sgd")
    train.add_argument("--momentum", type=float, default=0.9, help="for --optimizer momentum")
    train.add_argument("--conv-filters", default="16,32",
                       help="filters per conv layer, comma-separated (also sets how many)")
    train.add_argument("--fc-units", type=int, default=1024)
    train.add_argument("--dropout", type=float, default=0.0)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--conv-every", type=int, default=None,
                       help="conv weights/gradients every N steps (default 10)")
    train.add_argument("--dense-every", type=int, default=None,
                       help="dense weights every N steps (default 0: epoch ends only)")
    train.add_argument("--activations-every", type=int, default=None,
                       help="probe activations every N steps (default 100)")
    train.add_argument("--reduce", action="store_true",
                       help="merge correlated filters during training (the poster's Fig. 5)")
    train.add_argument("--reduce-threshold", type=float, default=0.85,
                       help="merge filters whose probe activations correlate at r >= this")
    train.add_argument("--reduce-layers", default="conv1",
                       help="conv layers to reduce, comma-separated (default conv1)")
    train.add_argument("--reduce-every", type=int, default=1, help="reduce every N epochs")
    train.add_argument("--min-filters", type=int, default=4,
                       help="never reduce a layer below this many filters")
    train.add_argument("--no-record", action="store_true",
                       help="plain model.fit with nothing recorded (a baseline to compare with)")
    train.add_argument("--continue-on-nan", action="store_true",
                       help="keep training when the loss or weights become NaN/Inf")
    train.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    train.add_argument("--overwrite", action="store_true", help="replace an existing run")

    sweep = sub.add_parser("sweep", help="train one run per learning rate (or conv1 width) and "
                                         "render their norms and accuracy side by side")
    sweep.add_argument("out_dir", metavar="OUT_DIR")
    sweep.add_argument("--lr", default="0.01,0.05,2.0",
                       help="learning rates, comma-separated (default 0.01,0.05,2.0: 2.0 is "
                            "too high and the weights stall)")
    sweep.add_argument("--widths", default=None,
                       help="conv1 filter counts to compare instead, comma-separated (e.g. 4,16,32)")
    for option, kind, default in (("--dataset", str, "mnist-5k"), ("--epochs", int, 2),
                                  ("--max-samples", int, None), ("--batch-size", int, 50),
                                  ("--seed", int, 0)):
        sweep.add_argument(option, type=kind, default=default)
    sweep.add_argument("--size", default="800x600", help="chart size WIDTHxHEIGHT")

    info = sub.add_parser("info", help="summarise a run")
    info.add_argument("run_dir", metavar="RUN_DIR")
    info.add_argument("--json", action="store_true", help="one JSON object (docs/INFO.md)")

    render = sub.add_parser("render", help="render the poster's figures to PNGs with pvbatch")
    render.add_argument("run_dir", metavar="RUN_DIR")
    render.add_argument("--out", required=True, help="directory for the PNGs")
    render.add_argument("--figures", default=",".join(FIGURES),
                        help="which figures, comma-separated (default: all: %(default)s)")
    render.add_argument("--layer", default=None, help="layer of Fig. 2 (default: the first)")
    render.add_argument("--steps", default=None, help="the steps of Fig. 2, e.g. 0,4000,8000")
    render.add_argument("--size", default="800x700", help="panel size WIDTHxHEIGHT in pixels")
    render.add_argument("--script", default=None, metavar="FILE",
                        help="also write the pvbatch script that makes the figures, to edit and "
                             "run again (pvbatch FILE)")

    paraview = sub.add_parser("paraview", help="open the ParaView GUI with the plugin loaded "
                                                "(and, given a run, the TensorViz dashboard)")
    paraview.add_argument("run_dir", metavar="RUN_DIR", nargs="?")
    paraview.add_argument("--follow", action="store_true",
                          help="while a trainer writes the run, show each new step by itself")
    paraview.add_argument("--plain", action="store_true",
                          help="just open the run, without the dashboard layout")
    return parser


def _store_of(run_dir):
    path = resolve_store_path(run_dir)
    if not os.path.exists(path):
        raise StoreError(f"{run_dir}: no TensorViz run there ({path} is missing)")
    return path


def cmd_train(args):
    from .train import train
    return train(args)


def cmd_sweep(args):
    """Train the sweep's runs (an existing run of the sweep is kept), then render sweep.png."""
    from .paraview_launch import ROOT, run
    from .train import TrainError, train
    if args.widths:
        values, name = args.widths.split(","), "conv1"
    else:
        values, name = args.lr.split(","), "lr"
    defaults = vars(_parser().parse_args(["train", "x"]))
    pairs = []
    for value in (v.strip() for v in values if v.strip()):
        run_dir = os.path.join(args.out_dir, f"{name}-{value}")
        options = dict(defaults, run_dir=run_dir, dataset=args.dataset, epochs=args.epochs,
                       max_samples=args.max_samples, batch_size=args.batch_size, seed=args.seed)
        try:
            if name == "lr":
                options["lr"] = float(value)
            else:
                options["conv_filters"] = f"{int(value)},32"
        except ValueError:
            raise TrainError(f"sweep value {value!r} is not a number") from None
        if not os.path.exists(os.path.join(run_dir, F.STORE_FILENAME)):
            print(f"tensorviz sweep: {name} = {value} -> {run_dir}", flush=True)
            train(argparse.Namespace(**options))
        pairs.append(f"{os.path.abspath(os.path.join(run_dir, F.STORE_FILENAME))}={name} {value}")
    script = os.path.join(ROOT, "tensorviz_pv", "render.py")
    return run("pvbatch", [script, "--compare", os.path.abspath(args.out_dir), args.size] + pairs).returncode


def cmd_info(args):
    from tensorviz_pv.info import format_summary, run_summary
    summary = run_summary(_store_of(args.run_dir))
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0


def cmd_render(args):
    from .paraview_launch import ROOT, run
    store = _store_of(args.run_dir)
    os.makedirs(args.out, exist_ok=True)
    script = os.path.join(ROOT, "tensorviz_pv", "render.py")
    options = [os.path.abspath(store), os.path.abspath(args.out), "--size", args.size,
               "--figures", args.figures]
    for option, value in (("--layer", args.layer), ("--steps", args.steps)):
        if value:
            options += [option, value]
    if args.script:
        from tensorviz_pv.render import standalone_script
        with open(args.script, "w") as f:
            f.write(standalone_script(options, ROOT))
        print(f"tensorviz render: wrote {args.script}; run it again with: pvbatch {args.script}")
        return run("pvbatch", [os.path.abspath(args.script)]).returncode
    return run("pvbatch", [script] + options).returncode


def cmd_paraview(args):
    from .paraview_launch import ROOT, command, paraview_env
    argv, env = [], paraview_env()
    if args.run_dir:
        store = os.path.abspath(_store_of(args.run_dir))
        if args.plain:
            argv.append("--data=" + store)
        else:
            argv.append("--script=" + os.path.join(ROOT, "tensorviz_pv", "gui_dashboard.py"))
            env["TENSORVIZ_RUN"] = store
            if args.follow:
                env["TENSORVIZ_FOLLOW"] = "1"
    argv = command("paraview", argv, virtual_display=False)
    os.execve(argv[0], argv, env)


def main(argv=None):
    args = _parser().parse_args(argv)
    from .datasets import DatasetError
    from .paraview_launch import ParaViewNotFound
    from .train import TrainError
    try:
        return {"train": cmd_train, "info": cmd_info, "render": cmd_render,
                "paraview": cmd_paraview, "sweep": cmd_sweep}[args.command](args)
    except (StoreError, DatasetError, TrainError, ParaViewNotFound) as error:
        print(f"tensorviz {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
