"""What the ParaView-side benchmarks share: the median of repeated timings, paraview.simple
with the checkout's plugin loaded, and the raw h5py read the norm tables are compared with."""

import os
import statistics
import time

PLUGIN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "plugin", "TensorViz.xml")


def median_seconds(function, repeats=5):
    """The median time of function(0), function(1)... (repeats calls)."""
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        function(i)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def paraview_simple():
    """paraview.simple, the TensorViz plugin loaded (unless PV_PLUGIN_PATH loaded it)."""
    from paraview import simple
    if not hasattr(simple, "TensorVizReader"):
        simple.LoadPlugin(PLUGIN, ns=vars(simple))
    return simple


def raw_step_table(path):
    """Read, with h5py alone, what a norm table is built from: every step column and both norm
    tables of the store at `path`."""
    import h5py
    from tensorviz_pv.store import format as F
    with h5py.File(path, "r", locking=False) as f:
        for column in F.STEP_COLUMNS:
            f[F.steps_path(column)][:]
        f[F.norms_path(F.WEIGHT_NORM)][:]
        f[F.norms_path(F.GRADIENT_NORM)][:]
