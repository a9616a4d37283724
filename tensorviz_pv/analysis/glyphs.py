"""Weight-height boxes (the poster's Fig. 2) as vectorized numpy geometry.

A layer's weights become tiles: one tile per (filter, input channel), kh x kw weights each. The
filters are laid out in a near-square grid, and each filter's input channels in a near-square
grid inside its block, so the first conv layer looks like the poster's 16 blocks of 3x3 boxes.
A Conv1D filter's channels are 1 x k rows; a Conv3D filter has one kh x kw tile per (input
channel, depth slice); a dense unit one near-square tile of its inputs; a vector one box each.
"""

import numpy as np

from .grid import near_square_grid
from .kernels import canonical, check_rank

BOX_FOOTPRINT = 0.8   # box width, in units of the weight spacing: a gap shows between boxes
CHANNEL_GAP = 0.5     # space between the input-channel tiles of one filter
FILTER_GAP = 1.5      # space between filter blocks

# face corner indices into a box's 8 corners (bottom 0-3, top 4-7), outward-facing
_BOX_FACES = np.array([[0, 3, 2, 1], [4, 5, 6, 7], [0, 1, 5, 4],
                       [1, 2, 6, 5], [2, 3, 7, 6], [3, 0, 4, 7]], dtype=np.int64)
_CORNER_SIGNS = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]] * 2, dtype=np.float64)
FACES_PER_BOX = len(_BOX_FACES)


def weight_tiles(tensor, layout):
    """(filters, channels, rows, cols) view of a layer tensor of that layout (analysis/kernels.py),
    NaN where a tile is padded."""
    check_rank(tensor, layout)
    tensor = canonical(tensor, layout)
    if tensor.ndim == 1:
        return tensor.reshape(-1, 1, 1, 1)
    if tensor.ndim == 2:
        n_in, n_out = tensor.shape
        cols, rows = near_square_grid(n_in)
        padded = np.full((n_out, rows * cols), np.nan, dtype=np.float64)
        padded[:, :n_in] = tensor.T
        return padded.reshape(n_out, 1, rows, cols)
    if tensor.ndim == 3:  # (k, in, out): a row of k per input channel
        return np.transpose(tensor, (2, 1, 0))[:, :, None, :]
    if tensor.ndim == 4:  # (kh, kw, in, out)
        return np.transpose(tensor, (3, 2, 0, 1))
    kd, kh, kw, n_in, n_out = tensor.shape  # a kh x kw tile per (input channel, depth slice)
    return np.transpose(tensor, (4, 3, 0, 1, 2)).reshape(n_out, n_in * kd, kh, kw)


def block_height(n_channels, rows):
    """How far a filter block extends below its top-left weight."""
    _, ch_rows = near_square_grid(n_channels)
    return ch_rows * rows + (ch_rows - 1) * CHANNEL_GAP - 1


def _blocks(n_filters, n_channels, rows, cols):
    """(filter columns, block width, block height) of the filter grid."""
    ch_cols, ch_rows = near_square_grid(n_channels)
    f_cols, _ = near_square_grid(n_filters)
    return (f_cols, ch_cols * cols + (ch_cols - 1) * CHANNEL_GAP,
            ch_rows * rows + (ch_rows - 1) * CHANNEL_GAP)


