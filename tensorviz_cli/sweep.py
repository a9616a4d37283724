"""`tensorviz sweep OUT_DIR`: one run per learning rate (or conv1 width), trained in turn, then
compared as `tensorviz compare` does (sweep.png: their norms and accuracy side by side)."""

import os

from trainer.config import TrainConfig

from .common import ensure_writable_folder, paraview_paths, run_script
from .launch import ROOT
from .scripts import comparison_script, parse_size
from .train import DEFAULTS, comma_separated


def add_parser(sub):
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
    return sweep


def run(args):
    """Train the sweep's runs (an existing run of the sweep is kept), then compare them
    (sweep.png: their norms and accuracy; tensorviz compare's other figures and state file)."""
    paraview_paths(OUT_DIR=args.out_dir)  # before any training: its figures need ParaView
    size = parse_size(args.size)
    from trainer.sweep import run_sweep, sweep_configs  # TensorFlow: only now
    base = TrainConfig(run_dir="", dataset=args.dataset, epochs=args.epochs,
                       max_samples=args.max_samples, batch_size=args.batch_size, seed=args.seed)
    configs = sweep_configs(base, args.out_dir, learning_rates=comma_separated(args.lr),
                            widths=comma_separated(args.widths) if args.widths else None)
    ensure_writable_folder(args.out_dir, "OUT_DIR")
    runs = run_sweep(configs)
    return run_script(comparison_script(ROOT, [store for _, store in runs],
                                        os.path.abspath(args.out_dir), size,
                                        norms_name="sweep.png"))
