"""`tensorviz train` and `tensorviz info` through the command line."""

import json
import os
import subprocess
import sys

import numpy as np

from conftest import tensorviz
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader


def test_info_json_describes_the_run(tiny_run):
    summary = json.loads(tensorviz("info", tiny_run, "--json").stdout)
    assert summary["format_version"] == F.FORMAT_VERSION
    assert summary["steps"] == {"count": 8, "first": 1, "last": 8}
    assert [layer["name"] for layer in summary["layers"]] == ["conv1", "conv2", "fc1", "fc2"]
    conv1 = summary["layers"][0]
    assert conv1["kernel_shape"] == [3, 3, 1, 16] and conv1["filters"] == 16
    assert conv1["recorded"]["kernel"]["snapshots"] == 3  # step 0 and both epoch ends
    assert summary["dataset"]["name"] == "mnist-5k" and summary["dataset"]["train"] == 200
    assert summary["hyperparameters"]["batch_size"] == 50
    assert [row["epoch"] for row in summary["evaluation"]] == [1, 2]
    assert 0.0 <= summary["evaluation"][-1]["test_accuracy"] <= 1.0
    text = tensorviz("info", tiny_run).stdout
    assert "conv1" in text and "mnist-5k" in text


def test_recorded_norms_match_the_stored_weights(tiny_run):
    with RunReader(str(tiny_run)) as run:
        column = run.variables.index("conv1/kernel")
        norms = run.norms(F.WEIGHT_NORM)[:, column]
        steps = run.step_table()[F.STEP]
        for snapshot in run.series_steps("conv1", F.KERNEL)[1:]:
            _, kernel = run.tensor_at("conv1", F.KERNEL, snapshot)
            row = int(np.searchsorted(steps, snapshot))
            np.testing.assert_allclose(norms[row], np.linalg.norm(kernel), rtol=1e-5)
        # and equal those of the weights in the last checkpoint
        import keras
        model = keras.models.load_model(os.path.join(tiny_run, "checkpoints", "epoch-0002.keras"))
        for layer in ("conv1", "fc1"):
            column = run.variables.index(f"{layer}/kernel")
            np.testing.assert_allclose(run.norms(F.WEIGHT_NORM)[-1, column],
                                       np.linalg.norm(model.get_layer(layer).kernel.numpy()), rtol=1e-5)
        losses = run.step_table()[F.LOSS]
        assert np.all(np.isfinite(losses)) and losses[0] > 1.0  # ~ln(10) before learning


def test_existing_run_is_refused_and_untouched(tiny_run):
    store = os.path.join(tiny_run, F.STORE_FILENAME)
    before = os.stat(store).st_mtime_ns, os.path.getsize(store)
    result = tensorviz("train", tiny_run, "--epochs", 1, check=False)
    assert result.returncode == 2
    assert "already holds a run" in result.stderr and "--resume" in result.stderr
    assert (os.stat(store).st_mtime_ns, os.path.getsize(store)) == before


def test_unwritable_directory_is_a_clear_error(tmp_path):
    result = tensorviz("train", "/proc/tensorviz-run", "--epochs", 1, check=False)
    assert result.returncode == 2
    assert "/proc/tensorviz-run: not writable" in result.stderr


def test_unknown_dataset_says_what_is_accepted(tmp_path):
    result = tensorviz("train", tmp_path / "r", "--dataset", "cifar-99", check=False)
    assert result.returncode == 2
    assert "cifar-99: unknown dataset" in result.stderr and "mnist-5k" in result.stderr
    assert not (tmp_path / "r").exists()


def test_info_on_a_missing_run(tmp_path):
    result = tensorviz("info", tmp_path / "nothing", check=False)
    assert result.returncode == 2 and "no TensorViz run there" in result.stderr


def test_overwrite_never_deletes_a_folder_that_is_not_a_run(tmp_path):
    folder = tmp_path / "my-notes"
    folder.mkdir()
    (folder / "keep.txt").write_text("precious")
    result = tensorviz("train", folder, "--overwrite", "--epochs", 1, check=False)
    assert result.returncode == 2 and "holds no TensorViz run" in result.stderr
    assert (folder / "keep.txt").read_text() == "precious"


