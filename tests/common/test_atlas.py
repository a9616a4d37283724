"""The Filter Atlas's numpy side: ranking, receptive-field boxes, patches and the grid."""

import numpy as np
import pytest

from tensorviz_pv.analysis.atlas import (GAP, IMAGE, LEAST_PATCH, POSITION, RESPONSE, atlas_grid,
                                         atlas_layout, cut_patch, field_box, patch_shape,
                                         response_image, top_responses)


def test_top_responses_rank_each_filter_by_its_strongest_response():
    rng = np.random.default_rng(0)
    strongest = rng.normal(size=(20, 5))
    strongest[3, 1] = np.nan  # a non-finite response ranks last
    positions = rng.integers(0, 49, size=(20, 5))
    atlas = top_responses(strongest, positions, 4)
    assert atlas.shape == (3, 4, 5)
    for f in range(5):
        order = sorted(range(20), key=lambda i: -strongest[i, f] if np.isfinite(strongest[i, f])
                       else np.inf)[:4]
        np.testing.assert_array_equal(atlas[IMAGE, :, f], order)
        np.testing.assert_allclose(atlas[RESPONSE, :, f], strongest[order, f], rtol=1e-6)
        np.testing.assert_array_equal(atlas[POSITION, :, f], positions[order, f])
    assert top_responses(strongest[:3], positions[:3], 8).shape == (3, 3, 5)  # k at most N


def test_a_field_box_follows_the_position_and_widens_a_small_field_around_its_centre():
    field = {"origin": [-4.0, -4.0], "stride": [2.0, 2.0], "size": [10, 10]}
    assert field_box(field, 7 * 14 + 5, (14, 14)) == [(10, 20), (6, 16)]  # row 7, column 5
    small = {"origin": [-1.0, -1.0], "stride": [1.0, 1.0], "size": [3, 3]}
    (top, bottom), (left, right) = field_box(small, 0, (28, 28))
    assert bottom - top == right - left == LEAST_PATCH and (top + bottom) / 2 == 0.5  # centred
    assert patch_shape(small, (28, 28, 1)) == (LEAST_PATCH, LEAST_PATCH)
    assert patch_shape(None, (28, 28, 1)) == (28, 28)
    assert patch_shape({"origin": [0.0], "stride": [1.0], "size": [20]}, (100, 2)) == (1, 20)


def test_a_patch_is_the_image_inside_the_box_and_nan_beyond_its_edge():
    image = np.arange(6 * 5 * 2, dtype=np.float32).reshape(6, 5, 2)
    patch = cut_patch(image, [(-2, 3), (3, 7)])
    assert patch.shape == (5, 4, 2)
    np.testing.assert_array_equal(patch[2:, :2], image[0:3, 3:5])
    assert np.isnan(patch[:2]).all() and np.isnan(patch[:, 2:]).all()
    assert np.isnan(cut_patch(image, [(10, 12), (0, 2)])).all()  # wholly outside


def test_the_grid_holds_each_filters_patches_strongest_first_and_leaves_a_merged_row_empty():
    images = np.random.default_rng(1).random((6, 4, 4, 1)).astype(np.float32)
    atlas = np.full((3, 2, 3), np.nan, np.float32)
    atlas[IMAGE, :, 0], atlas[RESPONSE, :, 0] = [5, 2], [0.9, 0.4]
    atlas[IMAGE, :, 2], atlas[RESPONSE, :, 2] = [1, 0], [0.7, 0.1]  # filter 1 merged away
    atlas[POSITION] = 0
    grid, responses, corners = atlas_grid(images, atlas, None, (4, 4), [0, 1, 2], 2, blocks=1)
    assert grid.shape == (3 * (4 + GAP) - GAP, 2 * (4 + GAP) - GAP, 1)
    assert corners == [(0, 0), (5, 0), (10, 0)]
    np.testing.assert_array_equal(grid[0:4, 0:4], images[5])
    np.testing.assert_array_equal(grid[0:4, 5:9], images[2])
    np.testing.assert_array_equal(grid[10:14, 0:4], images[1])
    assert np.isnan(grid[5:9]).all() and np.isnan(grid[4]).all()
    np.testing.assert_allclose(responses, [[0.9, 0.4], [np.nan, np.nan], [0.7, 0.1]])
    drawn = response_image(grid.shape[:2], corners, responses, (4, 4))
    assert (drawn[0:4, 5:9] == np.float32(0.4)).all() and np.isnan(drawn[4]).all()


