"""The house in tiers (docs/ARCHITECTURE.md), checked: each subpackage of tensorviz_pv imported
in a fresh interpreter with the libraries of higher tiers blocked, then every module it loaded
compared with what the tier may use."""

import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# tier: (third-party packages it may import, tensorviz_pv subpackages it may import, blocked)
# every tier may import the bottom of the house: the error classes, and the loggers that stand
# for print (tensorviz_pv/messages.py)
BASE = {"errors", "messages"}
TIERS = {
    "store": ({"numpy", "h5py"}, BASE | {"store"},
              ["vtkmodules", "paraview", "tensorflow", "keras"]),
    "analysis": ({"numpy", "scipy"}, BASE | {"store", "analysis"},
                 ["vtkmodules", "paraview", "tensorflow", "keras", "h5py"]),
    "algorithms": ({"numpy", "scipy", "h5py", "vtkmodules"}, BASE | {"store", "analysis", "algorithms"},
                   ["paraview", "tensorflow", "keras"]),
    "figures": ({"numpy", "scipy", "h5py", "vtkmodules", "paraview"},
                BASE | {"store", "analysis", "algorithms", "figures"}, ["tensorflow", "keras"]),
}

CHECK = r"""
import importlib, json, pkgutil, sys
package, blocked = sys.argv[1], json.loads(sys.argv[2])

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


def tier_violations(tier):
    """(the modules of tensorviz_pv.<tier>, what they loaded that the tier must not use)."""
    third_party, ours, blocked = TIERS[tier]
    result = subprocess.run([interpreter(), "-c", CHECK, f"tensorviz_pv.{tier}", json.dumps(blocked)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PYTHONPATH=ROOT))
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
        top, _, rest = name.partition(".")
        if top == "tensorviz_pv":
            if rest and rest.split(".")[0] not in ours:
                wrong.append(name)
        elif top not in allowed and not top.startswith("_cython") \
                and not shipped_inside(seen["files"].get(name, ""), third_party):
            wrong.append(name)
    return seen["modules"], wrong
