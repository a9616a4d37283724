"""Box geometry of Weight Glyphs against known weights (pure numpy)."""

import numpy as np
import pytest

from tensorviz_pv.analysis.glyphs import FACES_PER_BOX, diverging_rgb, weight_boxes, weight_tiles


def conv_kernel(kh=3, kw=3, cin=1, cout=16, seed=1):
    return np.random.default_rng(seed).normal(0, 0.2, (kh, kw, cin, cout)).astype(np.float32)


def test_one_box_per_weight_with_height_equal_to_weight():
    kernel = conv_kernel()
    boxes = weight_boxes(kernel, "conv")
    assert boxes.n_boxes == kernel.size == 144
    assert boxes.points.shape == (144 * 8, 3)
    assert boxes.faces.shape == (144 * FACES_PER_BOX, 4)
    corners = boxes.points.reshape(-1, 8, 3)
    np.testing.assert_allclose(corners[:, 4:, 2], np.repeat(boxes.box_values[:, None], 4, 1), rtol=1e-6)
    np.testing.assert_array_equal(corners[:, :4, 2], 0)
    # values are the kernel's, filter by filter: box i of filter f is kernel[..., f] row-major
    expected = np.transpose(kernel, (3, 2, 0, 1)).ravel()
    np.testing.assert_allclose(boxes.box_values, expected, rtol=1e-6)


def test_height_scale_multiplies_heights():
    kernel = conv_kernel()
    boxes = weight_boxes(kernel, "conv", height_scale=3.0)
    tops = boxes.points.reshape(-1, 8, 3)[:, 4, 2]
    np.testing.assert_allclose(tops, 3.0 * boxes.box_values, rtol=1e-6)


def test_sixteen_filters_make_a_four_by_four_grid_of_3x3_blocks():
    boxes = weight_boxes(conv_kernel(), "conv")
    centres = boxes.points.reshape(-1, 8, 3)[:, :4, :2].mean(axis=1)
    block_x = {f: np.unique(np.round(centres[boxes.box_filter == f, 0], 3)) for f in range(16)}
    block_y = {f: np.unique(np.round(centres[boxes.box_filter == f, 1], 3)) for f in range(16)}
    assert all(len(block_x[f]) == 3 and len(block_y[f]) == 3 for f in range(16))
    columns = sorted({block_x[f][0] for f in range(16)})
    rows = sorted({block_y[f][0] for f in range(16)})
    assert len(columns) == 4 and len(rows) == 4
    # filter 0 top left, filter 3 top right, filter 4 on the next row down
    assert block_x[0][0] == columns[0] and block_y[0][0] == rows[-1]
    assert block_x[3][0] == columns[-1] and block_y[4][0] == rows[-2]
    # boxes never overlap: footprints are narrower than the spacing
    width = np.ptp(boxes.points.reshape(-1, 8, 3)[0, :, 0])
    assert width < 1.0


def test_colour_sign_red_positive_blue_negative_white_zero():
    rgb = diverging_rgb(np.array([0.5, -0.5, 0.0, 2.0]), limit=0.5)
    red, blue, white, saturated = rgb.astype(int)
    assert red[0] > red[2] and red[0] > 150          # red channel dominates
    assert blue[2] > blue[0] and blue[2] > 150       # blue channel dominates
    assert white[0] == white[1] == white[2]
    assert (saturated == red).all()                  # beyond the limit saturates


def test_multi_channel_and_dense_layouts():
    kernel = conv_kernel(cin=16, cout=32)
    boxes = weight_boxes(kernel, "conv")
    assert boxes.n_boxes == kernel.size
    assert set(np.unique(boxes.box_channel)) == set(range(16))
    dense = np.random.default_rng(0).normal(size=(10, 3))
    tiles = weight_tiles(dense, "dense")
    assert tiles.shape == (3, 1, 3, 4)  # 10 inputs padded to a 3 x 4 tile
    assert np.isnan(tiles).sum() == 3 * 2
    boxes = weight_boxes(dense, "dense")
    assert boxes.n_boxes == 30
    np.testing.assert_allclose(np.sort(boxes.box_values), np.sort(dense.ravel()))


def test_filter_selection_keeps_only_those_filters():
    boxes = weight_boxes(conv_kernel(), "conv", filters=[2, 5])
    assert boxes.n_boxes == 18
    assert set(np.unique(boxes.box_filter)) == {2, 5}


def test_unknown_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="cannot lay out"):
        weight_tiles(np.zeros((2, 2)), "conv")


def test_every_kernel_layout_becomes_filter_channel_tiles():
    rng = np.random.default_rng(0)
    conv1d = rng.random((5, 3, 4))  # (k, in, out)
    tiles = weight_tiles(conv1d, "conv")
    assert tiles.shape == (4, 3, 1, 5)
    np.testing.assert_array_equal(tiles[2, 1, 0], conv1d[:, 1, 2])
    conv3d = rng.random((2, 3, 3, 2, 4))  # (kd, kh, kw, in, out): a tile per (channel, depth)
    tiles = weight_tiles(conv3d, "conv")
    assert tiles.shape == (4, 2 * 2, 3, 3)
    np.testing.assert_array_equal(tiles[3, 1 * 2 + 1], conv3d[1, :, :, 1, 3])
    transpose = rng.random((3, 3, 6, 2))  # (kh, kw, out, in)
    np.testing.assert_array_equal(weight_tiles(transpose, "transpose")[5, 1], transpose[:, :, 5, 1])
    depthwise = rng.random((3, 3, 4, 2))  # (kh, kw, in, multiplier): filter i * 2 + m sees i
    tiles = weight_tiles(depthwise, "depthwise")
    assert tiles.shape == (8, 1, 3, 3)
    np.testing.assert_array_equal(tiles[3 * 2 + 1, 0], depthwise[:, :, 3, 1])
    boxes = weight_boxes(conv3d, "conv")
    assert boxes.n_boxes == conv3d.size
    np.testing.assert_array_equal(np.sort(boxes.box_values), np.sort(conv3d.ravel()))
