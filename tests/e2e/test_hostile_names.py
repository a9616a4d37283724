"""Whatever a user names is data, never code: run directories, output folders and state files
whose names hold newlines, quotes, $(...) and backslashes go through render, compare, sweep and
paraview --state as they are, and nothing in them runs. A name that is not UTF-8, which VTK
cannot take (pvbatch aborts), is refused in one line before ParaView starts."""

import ast
import json
import os
import shutil
import stat

import pytest

from conftest import tensorviz

# ends a comment, runs code, quotes both ways, a shell substitution, a backslash
HOSTILE = 'evil\n__import__("os").system("touch PWNED")\n#\'"$(touch DOLLAR)\\x \u00e9'
NOT_UTF8 = os.fsdecode(b"digits \xff\xfe")


def nothing_ran(folder):
    for name in ("PWNED", "DOLLAR"):
        for place in (folder, os.getcwd()):
            assert not os.path.exists(os.path.join(place, name)), f"{name} was created"


@pytest.fixture
def hostile_run(tiny_run, tmp_path):
    run_dir = tmp_path / HOSTILE
    run_dir.mkdir()
    shutil.copy(tiny_run / "run.tvz", run_dir / "run.tvz")
    return run_dir


def test_render_of_a_run_whose_name_is_code(hostile_run, tmp_path):
    out = tmp_path / ("out " + HOSTILE)
    script = tmp_path / "kept.py"
    result = tensorviz("render", hostile_run, "--out", out, "--figures", "fig3",
                       "--size", "300x200", "--script", script, check=False)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(out)) == ["fig3_norms.png", "fig3_trajectory.png"]
    # the names are string literals of the script, and nowhere else: not code, not a comment
    text = script.read_text()
    names = {node.id for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Name)}
    assert "__import__" not in names
    assert not [line for line in text.splitlines() if "#" in line and "evil" in line
                and "evil" not in line.split("#")[0]]
    nothing_ran(tmp_path)


def test_compare_of_runs_whose_names_are_code(hostile_run, tiny_run, tmp_path):
    out = tmp_path / ("cmp " + HOSTILE)
    result = tensorviz("compare", hostile_run, tiny_run, "--out", out, "--size", "300x200",
                       check=False)
    assert result.returncode == 0, result.stderr
    assert "compare_norms.png" in os.listdir(out)
    nothing_ran(tmp_path)


def test_sweep_into_a_folder_whose_name_is_code(tmp_path):
    out = tmp_path / HOSTILE
    result = tensorviz("sweep", out, "--lr", "0.05,0.1", "--epochs", 1, "--max-samples", 50,
                       "--size", "300x200", check=False)
    assert result.returncode == 0, result.stderr
    assert {"lr-0.05", "lr-0.1", "sweep.png"} <= set(os.listdir(out))
    nothing_ran(tmp_path)


def test_paraview_state_whose_name_is_code_reaches_paraview_as_one_argument(tmp_path):
    """A stand-in `paraview` first on PATH writes the argv it was given."""
    fake = tmp_path / "bin" / "paraview"
    fake.parent.mkdir()
    seen = tmp_path / "argv.json"
    fake.write_text(f"#!{os.path.realpath(shutil.which('python3'))}\nimport json, os, sys\n"
                    f"open({str(seen)!r}, 'w').write(json.dumps([os.fsencode(a).hex() "
                    "for a in sys.argv[1:]]))\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    state = tmp_path / (HOSTILE + ".pvsm")
    state.write_text("<ParaView/>")
    env = {"PATH": f"{fake.parent}:{os.environ['PATH']}", "XDG_CONFIG_HOME": str(tmp_path)}
    result = tensorviz("paraview", "--state", state, env=env, check=False)
    assert result.returncode == 0, result.stderr
    argv = [bytes.fromhex(a) for a in json.loads(seen.read_text())]
    assert b"--state=" + os.fsencode(os.path.abspath(state)) in argv
    nothing_ran(tmp_path)


@pytest.mark.parametrize("command", ["render", "compare", "sweep", "paraview"])
def test_a_name_that_is_not_utf8_is_refused_in_one_line(tiny_run, tmp_path, command):
    run_dir = tmp_path / NOT_UTF8
    run_dir.mkdir()
    shutil.copy(tiny_run / "run.tvz", run_dir / "run.tvz")
    args = {"render": ["render", run_dir, "--out", tmp_path / "out"],
            "compare": ["compare", run_dir, tiny_run, "--out", tmp_path / "out"],
            "sweep": ["sweep", tmp_path / NOT_UTF8 / "sweep", "--epochs", 1],
            "paraview": ["paraview", run_dir]}[command]
    result = tensorviz(*args, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "not UTF-8" in lines[0] and "\\xff" in lines[0], result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / NOT_UTF8 / "sweep").exists()
