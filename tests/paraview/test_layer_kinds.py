"""Every layer kind the trainer records, through the views (a synthetic store, numpy truth)."""

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
    assert list(maps.GetProperty("LayerNames")) == ["c1d", "block/c3d", "up", "dw", "sep"]
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
