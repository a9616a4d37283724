"""What the ParaView-side benchmarks share: the median of repeated timings, and paraview.simple
with the checkout's plugin loaded."""

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
