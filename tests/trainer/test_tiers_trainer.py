"""The trainer imports the store and the analysis, never the views nor the figures; the command
line, above every tier, loads neither TensorFlow nor ParaView by being imported (venv side)."""

import pytest

from tiers import TIERS, tier_violations


@pytest.mark.parametrize("tier, modules_at_least", [("trainer", 15), ("cli", 10)])
def test_a_tier_imports_only_what_it_may(tier, modules_at_least):
    modules, wrong = tier_violations(tier)
    assert wrong == [], f"{TIERS[tier].package} imports what its tier must not: {wrong}"
    assert len(modules) >= modules_at_least  # every module of the tier was imported
