"""Distribution Over Time and Filter Health in pvbatch, against the store read with numpy: the
image is every recorded histogram on one set of bins, the table the current step's; the health
image each filter's log10 norm (or dead fraction) at every step."""

import os

import numpy as np

from pvbatch_json import pvbatch_json
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader

SCRIPT = """
import json, sys
from paraview import simple, servermanager
from vtkmodules.util.numpy_support import vtk_to_numpy
reader = simple.TensorVizReader(FileName=sys.argv[1])
seen = {}
distribution = simple.DistributionOverTime(Input=reader, Layer="conv1", Quantity="Updates")
health = simple.FilterHealth(Input=reader, Layer="conv1", Statistic="Gradient norm")
dead = simple.FilterHealth(Input=reader, Layer="conv1", Statistic="Dead fraction")
activations = simple.DistributionOverTime(Input=reader, Layer="conv2", Quantity="Activations")
for name, source in (("distribution", distribution), ("health", health), ("dead", dead),
                     ("activations", activations)):
    source.UpdatePipeline(5.0)
    image = servermanager.Fetch(source)
    array = image.GetCellData().GetArray(0)
    seen[name] = {"dims": list(image.GetDimensions()),
                  "values": vtk_to_numpy(array).tolist(),
                  "fields": {field: vtk_to_numpy(image.GetFieldData().GetArray(field)).tolist()
                             for field in ("steps", "range", "current_step")
                             if image.GetFieldData().GetArray(field) is not None}}
json.dump(seen, open(sys.argv[2], "w"))
"""


def image_rows(seen):
    """The image as rows (row 0 at the top), as set_image lays it out."""
    cols, rows = seen["dims"][0] - 1, seen["dims"][1] - 1
    return np.asarray(seen["values"], dtype=np.float64).reshape(rows, cols)[::-1]


def test_the_health_views_show_the_stored_values(tiny_run, tmp_path):
    store = os.path.join(tiny_run, F.STORE_FILENAME)
    seen, _ = pvbatch_json(tmp_path, SCRIPT, store, name="views")
    with RunReader(store) as run:
        steps, counts = run.series_all("conv1", F.HISTOGRAM)
        _, ranges = run.series_all("conv1", F.HISTOGRAM_RANGE)
        norm_steps, norms = run.series_all("conv1", F.FILTER_NORMS)
        stat_steps, stats = run.series_all("conv1", F.ACTIVATION_STATS)
        snapshots = [np.asarray(run.series_value("conv2", F.ACTIVATION, i))
                     for i in range(len(run.series_steps("conv2", F.ACTIVATION)))]
    # the updates' histograms: on the widest range, each step's counts all there
    image = image_rows(seen["distribution"])
    widest = ranges[:, 2].max()
    assert seen["distribution"]["fields"]["range"] == [widest]
    assert image.shape == (len(steps), F.HISTOGRAM_BINS)
    np.testing.assert_allclose((10 ** image - 1).sum(axis=1), counts[:, 2].sum(axis=1), rtol=1e-6)
    last = np.nonzero(ranges[:, 2] == widest)[0][0]  # a row already on the widest bins: as stored
    np.testing.assert_allclose(10 ** image[last] - 1, counts[last, 2], rtol=1e-6, atol=1e-9)
    assert seen["distribution"]["fields"]["current_step"] == [5]
    # gradient norms: log10 per filter and step; dead fraction at the activation snapshots
    expected = np.log10(norms[:, 1].T.astype(np.float64))
    np.testing.assert_allclose(image_rows(seen["health"]), expected, rtol=1e-5)
    assert seen["health"]["fields"]["steps"] == list(norm_steps)
    np.testing.assert_allclose(image_rows(seen["dead"]), stats[:, 2].T, rtol=1e-6)
    assert seen["dead"]["fields"]["current_step"] == [int(stat_steps[stat_steps <= 5].max())]
    # activations: np.histogram of each probe snapshot, on one power-of-two range
    r = 2.0 ** np.ceil(np.log2(max(np.abs(a).max() for a in snapshots)))
    assert seen["activations"]["fields"]["range"] == [r]
    expected = [np.histogram(a, bins=F.HISTOGRAM_BINS, range=(-r, r))[0] for a in snapshots]
    np.testing.assert_allclose(10 ** image_rows(seen["activations"]) - 1, expected, rtol=1e-6,
                               atol=1e-6)
