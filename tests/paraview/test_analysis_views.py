"""Norm Time Series, Weight Trajectory, Activation Maps, Filter Correlation and Filter Groups
through paraview.simple, against truth computed with numpy from the synthetic run."""

import numpy as np
import pytest

from paraview import servermanager, simple
from vtkmodules.util.numpy_support import vtk_to_numpy

from tensorviz_pv.algorithms.filter_correlation import DRAWN
from tensorviz_pv.store.synthetic import (LAYERS, expected_activation, expected_kernel, probe_images,
                                          write_synthetic_run)


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("views") / "run.tvz")
    write_synthetic_run(path, steps=25, every=10)
    reader = simple.TensorVizReader(FileName=path)
    yield reader
    simple.Delete(reader)


def fetch(proxy, port=0, time=None):
    if time is not None:
        proxy.UpdatePipeline(time)
    return servermanager.Fetch(proxy, idx=port)


def column(table, name):
    array = table.GetColumnByName(name)
    assert array is not None, name
    return vtk_to_numpy(array)


def field(data, name):
    return vtk_to_numpy(data.GetFieldData().GetArray(name))


def test_norm_time_series_has_every_step_and_the_layer_norms(reader):
    norms = simple.NormTimeSeries(Input=reader)
    table = fetch(norms, time=0.0)
    np.testing.assert_array_equal(column(table, "step"), np.arange(1, 26))
    expected = [np.linalg.norm(expected_kernel("conv1", s)) for s in range(1, 26)]
    np.testing.assert_allclose(column(table, "conv1 weight norm"), expected, rtol=1e-5)
    np.testing.assert_allclose(column(table, "conv1 gradient norm"), 0.5 * np.array(expected), rtol=1e-5)
    np.testing.assert_allclose(column(table, "loss"), 1.0 / np.arange(1, 26), rtol=1e-6)
    coefficient, exponent = field(table, "conv1 weight norm fit")
    slope = np.polyfit(np.log(np.arange(1, 26)), np.log(expected), 1)[0]
    assert exponent == pytest.approx(slope, rel=1e-4)
    simple.Delete(norms)


def test_weight_trajectory_by_indices_and_the_current_step_marker(reader):
    trajectory = simple.WeightTrajectory(Input=reader, Layer="conv1", Mode="Indices")
    trajectory.Indices = [3, 7, 0]
    path = fetch(trajectory, time=14.0)
    snapshots = [0, 10, 20, 25]
    points = vtk_to_numpy(path.GetPoints().GetData())
    expected = np.array([expected_kernel("conv1", s).ravel()[[3, 7]] for s in snapshots])
    np.testing.assert_allclose(points[:, :2], expected, rtol=1e-6)
    assert path.GetNumberOfLines() == 1 and path.GetLines().GetNumberOfConnectivityIds() == 4
    np.testing.assert_array_equal(vtk_to_numpy(path.GetPointData().GetArray("step")), snapshots)
    marker = fetch(trajectory, port=1)
    assert field(marker, "snapshot_step")[0] == 10  # floor of time 14
    np.testing.assert_allclose(vtk_to_numpy(marker.GetPoints().GetData())[0, :2], expected[1], rtol=1e-6)
    simple.Delete(trajectory)


def test_weight_trajectory_pca_reports_explained_variance(reader):
    trajectory = simple.WeightTrajectory(Input=reader, Layer="conv1", Mode="PCA", Dimensions=3)
    path = fetch(trajectory, time=25.0)
    ratio = field(path, "explained variance ratio")
    vectors = np.array([expected_kernel("conv1", s).ravel() for s in [0, 10, 20, 25]])
    singular = np.linalg.svd(vectors - vectors.mean(0), compute_uv=False)
    np.testing.assert_allclose(ratio, (singular ** 2 / (singular ** 2).sum())[:3], rtol=1e-6)
    simple.Delete(trajectory)


