"""Filter Atlas: what excites each filter at the current step. A row per filter of the k atlas
images with its strongest responses, strongest at the left, each cut to the receptive field of
the position where the filter peaked (or whole); scrubbing the time shows a filter turn from
noise into an edge or stroke detector, and two filters that Filter Groups merges look alike."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkTable

from ..analysis.atlas import (IMAGE, POSITION, RESPONSE, atlas_grid, atlas_layout, patch_shape,
                              response_image, row_width, usable_field)
from ..analysis.selection import parse_filter_list
from ..errors import SettingError, StoreError
from ..store import format as F
from .convert import add_field, add_image_array, set_image, vtk_array
from .highlight import FilterView, block_filter_ids, pixel_box

MOST_FILTERS = 64  # rows when Filters is "all" (a 512-filter layer's atlas would not read)


def check_atlas(path, layer, step, atlas, images, positions):
    """StoreError unless every image index and position of a stored atlas exists (a damaged
    store must not take ParaView down)."""
    for row, count, what in ((IMAGE, images, "atlas image"), (POSITION, positions, "position")):
        values = atlas[row][np.isfinite(atlas[row])]
        if values.size and (values.min() < 0 or values.max() >= count):
            raise StoreError(f"{path}: {layer}'s Filter Atlas at step {step} names {what} "
                             f"{int(values.max())} of {count}: the store is damaged")


class FilterAtlas(FilterView):
    """Port 0: the atlas image, cell arrays `pixel` (the image's mean over its channels), `rgb`
    (three-channel images, 0-255) and `response` (each patch's response, NaN between them);
    field data snapshot_step, filters (the filter of each row), row_corners (its top and left
    pixel), patch_shape, k, atlas_range. Port 1: a table with a row per
    filter and rank: filter, rank, image, label, response, position (flat index in the map).
    Port 0 also has `filter` (each row's, -1 between rows); port 2 outlines the highlighted
    filter's row."""

    def shows_layer(self, entry):
        return F.layer_kind(entry).spatial and "activation_shape" in entry

    def __init__(self):
        FilterView.__init__(self, "vtkImageData", "vtkTable")
        self._top = 8
        self._filters = "all"
        self._whole = 0

    def SetTop(self, k):
        self.set_value("_top", max(1, int(k)))

    def SetFilters(self, text):
        self.set_value("_filters", str(text))

    def SetWholeImages(self, whole):
        self.set_value("_whole", int(bool(whole)))

    def _layout(self, run, layer):
        """(the rows' filters, k, the receptive field or None, the atlas images' shape)."""
        entry = run.layer_info(layer)
        if not run.has_series(layer, F.ATLAS):
            raise StoreError(f"{run.path}: no Filter Atlas was recorded for {layer} (a run "
                             "recorded before TensorViz recorded atlases, or with atlas_size=0)")
        shape = run.file[F.atlas_path(F.ATLAS_IMAGES)].shape
        stored_k, count = run.file[F.series_path(layer, F.ATLAS, F.SERIES_VALUE)].shape[2:4]
        filters = parse_filter_list(self._filters, count)
        filters = list(range(min(count, MOST_FILTERS))) if filters is None else filters
        field = None if self._whole else usable_field(entry.get("receptive_field"), shape[1:])
        if len(shape) > 5:
            raise SettingError(f"{run.path}: the Filter Atlas draws 1-D, 2-D and 3-D inputs; "
                               f"this run's are {len(shape) - 2}-D")
        return filters, min(self._top, stored_k), field, shape

    def image_shapes(self, run):
        filters, k, field, shape = self._layout(run, self.current_layer(run))
        return {0: atlas_layout(len(filters), k, patch_shape(field, shape[1:]))[0]}

    def produce(self, run, outputs):
        layer = self.current_layer(run)
        filters, k, field, _ = self._layout(run, layer)
        steps = run.snapshot_steps(layer, F.ATLAS)
        step, atlas = run.tensor_at(layer, F.ATLAS, self.requested_step(outputs, steps))
        images, labels = run.atlas()
        positions = run.layer_info(layer)["activation_shape"][:-1]
        check_atlas(run.path, layer, step, atlas, len(images), int(np.prod(positions)))
        grid, responses, corners = atlas_grid(images, atlas, field, positions, filters, k)
        picture = vtkImageData.GetData(outputs, 0)
        set_image(picture, grid.mean(axis=-1), "pixel")
        if grid.shape[-1] == 3:  # colour images as they are, on the atlas's range
            low, high = float(np.nanmin(images)), float(np.nanmax(images))
            scaled = (np.nan_to_num(grid, nan=high) - low) / ((high - low) or 1.0)
            add_image_array(picture, "rgb", np.clip(np.rint(scaled * 255), 0, 255).astype(np.uint8))
        patch = patch_shape(field, images.shape[1:])
        add_image_array(picture, "response", response_image(grid.shape[:2], corners, responses, patch))
        blocks = {f: tuple(corner) + (patch[0], row_width(k, patch))
                  for f, corner in zip(filters, corners)}
        add_image_array(picture, "filter", block_filter_ids(grid.shape[:2], blocks))
        picture.GetCellData().SetActiveScalars("pixel")
        self.outline_filter(outputs, run.layer_info(layer)["filters"],
                            lambda f: [pixel_box(*blocks[f])] if f in blocks else [])
        for key, value in (("snapshot_step", np.int64(step)), ("k", np.int64(k)),
                           ("filters", np.asarray(filters, dtype=np.int64)),
                           ("row_corners", np.asarray(corners, dtype=np.int64)),
                           ("patch_shape", np.asarray(patch, dtype=np.int64)),
                           ("atlas_range", np.array([np.nanmin(images), np.nanmax(images)]))):
            add_field(picture, key, value)
        table = vtkTable.GetData(outputs, 1)
        rows = [(f, rank) for f in filters for rank in range(k)]
        chosen = np.array([atlas[:, rank, f] for f, rank in rows]).reshape(-1, 3)
        image_index = np.nan_to_num(chosen[:, IMAGE], nan=-1).astype(np.int64)
        for name, values in (("filter", [f for f, _ in rows]), ("rank", [r + 1 for _, r in rows]),
                             ("image", image_index),
                             ("label", np.where(image_index >= 0, labels[image_index.clip(0)], -1)),
                             ("response", chosen[:, RESPONSE]),
                             ("position", np.nan_to_num(chosen[:, POSITION], nan=-1).astype(np.int64))):
            table.AddColumn(vtk_array(name, np.asarray(values)))
        add_field(table, "snapshot_step", np.int64(step))
