"""The household panel: one row per household per snapshot, agreeing with the run's tables."""

import numpy as np
import pandas as pd
import pytest
from model_helpers import months, variant

from model.economy import WorkshopEconomy
from model.panel import PANEL_COLUMNS, WORKER_COLUMNS, household_panel, panel_months
from model.scenario import ACTIVITY_NAMES
from model.simulate import RunResult, simulate

HOUSEHOLDS, MONTHS, EVERY = 300, 14, 12
SNAPSHOTS = [0, 12, 14]
COMPACT = {
    "month": "int16",
    "household": "int32",
    "village": "int32",
    "size": "int16",
    "registered_poor": "bool",
    "income_per_capita_yuan": "float32",
    "poor": "bool",
    "equity_yuan": "float32",
    **dict.fromkeys(WORKER_COLUMNS, "int16"),
}


@pytest.fixture(scope="module")
def scenario(tiny):
    return variant(tiny, households=HOUSEHOLDS, months=MONTHS)


@pytest.fixture(scope="module")
def result(scenario) -> RunResult:
    return simulate(scenario, panel_every_months=EVERY)


def snapshot(result: RunResult, month: int) -> pd.DataFrame:
    return result.panel[result.panel["month"] == month].reset_index(drop=True)


def test_one_row_per_household_at_each_snapshot_month(result):
    panel = result.panel
    assert (
        list(panel.columns)
        == PANEL_COLUMNS
        == [
            "month",
            "household",
            "village",
            "size",
            "registered_poor",
            "income_per_capita_yuan",
            "poor",
            "workers_not_working",
            "workers_farming",
            "workers_home_outwork",
            "workers_village_workshop",
            "workers_park_workshop",
            "workers_community_factory",
            "workers_migration",
            "equity_yuan",
        ]
    )
    assert {c: str(t) for c, t in panel.dtypes.items()} == COMPACT
    assert len(panel) == len(SNAPSHOTS) * HOUSEHOLDS
    assert sorted(panel["month"].unique()) == SNAPSHOTS
    for month in SNAPSHOTS:
        assert snapshot(result, month)["household"].tolist() == list(range(HOUSEHOLDS))


def test_poor_households_and_headcount_match_the_monthly_table(result):
    monthly = result.monthly.set_index("month")
    for month in SNAPSHOTS:
        rows = snapshot(result, month)
        assert rows["poor"].sum() == monthly.loc[month, "poor_households"]
        people_poor = (rows["size"] * rows["poor"]).sum() / rows["size"].sum()
        assert people_poor == pytest.approx(monthly.loc[month, "headcount"], abs=1e-12)
        clear = (rows["income_per_capita_yuan"] - monthly.loc[month, "poverty_line"]).abs() > 1
        below = rows["income_per_capita_yuan"] < monthly.loc[month, "poverty_line"]
        assert (rows["poor"] == below)[clear].all()
    final = snapshot(result, MONTHS)
    summary = result.summary.iloc[0]
    assert final["poor"].mean() == pytest.approx(
        monthly.loc[MONTHS, "poor_households"] / summary["households"]
    )
    assert final["poor"].sum() == summary["poor_households_end"]
    assert snapshot(result, 0)["poor"].sum() == summary["poor_households_start"]


def test_sizes_add_up_to_the_people_of_the_run(result):
    people = result.summary["people"].iloc[0]
    for month in SNAPSHOTS:
        assert snapshot(result, month)["size"].sum() == people


def test_workers_add_up_to_the_activity_table(result):
    activity = result.tables["activity"].groupby(["month", "activity"])["people"].sum()
    for month in SNAPSHOTS:
        rows = snapshot(result, month)
        counted = [int(rows[f"workers_{a}"].sum()) for a in ACTIVITY_NAMES]
        assert counted == [int(activity[(month, a)]) for a in ACTIVITY_NAMES]
        assert (rows[WORKER_COLUMNS].sum(axis=1) <= rows["size"]).all()
    assert snapshot(result, MONTHS)[WORKER_COLUMNS[1:]].to_numpy().sum() > 0


def test_snapshots_are_the_state_at_their_month(scenario, result):
    model = WorkshopEconomy(scenario)
    taken = {0: household_panel(model)}
    for m in months(model, MONTHS):
        taken[m.month] = household_panel(m)
    for month in SNAPSHOTS:
        pd.testing.assert_frame_equal(snapshot(result, month), taken[month], check_exact=True)
    hh = model.households
    final = taken[MONTHS]
    assert np.array_equal(final["village"], hh.village)
    assert np.array_equal(final["registered_poor"], hh.registered_poor)
    assert np.array_equal(final["equity_yuan"], hh.equity_yuan)
    np.testing.assert_allclose(final["income_per_capita_yuan"], model.tracker.per_capita, rtol=1e-6)
    assert not snapshot(result, 0).equals(snapshot(result, EVERY))


def test_equity_is_the_cooperative_shares_held(with_cooperatives):
    model = WorkshopEconomy(with_cooperatives)
    for _ in months(model, with_cooperatives.run.months):
        pass
    panel = household_panel(model)
    assert panel["equity_yuan"].sum() > 0
    np.testing.assert_array_equal(panel["equity_yuan"], model.households.equity_yuan)


def test_same_seed_gives_the_same_panel(scenario, result):
    again = simulate(scenario, panel_every_months=EVERY)
    pd.testing.assert_frame_equal(again.panel, result.panel, check_exact=True)
    other = simulate(scenario, replicate=1, panel_every_months=EVERY)
    assert not other.panel.equals(result.panel)


def test_panel_is_kept_only_when_asked(scenario, result):
    plain = simulate(scenario)
    assert plain.panel is None and "panel" not in plain.all_tables()
    assert result.all_tables()["panel"] is result.panel
    pd.testing.assert_frame_equal(plain.monthly, result.monthly, check_exact=True)


@pytest.mark.parametrize(
    ("months_run", "every", "expected"),
    [(14, 12, [0, 12, 14]), (24, 12, [0, 12, 24]), (5, 12, [0, 5]), (3, 1, [0, 1, 2, 3])],
)
def test_snapshot_months(months_run, every, expected):
    assert panel_months(months_run, every) == expected


@pytest.mark.parametrize("every", [0, -3])
def test_interval_must_be_positive(scenario, every):
    with pytest.raises(ValueError, match="got"):
        simulate(scenario, panel_every_months=every)
