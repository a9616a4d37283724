"""Run a script in pvbatch on a run store and read back the JSON it writes (argv: the store,
the JSON path, then any more arguments)."""

import json

from tensorviz_cli.launch import run as run_paraview


def pvbatch_json(tmp_path, text, store, *args, name="view"):
    script, out = tmp_path / f"{name}.py", tmp_path / f"{name}.json"
    script.write_text(text)
    result = run_paraview("pvbatch", [str(script), store, str(out), *map(str, args)],
                          capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(out.read_text()), result
