"""What every TensorViz VTK algorithm shares: reporting, the store upstream, the time asked for.

The classes are plain VTKPythonAlgorithmBase subclasses (no paraview.util decorators, which
fail on Debian's ParaView 5.11); their proxies are declared in xml/.
"""

import numpy as np
from vtkmodules.util.vtkAlgorithm import VTKPythonAlgorithmBase
from vtkmodules.vtkCommonCore import vtkOutputWindow, vtkStringArray
from vtkmodules.vtkCommonDataModel import vtkDataObject
from vtkmodules.vtkCommonExecutionModel import vtkExecutive, vtkStreamingDemandDrivenPipeline

from ..errors import SettingError, StoreError, TensorVizError
from ..store import format as F
from ..store.layer_groups import LIST_MOST, group_layers
from .convert import string_array

WHOLE_LIST = "(all layers)"  # the Layer Group that lists every layer
LAYER_FIELD = "layer"  # the field array of every output: the layer drawn


def report_error(message):
    """One message in ParaView's Output Messages (stderr in pvpython/pvbatch)."""
    vtkOutputWindow.GetInstance().DisplayErrorText("TensorViz: " + message + "\n")


class ReportsOnce:
    """One message per distinct problem: ParaView re-executes an algorithm at every time
    step, and the same bad input must not flood the Output Messages."""

    _last_error = None

    def report_once(self, message):
        if message != self._last_error:
            report_error(message)
            self._last_error = message

    def clear_report(self):
        self._last_error = None

    @property
    def last_error(self):
        """The problem reported last (None since the last run that had none)."""
        return self._last_error


def requested_time(out_info, default=0.0):
    key = vtkStreamingDemandDrivenPipeline.UPDATE_TIME_STEP()
    return out_info.Get(key) if out_info.Has(key) else default


def requested_piece(out_info):
    """(piece, number of pieces) asked of an output: under MPI (mpiexec pvbatch, pvserver) each
    rank asks for its own piece; (0, 1) in one process."""
    sddp = vtkStreamingDemandDrivenPipeline
    piece = out_info.Get(sddp.UPDATE_PIECE_NUMBER()) if out_info.Has(sddp.UPDATE_PIECE_NUMBER()) else 0
    pieces = out_info.Get(sddp.UPDATE_NUMBER_OF_PIECES()) \
        if out_info.Has(sddp.UPDATE_NUMBER_OF_PIECES()) else 1
    return max(int(piece), 0), max(int(pieces), 1)


def floor_step(steps, time):
    """The recorded step at or before `time` (the first step when `time` precedes all)."""
    if len(steps) == 0:
        return None
    steps = np.asarray(steps)
    key = time + 1e-6
    if steps.dtype.kind in "iu" and np.isfinite(key):  # an int key: a float one would make
        key = min(max(key, float(steps[0]) - 1), float(steps[-1]) + 1)  # numpy convert all
        key = steps.dtype.type(np.floor(key))  # the steps to float (1 ms per million)
    index = max(int(np.searchsorted(steps, key, side="right")) - 1, 0)
    return int(steps[index])


