"""Activation maps laid out as one image: each filter's map a tile of a near-square grid.

A 2-D layer's map is H x W; a 1-D layer's map is a 1 x L strip, and the strips are stacked one
filter per row with no gap (a filter x position image); a 3-D layer's map is its depth slices
side by side, one NaN column apart."""

import numpy as np

from .grid import near_square_grid

GAP = 1  # pixels between tiles, NaN (shown as the background)


def depth_slices(volumes, stacked=False):
    """Volumes (..., D, H, W) -> pictures of their depth slices GAP NaN pixels apart: side by
    side (..., H, D * (W + GAP) - GAP), as a 3-D map is drawn, or `stacked` top to bottom
    (..., D * (H + GAP) - GAP, W), as a 3-D atlas patch is (its row of patches runs across)."""
    volumes = np.asarray(volumes, dtype=np.float32)
    *lead, depth, height, width = volumes.shape
    if stacked:
        tall = np.full((*lead, depth, height + GAP, width), np.nan, np.float32)
        tall[..., :height, :] = volumes
        return tall.reshape(*lead, depth * (height + GAP), width)[..., :-GAP, :]
    wide = np.full((*lead, height, depth, width + GAP), np.nan, np.float32)
    wide[..., :width] = np.swapaxes(volumes, -3, -2)
    return wide.reshape(*lead, height, depth * (width + GAP))[..., :-GAP]


def slices_shape(depth, height, width, stacked=False):
    """(H, W) of the picture depth_slices makes of a D x H x W volume."""
    if stacked:
        return depth * (height + GAP) - GAP, width
    return height, depth * (width + GAP) - GAP


def filter_maps(activation):
    """One image's activation (positions..., C) -> (C, H, W) maps, one per filter."""
    activation = np.asarray(activation, dtype=np.float32)
    maps = np.moveaxis(activation, -1, 0)
    if maps.ndim == 2:  # (C, L)
        return maps[:, None, :]
    if maps.ndim == 4:  # (C, D, H, W) -> (C, H, D * (W + 1) - 1)
        return depth_slices(maps)
    return maps


def map_shape(activation_shape):
    """(C, H, W) of filter_maps for one image's activation of shape (positions..., C)."""
    *positions, count = activation_shape
    if len(positions) == 1:
        return count, 1, positions[0]
    if len(positions) == 3:
        return (count,) + slices_shape(*positions)
    return count, positions[0], positions[1]


def _grid(count, height):
    """(columns, gap) of the tile grid: strips (height 1) in one column with no gap."""
    return (1, 0) if height == 1 else (near_square_grid(count)[0], GAP)


def tiled_shape(count, height, width):
    """(rows, cols) in pixels of the image that tile_maps makes of `count` maps."""
    cols, gap = _grid(count, height)
    rows = -(-count // cols)
    return rows * (height + gap) - gap, cols * (width + gap) - gap


def tile_maps(maps):
    """maps (C, H, W) -> image, row 0 at the top, NaN between tiles; and the (row, col) offset
    of each tile."""
    maps = np.asarray(maps, dtype=np.float32)
    count, height, width = maps.shape
    cols, gap = _grid(count, height)
    image = np.full(tiled_shape(count, height, width), np.nan, np.float32)
    offsets = []
    for c in range(count):  # one copy per filter (tens), each a vectorized block
        r0, c0 = (c // cols) * (height + gap), (c % cols) * (width + gap)
        image[r0:r0 + height, c0:c0 + width] = maps[c]
        offsets.append((r0, c0))
    return image, offsets


STRIP_ASPECT = 0.5  # a 1-D layer's filter x position image drawn at least this tall for its width


def strip_stretch(rows, cols, aspect=STRIP_ASPECT):
    """How many times as tall to draw the rows of an image of filter strips (a 1-D layer's
    maps, one filter per row of pixels) for it to be at least `aspect` x as tall as it is wide:
    a thin strip (8 filters x 124 positions) reads no better than a line."""
    return max(1.0, aspect * cols / max(rows, 1))
