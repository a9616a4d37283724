"""`tensorviz compare` on two trainings of the poster's network that differ only in their
seed: the figures, the state file the GUI opens, and the matching of conv2's filters against a
random assignment; and the command's answers to bad input."""

import json
import os

import pytest

from tensorviz_cli.launch import run as run_paraview
from tensorviz_pv.store import format as F

from conftest import tensorviz

STATE_SCRIPT = """
import json, sys
from paraview import simple
from vtkmodules.util.numpy_support import vtk_to_numpy
simple.LoadPlugin(sys.argv[3], ns=vars(simple))
simple.LoadState(sys.argv[1])
sources = {name: proxy for (name, _), proxy in simple.GetSources().items()}
runs = next(p for p in sources.values() if p.GetXMLName() == "TensorVizRuns" and len(p.FileNames) == 2)
matching = next(p for p in sources.values() if p.GetXMLName() == "FilterMatching")
matching.UpdatePipeline(float(matching.StepB) if matching.StepB >= 0 else runs.TimestepValues[-1])
fields = matching.GetClientSideObject().GetOutputDataObject(0).GetFieldData()
seen = {"files": [str(f) for f in runs.FileNames], "layer": str(matching.Layer[0]),
        "views": len(simple.GetViews()),
        "mean_r": float(vtk_to_numpy(fields.GetArray("mean_r"))[0]),
        "random_mean_r": float(vtk_to_numpy(fields.GetArray("random_mean_r"))[0]),
        "identity_mean_r": float(vtk_to_numpy(fields.GetArray("identity_mean_r"))[0])}
json.dump(seen, open(sys.argv[2], "w"))
"""


@pytest.fixture(scope="module")
def other_seed(tmp_path_factory):
    """tiny_run's training with another seed."""
    run_dir = tmp_path_factory.mktemp("runs") / "seed7"
    tensorviz("train", run_dir, "--max-samples", 200, "--epochs", 2, "--batch-size", 50,
              "--budget", "none", "--seed", 7)
    return run_dir


def test_compare_two_seeds(tiny_run, other_seed, tmp_path):
    out = tmp_path / "compare"
    result = tensorviz("compare", tiny_run, other_seed, "--out", out, "--size", "400x300")
    assert sorted(p.name for p in out.iterdir()) == [
        "compare.pvsm", "compare_matching_conv2.png", "compare_norms.png",
        "compare_similarity.png"], result.stdout
    from PIL import Image
    assert Image.open(out / "compare_norms.png").size == (1200, 300)
    assert Image.open(out / "compare_matching_conv2.png").size == (1200, 300)
    script, seen_path = tmp_path / "state.py", tmp_path / "seen.json"
    script.write_text(STATE_SCRIPT)
    plugin = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
                          "plugin", "TensorViz.xml")
    loaded = run_paraview("pvbatch", [str(script), str(out / "compare.pvsm"), str(seen_path), plugin],
                          capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    seen = json.loads(seen_path.read_text())
    assert seen["files"] == [str(tiny_run / F.STORE_FILENAME), str(other_seed / F.STORE_FILENAME)]
    assert seen["layer"] == "conv2" and seen["views"] == 5
    print(f"two seeds, conv2: mean r of the matching {seen['mean_r']:.3f}, of a random "
          f"assignment {seen['random_mean_r']:.3f}, filter i with filter i {seen['identity_mean_r']:.3f}")
    assert seen["mean_r"] > seen["random_mean_r"] + 0.1
    assert seen["mean_r"] > seen["identity_mean_r"]


def test_compare_says_what_is_wrong(tiny_run, tmp_path):
    alone = tensorviz("compare", tiny_run, "--out", tmp_path / "a", check=False)
    assert alone.returncode == 2 and "comparing needs two runs or more" in alone.stderr
    os.makedirs(tmp_path / "empty" / "notes")
    empty = tensorviz("compare", tmp_path / "empty", tiny_run, "--out", tmp_path / "b", check=False)
    assert empty.returncode == 2 and "empty: no runs here" in empty.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_runs_with_other_probe_images_get_every_figure_but_the_matching(tiny_run, tmp_path):
    """A synthetic run of the poster's shapes saw other probe images: norms, weight distances
    and the state file are there; the matching is said to be impossible (exit status 1); a
    layer the runs do not share is named (exit status 2)."""
    from tensorviz_pv.store.synthetic import write_poster_shaped_run
    os.makedirs(tmp_path / "synthetic")
    write_poster_shaped_run(str(tmp_path / "synthetic" / F.STORE_FILENAME), 20, conv_every=5,
                            activations_every=5)
    out = tmp_path / "compare"
    result = tensorviz("compare", tiny_run, tmp_path / "synthetic", "--out", out,
                       "--size", "300x200", check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "could not be matched" in result.stderr and "different probe images" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "compare.pvsm", "compare_norms.png", "compare_similarity.png"]
    wrong = tensorviz("compare", tiny_run, tmp_path / "synthetic", "--out", out,
                      "--layer", "nope", check=False)
    assert wrong.returncode == 2 and "layer 'nope'" in wrong.stderr and "conv1" in wrong.stderr
    assert "Traceback" not in wrong.stderr
