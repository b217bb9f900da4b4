"""Fixtures of the model tests: small variants of the tiny scenario."""

from __future__ import annotations

import pytest
from model_helpers import variant

from model.scenario import Scenario


@pytest.fixture(scope="session")
def small(tiny: Scenario) -> Scenario:
    """The tiny scenario on 200 households for 6 months."""
    return variant(tiny, households=200, months=6)


@pytest.fixture(scope="session")
def with_cooperatives(tiny: Scenario) -> Scenario:
    """The tiny scenario with five cooperatives open from the start (equity can be bought)."""
    return variant(tiny, {"workshops.cooperative.initial_count": 50}, months=6)
