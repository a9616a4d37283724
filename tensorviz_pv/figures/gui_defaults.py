"""Colour defaults for the arrays TensorViz's filters make, for the ParaView process that
`tensorviz paraview` starts: a filter applied by hand in that GUI comes up with a readable
colour map (a correlation on -1..1 with "no value" grey; weights and activations rescaled as the
time slider moves, never stuck at step 0's range).

They are a settings collection held in memory, below the user's own settings in priority: what
the user saved as an array's default still wins, and nothing is written to their settings file.
(ParaView looks these up as ".array_lookup_tables.<array>.PVLookupTable.<property>" when it
first colours by an array; see vtkSMTransferFunctionManager::GetColorTransferFunction.)"""

import json

from paraview.modules.vtkRemotingServerManager import vtkSMCoreUtilities, vtkSMSettings

from ..algorithms.filter_correlation import DRAWN
from ..algorithms.weight_glyphs import QUANTITY_CHOICES
from .colour import GREY

# Cool to Warm, fixed on -1..1: a correlation means the same colour at every step and layer
CORRELATION = {"RGBPoints": [-1.0, 0.231373, 0.298039, 0.752941, 0.0, 0.865, 0.865, 0.865,
                             1.0, 0.705882, 0.0156863, 0.14902],
               "ColorSpace": "Diverging", "AutomaticRescaleRangeMode": "Never", "NanColor": GREY}
# data-ranged maps that grow as the slider moves (a later step's larger values never saturate)
GROWING = {"AutomaticRescaleRangeMode": "Grow and update every timestep"}
PRIORITY = 0.5  # below the user's settings file (loaded at the highest priority)


def colour_defaults():
    """{array name: PVLookupTable property values} for the arrays the filters colour by."""
    defaults = {name: dict(CORRELATION) for name in ("correlation", DRAWN)}
    growing = [name for name, _, _ in QUANTITY_CHOICES] + ["activation"]
    defaults.update({name: dict(GROWING) for name in growing})
    return defaults


def install():
    """Add the colour defaults to this process's settings (memory only); returns True when
    ParaView took them."""
    tables = {vtkSMCoreUtilities.SanitizeName(name): {"PVLookupTable": values}
              for name, values in colour_defaults().items()}
    return bool(vtkSMSettings.GetInstance().AddCollectionFromString(
        json.dumps({"array_lookup_tables": tables}), PRIORITY))
