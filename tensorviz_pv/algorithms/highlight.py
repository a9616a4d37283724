"""The filter a user picked, outlined in every view that draws filters one by one: Weight
Glyphs, Activation Maps, Filter Correlation, Filter Groups, Filter Health and Filter Atlas share
the Highlight property (a filter id, the same in every view: filter reduction keeps the original
ids) and their last output port, the outline of that filter's cells. The dashboard links the property across its
views, and a click on a filter's cells sets it (figures/picking.py)."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkPolyData

from .base import TensorVizView
from .convert import add_field, set_cells

OUTLINE_Z = 0.05  # above an image's plane, so the outline is not hidden in it
NO_FILTER = -1


class FilterView(TensorVizView):
    """A view of a layer's filters with a Highlight output port after its own ones."""

    def __init__(self, *output_types):
        TensorVizView.__init__(self, *output_types, "vtkPolyData")
        self._highlight = NO_FILTER

    def SetHighlight(self, index):
        self.set_value("_highlight", int(index))

    def outline_filter(self, outputs, n_filters, rectangles):
        """Outline the highlighted filter (when it is one of n_filters): `rectangles(f)` gives
        its [(x0, x1, y0, y1)] in the view's coordinates."""
        output = vtkPolyData.GetData(outputs, len(self._output_types) - 1)
        chosen = self._highlight if 0 <= self._highlight < n_filters else NO_FILTER
        if chosen != NO_FILTER:
            shapes = list(rectangles(chosen))
            points = [(x, y, OUTLINE_Z) for x0, x1, y0, y1 in shapes
                      for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
            set_cells(output, np.array(points), [[4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3, 4 * i]
                                                 for i in range(len(shapes))])
        add_field(output, "highlight", np.int64(chosen))


def pixel_box(top, left, rows, cols):
    """(x0, x1, y0, y1) of a block of pixels of a set_image picture, (top, left) its first."""
    return (float(left), float(left + cols), -float(top + rows), -float(top))


def image_row(f, cols):
    """Row f of a picture that is `cols` pixels wide."""
    return pixel_box(f, 0, 1, cols)


def image_column(f, rows):
    """Column f of a picture that is `rows` pixels high."""
    return pixel_box(0, f, rows, 1)


def filter_ids(shape, axis):
    """An int32 image of `shape` whose pixels hold their filter's id, filters along `axis`
    (0: rows, 1: columns): what a click on the picture picks (figures/picking.py)."""
    ids = np.arange(shape[axis], dtype=np.int32)
    return np.broadcast_to(ids[:, None] if axis == 0 else ids[None, :], shape)


def block_filter_ids(shape, blocks):
    """filter_ids for a picture of blocks, {filter: (top, left, rows, cols)}; -1 between them."""
    ids = np.full(shape, NO_FILTER, dtype=np.int32)
    for f, (top, left, rows, cols) in blocks.items():
        ids[top:top + rows, left:left + cols] = f
    return ids
