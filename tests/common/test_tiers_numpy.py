"""The store and the analysis tiers import nothing above them (runs in both Pythons)."""

import pytest

from tiers import tier_violations


@pytest.mark.parametrize("tier", ["store", "analysis"])
def test_a_tier_imports_only_what_it_may(tier):
    modules, wrong = tier_violations(tier)
    assert wrong == [], f"tensorviz_pv.{tier} imports what its tier must not: {wrong}"
    assert len(modules) >= 5  # every module of the tier was imported
