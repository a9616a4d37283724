"""A run longer than the time slider lists: its snapshots are all listed, a step between the
listed ones is still shown exactly, and the norm table is drawn at MaxRows with every spike."""

import pytest

from paraview import servermanager, simple
from vtkmodules.util.numpy_support import vtk_to_numpy

from tensorviz_pv.algorithms.reader_base import MAX_TIME_STEPS
from tensorviz_pv.store.synthetic import write_long_run

STEPS = 3 * MAX_TIME_STEPS


@pytest.fixture(scope="module")
def long_run(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("long") / "run.tvz")
    spikes = write_long_run(path, STEPS, kernel_every=1000, activations_every=10000)
    reader = simple.TensorVizReader(FileName=path)
    yield reader, spikes
    simple.Delete(reader)


def field(data, name):
    return vtk_to_numpy(data.GetFieldData().GetArray(name))


def test_the_slider_lists_every_snapshot_and_any_step_is_shown_exactly(long_run):
    reader, _ = long_run
    listed = [int(t) for t in reader.TimestepValues]
    assert MAX_TIME_STEPS // 2 < len(listed) <= MAX_TIME_STEPS
    assert listed[0] == 0 and listed[-1] == STEPS
    assert set(range(0, STEPS + 1, 1000)) <= set(listed)
    unlisted = next(s for s in range(12345, STEPS) if s not in set(listed))
    reader.UpdatePipeline(float(unlisted))
    assert int(field(servermanager.Fetch(reader), "step")[0]) == unlisted
    glyphs = simple.WeightGlyphs(Input=reader, Layer="conv1")
    glyphs.UpdatePipeline(float(unlisted))
    assert int(field(servermanager.Fetch(glyphs), "snapshot_step")[0]) == unlisted // 1000 * 1000
    simple.Delete(glyphs)


def test_the_norm_table_is_drawn_at_max_rows_with_every_spike(long_run):
    reader, spikes = long_run
    norms = simple.NormTimeSeries(Input=reader)
    norms.UpdatePipeline(float(STEPS))
    table = servermanager.Fetch(norms)
    assert table.GetNumberOfRows() == 10000 and int(field(table, "steps_in_run")[0]) == STEPS
    steps = vtk_to_numpy(table.GetColumnByName("step"))
    loss = vtk_to_numpy(table.GetColumnByName("loss"))
    for spike in spikes:  # the run of steps around each spike reaches 50
        around = (steps >= spike - 2 * STEPS // 10000) & (steps <= spike + 2 * STEPS // 10000)
        assert loss[around].max() == 50.0
    norm = vtk_to_numpy(table.GetColumnByName("conv1 weight norm"))
    assert norm.min() == pytest.approx(1.0, abs=1e-4) and norm.max() == pytest.approx(2.0, abs=1e-4)
    norms.MaxRows = 0  # every step
    norms.UpdatePipeline(float(STEPS))
    assert servermanager.Fetch(norms).GetNumberOfRows() == STEPS
    simple.Delete(norms)


HEALTH_STEPS = 5_000  # records of every health series: more than a time image has columns


@pytest.fixture(scope="module")
def health_run(tmp_path_factory):
    from tensorviz_pv.store.synthetic import write_poster_shaped_run
    path = str(tmp_path_factory.mktemp("health") / "run.tvz")
    write_poster_shaped_run(path, HEALTH_STEPS, conv_every=HEALTH_STEPS,
                            activations_every=HEALTH_STEPS, checksums=False)
    reader = simple.TensorVizReader(FileName=path)
    yield reader, path
    simple.Delete(reader)


def blocks(count, columns):
    """[(first, end)] of `columns` runs of records, even in length (written out here)."""
    edges = [count * c // columns for c in range(columns)] + [count]
    return list(zip(edges[:-1], edges[1:]))


def image_rows(image):
    dims = image.GetDimensions()
    values = vtk_to_numpy(image.GetCellData().GetArray(0)).astype(float)
    return values.reshape(dims[1] - 1, dims[0] - 1)[::-1]


def test_the_health_views_of_a_long_run_draw_a_column_per_block_of_steps(health_run):
    """Distribution Over Time: each row the sum of its block's histograms on the widest range
    (a count in an outer bin at one step stays); Filter Health: each column the filters' mean
    over its block; both tables the current step's own values, exactly."""
    import numpy as np
    from tensorviz_pv.analysis.decimate import MAX_COLUMNS
    from tensorviz_pv.analysis.health import rebinned
    from tensorviz_pv.store import format as F
    from tensorviz_pv.store.reader import RunReader
    reader, path = health_run
    with RunReader(path) as run:
        steps, counts = run.series_all("conv2", F.HISTOGRAM)
        _, ranges = run.series_all("conv2", F.HISTOGRAM_RANGE)
        _, norms = run.series_all("conv2", F.FILTER_NORMS)
    spans = blocks(len(steps), MAX_COLUMNS)
    step = 3001.0  # record 3000
    distribution = simple.DistributionOverTime(Input=reader, Layer="conv2", Quantity="Gradients")
    distribution.UpdatePipeline(step)
    image = servermanager.Fetch(distribution)
    widest = ranges[:, 1].max()
    on_widest = rebinned(counts[:, 1], ranges[:, 1], widest)
    expected = np.log10(1 + np.stack([on_widest[a:b].sum(axis=0) for a, b in spans]))
    np.testing.assert_allclose(image_rows(image), expected, rtol=1e-6)
    assert field(image, "steps").tolist() == [int(steps[a]) for a, _ in spans]
    row = int(field(image, "current_row")[0])
    assert spans[row][0] <= 3000 < spans[row][1]
    current = servermanager.Fetch(distribution, idx=1)
    np.testing.assert_array_equal(vtk_to_numpy(current.GetColumnByName("count")), counts[3000, 1])
    health = simple.FilterHealth(Input=reader, Layer="conv2", Statistic="Gradient norm")
    health.UpdatePipeline(step)
    image = servermanager.Fetch(health)
    means = np.stack([norms[a:b, 1].astype(float).mean(axis=0) for a, b in spans], axis=1)
    np.testing.assert_allclose(image_rows(image), np.log10(means), rtol=1e-6)
    column = int(field(image, "current_column")[0])
    assert spans[column][0] <= 3000 < spans[column][1]
    now = servermanager.Fetch(health, idx=1)
    np.testing.assert_allclose(vtk_to_numpy(now.GetColumnByName("value")),
                               np.log10(norms[3000, 1].astype(float)), rtol=1e-6)
    simple.Delete(distribution)
    simple.Delete(health)
