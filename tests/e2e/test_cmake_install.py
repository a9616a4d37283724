"""Into an existing ParaView: `cmake --install` (CMakeLists.txt) gives a ParaView that auto-loads
the plugin from the install; a ParaView whose Python lacks h5py says so in one line."""

import os
import shutil
import subprocess

from conftest import ROOT
from tensorviz_cli.launch import paraview_env, paraview_program
from tensorviz_cli.launch import run as run_paraview

CHECK = """
import tensorviz_pv
from paraview import simple
from tensorviz_pv.store.synthetic import write_synthetic_run
write_synthetic_run("run.tvz", steps=5, every=5)
reader = simple.TensorVizReader(FileName="run.tvz")
print("module", tensorviz_pv.__file__)
print("steps", list(reader.TimestepValues))
"""


def test_install_puts_package_and_plugin_where_paraview_loads_them(tmp_path):
    build, prefix, site = tmp_path / "build", tmp_path / "prefix", tmp_path / "site"
    subprocess.run(["cmake", "-S", ROOT, "-B", str(build), f"-DCMAKE_INSTALL_PREFIX={prefix}",
                    f"-DTENSORVIZ_PYTHON_DIR={site}"], check=True, capture_output=True)
    subprocess.run(["cmake", "--install", str(build)], check=True, capture_output=True)
    plugin_dir = prefix / "lib" / "tensorviz" / "plugins"
    assert (plugin_dir / "TensorViz.xml").read_text() == \
        open(os.path.join(ROOT, "plugin", "TensorViz.xml")).read()
    assert (site / "tensorviz_pv" / "algorithms" / "reader.py").exists()
    env_script = (plugin_dir / "tensorviz-env.sh").read_text()
    assert f"PV_PLUGIN_PATH=\"{plugin_dir}" in env_script

    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "check.py").write_text(CHECK)
    env = dict(paraview_env(), PYTHONPATH=str(site))
    # what sourcing the installed env script does
    env["PV_PLUGIN_PATH"] = str(plugin_dir)
    result = subprocess.run([paraview_program("pvpython"), "check.py"], cwd=work, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"module {site}/tensorviz_pv/__init__.py" in result.stdout
    assert "steps [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]" in result.stdout
    shutil.rmtree(build)


OPEN = """
import sys
from paraview import simple
reader = simple.TensorVizReader(FileName=sys.argv[1])
reader.UpdatePipeline()
print("steps", list(reader.TimestepValues))
"""


def test_a_paraview_python_without_h5py_says_what_to_install_in_one_line(tmp_path):
    """The plugin's reader in a pvpython whose `import h5py` fails (a module of that name on
    PYTHONPATH raises what a missing package raises): one line naming the fix, no traceback."""
    from tensorviz_pv.store.synthetic import write_synthetic_run
    store = str(tmp_path / "run.tvz")
    write_synthetic_run(store, steps=5, every=5)
    shim = tmp_path / "no_h5py"
    shim.mkdir()
    (shim / "h5py.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'h5py'\", name='h5py')\n")
    (tmp_path / "open.py").write_text(OPEN)
    result = run_paraview("pvpython", [str(tmp_path / "open.py"), store], capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": f"{shim}:{ROOT}"})
    said = result.stdout + result.stderr
    assert "Traceback" not in said and "Failed to import" not in said, said
    lines = [line for line in said.splitlines() if "h5py" in line]
    assert len(lines) == 1 and "this Python has no h5py" in lines[0], said
    assert "apt install python3-h5py" in lines[0]
    assert "steps []" in result.stdout