def test_many_filters_fold_into_blocks_about_as_wide_as_tall():
    size, corners = atlas_layout(32, 8, (8, 8))
    assert corners[16][0] == 0 and corners[16][1] > corners[15][1]  # a second block
    assert 0.5 < size[0] / size[1] < 2
    assert atlas_layout(4, 8, (8, 8))[1] == [(0, 0), (9, 0), (18, 0), (27, 0)]


@pytest.mark.parametrize("rows", [1, 5, 33])
def test_every_row_fits_inside_the_grid(rows):
    (height, width), corners = atlas_layout(rows, 3, (5, 7))
    for top, left in corners:
        assert top + 5 <= height and left + 3 * 8 - 1 <= width


def test_a_dead_filters_zero_responses_draw_no_patch():
    images = np.random.default_rng(2).random((4, 4, 4, 1)).astype(np.float32)
    atlas = np.zeros((3, 2, 2), np.float32)  # filter 0 dead: every response 0
    atlas[IMAGE, :, 0], atlas[IMAGE, :, 1] = [0, 1], [3, 2]
    atlas[RESPONSE, :, 1] = [0.5, 0.0]  # filter 1 responds to image 3 only
    grid, responses, corners = atlas_grid(images, atlas, None, (4, 4), [0, 1], 2, blocks=1)
    assert np.isnan(grid[0:4]).all()
    np.testing.assert_array_equal(grid[5:9, 0:4], images[3])
    assert np.isnan(grid[5:9, 5:9]).all()
    np.testing.assert_allclose(responses, [[np.nan, np.nan], [0.5, np.nan]])


def test_a_volume_patch_is_drawn_as_its_depth_slices_one_above_the_other():
    """Conv3D: each patch a column of depth slices, GAP apart, the row of patches across."""
    rng = np.random.default_rng(1)
    images = rng.random((3, 4, 6, 5, 1), dtype=np.float32)  # 3 volumes of depth 4, 6 x 5
    atlas = np.zeros((3, 2, 1), dtype=np.float32)  # filter 0: volumes 2 then 0, both at 0
    atlas[IMAGE, :, 0], atlas[RESPONSE, :, 0] = [2, 0], [2.0, 1.0]
    grid, responses, corners = atlas_grid(images, atlas, None, (4, 6, 5), [0], 2)
    height, width = patch_shape(None, images.shape[1:])
    assert (height, width) == (4 * (6 + GAP) - GAP, 5)
    assert grid.shape == (height, 2 * (width + GAP) - GAP, 1) and corners == [(0, 0)]
    for rank, volume in enumerate([2, 0]):
        left = rank * (width + GAP)
        for depth in range(4):
            top = depth * (6 + GAP)
            np.testing.assert_array_equal(grid[top:top + 6, left:left + 5], images[volume, depth])
            if depth < 3:  # a NaN row between slices
                assert np.isnan(grid[top + 6, left:left + 5]).all()
    np.testing.assert_array_equal(responses, [[2.0, 1.0]])
    field = {"origin": [0.0, 0.0, 0.0], "stride": [1.0, 1.0, 1.0], "size": [2, 9, 9]}
    assert patch_shape(field, images.shape[1:]) == (LEAST_PATCH * (9 + GAP) - GAP, 9)
    grid, _, _ = atlas_grid(images, atlas, field, (4, 6, 5), [0], 1)
    assert grid.shape == (LEAST_PATCH * 10 - 1, 9, 1) and np.isfinite(grid).any()


def test_a_field_on_other_axes_than_the_images_gives_whole_images():
    from tensorviz_pv.analysis.atlas import usable_field
    one_axis = {"origin": [-3.0], "stride": [0.33], "size": [6]}  # a Conv1D after a Reshape
    assert usable_field(one_axis, (16, 16, 2)) is None
    assert usable_field(one_axis, (40, 2)) is one_axis and usable_field(None, (40, 2)) is None
