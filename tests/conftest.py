"""Shared fixtures: the tiny test scenario and the repository's paths."""

from pathlib import Path

import pytest

from model.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(scope="session")
def tiny() -> Scenario:
    """The tiny scenario (default policy, 400 households, 12 months)."""
    return load_scenario(FIXTURES / "tiny.toml")
