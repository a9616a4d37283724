"""Activation Maps: every filter's activation map for one probe image at the current step,
tiled in a grid (the poster's Fig. 4), with the input image beside it (output port 1)."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkImageData

from ..analysis.ranges import value_range
from ..analysis.tiles import filter_maps, map_shape, tile_maps, tiled_shape
from ..errors import SettingError
from ..store import format as F
from .convert import add_field, add_image_array, set_image
from .highlight import FilterView, block_filter_ids, pixel_box

INPUT_GAP = 4  # pixels between the input image and the tiles


def probe_picture(image):
    """A probe input as a 2-D picture: a 2-D image in gray (the mean of its channels); a 1-D
    signal one channel per row; a volume its depth slices side by side."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 3:
        return image.mean(axis=-1)
    return tile_maps(filter_maps(image))[0]


class ActivationMaps(FilterView):
    """Port 0: the tiles (`activation`, and `filter`: each tile's, -1 between tiles); port 1:
    the probe image; port 2: the highlighted filter's tile outlined."""

    def shows_layer(self, entry):
        """The convolutions whose probe activations were recorded."""
        return F.layer_kind(entry).spatial and "activation_shape" in entry

    def __init__(self):
        FilterView.__init__(self, "vtkImageData", "vtkImageData")
        self._probe_image = 0
        self._ranges = {}

    def SetProbeImage(self, index):
        self.set_value("_probe_image", int(index))

    def image_shapes(self, run):
        entry = run.layer_info(self.current_layer(run))
        if "activation_shape" not in entry:
            return {}  # RequestData says why
        images, _ = run.probe()
        return {0: tiled_shape(*map_shape(entry["activation_shape"])),
                1: probe_picture(images[0]).shape}

    def produce(self, run, outputs):
        layer = self.current_layer(run)
        steps = run.snapshot_steps(layer, F.ACTIVATION)
        step, activation = run.tensor_at(layer, F.ACTIVATION, self.requested_step(outputs, steps))
        images, labels = run.probe()
        if not 0 <= self._probe_image < len(images):
            raise SettingError(f"{run.path}: ProbeImage {self._probe_image} does not exist "
                               f"(0-{len(images) - 1})")
        maps = filter_maps(activation[self._probe_image])
        tiled, offsets = tile_maps(maps)
        tiles = vtkImageData.GetData(outputs, 0)
        set_image(tiles, tiled, "activation")
        blocks = {f: (top, left) + maps.shape[1:] for f, (top, left) in enumerate(offsets)}
        add_image_array(tiles, "filter", block_filter_ids(tiled.shape, blocks))
        tiles.GetCellData().SetActiveScalars("activation")
        self.outline_filter(outputs, len(maps), lambda f: [pixel_box(*blocks[f])])
        add_field(tiles, "snapshot_step", np.int64(step))
        add_field(tiles, "merged_filters",  # merged away: NaN maps, blank tiles
                  np.int64(np.isnan(maps.reshape(len(maps), -1)).all(axis=1).sum()))
        key = (run.path, layer, len(steps))
        if key not in self._ranges:  # over every snapshot: colours compare, none saturates
            self._ranges = {key: value_range(run.series_value(layer, F.ACTIVATION, i)
                                             for i in range(len(steps)))}
        add_field(tiles, "activation_range", np.array(self._ranges[key]))
        add_field(tiles, "label", np.int64(labels[self._probe_image]))
        picture = probe_picture(images[self._probe_image])
        source = vtkImageData.GetData(outputs, 1)
        set_image(source, picture, "input",
                  origin=(-(picture.shape[1] + INPUT_GAP), 0.0, 0.0))
        add_field(source, "label", np.int64(labels[self._probe_image]))
