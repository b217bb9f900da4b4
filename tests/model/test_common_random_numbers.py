"""Arms of a comparison start alike and see the same random numbers where their states agree."""

import numpy as np
import pandas as pd
import pytest
from model_helpers import variant

from model.economy import WorkshopEconomy
from model.scenario import Scenario, load_scenario
from model.simulate import simulate

SCENARIOS = "scenarios"


@pytest.fixture(scope="module")
def default_and_baseline() -> tuple[Scenario, Scenario]:
    size = {"run.households": 1500, "run.months": 24}
    return tuple(
        load_scenario(f"{SCENARIOS}/{name}.toml").with_changes(size)
        for name in ("default", "baseline")
    )


def test_default_and_baseline_start_from_the_same_state(default_and_baseline):
    default, baseline = (WorkshopEconomy(s) for s in default_and_baseline)
    assert len(default.workshop_table) == len(baseline.workshop_table) == 0
    np.testing.assert_array_equal(default.people.activity, baseline.people.activity)
    np.testing.assert_array_equal(default.ledger.total, baseline.ledger.total)
    np.testing.assert_array_equal(default.poor, baseline.poor)
    runs = [simulate(s) for s in default_and_baseline]
    first = [r.monthly[r.monthly["month"] == 0].drop(columns="workshops_open") for r in runs]
    pd.testing.assert_frame_equal(first[0], first[1])
    assert (
        runs[0].summary["poor_households_start"].item()
        == runs[1].summary["poor_households_start"].item()
    )


def test_an_instrument_that_does_nothing_changes_nothing(tiny):
    # loans in force with no take-up: no loan, no money, and no random number moves
    base = variant(tiny, {"policy.loans.enabled": False}, households=600, months=24)
    idle = base.with_changes({"policy.loans.enabled": True, "policy.loans.take_up_share": 0.0})
    a, b = simulate(base), simulate(idle)
    pd.testing.assert_frame_equal(a.monthly, b.monthly)
    pd.testing.assert_frame_equal(a.summary, b.summary)
