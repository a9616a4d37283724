"""Every layer kind the trainer records, through the views (a synthetic store, numpy truth)."""

import h5py
import numpy as np
import pytest

from paraview import servermanager, simple
from vtkmodules.util.numpy_support import vtk_to_numpy

from tensorviz_pv.analysis.glyphs import FACES_PER_BOX
from tensorviz_pv.analysis.kernels import canonical
from tensorviz_pv.store import format as F
from tensorviz_pv.store.synthetic import KIND_LAYERS, kind_value, write_kinds_run


@pytest.fixture
def kinds_run(tmp_path):
    path = str(tmp_path / "run.tvz")
    write_kinds_run(path)
    reader = simple.TensorVizReader(FileName=path)
    yield reader
    simple.Delete(reader)


def stored(reader, layer, quantity):
    """(steps, values) of a series, read from the store with h5py (not through TensorViz)."""
    with h5py.File(reader.FileName, "r", locking=False) as store:
        group = store[f"{F.TENSORS_GROUP}/{layer}/{quantity}"]
        return group[F.SERIES_STEP][:], group[F.SERIES_VALUE][:]


def box_tops(glyphs, time):
    glyphs.UpdatePipeline(time)
    poly = servermanager.Fetch(glyphs)
    return np.sort(vtk_to_numpy(poly.GetPoints().GetData()).reshape(-1, 8, 3)[:, 4, 2]), poly


@pytest.mark.parametrize("layer,choice,quantity", [
    ("c1d", 0, F.KERNEL), ("block/c3d", 1, F.KERNEL_GRADIENT), ("up", 0, F.KERNEL),
    ("dw", 0, F.KERNEL), ("sep", 0, "pointwise_kernel"), ("sep", 4, F.DEPTHWISE_KERNEL),
    ("bn", 0, "gamma"), ("bn", 2, "beta"), ("bn", 7, "moving_variance")])
def test_weight_glyphs_draw_one_box_per_value_of_every_kind(kinds_run, layer, choice, quantity):
    glyphs = simple.WeightGlyphs(Input=kinds_run, Layer=layer, Quantity=choice)
    tops, poly = box_tops(glyphs, 4.0)
    expected = kind_value(layer, quantity, 4)
    assert poly.GetNumberOfCells() == expected.size * FACES_PER_BOX
    np.testing.assert_allclose(tops, np.sort(expected.ravel()), rtol=1e-6)
    assert poly.GetFieldData().GetAbstractArray("quantity").GetValue(0) == quantity
    simple.Delete(glyphs)


def test_the_filters_of_transposed_and_depthwise_kernels(kinds_run):
    glyphs = simple.WeightGlyphs(Input=kinds_run, Layer="up", Filters="4")
    _, poly = box_tops(glyphs, 4.0)
    kernel = kind_value("up", F.KERNEL, 4)  # (3, 3, 5 outputs, 2 inputs): filter 4 = [..., 4, :]
    assert set(vtk_to_numpy(poly.GetCellData().GetArray("filter"))) == {4}
    tops = vtk_to_numpy(poly.GetPoints().GetData()).reshape(-1, 8, 3)[:, 4, 2]
    np.testing.assert_allclose(np.sort(tops), np.sort(kernel[:, :, 4, :].ravel()), rtol=1e-6)
    glyphs.Layer, glyphs.Filters = "dw", "5"  # (3, 3, 2 inputs, 3 per input): 5 = input 1, m 2
    tops, _ = box_tops(glyphs, 4.0)
    np.testing.assert_allclose(tops, np.sort(kind_value("dw", F.KERNEL, 4)[:, :, 1, 2].ravel()),
                               rtol=1e-6)
    simple.Delete(glyphs)


def test_activation_maps_of_one_and_three_dimensional_layers(kinds_run):
    maps = simple.ActivationMaps(Input=kinds_run, Layer="c1d", ProbeImage=1)
    # the convolutions whose activations were recorded (not up's and sep's in this run)
    assert list(maps.GetProperty("LayerNames")) == ["c1d", "block/c3d", "dw"]
    maps.UpdatePipeline(4.0)
    image = servermanager.Fetch(maps)
    assert image.GetDimensions()[:2] == (13, 5)  # one filter per row, 12 positions: cells
    values = vtk_to_numpy(image.GetCellData().GetArray("activation")).reshape(4, 12)[::-1]
    np.testing.assert_allclose(values, kind_value("c1d", F.ACTIVATION, 4)[1].T, rtol=1e-6)
    maps.Layer = "block/c3d"
    maps.UpdatePipeline(4.0)
    image = servermanager.Fetch(maps)
    # 3 filters of (4 x (3 slices x 4 + 2 gaps)) in a 2 x 2 grid with 1-pixel gaps
    assert image.GetDimensions()[:2] == (2 * 14 + 2, 2 * 4 + 2)
    simple.Delete(maps)


