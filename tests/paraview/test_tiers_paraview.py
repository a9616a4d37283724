"""The VTK algorithms never use paraview.simple, nothing in tensorviz_pv imports TensorFlow, and
every proxy of the plugin names a class of the algorithms tier."""

import importlib
import xml.etree.ElementTree as ElementTree

import pytest

from pvtest import PLUGIN
from tiers import tier_violations


@pytest.mark.parametrize("tier, least", [("algorithms", 8), ("figures", 8), ("web", 4)])
def test_a_tier_imports_only_what_it_may(tier, least):
    modules, wrong = tier_violations(tier)
    assert wrong == [], f"tensorviz_pv.{tier} imports what its tier must not: {wrong}"
    assert len(modules) >= least


def test_every_proxy_names_an_algorithm_class():
    classes = [proxy.get("class") for proxy in ElementTree.parse(PLUGIN).iter("SourceProxy")
               if proxy.get("class", "").startswith("tensorviz_pv")]
    assert len(classes) == 16
    for path in classes:
        module, _, name = path.rpartition(".")
        assert module.startswith("tensorviz_pv.algorithms."), path
        assert hasattr(importlib.import_module(module), name), path
