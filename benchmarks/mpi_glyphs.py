"""Weight Glyphs of the largest layer (the poster network's 1.6 M-weight FC layer: 9.6 M box
faces) in one pvbatch process and under `mpiexec -n 2 pvbatch`, each rank drawing half of the
filters: the time to build them (median of a few steps) and the peak memory of each rank, side
by side in one run. `--fc-units 5120`: an FC layer of 8 M weights (48 M box faces; about 9 GB
in one process), the size of a large model's largest layer.

    .venv/bin/python benchmarks/mpi_glyphs.py [--ranks 2] [--repeats 3] [--fc-units 1024]
"""

import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tensorviz_cli.launch import ROOT, run  # noqa: E402
from tensorviz_pv.store.synthetic import write_poster_shaped_run  # noqa: E402

SCRIPT = """
import json, resource, statistics, sys, time
from paraview import simple
simple.LoadPlugin({plugin!r}, ns=vars(simple))
reader = simple.TensorVizReader(FileName=sys.argv[1])
glyphs = simple.WeightGlyphs(Input=reader, Layer="fc1")
times = []
for step in {steps!r}:  # the FC kernel's snapshots: a new tensor each time
    started = time.perf_counter()
    glyphs.UpdatePipeline(float(step))
    times.append(time.perf_counter() - started)
memory = simple.ProgrammableFilter(Input=glyphs, Script='''
import resource
import numpy as np
output.ShallowCopy(inputs[0].VTKObject)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
output.FieldData.append(np.array([peak]), "peak_mb")
''')
memory.UpdatePipeline(float({steps!r}[-1]))
field = memory.GetDataInformation().DataInformation.GetFieldDataInformation().GetArrayInformation("peak_mb")
json.dump({{"seconds": statistics.median(times), "cells": glyphs.GetDataInformation().GetNumberOfCells(),
           "peak_mb": list(field.GetComponentRange(0))}}, open(sys.argv[2], "w"))
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fc-units", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = os.path.join(folder, "run.tvz")
        steps = args.repeats * 100
        # the FC kernel is written at step 0 and the last: the script alternates the two
        write_poster_shaped_run(store, steps, conv_every=100, fc_units=args.fc_units)
        script = os.path.join(folder, "glyphs.py")
        with open(script, "w") as f:
            f.write(SCRIPT.format(plugin=os.path.join(ROOT, "plugin", "TensorViz.xml"),
                                  steps=[0, steps] * args.repeats))
        seen = {}
        for ranks in (1, args.ranks):
            out = os.path.join(folder, f"{ranks}.json")
            result = run("pvbatch", [script, store, out], ranks=ranks, env={"PYTHONPATH": ROOT},
                         capture_output=True, text=True)
            if result.returncode != 0:
                raise SystemExit(result.stderr[-2000:])
            with open(out) as f:
                seen[ranks] = json.load(f)
    one, many = seen[1], seen[args.ranks]
    print(f"Weight Glyphs fc1: {one['cells']:,} box faces (both runs: {many['cells']:,})")
    print(f"{'':22s} {'1 process':>10s} {f'{args.ranks} ranks':>10s} {'ratio':>7s}")
    print(f"{'build (s, median)':22s} {one['seconds']:10.2f} {many['seconds']:10.2f} "
          f"{one['seconds'] / many['seconds']:7.2f}")
    print(f"{'peak memory per rank':22s} {one['peak_mb'][1]:8.0f}MB {many['peak_mb'][1]:8.0f}MB "
          f"{one['peak_mb'][1] / many['peak_mb'][1]:7.2f}  (the smallest rank: {many['peak_mb'][0]:.0f} MB)")


if __name__ == "__main__":
    main()