def filter_corners(n_filters, n_channels, rows, cols):
    """(x, y) of each filter block's top-left weight (the block spans `block_height` below)."""
    f_cols, block_w, block_h = _blocks(n_filters, n_channels, rows, cols)
    f = np.arange(n_filters)
    return (f % f_cols) * (block_w + FILTER_GAP), -(f // f_cols) * (block_h + FILTER_GAP)


LABEL_HEIGHT = 0.5      # a filter number in the gap left of its block: what the gap holds
LEGIBLE_SHARE = 0.028   # a label reads at this share of the grid's width or more
CHAR_WIDTH = 0.85       # vector text's advance per character, in units of its height


def filter_labels(n_filters, n_channels, rows, cols, shown, place):
    """The filter numbers of a glyph grid: (texts, x, y, height), each text's left end at x and
    its middle at y. Each shown filter's number (filter f at block place[f]) in the gap left of
    its block where it reads there (a few small blocks); else, filters in their own order, the
    range of each row of blocks ("6-11") left of the grid, as tall as reads; in another order
    each filter's number still, as tall as the gap holds."""
    f_cols, block_w, block_h = _blocks(n_filters, n_channels, rows, cols)
    xs, ys = filter_corners(n_filters, n_channels, rows, cols)
    middle = block_height(n_channels, rows) / 2
    legible = LEGIBLE_SHARE * f_cols * (block_w + FILTER_GAP)
    in_order = np.array_equal(place, np.arange(n_filters))
    if legible <= 1.1 * LABEL_HEIGHT or not in_order:
        blocks = np.asarray(place, dtype=np.int64)[list(shown)]
        return ([str(f) for f in shown], xs[blocks] - 1.25, ys[blocks] - middle, LABEL_HEIGHT)
    height = min(1.25 * legible, 0.8 * (block_h + FILTER_GAP))  # room enough: a bit more
    firsts = np.arange(0, n_filters, f_cols)
    texts = [f"{first}-{min(first + f_cols, n_filters) - 1}" if f_cols > 1 else str(first)
             for first in firsts]
    widths = np.array([len(text) for text in texts]) * CHAR_WIDTH * height
    left = -BOX_FOOTPRINT / 2 - 0.4 * height  # clear of the first column's boxes
    return texts, left - widths, ys[firsts] - middle, height


def filter_outline(f, n_filters, n_channels, rows, cols):
    """(x0, x1, y0, y1) of a rectangle around filter f's block, halfway into the gaps."""
    _, block_w, block_h = _blocks(n_filters, n_channels, rows, cols)
    xs, ys = filter_corners(n_filters, n_channels, rows, cols)
    margin = FILTER_GAP / 2  # box centres sit on the weight positions: half a box overhangs
    return (xs[f] - margin, xs[f] + block_w - 1 + margin, ys[f] - block_h + 1 - margin,
            ys[f] + margin)


def tile_layout(n_filters, n_channels, rows, cols):
    """x, y of every weight in (filter, channel, row, col) order; filter 0 at the top left."""
    ch_cols, _ = near_square_grid(n_channels)
    f_cols, block_w, block_h = _blocks(n_filters, n_channels, rows, cols)
    # one term per axis, broadcast: no (filters, channels, rows, cols) index grids
    f = np.arange(n_filters, dtype=np.float64)[:, None, None, None]
    c = np.arange(n_channels, dtype=np.float64)[None, :, None, None]
    i = np.arange(rows, dtype=np.float64)[None, None, :, None]
    j = np.arange(cols, dtype=np.float64)[None, None, None, :]
    shape = (n_filters, n_channels, rows, cols)
    x = (f % f_cols) * (block_w + FILTER_GAP) + (c % ch_cols) * (cols + CHANNEL_GAP) + j
    y = (f // f_cols) * (block_h + FILTER_GAP) + (c // ch_cols) * (rows + CHANNEL_GAP) + i
    return np.broadcast_to(x, shape), -np.broadcast_to(y, shape)


class BoxGeometry:
    """Boxes, one per kept weight: their corners (8 per box) and faces (6 quads per box) are
    written by fill_points / fill_faces into arrays the caller owns (VTK's memory, so that
    a 1.6-million-box layer is built once, without copies)."""

    def __init__(self, x, y, values, height_scale, box_filter, box_channel, kept):
        self.x, self.y, self.box_values = x, y, values
        self.height_scale = height_scale
        self.box_filter, self.box_channel = box_filter, box_channel
        self.kept = kept  # mask over weight_tiles(...): which weights have a box

    @property
    def n_boxes(self):
        return len(self.box_values)

    def fill_points(self, out):
        """out: (8 n, 3) float32."""
        corners = out.reshape(-1, 8, 3)
        half = BOX_FOOTPRINT / 2.0
        corners[:, :, 0] = self.x[:, None] + half * _CORNER_SIGNS[None, :, 0]
        corners[:, :, 1] = self.y[:, None] + half * _CORNER_SIGNS[None, :, 1]
        corners[:, :4, 2] = 0.0
        corners[:, 4:, 2] = (self.box_values * self.height_scale)[:, None]

    def fill_faces(self, out):
        """out: (6 n, 4) integer point ids."""
        np.add(_BOX_FACES[None, :, :], 8 * np.arange(self.n_boxes, dtype=out.dtype)[:, None, None],
               out=out.reshape(-1, FACES_PER_BOX, 4))

    @property
    def points(self):
        out = np.empty((8 * self.n_boxes, 3), dtype=np.float32)
        self.fill_points(out)
        return out

    @property
    def faces(self):
        out = np.empty((FACES_PER_BOX * self.n_boxes, 4), dtype=np.int64)
        self.fill_faces(out)
        return out

    def per_face(self, box_array):
        """Repeat a per-box array for each of the box's faces (VTK cell data)."""
        return np.repeat(box_array, FACES_PER_BOX, axis=0)


def weight_boxes(tensor, layout, height_scale=1.0, filters=None, order=None):
    """One box per weight, height along z = weight * height_scale, from z = 0.

    `filters` selects filter indices (None: all). `order` places filter order[i] at the grid's
    i-th block (None: filter i there); the boxes keep their own filter ids. NaN weights
    (padding of dense tiles, merged-away filters) make no box. `kept` is over the placed tiles.
    """
    tiles = weight_tiles(tensor, layout)
    n_filters, n_channels, rows, cols = tiles.shape
    if order is None:  # no copy of a 1.6 M-weight layer's tiles for the usual case
        order = np.arange(n_filters)
    else:
        order = np.asarray(order, dtype=np.int64)
        tiles = tiles[order]
    x, y = tile_layout(n_filters, n_channels, rows, cols)
    f_index = np.broadcast_to(order.astype(np.int32)[:, None, None, None], tiles.shape)
    c_index = np.broadcast_to(np.arange(n_channels, dtype=np.int32)[None, :, None, None], tiles.shape)
    keep = ~np.isnan(tiles)
    if filters is not None:
        chosen = np.zeros(n_filters, dtype=bool)
        chosen[np.asarray(filters, dtype=np.int64)] = True
        keep &= chosen[order][:, None, None, None]
    return BoxGeometry(x[keep].astype(np.float32), y[keep].astype(np.float32),
                       tiles[keep].astype(np.float64), height_scale,
                       f_index[keep], c_index[keep], keep)


# ParaView's "Cool to Warm" end points and centre: blue for negative, red for positive
_BLUE = np.array([59, 76, 192], dtype=np.float64)
_WHITE = np.array([221, 221, 221], dtype=np.float64)
_RED = np.array([180, 4, 38], dtype=np.float64)


def diverging_rgb(values, limit):
    """uint8 RGB on a blue-white-red map centred on 0, saturating at +-limit."""
    limit = float(limit) if limit and np.isfinite(limit) and limit > 0 else 1.0
    t = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64)) / limit, -1.0, 1.0)[:, None]
    rgb = np.where(t >= 0, _WHITE + t * (_RED - _WHITE), _WHITE - t * (_BLUE - _WHITE))
    return np.rint(rgb).astype(np.uint8)

