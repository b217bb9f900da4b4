"""Fixtures of the benchmark tests: the full model and the Mesa reference, month by month."""

from __future__ import annotations

import pytest
from reference_helpers import HOUSEHOLDS, MONTHS, VARIANTS, Trace, trace

from benchmarks.reference_mesa import ReferenceEconomy
from model.economy import WorkshopEconomy
from model.scenario import Scenario


@pytest.fixture(scope="session", params=sorted(VARIANTS))
def variant(request: pytest.FixtureRequest) -> str:
    """Name of the scenario variant compared."""
    return request.param


@pytest.fixture(scope="session")
def scenario(variant: str, tiny: Scenario) -> Scenario:
    """The tiny scenario on a few hundred households for two years, as is and stressed."""
    changed = tiny.with_changes(VARIANTS[variant])
    return changed.with_overrides(households=HOUSEHOLDS, months=MONTHS)


@pytest.fixture(scope="session")
def traces(scenario: Scenario) -> tuple[Trace, Trace]:
    """The full model's and the reference's traces of the same scenario and seed."""
    return (trace(WorkshopEconomy(scenario), MONTHS), trace(ReferenceEconomy(scenario), MONTHS))
