"""Shared fixtures: the tiny test scenario and the repository's paths; hypothesis profiles.

Property tests draw the same examples on every run under the ``ci`` profile (`make
test`: a failure is reproducible, CI stable) and fresh ones, five times as many, under
``random`` (`make test-all` sets ``HYPOTHESIS_PROFILE=random``).
"""

import os
from pathlib import Path

import pytest
from hypothesis import settings

from model.scenario import Scenario, load_scenario

settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("random", derandomize=False, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(scope="session")
def tiny() -> Scenario:
    """The tiny scenario (default policy, 400 households, 12 months)."""
    return load_scenario(FIXTURES / "tiny.toml")
