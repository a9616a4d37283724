"""ParaView (HDF5 1.10, Debian's h5py) reads a store while the trainer (HDF5 1.14) writes it."""

import json
import signal
import time

from live import start_training
from tensorviz_cli.launch import run as run_paraview
from tensorviz_pv.store import format as F

WATCH = """
import json, sys, time
from paraview import simple
reader = simple.TensorVizReader(FileName=sys.argv[1])
seen = [len(reader.TimestepValues)]
glyphs = simple.WeightGlyphs(Input=reader, Layer="conv1")
for _ in range(3):
    time.sleep(1.5)
    simple.ReloadFiles(reader)
    seen.append(len(reader.TimestepValues))
    glyphs.UpdatePipeline(reader.TimestepValues[-1])
cells = glyphs.GetDataInformation().GetNumberOfCells()
json.dump({"seen": seen, "cells": cells}, open(sys.argv[2], "w"))
"""


def test_paraview_follows_a_run_while_it_trains(tmp_path):
    run_dir = tmp_path / "live"
    store = run_dir / F.STORE_FILENAME
    trainer = start_training(run_dir, epochs=40)
    try:
        time.sleep(3)  # some steps flushed
        script, out = tmp_path / "watch.py", tmp_path / "watch.json"
        script.write_text(WATCH)
        result = run_paraview("pvpython", [str(script), str(store), str(out)],
                              capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert trainer.poll() is None, "the trainer finished too early for this test"
    finally:
        trainer.send_signal(signal.SIGKILL)
        trainer.wait()
    seen = json.loads(out.read_text())
    assert seen["seen"][0] > 1
    assert all(b > a for a, b in zip(seen["seen"], seen["seen"][1:])), seen  # it grows
    assert seen["cells"] == 144 * 6  # conv1's glyphs at the newest step
