"""Activation Maps: every filter's activation map for one probe image at the current step,
tiled in a grid (the poster's Fig. 4), with the input image beside it (output port 1)."""

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkImageData

from ..analysis.tiles import tile_maps, tiled_shape
from ..errors import SettingError
from ..store import format as F
from .base import TensorVizView
from .convert import add_field, set_image

INPUT_GAP = 4  # pixels between the input image and the tiles


class ActivationMaps(TensorVizView):
    layer_kinds = (F.CONV,)

    def __init__(self):
        TensorVizView.__init__(self, "vtkImageData", "vtkImageData")
        self._probe_image = 0

    def SetProbeImage(self, index):
        self.set_value("_probe_image", int(index))

    def image_shapes(self, run):
        height, width, filters = run.layer_info(self.current_layer(run))["activation_shape"]
        images, _ = run.probe()
        return {0: tiled_shape(filters, height, width), 1: images.shape[1:3]}

    def produce(self, run, outputs):
        layer = self.current_layer(run)
        steps = run.snapshot_steps(layer, F.ACTIVATION)
        step, activation = run.tensor_at(layer, F.ACTIVATION, self.requested_step(outputs, steps))
        images, labels = run.probe()
        if not 0 <= self._probe_image < len(images):
            raise SettingError(f"{run.path}: ProbeImage {self._probe_image} does not exist "
                             f"(0-{len(images) - 1})")
        maps = np.moveaxis(activation[self._probe_image], -1, 0)  # (filters, H, W)
        tiled, _ = tile_maps(maps)
        tiles = vtkImageData.GetData(outputs, 0)
        set_image(tiles, tiled, "activation")
        add_field(tiles, "snapshot_step", np.int64(step))
        add_field(tiles, "label", np.int64(labels[self._probe_image]))
        picture = images[self._probe_image][..., 0]
        source = vtkImageData.GetData(outputs, 1)
        set_image(source, picture, "input",
                  origin=(-(picture.shape[1] + INPUT_GAP), 0.0, 0.0))
        add_field(source, "label", np.int64(labels[self._probe_image]))
