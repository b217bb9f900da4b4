"""Each instrument acts through its channel: switching it off moves the outcome it acts on.

Each test runs a county with the instrument on and off (everything else equal, the same
keyed draws) and checks the outcome named in the ODD (docs/ODD.md, 7.5) moves the way
the instrument pushes it. Budgets are ample, so that no instrument is starved by another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from model_helpers import variant

from model.economy import WorkshopEconomy
from model.households import Source
from model.scenario import load_scenario
from model.workshops import Form

ROOT = Path(__file__).resolve().parents[2]
# ample money, and a county shrunk to 3 times the simulated households so that many
# candidate firms weigh entry (the scale multiplies entry rates)
AMPLE = {"policy.budget_yuan_per_year": 1e10, "county.households": 12_000}
MONTHS = 36


@dataclass
class Arms:
    """The same county run with the instrument on and off."""

    on: WorkshopEconomy
    off: WorkshopEconomy
    totals: dict[str, dict[str, float]]


def run_arms(
    scenario_file: str, instrument: str, extra: dict[str, Any], monthly: dict[str, Callable]
) -> Arms:
    """Run both arms; `monthly` outcomes are summed over the months."""
    base = variant(
        load_scenario(ROOT / "scenarios" / scenario_file),
        {**AMPLE, **extra},
        households=4000,
        months=MONTHS,
    )
    models, totals = {}, {}
    for arm, enabled in (("on", True), ("off", False)):
        model = WorkshopEconomy(variant(base, {f"policy.{instrument}.enabled": enabled}))
        sums = dict.fromkeys(monthly, 0.0)
        for _ in range(MONTHS):
            model.step()
            for name, outcome in monthly.items():
                sums[name] += float(outcome(model))
        models[arm], totals[arm] = model, sums
    return Arms(models["on"], models["off"], totals)


def opened(model: WorkshopEconomy, form: Form | None = None) -> int:
    """Workshops opened over the run (of one form if given)."""
    forms = model.workshop_table.form
    return len(forms) if form is None else int((forms == form).sum())


def poor_workers(model: WorkshopEconomy) -> int:
    return int(model.staff.poor_workers.sum())


def open_workshops(model: WorkshopEconomy) -> int:
    return int(model.workshop_table.is_open.sum())


@pytest.mark.parametrize("instrument", ["opening_subsidy", "absorption_award", "loans"])
def test_entry_support_draws_more_workshops_in(instrument):
    extra = {
        "policy.absorption_award.poor_hired_min": 3,  # reachable by the county's workshops
        "policy.loans.take_up_share": 1.0,
    }
    arms = run_arms("default.toml", instrument, extra, {})
    assert opened(arms.on) > opened(arms.off)


def test_hiring_bonus_draws_workshops_in_and_pays_for_poor_workers_kept():
    # a generous bonus and no other support to entry, so that it tips firms' decisions
    extra = {
        "policy.hiring_bonus.yuan_per_worker": 2e4,
        "policy.opening_subsidy.enabled": False,
        "policy.wage_subsidy.enabled": False,
    }
    arms = run_arms("default.toml", "hiring_bonus", extra, {})
    assert opened(arms.on) > opened(arms.off)
    paid = arms.on.people.bonus_paid
    assert paid.any() and arms.on.registered_person[paid].all()
    assert not arms.off.people.bonus_paid.any()


def test_wage_subsidy_employs_more_registered_poor_workers():
    arms = run_arms("default.toml", "wage_subsidy", {}, {"poor_workers": poor_workers})
    assert arms.totals["on"]["poor_workers"] > arms.totals["off"]["poor_workers"]


def test_free_rent_and_cash_support_keep_more_community_factories_open():
    for instrument in ("free_rent", "factory_cash_support"):
        arms = run_arms(
            "community_factory.toml", instrument, {}, {"open_workshops": open_workshops}
        )
        assert arms.totals["on"]["open_workshops"] > arms.totals["off"]["open_workshops"]


def test_training_raises_the_earnings_of_those_trained():
    arms = run_arms("default.toml", "training", {}, {})
    trained = arms.on.people.courses > 0
    assert trained.any() and not (arms.off.people.courses > 0).any()
    working = trained & (arms.on.people.earnings > 0) & (arms.off.people.earnings > 0)
    same_work = working & (arms.on.people.activity == arms.off.people.activity)
    assert same_work.sum() > 20
    assert (arms.on.people.earnings[same_work] >= arms.off.people.earnings[same_work]).mean() > 0.8


def test_injury_insurance_takes_accident_costs_off_workshops():
    def accident_cost(model: WorkshopEconomy) -> float:
        return float(model.workshop_table.accident_cost.sum())

    extra = {
        "workshops.injury_rate_per_worker_month": 0.01,
        "policy.injury_insurance.poor_workers_only": False,
    }
    arms = run_arms("default.toml", "injury_insurance", extra, {"cost": accident_cost})
    assert arms.totals["on"]["cost"] < 0.5 * arms.totals["off"]["cost"]


def test_equity_pays_dividends_to_households_without_labour():
    def dividends(model: WorkshopEconomy) -> float:
        return float(model.ledger.by_source[Source.DIVIDENDS].sum())

    arms = run_arms("default.toml", "equity", {}, {"dividends": dividends})
    assert arms.totals["on"]["dividends"] > 0 == arms.totals["off"]["dividends"]
    holders = arms.on.households.equity_yuan > 0
    paid = arms.on.ledger.by_source[Source.DIVIDENDS] > 0
    assert holders.any() and np.array_equal(paid, holders)
    assert np.all(arms.off.households.equity_yuan == 0)
