"""The views that compare runs, in pvpython, against the stores read with numpy: the Runs
reader's blocks and time axis, Norm Comparison's columns, a run against itself (identity
matching, r = 1, CKA 1, distance 0), a known permutation recovered, runs of different
architectures, a run still being written, and Weight Glyphs' Order."""

import os
import shutil

import h5py
import numpy as np
import pytest

from paraview import servermanager, simple
from vtkmodules.util.numpy_support import vtk_to_numpy

from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader
from tensorviz_pv.store.synthetic import write_poster_shaped_run, write_synthetic_run

PERMUTATION = np.random.default_rng(5).permutation(32)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A folder of runs: a (poster-shaped, 120 steps), b (a's copy whose conv2 filters are
    PERMUTATION of a's: their probe activations and kernels), c (shorter, 60 steps)."""
    root = tmp_path_factory.mktemp("sweep")
    for name, steps in (("a", 120), ("c", 60)):
        os.makedirs(root / name)
        write_poster_shaped_run(str(root / name / "run.tvz"), steps, conv_every=10,
                                activations_every=30, checksums=False)
    os.makedirs(root / "b")
    shutil.copy(root / "a" / "run.tvz", root / "b" / "run.tvz")
    with h5py.File(root / "b" / "run.tvz", "r+") as f:
        for quantity in (F.ACTIVATION, F.KERNEL):
            data = f[F.series_path("conv2", quantity, F.SERIES_VALUE)]
            data[...] = data[...][..., PERMUTATION]
    reader = simple.TensorVizRuns(FileNames=[str(root)])
    yield root, reader
    simple.Delete(reader)


def fetch(proxy, port=0, time=None):
    proxy.UpdatePipeline(time) if time is not None else proxy.UpdatePipeline()
    return servermanager.Fetch(proxy, idx=port)


def columns(table):
    return {table.GetColumnName(i): vtk_to_numpy(table.GetColumn(i))
            for i in range(table.GetNumberOfColumns())}


def field(data, name):
    return vtk_to_numpy(data.GetFieldData().GetArray(name))


def test_the_runs_reader_puts_every_run_on_one_time_axis(runs):
    root, reader = runs
    assert list(reader.GetProperty("RunNames")) == ["a", "b", "c"]
    assert list(reader.TimestepValues) == [float(s) for s in range(121)]
    blocks = fetch(reader, time=90.0)
    names = [blocks.GetMetaData(i).Get(blocks.NAME()) for i in range(blocks.GetNumberOfBlocks())]
    assert names == ["a", "b", "c"]
    ended = [int(field(blocks.GetBlock(i), "ended")[0]) for i in range(3)]
    assert ended == [0, 0, 1]  # c ends at step 60
    assert int(field(blocks.GetBlock(0), "step")[0]) == 90
    assert blocks.GetBlock(2).GetFieldData().GetArray("step") is None
    with RunReader(str(root / "a" / "run.tvz")) as run:
        assert field(blocks.GetBlock(0), "loss")[0] == pytest.approx(run.step_row(90)[F.LOSS])
    algorithm = reader.GetClientSideObject()
    opened = algorithm.tensorviz_runs()[0][1]
    algorithm.RemoveAllFileNames()  # what ParaView does when it pushes the same list again
    algorithm.AddFileName(str(root))
    assert algorithm.tensorviz_runs()[0][1] is opened  # not reopened


def test_a_view_of_one_run_shows_the_run_that_run_names(runs):
    root, reader = runs
    glyphs = simple.WeightGlyphs(Input=reader, Layer="conv2")
    with RunReader(str(root / "b" / "run.tvz")) as run:
        expected = run.tensor_at("conv2", F.KERNEL, 60)[1]
    for name, permuted in (("a", False), ("b", True)):
        reader.Run = name
        values = vtk_to_numpy(fetch(glyphs, time=60.0).GetCellData().GetArray("kernel"))[::6]
        # boxes run filter by filter: (filter, channel, row, col) of the kernel (kh, kw, in, out)
        drawn = np.transpose(expected, (3, 2, 0, 1)).ravel()
        assert np.allclose(values, drawn) == permuted
    reader.Run = "a"
    simple.Delete(glyphs)


def test_norm_comparison_has_each_runs_columns_and_nan_past_its_end(runs):
    root, reader = runs
    table = columns(fetch(simple.NormComparison(Input=reader)))
    assert table["step"].tolist() == list(range(1, 121))
    for name in ("a", "c"):
        with RunReader(str(root / name / "run.tvz")) as run:
            steps = run.step_table()[F.STEP]
            loss = run.step_table()[F.LOSS]
            norms = run.norms(F.WEIGHT_NORM)
            conv2 = np.sqrt(sum(norms[:, i] ** 2 for i, v in enumerate(run.variables)
                                if v.startswith("conv2/")))
        rows = steps - 1
        np.testing.assert_allclose(table[f"{name}: loss"][rows], loss)
        np.testing.assert_allclose(table[f"{name}: conv2 weight norm"][rows], conv2, rtol=1e-6)
    assert np.isnan(table["c: loss"][60:]).all() and np.isfinite(table["c: loss"][:60]).all()


def test_a_run_against_itself(runs):
    root, reader = runs
    similarity = simple.LayerSimilarity(Input=reader, RunA="a", RunB="a")
    cka = columns(fetch(similarity, 0))
    distance = columns(fetch(similarity, 1))
    assert cka["step"].tolist() == [0, 30, 60, 90, 120]
    assert np.allclose(cka["conv1 CKA"], 1.0) and np.allclose(cka["conv2 CKA"], 1.0)
    assert set(distance) == {"step", "conv1 weight distance", "conv2 weight distance",
                             "fc1 weight distance"}
    for name, values in distance.items():  # NaN: a layer not recorded at that step
        assert name == "step" or ((values[np.isfinite(values)] == 0).all()
                                  and np.isfinite(values).sum() >= 2)
    matching = simple.FilterMatching(Input=reader, RunA="a", RunB="a", Layer="conv2")
    table = columns(fetch(matching, 0, 90.0))
    assert table["partner"].tolist() == list(range(32))
    assert np.allclose(table["r"], 1.0)
    # two steps of one run: the same filters, moved on
    matching.StepB = 30
    data = fetch(matching, 0, 90.0)
    assert int(field(data, "step_a")[0]) == 90 and int(field(data, "step_b")[0]) == 30
    for proxy in (similarity, matching):
        simple.Delete(proxy)


def test_the_matching_recovers_a_known_permutation_and_beats_a_random_assignment(runs):
    root, reader = runs
    matching = simple.FilterMatching(Input=reader, RunA="a", RunB="b", Layer="conv2")
    data = fetch(matching, 0, 120.0)
    partner = columns(data)["partner"]
    assert (PERMUTATION[partner] == np.arange(32)).all()
    mean, random = field(data, "mean_r")[0], field(data, "random_mean_r")[0]
    print(f"permuted copy: mean r of the matching {mean:.3f}, of a random assignment {random:.3f}")
    assert mean == pytest.approx(1.0) and random < 0.2
    order = field(data, "order")
    image = fetch(matching, 1, 120.0)
    drawn = vtk_to_numpy(image.GetCellData().GetArray("r (B in A's order)")).reshape(32, 32)[::-1]
    assert np.allclose(np.diag(drawn), 1.0)  # B's filters in A's order: matches on the diagonal
    # CKA does not care which filter is which: 1 for the permuted copy
    cka = columns(fetch(simple.LayerSimilarity(Input=reader, RunA="a", RunB="b"), 0))
    assert np.allclose(cka["conv2 CKA"], 1.0)
    # Weight Glyphs draws b's filters in a's order: block i holds b's filter order[i], whose
    # kernel is a's filter i
    glyphs_a = simple.WeightGlyphs(Input=simple.TensorVizReader(FileName=str(root / "a" / "run.tvz")),
                                   Layer="conv2")
    glyphs_b = simple.WeightGlyphs(Input=simple.TensorVizReader(FileName=str(root / "b" / "run.tvz")),
                                   Layer="conv2", Order=",".join(str(int(f)) for f in order))
    a, b = fetch(glyphs_a, time=120.0), fetch(glyphs_b, time=120.0)
    np.testing.assert_array_equal(vtk_to_numpy(a.GetPoints().GetData()),
                                  vtk_to_numpy(b.GetPoints().GetData()))
    box_filters = vtk_to_numpy(b.GetCellData().GetArray("filter"))[::6 * 9 * 16]
    assert box_filters.tolist() == order.tolist()  # the boxes keep b's own filter ids
    glyphs_b.Order = "1,2"  # a typo: said, no output, no crash
    glyphs_b.UpdatePipeline(120.0)
    assert glyphs_b.GetDataInformation().GetNumberOfCells() == 0


def test_runs_of_different_architectures_compare_what_they_share(runs, tmp_path):
    root, _ = runs
    os.makedirs(tmp_path / "small")
    write_synthetic_run(str(tmp_path / "small" / "run.tvz"), steps=30, every=10)
    reader = simple.TensorVizRuns(FileNames=[str(root / "a"), str(tmp_path / "small")])
    similarity = simple.LayerSimilarity(Input=reader)
    assert list(similarity.GetProperty("LayerNames")) == ["all layers", "conv1", "fc1"]
    data = fetch(similarity, 1)
    assert "conv1 weight distance" not in columns(data)  # 16 filters in a, 4 in small
    differences = [data.GetFieldData().GetAbstractArray("differences").GetValue(i)
                   for i in range(data.GetFieldData().GetAbstractArray("differences").GetNumberOfValues())]
    assert "conv2: only in run A" in differences
    assert any(d.startswith("conv1: kernel (3, 3, 1, 16) in A") for d in differences)
    assert int(field(data, "same_probe")[0]) == 0 and columns(fetch(similarity, 0)) == {
        "step": pytest.approx(np.zeros(0))}
    matching = simple.FilterMatching(Input=reader, Layer="conv1")
    matching.UpdatePipeline(30.0)  # different probe images: said, an empty output
    assert matching.GetDataInformation().GetNumberOfRows() == 0
    for proxy in (matching, similarity, reader):
        simple.Delete(proxy)


def test_a_folder_without_runs_and_a_run_still_being_written(tmp_path):
    os.makedirs(tmp_path / "empty" / "notes")
    reader = simple.TensorVizRuns(FileNames=[str(tmp_path / "empty")])
    reader.UpdatePipeline()  # says "no runs here", makes nothing
    assert len(reader.TimestepValues or []) == 0 and list(reader.GetProperty("RunNames")) == []
    simple.Delete(reader)
    os.makedirs(tmp_path / "live" / "one")
    os.makedirs(tmp_path / "live" / "two")
    write_synthetic_run(str(tmp_path / "live" / "one" / "run.tvz"), steps=20, every=10)
    _, writer = write_synthetic_run(str(tmp_path / "live" / "two" / "run.tvz"), steps=10,
                                    every=5, close=False)
    reader = simple.TensorVizRuns(FileNames=[str(tmp_path / "live")])
    table = columns(fetch(simple.NormComparison(Input=reader)))
    assert np.isfinite(table["two: loss"]).sum() == 10  # as far as it has gone
    for step in range(11, 16):
        writer.add_step(step, 1, 0.1, 0.5, 0.01, [1.0, 1.0], [0.5, 0.5])
    writer.writer_flush = writer.flush()
    simple.ReloadFiles(reader)
    norms = simple.NormComparison(Input=reader)
    assert np.isfinite(columns(fetch(norms))["two: loss"]).sum() == 15
    writer.close()
    simple.Delete(reader)
