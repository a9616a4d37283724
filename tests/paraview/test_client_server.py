"""Client-server: pvserver on 127.0.0.1 runs the plugin; a pvpython client fetches a view."""

import os
import socket
import subprocess
import time

import numpy as np

from tensorviz_pv.store.synthetic import expected_activation, write_synthetic_run

from pvtest import PLUGIN, PVPYTHON, ROOT

PVSERVER = os.path.join(os.path.dirname(PVPYTHON), "pvserver")

CLIENT = """
import sys
from paraview import simple, servermanager
from vtkmodules.util.numpy_support import vtk_to_numpy
simple.Connect("127.0.0.1", {port})
simple.LoadPlugin({plugin!r}, remote=True, ns=vars(simple))
reader = simple.TensorVizReader(FileName={store!r})
print("times", len(reader.TimestepValues))
correlation = simple.FilterCorrelation(Input=reader)
print("layers", list(correlation.GetProperty("LayerNames")))
correlation.UpdatePipeline(10.0)
table = servermanager.Fetch(correlation)
print("r01", repr(float(vtk_to_numpy(table.GetColumnByName("r_3"))[0])))
simple.Disconnect()
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_views_run_on_the_server_and_their_results_reach_the_client(tmp_path):
    store = str(tmp_path / "run.tvz")
    write_synthetic_run(store, steps=25, every=10)
    port = free_port()
    # the server, not the client, needs tensorviz_pv: only the server's PYTHONPATH has it
    server_env = dict(os.environ, PYTHONPATH=ROOT, PV_PLUGIN_PATH="")
    server = subprocess.Popen([PVSERVER, f"--server-port={port}", "--hostname=127.0.0.1"],
                              env=server_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        time.sleep(2)
        client_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PV_PLUGIN_PATH")}
        script = tmp_path / "client.py"
        script.write_text(CLIENT.format(port=port, plugin=PLUGIN, store=store))
        result = subprocess.run([PVPYTHON, str(script)], cwd=str(tmp_path), env=client_env,
                                capture_output=True, text=True, timeout=120)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
    finally:
        server.kill()
        server_output = server.communicate()[0]
    assert "Client connected" in server_output
    assert "times 26" in output
    assert "layers ['conv1']" in output
    activation = expected_activation(10).reshape(-1, 4).astype(np.float64)
    expected = np.corrcoef(activation, rowvar=False)[0, 3]
    seen = float(output.split("r01 ")[1].split()[0])
    assert abs(seen - expected) < 1e-9