def test_activation_maps_tiles_the_filters_of_one_probe_image(reader):
    maps = simple.ActivationMaps(Input=reader, Layer="conv1", ProbeImage=1)
    image = fetch(maps, time=22.0)
    assert image.GetDimensions() == (2 * 6, 2 * 6, 1)  # 4 tiles of 5x5, 1-pixel gaps: cells
    values = vtk_to_numpy(image.GetCellData().GetArray("activation")).reshape(11, 11)[::-1]
    truth = expected_activation(20)[1]  # floor of 22, probe image 1
    np.testing.assert_allclose(values[0:5, 0:5], truth[..., 0], rtol=1e-6)
    np.testing.assert_allclose(values[6:11, 6:11], truth[..., 3], rtol=1e-6)
    assert np.isnan(values[5]).all()
    picture = fetch(maps, port=1)
    assert picture.GetDimensions() == (29, 29, 1)
    assert picture.GetOrigin()[0] < 0  # left of the tiles
    pixels = vtk_to_numpy(picture.GetCellData().GetArray("input")).reshape(28, 28)[::-1]
    np.testing.assert_allclose(pixels, probe_images()[0][1, ..., 0])
    simple.Delete(maps)


def test_filter_correlation_matches_corrcoef_and_flags_the_dead_filter(reader):
    correlation = simple.FilterCorrelation(Input=reader, Layer="conv1")
    table = fetch(correlation, time=10.0)
    activation = expected_activation(10).reshape(-1, 4).astype(np.float64)
    expected = np.corrcoef(activation, rowvar=False)
    r = np.stack([column(table, f"r_{j}") for j in range(4)], axis=1)
    for i, j in [(0, 1), (0, 3), (1, 3)]:
        assert r[i, j] == pytest.approx(expected[i, j], abs=1e-9)
    assert np.isfinite(r).all()
    assert column(table, "dead").tolist() == [0, 0, 1, 0]
    groups = column(table, "group")
    assert groups[0] == groups[1] and groups[2] == -1 and groups[3] != groups[0]
    heatmap = fetch(correlation, port=1)
    assert heatmap.GetDimensions() == (5, 5, 1)
    image = vtk_to_numpy(heatmap.GetCellData().GetArray("correlation")).reshape(4, 4)[::-1]
    np.testing.assert_allclose(image, r)
    drawn = vtk_to_numpy(heatmap.GetCellData().GetArray(DRAWN)).reshape(4, 4)[::-1]
    assert np.isnan(drawn[2]).all() and np.isnan(drawn[:, 2]).all()  # its diagonal too: no r
    alive = [0, 1, 3]
    np.testing.assert_allclose(drawn[np.ix_(alive, alive)], r[np.ix_(alive, alive)])
    assert heatmap.GetCellData().GetScalars().GetName() == DRAWN  # what a GUI colours by
    correlation.Basis = "Weights"
    table = fetch(correlation, time=20.0)
    kernel = expected_kernel("conv1", 20).reshape(-1, 4)
    assert column(table, "r_2")[1] == pytest.approx(np.corrcoef(kernel[:, 1], kernel[:, 2])[0, 1], abs=1e-6)
    simple.Delete(correlation)


def test_filter_groups_has_a_row_per_snapshot(reader):
    groups = simple.FilterGroups(Input=reader, Layer="conv1", Threshold=0.85)
    table = fetch(groups, time=0.0)
    np.testing.assert_array_equal(column(table, "step"), [0, 10, 20, 25])
    np.testing.assert_array_equal(column(table, "group_2"), [-1, -1, -1, -1])
    np.testing.assert_array_equal(column(table, "group_0"), column(table, "group_1"))
    image = fetch(groups, port=1)
    assert image.GetDimensions() == (5, 5, 1)
    simple.Delete(groups)


def test_views_that_concern_one_layer_list_the_run_layers(reader):
    glyphs = simple.WeightGlyphs(Input=reader)
    correlation = simple.FilterCorrelation(Input=reader)
    assert list(glyphs.GetProperty("LayerNames")) == [entry["name"] for entry in LAYERS]
    assert list(correlation.GetProperty("LayerNames")) == ["conv1"]  # conv layers only
    simple.Delete(correlation)
    simple.Delete(glyphs)


