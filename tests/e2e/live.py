"""A tiny `tensorviz train` running in the background, for the tests that watch or steer a live
training (tests/e2e/test_live_training.py, test_steering_view.py)."""

import os
import subprocess
import sys
import time


def start_training(run_dir, epochs, appears="run.tvz", seconds=120):
    """Start the venv's `tensorviz train run_dir` on 2000 images in batches of 20 (100 steps an
    epoch) and wait until `appears` (a name in the run directory) exists; returns the process."""
    trainer = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "tensorviz"), "train", str(run_dir),
         "--max-samples", "2000", "--epochs", str(epochs), "--batch-size", "20"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + seconds
    while not os.path.exists(os.path.join(str(run_dir), appears)) and time.time() < deadline:
        time.sleep(0.3)
    return trainer