def test_bad_reduction_options_are_refused_before_anything_happens(tiny_run):
    store = os.path.join(tiny_run, F.STORE_FILENAME)
    before = os.stat(store).st_mtime_ns
    for options, message in ((["--reduce-every", "0"], "--reduce-every 0"),
                             (["--reduce-layers", "conv7"], "no conv layer 'conv7'")):
        result = tensorviz("train", tiny_run, "--overwrite", "--reduce", *options, check=False)
        assert result.returncode == 2 and message in result.stderr
    assert os.stat(store).st_mtime_ns == before


def test_paraview_layer_typo_is_said_before_paraview_starts(tiny_run):
    result = tensorviz("paraview", tiny_run, "--layer", "conv3", check=False)
    assert result.returncode == 2
    assert f"--layer conv3: no such layer in {tiny_run}; did you mean conv2 or conv1?" \
        in result.stderr
    assert "welcome dialog" not in result.stderr  # said before anything of ParaView's
    result = tensorviz("paraview", tiny_run, "--plain", "--layer", "conv2", check=False)
    assert result.returncode == 2 and "not with --state or --plain" in result.stderr


FOUR_COMMANDS = r"""
import importlib, json, pkgutil, sys
import tensorviz_cli
from tensorviz_cli.main import main
for module in pkgutil.walk_packages(tensorviz_cli.__path__, "tensorviz_cli."):
    importlib.import_module(module.name)
store, out = sys.argv[1], sys.argv[2]
codes = [main(["info", store, "--json"]),
         main(["render", store, "--out", out, "--figures", "fig0"]),  # refused before pvbatch
         main(["compare", store, "--out", out]),  # one run: refused
         main(["paraview", store, "--layer", "no-such-layer"])]  # refused before ParaView
print(json.dumps({"codes": codes, "tensorflow": sorted(
    name for name in sys.modules if name.split(".")[0] in ("tensorflow", "keras"))}))
"""


def test_info_render_compare_and_paraview_start_without_tensorflow(store, tmp_path):
    path, _ = store
    result = subprocess.run([sys.executable, "-c", FOUR_COMMANDS, path, str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["codes"] == [0, 2, 2, 2], result.stderr
    assert seen["tensorflow"] == []


def test_adam_gets_a_learning_rate_of_its_own_and_learns(tmp_path):
    """At SGD's 0.05 Adam killed every conv filter within 3 steps (test accuracy 0.09-0.14)."""
    assert "0.001 for adam" in " ".join(tensorviz("train", "--help").stdout.split())
    run_dir = tmp_path / "adam"
    tensorviz("train", run_dir, "--optimizer", "adam", "--epochs", 1, "--max-samples", 1500)
    summary = json.loads(tensorviz("info", run_dir, "--json").stdout)
    assert summary["hyperparameters"]["learning_rate"] == 0.001
    assert summary["evaluation"][-1]["test_accuracy"] > 0.6
    assert not [a for a in summary["alerts"] if a["kind"] == "dead filters"]
    # a rate given is the rate used, whatever the optimizer
    given = tmp_path / "given"
    tensorviz("train", given, "--optimizer", "adam", "--lr", 0.004, "--epochs", 1,
              "--max-samples", 100)
    with RunReader(str(given)) as run:
        np.testing.assert_allclose(run.step_table()[F.LEARNING_RATE], 0.004, rtol=1e-6)


def test_a_value_error_is_said_before_tensorflow_starts(tmp_path):
    result = tensorviz("train", tmp_path / "run", "--lr", "-1", check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "tensorviz train: error: --lr -1.0: give a positive learning rate"], result.stderr


def test_train_on_a_run_being_written_names_its_writer(tiny_run, tmp_path):
    """--resume and --overwrite would both be refused: the message says who writes it."""
    run_dir = tmp_path / "live"
    run_dir.mkdir()
    (run_dir / "run.tvz").write_bytes((tiny_run / "run.tvz").read_bytes())
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nfrom tensorviz_pv.store.lock import WriterLock\n"
        f"WriterLock({str(run_dir / 'run.tvz')!r}).acquire()\nprint('held', flush=True)\n"
        "time.sleep(60)")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = tensorviz("train", run_dir, "--epochs", 1, check=False)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2
    assert f"a training is writing this run now: pid {holder.pid}" in result.stderr
    assert "--resume" not in result.stderr
