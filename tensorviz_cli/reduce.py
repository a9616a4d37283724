"""`tensorviz reduce RUN_DIR --out DIR`: export a run's final model, smaller after filter
reduction (`tensorviz train --reduce`), as a plain .keras file (keras.saving.load_model)."""


def add_parser(sub):
    reduce = sub.add_parser("reduce", help="export a reduced run's final model as a .keras file")
    reduce.add_argument("run_dir", metavar="RUN_DIR")
    reduce.add_argument("--out", required=True, help="directory for the .keras file")
    return reduce


def run(args):
    from trainer.export import export_reduced  # Keras: only now
    result = export_reduced(args.run_dir, args.out)
    changed = {name: counts for name, counts in result["filters"].items() if counts[0] != counts[1]}
    print(f"wrote {result['path']} (step {result['step']}): {result['parameters']:,} parameters, "
          f"{result['macs']:,} multiply-accumulates per image")
    for name, (original, now) in changed.items():
        print(f"  {name}: {original} -> {now} filters")
    if not changed:
        print("  no filter was reduced in this run")
    return 0
