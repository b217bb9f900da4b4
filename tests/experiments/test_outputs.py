"""Warnings on a run (`experiments.outputs.run_warnings`): an instrument with no workshop of
a form it pays for, and claims the budget left unpaid; both in the run folder's manifest."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
from experiment_helpers import SCENARIOS, TINY

from experiments.outputs import (
    FORMS_PAID,
    PRESENTED_AGAIN,
    absent_form_warnings,
    budget_warnings,
    counterfactual_warnings,
    run_warnings,
    shock_warnings,
    write_run,
)
from model.scenario import INSTRUMENTS, Scenario, load_scenario
from model.simulate import RunResult, simulate

AMPLE = {"policy.budget_yuan_per_year": 1e12}  # no claim goes unpaid
SCARCE = {"policy.budget_yuan_per_year": 20_000.0}  # most claims go unpaid
CASH_SUPPORT = {"policy.factory_cash_support.enabled": True}  # pays community workshops only
NO_COMMUNITY = {
    "workshops.community.initial_count": 0,
    "workshops.community.entrants_per_month": 0.0,
}
COMMUNITY = {"workshops.community.initial_count": 40}  # 4 at the tiny county's scale 0.1


def run(tiny: Scenario, changes: dict[str, object]) -> tuple[Scenario, RunResult]:
    """The tiny county with `changes`, run once (replicate 0)."""
    scenario = tiny.with_changes(changes, origin="test")
    return scenario, simulate(scenario)


def community_open(result: RunResult) -> bool:
    """Whether a community workshop was open or idle in some month from 1 on."""
    shops = result.tables["workshops"]
    active = shops[(shops["month"] >= 1) & (shops["form"] == "community")]
    return bool(active.loc[active["status"] != "closed", "count"].sum() > 0)


def test_an_instrument_without_a_workshop_of_its_form_warns(tiny: Scenario, tmp_path: Path) -> None:
    scenario, result = run(tiny, {**AMPLE, **CASH_SUPPORT, **NO_COMMUNITY})
    assert not community_open(result)
    warnings = run_warnings(scenario, result.all_tables())
    assert warnings == [
        "tiny: no community workshop was open in any month: factory_cash_support, which "
        "pays only for community workshops, did nothing"
    ]
    write_run(result, scenario, TINY, tmp_path / "out")
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["warnings"] == warnings


def test_no_form_warning_where_a_workshop_of_the_form_is_open(tiny: Scenario) -> None:
    scenario, result = run(tiny, {**AMPLE, **CASH_SUPPORT, **COMMUNITY})
    assert community_open(result)
    assert run_warnings(scenario, result.all_tables()) == []


def test_no_form_warning_where_no_instrument_pays_for_the_missing_form(tiny: Scenario) -> None:
    scenario, result = run(tiny, {**AMPLE, **NO_COMMUNITY})
    assert not scenario.policy.factory_cash_support.enabled and not community_open(result)
    assert run_warnings(scenario, result.all_tables()) == []


def test_a_binding_budget_warns_with_the_yuan_unpaid_by_instrument(tiny: Scenario) -> None:
    scenario, result = run(tiny, SCARCE)
    [warning] = run_warnings(scenario, result.all_tables())
    spending = result.tables["spending"]
    unpaid = spending.assign(unpaid=spending["due"] - spending["paid"])
    by_instrument = unpaid.groupby("instrument")["unpaid"].sum()
    months = unpaid.loc[unpaid["unpaid"] > 0, "month"].nunique()
    assert warning.startswith(
        f"tiny: the budget ran out: claims went unpaid in {months} of 12 months; yuan unpaid: "
        f"wage_subsidy {by_instrument['wage_subsidy']:,.0f}, "
    )
    final = unpaid[unpaid["month"] == 12].set_index("instrument")["unpaid"]
    assert f"still unpaid at the end: opening_subsidy {final['opening_subsidy']:,.0f}" in warning


def test_an_ample_budget_does_not_warn(tiny: Scenario) -> None:
    scenario, result = run(tiny, AMPLE)
    spending = result.tables["spending"]
    assert (spending["due"] > 0).any() and (spending["due"] == spending["paid"]).all()
    assert run_warnings(scenario, result.all_tables()) == []


def spending_rows(*rows: tuple[int, int, str, float, float]) -> pd.DataFrame:
    """A spending table of replicates: (replicate, month, instrument, due, paid) rows."""
    return pd.DataFrame(rows, columns=["replicate", "month", "instrument", "due", "paid"])


def test_one_off_claims_waiting_are_counted_once_not_each_month() -> None:
    waiting = spending_rows(
        *((r, m, "opening_subsidy", 50_000.0, 0.0) for r in (0, 1) for m in (1, 2, 3)),
        *((r, m, "wage_subsidy", 1_000.0, 1_000.0 - 100 * r) for r in (0, 1) for m in (1, 2, 3)),
    )
    assert budget_warnings(waiting) == [
        "the budget ran out: claims went unpaid in 3 of 3 months; yuan unpaid: "
        "wage_subsidy 150; yuan of one-off claims still unpaid at the end: "
        "opening_subsidy 50,000 (means of 2 replicates)"
    ]
    paid_later = spending_rows(
        (0, 1, "opening_subsidy", 50_000.0, 0.0), (0, 2, "opening_subsidy", 50_000.0, 50_000.0)
    )
    assert budget_warnings(paid_later) == [
        "the budget ran out: claims went unpaid in 1 of 2 months; one-off claims only, all "
        "paid by the end"
    ]


def test_a_form_missing_in_some_replicates_is_counted(tiny: Scenario) -> None:
    shops = pd.DataFrame(
        [(r, 1, "community", "open", int(r == 0)) for r in range(3)]
        + [(r, 1, "outwork", "idle", 1) for r in range(3)]
        + [(r, 1, "cooperative", "closed", 1) for r in range(3)],
        columns=["replicate", "month", "form", "status", "count"],
    )
    policy = tiny.with_changes(CASH_SUPPORT, origin="test").policy
    assert policy.equity.enabled and policy.injury_insurance.enabled
    assert absent_form_warnings(policy, shops) == [
        "no factory, cooperative, park or community workshop was open in any month of 2 of "
        "the 3 replicates: injury_insurance, which pays only for factory, cooperative, park "
        "or community workshops, did nothing in those replicates",
        "no community workshop was open in any month of 2 of the 3 replicates: "
        "factory_cash_support, which pays only for community workshops, did nothing in those "
        "replicates",
        "no cooperative workshop was open in any month of 3 of the 3 replicates: equity, "
        "which pays only for cooperative workshops, did nothing in those replicates",
    ]


def test_every_instrument_is_known_to_pay_for_forms_or_people() -> None:
    assert set(FORMS_PAID) | {"training"} == set(INSTRUMENTS)
    assert set(INSTRUMENTS) >= PRESENTED_AGAIN


def test_a_counterfactual_of_another_county_warns_and_one_without_policy_does_not() -> None:
    default, qingchuan, baseline = (
        load_scenario(SCENARIOS / f"{name}.toml") for name in ("default", "qingchuan", "baseline")
    )
    assert counterfactual_warnings(default, baseline) == []  # only workshops and policy differ
    [warning] = counterfactual_warnings(
        qingchuan, baseline.with_overrides(months=43, households=65000)
    )
    assert warning.startswith(
        "baseline differs from qingchuan outside workshops and policy (run.start, county.name, "
    )
    assert warning.endswith("the paired effects include these differences, not the policy's alone")
    changed = default.with_changes({"shocks.illness.enabled": True}, origin="test")
    assert counterfactual_warnings(changed, default) == [
        "default differs from default outside workshops and policy (shocks.illness.enabled): "
        "the paired effects include these differences, not the policy's alone"
    ]


def test_a_shock_switched_on_outside_the_run_is_warned_of(tiny: Scenario) -> None:
    inside = {
        "shocks.order_collapse.enabled": True,
        "shocks.order_collapse.start": dt.date(2016, 6, 1),
    }
    assert shock_warnings(tiny.with_changes(inside)) == []
    before = {**inside, "shocks.order_collapse.start": dt.date(2014, 1, 1)}
    (warning,) = shock_warnings(tiny.with_changes(before))
    assert warning.startswith("shocks.order_collapse is switched on") and "never happens" in warning
    after = {
        "shocks.migration_stop.enabled": True,
        "shocks.migration_stop.start": dt.date(2030, 1, 1),
    }
    assert len(shock_warnings(tiny.with_changes(after))) == 1
