"""The near-square grid that every tiled layout uses (activation tiles, filter blocks, the
input channels of a filter, a dense unit's weights)."""

import math


def near_square_grid(count):
    """(columns, rows) of the smallest near-square grid holding `count` cells, filled row by row."""
    cols = max(1, int(math.ceil(math.sqrt(count))))
    return cols, int(math.ceil(count / cols))
