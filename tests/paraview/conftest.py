"""The ParaView-side tests run under pvpython; this loads the plugin once for all of them."""

import pytest

from paraview import simple

from pvtest import PLUGIN


@pytest.fixture(scope="session", autouse=True)
def plugin():
    if not hasattr(simple, "TensorVizReader"):
        simple.LoadPlugin(PLUGIN, ns=vars(simple))