def outline_matches_cells(proxy, port, picked):
    """The Highlight outline (last port) spans exactly the cells of port `port` whose `filter`
    is `picked`: its bounds are those cells' bounds, in x and y."""
    proxy.Highlight = picked
    data = fetch(proxy, port, 20.0)
    outline = servermanager.Fetch(proxy, idx=2)
    owner = vtk_to_numpy(data.GetCellData().GetArray("filter"))
    assert (owner == picked).any()
    # an image's cell (i, j) spans [x_i, x_i + 1] x [y_j, y_j + 1]: cell ids to pixel corners
    nx, ny = data.GetDimensions()[0] - 1, data.GetDimensions()[1] - 1
    origin = data.GetOrigin()
    ids = np.flatnonzero(owner == picked)
    x, y = origin[0] + ids % nx, origin[1] + ids // nx
    drawn = vtk_to_numpy(outline.GetPoints().GetData())
    assert ny * nx == len(owner)
    np.testing.assert_allclose([drawn[:, 0].min(), drawn[:, 0].max(), drawn[:, 1].min(),
                                drawn[:, 1].max()], [x.min(), x.max() + 1, y.min(), y.max() + 1])
    assert int(field(outline, "highlight")[0]) == picked


def test_the_highlighted_filter_is_outlined_where_its_cells_are(reader, tmp_path):
    maps = simple.ActivationMaps(Input=reader, Layer="conv1", ProbeImage=1)
    groups = simple.FilterGroups(Input=reader, Layer="conv1")
    outline_matches_cells(maps, 0, 2)
    outline_matches_cells(groups, 1, 3)
    write_synthetic_run(str(tmp_path / "atlas.tvz"), steps=25, every=10, atlas=True)
    atlas_reader = simple.TensorVizReader(FileName=str(tmp_path / "atlas.tvz"))
    atlas = simple.FilterAtlas(Input=atlas_reader, Layer="conv1")
    outline_matches_cells(atlas, 0, 1)
    simple.Delete(atlas)
    simple.Delete(atlas_reader)
    maps.Highlight = 99  # no such filter: nothing outlined, no error
    outline = fetch(maps, 2, 20.0)
    assert outline.GetNumberOfPoints() == 0 and int(field(outline, "highlight")[0]) == -1
    for proxy in (maps, groups):
        simple.Delete(proxy)


def test_a_highlighted_filter_that_is_not_drawn_makes_an_empty_outline(reader):
    """Weight Glyphs of filters 0-1 with filter 3 highlighted: no outline, and its points are
    still 3-D (an empty list once became a one-component array that VTK refused, loudly)."""
    from vtkmodules.vtkCommonCore import vtkOutputWindow, vtkStringOutputWindow
    said, before = vtkStringOutputWindow(), vtkOutputWindow.GetInstance()
    vtkOutputWindow.SetInstance(said)
    try:
        glyphs = simple.WeightGlyphs(Input=reader, Layer="conv1", Filters="0-1", Highlight=3)
        outline = fetch(glyphs, 2, 20.0)
    finally:
        vtkOutputWindow.SetInstance(before)
    assert "can't set data" not in said.GetOutput()
    assert outline.GetNumberOfPoints() == 0
    assert int(field(outline, "highlight")[0]) == 3
    simple.Delete(glyphs)


def test_the_reduction_overview_of_a_run_without_reduction_is_its_start(reader):
    overview = simple.ReductionOverview(Input=reader)
    table, image = fetch(overview, 0, 0.0), fetch(overview, 1)
    assert column(table, "step").tolist() == [1]  # its first step: the only stage
    assert column(table, "conv1 filters").tolist() == [4]  # the synthetic run's conv1
    assert table.GetNumberOfColumns() == 2  # fc1 is no conv layer
    assert vtk_to_numpy(image.GetCellData().GetArray("share")).tolist() == [1.0]
    simple.Delete(overview)
