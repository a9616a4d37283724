"""Activation maps laid out as one image: each filter's map a tile of a near-square grid."""

import numpy as np

from .grid import near_square_grid

GAP = 1  # pixels between tiles, NaN (shown as the background)


def tiled_shape(count, height, width, gap=GAP):
    """(rows, cols) in pixels of the image that tile_maps makes of `count` maps."""
    cols, rows = near_square_grid(count)
    return rows * (height + gap) - gap, cols * (width + gap) - gap


def tile_maps(maps, gap=GAP):
    """maps (C, H, W) -> image (rows*(H+gap)-gap, cols*(W+gap)-gap), row 0 at the top, NaN
    between tiles; and the (row, col) offset of each tile."""
    maps = np.asarray(maps, dtype=np.float32)
    count, height, width = maps.shape
    cols, _ = near_square_grid(count)
    image = np.full(tiled_shape(count, height, width, gap), np.nan, np.float32)
    offsets = []
    for c in range(count):  # one copy per filter (tens), each a vectorized block
        r0, c0 = (c // cols) * (height + gap), (c % cols) * (width + gap)
        image[r0:r0 + height, c0:c0 + width] = maps[c]
        offsets.append((r0, c0))
    return image, offsets