class TensorVizView(ReportsOnce, VTKPythonAlgorithmBase):
    """A filter downstream of a TensorViz Reader: it reads the reader's store directly, so a
    view over all steps (norm tables, trajectories) needs no data passed down the pipeline.

    Under MPI every rank runs it for its own piece: a view whose output is small (a table, an
    image) makes it on piece 0 only, the other ranks an empty one (no duplicates); a view that
    SPLITS (Weight Glyphs) makes its share on each (self.piece: (piece, pieces))."""

    SPLITS = False


    def __init__(self, *output_types):
        # inputType vtkDataObject: the reader's multiblock arrives whole, not block by block
        VTKPythonAlgorithmBase.__init__(self, nInputPorts=1, nOutputPorts=len(output_types),
                                        inputType="vtkDataObject", outputType=output_types[0])
        self._output_types = output_types
        self._updating_port = 0
        self._layer = None
        self._layer_group = ""  # "": all layers
        self.shown_layer = None  # the layer the outputs show, once produced
        self.piece = (0, 1)

    def RequestInformation(self, request, in_info, out_info):
        """Image outputs declare their whole extent (ParaView draws nothing without it)."""
        run = self.run()
        if run is None:
            return 1
        try:
            shapes = self.image_shapes(run)
        except (TensorVizError, OSError, KeyError, ValueError, TypeError):
            return 1  # RequestData reports the problem
        for port, (rows, cols) in shapes.items():
            out_info.GetInformationObject(port).Set(
                vtkStreamingDemandDrivenPipeline.WHOLE_EXTENT(), [0, cols, 0, rows, 0, 0], 6)
        return 1

    def image_shapes(self, run):
        """{output port: (rows, cols)} of the 2D images this view makes (pixels: cells)."""
        return {}

    def FillOutputPortInformation(self, port, info):
        info.Set(vtkDataObject.DATA_TYPE_NAME(), self._output_types[port])
        return 1

    def set_value(self, attribute, value):
        """Property setters: store and mark modified only on change."""
        if getattr(self, attribute) != value:
            setattr(self, attribute, value)
            self.Modified()

    def requested_step(self, outputs, steps):
        """The recorded step shown at the time asked of the port being updated (floor)."""
        info = outputs.GetInformationObject(self._updating_port)
        return floor_step(steps, requested_time(info, float(steps[0])))

    # ---- the store upstream
    def upstream_reader(self):
        """The nearest TensorViz Reader upstream (ParaView puts other algorithms between)."""
        algorithm = self
        while algorithm is not None and not hasattr(algorithm, "tensorviz_run"):
            has_input = algorithm.GetNumberOfInputPorts() and algorithm.GetNumberOfInputConnections(0)
            algorithm = algorithm.GetInputAlgorithm(0, 0) if has_input else None
        return algorithm

    def run(self):
        """The RunReader of the reader upstream, or None."""
        reader = self.upstream_reader()
        return reader.tensorviz_run() if reader is not None else None

    # ---- Layer property
    def SetLayer(self, name):
        self.set_value("_layer", name)

    def shows_layer(self, entry):
        """Whether the Layer list offers this layer (a run_info layer entry): all, by default."""
        return True

    def has_shown(self, entry, role, gradient=False):
        """Whether a layer (a run_info entry) has the series a view shows for `role`
        (store/format.py: shown_variable) and the run upstream recorded it."""
        quantity = F.shown_variable(entry, role, gradient)
        run = self.run()
        return quantity is not None and (run is None or run.has_series(entry["name"], quantity))

    def layer_names(self):
        """Every layer this view can show, in model order."""
        run = self.run()
        if run is None:
            return []
        return [layer["name"] for layer in run.info.get("layers", []) if self.shows_layer(layer)]

    def GetLayerNames(self):
        """What the Layer list offers: the chosen Layer Group's layers, else every layer."""
        names = self.layer_names()
        members = self._group_members(names)
        array = vtkStringArray()
        for name in names if members is None else members:
            array.InsertNextValue(name)
        return array

    def current_layer(self, run):
        names = self.layer_names()
        members = self._group_members(names)
        if self._layer_group and members is None:
            groups = [group.label for group in self.layer_groups(names)]
            raise SettingError(f"{run.path}: no layer group named {self._layer_group!r} for this "
                               "view (" + (f"groups: {', '.join(groups)})" if groups else
                                           f"its {len(names)} layers are listed whole)"))
        layer = self._layer or (names[0] if names else None)
        if layer is None:
            raise StoreError(f"{run.path}: the run has no layer this view can show")
        if layer not in names:
            raise SettingError(f"{run.path}: no layer named {layer!r} for this view "
                             f"(layers: {', '.join(names) or 'none'})")
        if members is not None and layer not in members:
            # a group was just chosen: its first layer, as the Layer list then resets to
            layer = members[0]
        self.shown_layer = layer
        return layer

    # ---- Layer Group property: a long Layer list narrowed to one block of the model
    def SetLayerGroup(self, label):
        self.set_value("_layer_group", "" if label in (None, WHOLE_LIST) else label)

    def layer_groups(self, names):
        """The blocks a list of more than LIST_MOST layers is offered by (none for fewer)."""
        return group_layers(names) if len(names) > LIST_MOST else []

    def GetLayerGroupNames(self):
        array = vtkStringArray()
        array.InsertNextValue(WHOLE_LIST)
        for group in self.layer_groups(self.layer_names()):
            array.InsertNextValue(group.label)
        return array

    def _group_members(self, names):
        """The layers of the chosen Layer Group (None: no group chosen, or none of that name)."""
        if not self._layer_group:
            return None
        for group in self.layer_groups(names):
            if group.label == self._layer_group:
                return [names[i] for i in group.members]
        return None

    # ---- errors: one message per distinct problem, and an empty output
    def fail(self, message):
        self.report_once(message)
        return 1

    def RequestData(self, request, in_info, out_info):
        reader = self.upstream_reader()
        if reader is None:
            return self.fail("this view needs a TensorViz Reader upstream")
        run = reader.tensorviz_run()
        if run is None:
            return 1  # the reader has reported why; an empty output says the rest
        # each port carries its own requested time: use the one of the port asked for
        key = vtkExecutive.FROM_OUTPUT_PORT()
        port = request.Get(key) if request.Has(key) else 0
        self._updating_port = port if 0 <= port < out_info.GetNumberOfInformationObjects() else 0
        self.piece = requested_piece(out_info.GetInformationObject(self._updating_port))
        if self.piece[0] > 0 and not self.SPLITS:
            return 1  # piece 0 holds it all
        self.shown_layer = None
        try:
            self.produce(run, out_info)
        except TensorVizError as error:
            return self.fail(str(error))
        except (OSError, KeyError, ValueError) as error:
            return self.fail(f"{run.path}: cannot read the store ({error})")
        if self.shown_layer is not None:  # titles follow it (figures/text.py: title)
            for port in range(out_info.GetNumberOfInformationObjects()):
                output = vtkDataObject.GetData(out_info, port)
                if output is not None:
                    output.GetFieldData().AddArray(string_array(LAYER_FIELD, [self.shown_layer]))
        self.clear_report()
        return 1

    def produce(self, run, outputs):
        """Fill the outputs (a vtkInformationVector) from the run; StoreError for a store that
        lacks what the view needs, SettingError for a property that cannot be used."""
        raise NotImplementedError
