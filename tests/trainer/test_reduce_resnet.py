"""`tensorviz train --model resnet20 --reduce --reduce-layers all` end to end: residual groups
reduced together, the store in the original layout, the final model exported as a plain
.keras file that Keras alone loads."""

import os
import subprocess
import sys

import numpy as np

from conftest import tensorviz
from e2e.pvbatch_json import pvbatch_json
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader
from tensorviz_pv.store.summary import run_summary

# the views on the reduced run: Filter Correlation of a block's conv, Weight Glyphs of a conv
# whose input channels were merged away, Fig. 5's Filter Groups
VIEWS = """
import json, sys
from paraview import servermanager, simple
from vtkmodules.util.numpy_support import vtk_to_numpy
reader = simple.TensorVizReader(FileName=sys.argv[1])
step = float(sys.argv[3])
corr = simple.FilterCorrelation(Input=reader, Layer="s1b1_conv1")
corr.UpdatePipeline(step)
table = servermanager.Fetch(corr, idx=0)
glyphs = simple.WeightGlyphs(Input=reader, Layer="s1b1_conv2")
glyphs.UpdatePipeline(step)
groups = simple.FilterGroups(Input=reader, Layer="s1b1_conv1")
groups.UpdatePipeline(step)
last = servermanager.Fetch(groups, idx=0)
json.dump({"removed": vtk_to_numpy(table.GetColumnByName("removed")).tolist(),
           "glyph cells": glyphs.GetDataInformation().GetNumberOfCells(),
           "groups": [vtk_to_numpy(last.GetColumn(i))[-1].item()
                      for i in range(2, last.GetNumberOfColumns())]}, open(sys.argv[2], "w"))
"""

# a process that knows nothing of TensorViz: Keras loads the file, predicts the given images
PLAIN_KERAS = """
import sys, numpy as np, keras
model = keras.saving.load_model(sys.argv[1])
assert not any(name.split(".")[0] in ("tensorviz_pv", "trainer", "tensorviz_cli")
               for name in sys.modules), "TensorViz was imported"
print(model.count_params())
np.save(sys.argv[3], model.predict(np.load(sys.argv[2]), verbose=0))
"""


def test_a_resnet20_run_reduces_every_layer_and_exports_a_plain_keras_model(tmp_path):
    run_dir, out = tmp_path / "resnet", tmp_path / "export"
    result = tensorviz("train", run_dir, "--model", "resnet20", "--max-samples", 60,
                       "--epochs", 2, "--reduce", "--reduce-layers", "all",
                       "--reduce-threshold", "0.5", "--min-filters", "4", "--lr", "0.05")
    assert "tied by residual adds" in result.stderr + result.stdout
    summary = run_summary(str(run_dir / "run.tvz"))  # what `tensorviz info` shows
    layers = {entry["name"]: entry for entry in summary["layers"]}
    fewer = [name for name, entry in layers.items()
             if entry["kind"] == F.CONV and entry["filters_now"] < entry["filters"]]
    assert len(fewer) >= 6
    tied = ["stem_conv", "s1b1_conv2", "s1b2_conv2", "s1b3_conv2"]
    assert len({layers[name]["filters_now"] for name in tied}) == 1
    assert layers["stem_conv"]["filters_now"] < 16
    with RunReader(str(run_dir)) as run:
        last = summary["steps"]["last"]
        alive = run.alive_at("s1b1_conv1", last)
        _, gamma = run.tensor_at("s1b1_bn1", "gamma", last)   # BN follows its conv's filters
        assert gamma.shape == (16,) and np.isnan(gamma[~alive]).all() and np.isfinite(gamma[alive]).all()
        _, kernel = run.tensor_at("s1b1_conv2", F.KERNEL, last)  # its input channels too
        own = run.alive_at("s1b1_conv2", last)  # and its filters, tied to the stem's
        assert np.isnan(kernel[:, :, ~alive]).all() and np.isnan(kernel[..., ~own]).all()
        assert np.isfinite(kernel[:, :, alive][..., own]).all()

    seen, views = pvbatch_json(tmp_path, VIEWS, str(run_dir / "run.tvz"), last)
    assert seen["removed"] == (~alive).astype(int).tolist()  # greyed: merged away
    assert seen["groups"].count(-2) == (~alive).sum()  # Fig. 5: merged away
    assert seen["glyph cells"] > 0 and "NaN/Inf" not in views.stdout + views.stderr

    exported = tensorviz("reduce", run_dir, "--out", out)
    assert "stem_conv: 16 -> " in exported.stdout
    path = out / "resnet20.keras"
    images = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    np.save(tmp_path / "images.npy", images)
    plain = subprocess.run([sys.executable, "-c", PLAIN_KERAS, str(path), str(tmp_path / "images.npy"),
                            str(tmp_path / "predicted.npy")], capture_output=True, text=True,
                           env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"), timeout=300,
                           cwd=str(tmp_path))
    assert plain.returncode == 0, plain.stderr
    parameters = int(plain.stdout.split()[-1])
    assert parameters < 273_754  # resnet20's for 28x28x1 and 10 classes, unreduced

    import keras
    checkpoint = keras.models.load_model(os.path.join(run_dir, "checkpoints", "epoch-0002.keras"))
    assert checkpoint.count_params() == parameters
    np.testing.assert_allclose(np.load(tmp_path / "predicted.npy"),
                               checkpoint.predict(images, verbose=0), atol=1e-5)


def test_an_unknown_layer_to_reduce_is_named_before_anything_is_written(tmp_path):
    run_dir = tmp_path / "never"
    result = tensorviz("train", run_dir, "--model", "resnet20", "--reduce", "--reduce-layers",
                       "s1b1_conv1,no such;layer", "--max-samples", 50, check=False)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]  # (TensorFlow's start-up lines before it)
    assert last.startswith("tensorviz train: error: --reduce-layers: resnet20 has no conv "
                           "layer 'no such;layer'")
    assert "Traceback" not in result.stderr and not run_dir.exists()
