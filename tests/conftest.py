import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tensorviz_command(*args):
    """The argv of the `tensorviz` command of this interpreter's venv."""
    return [os.path.join(os.path.dirname(sys.executable), "tensorviz")] + [str(a) for a in args]


def tensorviz(*args, check=True, timeout=600, env=None):
    """Run the `tensorviz` command of this interpreter's venv (with `env` added to the
    environment); returns the CompletedProcess."""
    command = tensorviz_command(*args)
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {})))
    if check and result.returncode != 0:
        raise AssertionError(f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A run of the poster's network on 200 embedded digits: 2 epochs of 4 steps, at the
    poster's cadence (no disk budget: so short a run would keep its first and last step only)."""
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    tensorviz("train", run_dir, "--max-samples", 200, "--epochs", 2, "--batch-size", 50,
              "--budget", "none")
    return run_dir


@pytest.fixture(scope="session")
def reduced_run(tmp_path_factory):
    """A tiny run with filter reduction: conv1 loses filters after epochs 1 and 2."""
    run_dir = tmp_path_factory.mktemp("runs") / "reduced"
    tensorviz("train", run_dir, "--max-samples", 200, "--epochs", 3, "--batch-size", 50,
              "--reduce", "--reduce-threshold", "0.5", "--min-filters", "6", "--conv-every", "2",
              "--budget", "none")
    return run_dir


@pytest.fixture
def store(tmp_path):
    """A synthetic run store (25 steps, snapshots at 0, 10, 20, 25): (path, snapshot steps).
    Used by both test suites: the venv's and ParaView's Python."""
    from tensorviz_pv.store.synthetic import write_synthetic_run
    path = str(tmp_path / "run.tvz")
    snapshots, _ = write_synthetic_run(path, steps=25, every=10)
    return path, snapshots
