"""Library code logs, only programs print: a message reaches a person on the stream its level
says, an embedding program can silence it, and no module of the library tiers calls print."""

import ast
import os
import subprocess

import pytest

from tiers import interpreter

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIBRARY = ["tensorviz_pv", "trainer"]  # the command line (tensorviz_cli) is the one that prints

PROGRAM = """
import logging, sys
from tensorviz_pv.messages import logger, show_messages
log = logger("test")
if sys.argv[1] == "shown":
    show_messages()
elif sys.argv[1] == "silenced":
    logging.getLogger("tensorviz").setLevel(logging.ERROR)
log.info("an information")
log.warning("TensorViz: a warning")
"""


def run(how):
    result = subprocess.run([interpreter(), "-c", PROGRAM, how], capture_output=True, text=True,
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr


def test_a_program_that_shows_messages_prints_information_and_warnings_apart():
    assert run("shown") == ("an information\n", "TensorViz: a warning\n")


def test_without_a_handler_warnings_still_reach_stderr_and_information_does_not():
    assert run("plain") == ("", "TensorViz: a warning\n")


def test_an_embedding_program_can_silence_them():
    assert run("silenced") == ("", "")


def _prints(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name) and node.func.id == "print"]


@pytest.mark.parametrize("package", LIBRARY)
def test_no_library_module_prints(package):
    found = []
    for folder, _, names in os.walk(os.path.join(ROOT, package)):
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                found += [f"{os.path.relpath(path, ROOT)}:{line}" for line in _prints(path)]
    assert found == [], f"print() in library code (log through tensorviz_pv.messages): {found}"
