"""A run longer than the time slider lists: its snapshots are all listed, a step between the
listed ones is still shown exactly, and the norm table is drawn at MaxRows with every spike."""

import pytest

from paraview import servermanager, simple
from vtkmodules.util.numpy_support import vtk_to_numpy

from tensorviz_pv.algorithms.reader import MAX_TIME_STEPS
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
