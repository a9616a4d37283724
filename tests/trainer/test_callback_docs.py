"""The callbacks are documented the way Keras documents its own: every argument of __init__ has
an entry under Args:, and there is an Example:."""
import inspect
import re

import pytest

from trainer import RunCheckpoints, TensorVizCallback


@pytest.mark.parametrize("cls", [TensorVizCallback, RunCheckpoints])
def test_every_argument_has_an_args_entry(cls):
    doc = inspect.getdoc(cls)
    assert "Example:" in doc
    args_section = doc.split("Args:", 1)[1].split("Example:", 1)[0]
    documented = set(re.findall(r"^    (\w+):", args_section, flags=re.MULTILINE))
    arguments = set(inspect.signature(cls.__init__).parameters) - {"self"}
    assert arguments - documented == set(), f"{cls.__name__}: arguments with no Args entry"
    assert documented - arguments == set(), f"{cls.__name__}: Args entries for no argument"
