"""Paths the ParaView-side tests share."""

import os
import shutil

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLUGIN = os.path.join(ROOT, "plugin", "TensorViz.xml")
PVPYTHON = os.environ.get("TENSORVIZ_PVPYTHON") or shutil.which("pvpython")
