"""Invariants that hold every month for any valid variant of the tiny scenario."""

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
from model.scenario import Scenario
from model.simulate import collect_result

PROPERTY_SETTINGS = settings(
    max_examples=20, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def variants(draw, base: Scenario) -> Scenario:
    """A random valid variant of `base` (small and short)."""
    changes = {
        "policy.certification.enabled": draw(st.booleans()),
        "policy.certification.poor_share_min": draw(st.one_of(st.just(0.0),
                                                              st.floats(0.05, 1.0))),
        "policy.wage_subsidy.share_of_poor_wage_bill": draw(st.floats(0.0, 1.0)),
        "policy.hiring_bonus.enabled": draw(st.booleans()),
        "policy.absorption_award.enabled": draw(st.booleans()),
        "policy.free_rent.enabled": draw(st.booleans()),
        "policy.budget_yuan_per_year": draw(st.floats(0.0, 2.0e7)),
        "workshops.outwork.pay_yuan_per_month": draw(st.floats(300.0, 4000.0)),
        "workshops.factory.pay_yuan_per_month": draw(st.floats(800.0, 4000.0)),
        "workshops.cooperative.initial_count": draw(st.sampled_from([10, 40])),
        "workshops.park.initial_count": draw(st.sampled_from([4, 30])),
        "choice.revision_rate_per_month": draw(st.floats(0.0, 1.0)),
        "choice.rule": draw(st.sampled_from(["logit", "income_max"])),
        "choice.flexible_hours": draw(st.booleans()),
        "shocks.illness.enabled": draw(st.booleans()),
        "shocks.illness.incidence_per_month": 0.01,
        "run.start": dt.date(2016, draw(st.sampled_from([1, 8, 11])), 1),
    }
    if draw(st.booleans()):
        changes["shocks.order_collapse"] = {
            **base.shocks.order_collapse.model_dump(), "enabled": True,
            "start": dt.date(2016, 3, 1)}
        changes["shocks.migration_stop"] = {
            **base.shocks.migration_stop.model_dump(), "enabled": True,
            "start": dt.date(2016, 2, 1)}
    return variant(base, changes, households=draw(st.integers(100, 300)),
                   months=draw(st.integers(3, 12)), seed=draw(st.integers(0, 2**20)))


# ------------------------------------------------------------------ income and spending


@given(st.data())
@PROPERTY_SETTINGS
def test_income_is_the_sum_of_sources_and_spending_stays_within_allocation(tiny, data):
    scenario = data.draw(variants(tiny))
    income_by_month: dict[int, np.ndarray] = {}
    spending_by_month: dict[int, float] = {}

    def check(model, before):
        check_accounting(model, before)
        income_by_month[model.month] = model.ledger.by_source.sum(axis=1)
        spending_by_month[model.month] = sum(model.policy.budget.paid.values())

    model = drive(scenario, check)
    result = collect_result(model)
    people = int(model.households.size.sum())
    income = result.tables["income"].query("group == 'all'")
    for month, rows in income.groupby("month"):
        np.testing.assert_allclose(rows["yuan_per_capita"].to_numpy() * people,
                                   income_by_month[month], rtol=1e-9, atol=1e-6)
    monthly = result.monthly.set_index("month")
    np.testing.assert_allclose(monthly["income_per_capita"] * people,
                               [income_by_month[m].sum() for m in monthly.index], rtol=1e-9)
    np.testing.assert_allclose(monthly["spending"],
                               [spending_by_month[m] for m in monthly.index], rtol=1e-12)
    by_instrument = result.tables["spending"].groupby("month")["paid"].sum()
    np.testing.assert_allclose(by_instrument.to_numpy(), monthly["spending"].to_numpy(),
                               rtol=1e-9, atol=1e-6)
    assert monthly["spending"].sum() <= model.policy.budget.allocated + 1e-6
    summary = result.summary.iloc[0]
    assert summary["total_spending_yuan"] == pytest.approx(monthly["spending"].sum())


# ------------------------------------------------------------------ workshops


@given(st.data())
@PROPERTY_SETTINGS
def test_no_workshop_above_capacity_and_certified_ones_meet_the_quota(tiny, data):
    drive(data.draw(variants(tiny)), check_workshops)


# ------------------------------------------------------------------ people


@given(st.data())
@PROPERTY_SETTINGS
def test_people_are_conserved_and_each_does_one_consistent_activity(tiny, data):
    scenario = data.draw(variants(tiny))
    model = WorkshopEconomy(scenario)
    initial = {"people": len(model.people), "household": model.people.household.copy(),
               "size": model.households.size.copy()}
    check_people(model, initial)
    for _ in range(scenario.run.months):
        model.step()
        check_people(model, initial)


# ------------------------------------------------------------------ poverty


@given(st.data())
@PROPERTY_SETTINGS
def test_poverty_measures_are_ordered_shares(tiny, data):
    model = drive(data.draw(variants(tiny)), check_poverty)
    result = collect_result(model)
    summary, monthly = result.summary.iloc[0], result.monthly
    assert summary["gross_exits"] == monthly["exits"].sum()
    assert summary["gross_entries"] == monthly["entries"].sum()
    assert summary["net_exits"] == \
        summary["poor_households_start"] - summary["poor_households_end"]
    assert summary["poor_households_end"] == monthly["poor_households"].iloc[-1]
    assert summary["poor_households_start"] == monthly["poor_households"].iloc[0]
    assert summary["re_entries"] <= summary["gross_entries"]