def test_weight_correlation_of_a_depthwise_layer_is_over_each_filters_own_kernel(kinds_run):
    correlation = simple.FilterCorrelation(Input=kinds_run, Layer="dw", Basis=1)
    correlation.UpdatePipeline(4.0)
    table = servermanager.Fetch(correlation)
    r = np.stack([vtk_to_numpy(table.GetRowData().GetArray(f"r_{j}")) for j in range(6)], axis=1)
    samples = canonical(kind_value("dw", F.KERNEL, 4), "depthwise").reshape(-1, 6)
    np.testing.assert_allclose(r, np.corrcoef(samples, rowvar=False), atol=1e-6)
    simple.Delete(correlation)


def test_the_reader_and_the_norm_table_know_nested_paths(kinds_run):
    kinds_run.UpdatePipeline(4.0)
    data = servermanager.Fetch(kinds_run)
    names = [data.GetMetaData(i).Get(data.NAME()) for i in range(data.GetNumberOfBlocks())]
    assert names == [name for name, _, _, _ in KIND_LAYERS]
    norms = simple.NormTimeSeries(Input=kinds_run)
    norms.UpdatePipeline(4.0)
    table = servermanager.Fetch(norms)
    column = vtk_to_numpy(table.GetRowData().GetArray("block/c3d weight norm"))
    np.testing.assert_allclose(column, np.sqrt(2.0))  # its kernel and bias, norm 1 each
    # every output's metrics, beside the step columns
    np.testing.assert_allclose(vtk_to_numpy(table.GetRowData().GetArray("out_a_accuracy")),
                               0.1 * np.arange(1, 5), rtol=1e-6)
    simple.Delete(norms)


@pytest.mark.parametrize("layer,variable,quantity", [
    ("sep", 0, "pointwise_kernel"), ("sep", 1, F.DEPTHWISE_KERNEL), ("bn", 0, "gamma"),
    ("bn", 2, "beta"), ("dw", 0, F.KERNEL), ("block/c3d", 0, F.KERNEL), ("c1d", 2, F.BIAS)])
def test_weight_trajectory_follows_the_variable_each_kind_records(kinds_run, layer, variable,
                                                                  quantity):
    trajectory = simple.WeightTrajectory(Input=kinds_run, Layer=layer, Variable=variable,
                                         Indices=[2, 1, 0])
    trajectory.UpdatePipeline(4.0)
    path = servermanager.Fetch(trajectory)
    steps, values = stored(kinds_run, layer, quantity)
    assert path.GetFieldData().GetAbstractArray("quantity").GetValue(0) == quantity
    np.testing.assert_array_equal(vtk_to_numpy(path.GetPointData().GetArray("step")), steps)
    np.testing.assert_allclose(vtk_to_numpy(path.GetPoints().GetData())[:, :2],
                               values.reshape(len(steps), -1)[:, [2, 1]], rtol=1e-6)
    trajectory.Mode, trajectory.Dimensions = "PCA", 2  # two snapshots: one component moves
    trajectory.UpdatePipeline(4.0)
    points = vtk_to_numpy(servermanager.Fetch(trajectory).GetPoints().GetData())
    travel = np.linalg.norm(values[-1].ravel() - values[0].ravel())
    assert abs(points[1, 0] - points[0, 0]) == pytest.approx(travel, rel=1e-5)
    simple.Delete(trajectory)


def drawn(proxy, time=4.0):
    """Whether a view's first output holds something (points, rows or cells) at `time`."""
    proxy.UpdatePipeline(time)
    data = servermanager.Fetch(proxy)
    if hasattr(data, "GetNumberOfRows"):
        return data.GetNumberOfRows() > 0
    return data.GetNumberOfPoints() > 0 or data.GetNumberOfCells() > 0


VIEWS = [("WeightGlyphs", "Quantity", range(8)), ("WeightTrajectory", "Variable", range(3)),
         ("ActivationMaps", None, [None]), ("FilterCorrelation", "Basis", range(2)),
         ("FilterGroups", "Basis", range(2))]


@pytest.mark.parametrize("view,setting,choices", VIEWS)
def test_no_view_offers_a_layer_it_cannot_draw(kinds_run, view, setting, choices):
    proxy = getattr(simple, view)(Input=kinds_run)
    offered = {}
    for choice in choices:
        if setting:
            setattr(proxy, setting, choice)
        proxy.UpdatePropertyInformation()
        offered[choice] = list(proxy.GetProperty("LayerNames"))
        for layer in offered[choice]:
            proxy.Layer = layer
            assert drawn(proxy), (view, setting, choice, layer)
    simple.Delete(proxy)
    everything = {layer for names in offered.values() for layer in names}
    spatial = {name for name, kind, _, _ in KIND_LAYERS if F.KINDS[kind].spatial}
    assert everything == ({name for name, _, _, _ in KIND_LAYERS} if view.startswith("Weight")
                          else spatial if view != "ActivationMaps" else {"c1d", "block/c3d", "dw"})
