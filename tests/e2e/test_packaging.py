"""The package's metadata: what `pip install tensorviz[train]` asks of an existing environment."""

import subprocess
import sys

from conftest import ROOT

METADATA = """
import os, sys
from setuptools import build_meta
out = sys.argv[1]  # setuptools rewrites sys.argv
folder = build_meta.prepare_metadata_for_build_wheel(out)
sys.stdout.write(open(os.path.join(out, folder, "METADATA")).read())
"""


def requirements(tmp_path):
    """Requires-Dist of the wheel this checkout builds (its metadata only, no build)."""
    result = subprocess.run([sys.executable, "-c", METADATA, str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [line.split(":", 1)[1].strip() for line in result.stdout.splitlines()
            if line.startswith("Requires-Dist:")]


def test_the_train_extra_asks_for_keras_3_and_leaves_the_tensorflow_build_to_the_user(tmp_path):
    """A TensorFlow build named here (tensorflow-cpu, say) would be installed beside the GPU
    TensorFlow of the environment the callback goes into."""
    required = requirements(tmp_path)
    names = [r.split(";")[0].strip() for r in required]
    assert not [n for n in names if n.lower().replace("_", "-").startswith("tensorflow")], required
    assert 'keras>=3; extra == "train"' in required
    assert {"numpy", "h5py", "scipy"} <= set(names)  # the store and the analysis
