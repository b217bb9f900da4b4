"""Invariants that hold every month for any valid variant of the tiny scenario.

Variants are random over the levers (every instrument on or off, the budget, the
poor-worker quota, the wage subsidy, course places), each shock on or off and starting
inside the run, workshop pay, pay schemes, hiring rules and counts, resettlement and
reservation incomes; every identity is checked after every month (staff never above
places, piece work paid as pieces x rate among them).
"""

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_helpers import (
    check_accounting,
    check_people,
    check_poverty,
    check_workshops,
    drive,
    variant,
)

from model.economy import WorkshopEconomy
from model.scenario import INSTRUMENTS, Scenario
from model.simulate import collect_result

FRESH_EXAMPLES = not settings.default.derandomize  # the "random" profile (tests/conftest.py)
PROPERTY_SETTINGS = settings(
    max_examples=200 if FRESH_EXAMPLES else 40,  # each example runs the model for months
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Yearly budgets from one that runs out in the first month to one that is never spent.
BUDGET_YUAN_PER_YEAR = (1.0e4, 2.0e7)
SHOCKS = ("order_collapse", "migration_stop", "illness")
SHOCK_START_MONTHS = 4  # a shock starts in one of the run's first months
BUDGET_SLACK_YUAN = 1e-5  # rounding of the sums of payments


def month_after(start: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after `start`."""
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@st.composite
def variants(draw, base: Scenario) -> Scenario:
    """A random valid variant of `base` (small and short).

    The budget is 0 only when no instrument is in force (the schema's rule).
    """
    instruments = {f"policy.{name}.enabled": draw(st.booleans()) for name in INSTRUMENTS}
    budget = draw(st.floats(*BUDGET_YUAN_PER_YEAR))
    if not any(instruments.values()):
        budget = draw(st.sampled_from([0.0, budget]))
    start = dt.date(2016, draw(st.sampled_from([1, 8, 11])), 1)
    shocks = {}
    for shock in SHOCKS:
        shocks[f"shocks.{shock}.enabled"] = draw(st.booleans())
        if shock != "illness":
            shocks[f"shocks.{shock}.start"] = month_after(
                start, draw(st.integers(0, SHOCK_START_MONTHS - 1))
            )
    changes = {
        **instruments,
        **shocks,
        "policy.budget_yuan_per_year": budget,
        "policy.certification.enabled": draw(st.booleans()),
        "policy.certification.poor_share_min": draw(st.one_of(st.just(0.0), st.floats(0.05, 1.0))),
        "policy.wage_subsidy.share_of_poor_wage_bill": draw(st.floats(0.0, 1.0)),
        "policy.training.places_per_month": draw(st.integers(0, 200)),
        "workshops.outwork.pay_yuan_per_month": draw(st.floats(300.0, 4000.0)),
        "workshops.factory.pay_yuan_per_month": draw(st.floats(800.0, 4000.0)),
        "workshops.cooperative.initial_count": draw(st.sampled_from([10, 40])),
        "workshops.park.initial_count": draw(st.sampled_from([4, 30])),
        "workshops.community.initial_count": draw(st.sampled_from([0, 30])),
        "population.resettled_share": draw(st.sampled_from([0.05, 0.3])),
        "workshops.factory.piece_rate_share": draw(st.floats(0.0, 1.0)),
        "workshops.time_wage_skill_share": draw(st.floats(0.0, 1.0)),
        "workshops.screening_noise_sd": draw(st.floats(0.0, 1.0)),
        "workshops.cooperative.hiring_priority": draw(st.sampled_from(["none", "registered_poor"])),
        "choice.work_disutility_yuan_per_month.village_workshop": draw(st.floats(0.0, 2000.0)),
        "choice.revision_rate_per_month": draw(st.floats(0.0, 1.0)),
        "choice.rule": draw(st.sampled_from(["logit", "income_max", "satisficing"])),
        "choice.flexible_hours": draw(st.booleans()),
        "shocks.illness.incidence_per_month": 0.01,
        "run.start": start,
    }
    return variant(
        base,
        changes,
        households=draw(st.integers(100, 300)),
        months=draw(st.integers(3, 12)),
        seed=draw(st.integers(0, 2**20)),
    )


# ------------------------------------------------------------------ income and spending


@given(st.data())
@PROPERTY_SETTINGS
def test_income_is_the_sum_of_sources_and_spending_stays_within_allocation(tiny, data):
    scenario = data.draw(variants(tiny))
    income_by_month: dict[int, np.ndarray] = {}
    spending_by_month: dict[int, float] = {}
    last = {"remaining": 0.0, "allocated": 0.0}

    def check(model, before):
        check_accounting(model, before)
        income_by_month[model.month] = model.ledger.by_source.sum(axis=1)
        budget = model.policy.budget
        paid = sum(budget.paid.values())
        spending_by_month[model.month] = paid
        # what is left = what was left + this month's allocation - this month's payments
        available = last["remaining"] + budget.allocated - last["allocated"]
        assert paid <= available + BUDGET_SLACK_YUAN
        assert budget.remaining == pytest.approx(available - paid, abs=BUDGET_SLACK_YUAN)
        last.update(remaining=budget.remaining, allocated=budget.allocated)

    model = drive(scenario, check)
    result = collect_result(model)
    people = int(model.households.size.sum())
    income = result.tables["income"].query("group == 'all'")
    for month, rows in income.groupby("month"):
        np.testing.assert_allclose(
            rows["yuan_per_capita"].to_numpy() * people,
            income_by_month[month],
            rtol=1e-9,
            atol=1e-6,
        )
    monthly = result.monthly.set_index("month")
    np.testing.assert_allclose(
        monthly["income_per_capita"] * people,
        [income_by_month[m].sum() for m in monthly.index],
        rtol=1e-9,
    )
    np.testing.assert_allclose(
        monthly["spending"], [spending_by_month[m] for m in monthly.index], rtol=1e-12
    )
    by_instrument = result.tables["spending"].groupby("month")["paid"].sum()
    np.testing.assert_allclose(
        by_instrument.to_numpy(), monthly["spending"].to_numpy(), rtol=1e-9, atol=1e-6
    )
    assert monthly["spending"].sum() <= model.policy.budget.allocated + 1e-6
    summary = result.summary.iloc[0]
    assert summary["total_spending_yuan"] == pytest.approx(monthly["spending"].sum())


# ------------------------------------------------------------------ workshops


@given(st.data())
@PROPERTY_SETTINGS
def test_no_workshop_above_capacity_and_certified_ones_meet_the_quota(tiny, data):
    scenario = data.draw(variants(tiny))
    model = drive(scenario, check_workshops)  # check_workshops asserts after every month
    assert model.month == scenario.run.months


# ------------------------------------------------------------------ people


@given(st.data())
@PROPERTY_SETTINGS
def test_people_are_conserved_and_each_does_one_consistent_activity(tiny, data):
    scenario = data.draw(variants(tiny))
    model = WorkshopEconomy(scenario)
    initial = {
        "people": len(model.people),
        "household": model.people.household.copy(),
        "size": model.households.size.copy(),
    }
    check_people(model, initial)
    for _ in range(scenario.run.months):
        model.step()
        check_people(model, initial)  # asserts conservation and consistency each month
    assert int(model.households.size.sum()) == initial["people"]


# ------------------------------------------------------------------ poverty


@given(st.data())
@PROPERTY_SETTINGS
def test_poverty_measures_are_ordered_shares(tiny, data):
    model = drive(data.draw(variants(tiny)), check_poverty)
    result = collect_result(model)
    summary, monthly = result.summary.iloc[0], result.monthly
    fgt0, fgt1, fgt2 = (monthly[c].to_numpy() for c in ("headcount", "poverty_gap", "severity"))
    assert ((fgt2 >= 0.0) & (fgt2 <= fgt1 + 1e-12) & (fgt1 <= fgt0 + 1e-12) & (fgt0 <= 1.0)).all()
    assert summary["gross_exits"] == monthly["exits"].sum()
    assert summary["gross_entries"] == monthly["entries"].sum()
    assert summary["net_exits"] == summary["poor_households_start"] - summary["poor_households_end"]
    assert summary["poor_households_end"] == monthly["poor_households"].iloc[-1]
    assert summary["poor_households_start"] == monthly["poor_households"].iloc[0]
    assert summary["re_entries"] <= summary["gross_entries"]
