"""The house in tiers (docs/ARCHITECTURE.md), checked: each tier's package imported in a fresh
interpreter with the libraries of higher tiers blocked, then every module it loaded compared with
what the tier may use."""

import json
import os
import shutil
import subprocess
import sys
from typing import NamedTuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUR_PACKAGES = ("tensorviz_pv", "trainer", "tensorviz_cli")


class Tier(NamedTuple):
    package: str  # what is imported: the package and every module under it
    third_party: set  # the libraries it may import
    ours: set  # the modules and packages of TensorViz it may import (with what is under them)
    blocked: list  # libraries made unimportable while it is imported
    pulled_in: tuple = ()  # libraries imported first: what they import is theirs, not the tier's
    env: dict = {}  # added to the environment of the interpreter that imports the tier


# the bottom of every tier: the error classes, and the loggers that stand for print
BASE = {"tensorviz_pv.errors", "tensorviz_pv.messages"}
STORE = BASE | {"tensorviz_pv.store"}
ANALYSIS = STORE | {"tensorviz_pv.analysis"}
ALGORITHMS = ANALYSIS | {"tensorviz_pv.algorithms"}

TIERS = {
    "store": Tier("tensorviz_pv.store", {"numpy", "h5py"}, STORE,
                  ["vtkmodules", "paraview", "tensorflow", "keras"]),
    "analysis": Tier("tensorviz_pv.analysis", {"numpy", "scipy"}, ANALYSIS,
                     ["vtkmodules", "paraview", "tensorflow", "keras", "h5py"]),
    "algorithms": Tier("tensorviz_pv.algorithms", {"numpy", "scipy", "h5py", "vtkmodules"},
                       ALGORITHMS, ["paraview", "tensorflow", "keras"]),
    "figures": Tier("tensorviz_pv.figures", {"numpy", "scipy", "h5py", "vtkmodules", "paraview"},
                    ALGORITHMS | {"tensorviz_pv.figures"}, ["tensorflow", "keras"]),
    # the web page (`tensorviz serve`): the figures, and trame from the environment the set-up
    # makes for pvpython (paraview.web.venv puts it on the path, as the app does)
    "web": Tier("tensorviz_pv.web", {"numpy", "scipy", "h5py", "vtkmodules", "paraview", "trame",
                                     "aiohttp"},
                ALGORITHMS | {"tensorviz_pv.figures", "tensorviz_pv.web"}, ["tensorflow", "keras"],
                pulled_in=("paraview.web.venv", "aiohttp", "trame.app", "trame.ui.vuetify3",
                           "trame.widgets.html", "trame.widgets.paraview",
                           "trame.widgets.vuetify3"),
                env={"PV_VENV": os.path.join(ROOT, ".pvvenv")}),
    # the TensorFlow side: the store and the analysis below it, never the views nor the figures
    "trainer": Tier("trainer", {"numpy", "h5py", "scipy", "tensorflow", "keras"},
                    ANALYSIS | {"trainer"}, ["vtkmodules", "paraview"],
                    pulled_in=("tensorflow", "keras")),
    # the command line, above every tier: TensorFlow and ParaView only in what it starts
    "cli": Tier("tensorviz_cli", {"numpy", "h5py", "scipy"},
                ANALYSIS | {"trainer.config", "trainer.folders", "trainer.forks", "tensorviz_cli"},
                ["tensorflow", "keras", "paraview", "vtkmodules"]),
}

CHECK = r"""
import importlib, json, pkgutil, sys
package, blocked, pulled_in = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])

def is_blocked(name):
    return any(name == b or name.startswith(b + ".") for b in blocked)

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if is_blocked(name):
            raise ImportError(f"{name} is not allowed in {package}")
        return None

for name in [n for n in sys.modules if is_blocked(n)]:  # what the interpreter loaded at start
    del sys.modules[name]
sys.meta_path.insert(0, Blocker())
for library in pulled_in:
    importlib.import_module(library)
before = set(sys.modules)
modules = [package] + [m.name for m in pkgutil.walk_packages(
    importlib.import_module(package).__path__, package + ".")]
for name in modules:
    importlib.import_module(name)
loaded = sorted(set(sys.modules) - before)
print(json.dumps({"modules": modules, "loaded": loaded,
                  "files": {n: getattr(sys.modules[n], "__file__", None) or "" for n in loaded}}))
"""


def interpreter():
    """This Python's own command (ParaView's pvpython reports a sys.executable that is not there)."""
    if os.path.exists(sys.executable):
        return sys.executable
    return os.environ.get("TENSORVIZ_PVPYTHON") or shutil.which("pvpython")


def shipped_inside(path, packages):
    """Whether a module's file lies in one of these packages (scipy's compiled helpers load as
    top-level modules, _csparsetools say)."""
    parts = path.replace(os.sep, "/").split("/")[:-1]
    return any(package in parts for package in packages)


def _ours_allowed(name, ours):
    """Whether a module of TensorViz is one the tier may import: one of `ours`, under one, or a
    package above one (`trainer` itself, for trainer.config)."""
    return any(name == allowed or name.startswith(allowed + ".") or allowed.startswith(name + ".")
               for allowed in ours)


def tier_violations(tier):
    """(the modules of the tier's package, what they loaded that the tier must not use)."""
    package, third_party, ours, blocked, pulled_in, env = TIERS[tier]
    result = subprocess.run([interpreter(), "-c", CHECK, package, json.dumps(blocked),
                             json.dumps(list(pulled_in))],
                            cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, PYTHONPATH=ROOT, **env))
    if result.returncode != 0:  # an import failed: a blocked library, or a broken module
        return [], [result.stderr.strip().splitlines()[-1]]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    allowed = set(sys.stdlib_module_names) | third_party | {"cython_runtime"}
    if "scipy" in third_party:
        # scipy walks numpy's namespace: numpy.f2py then imports charset_normalizer where it
        # is installed (the venv), and sysconfig its platform data module
        allowed |= {"charset_normalizer", "_sysconfigdata__linux_x86_64-linux-gnu"}
    wrong = []
    for name in seen["loaded"]:
        top = name.partition(".")[0]
        if top in OUR_PACKAGES:
            if not _ours_allowed(name, ours):
                wrong.append(name)
        elif top not in allowed and not top.startswith("_cython") \
                and not shipped_inside(seen["files"].get(name, ""), third_party):
            wrong.append(name)
    return seen["modules"], wrong
