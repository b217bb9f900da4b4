"""Regression: seeded runs must reproduce their committed tables.

Two cases, each run once per module:

* tiny: the tiny scenario on 300 households for 12 months; fixtures
  `tests/fixtures/regression_summary.csv` and `regression_monthly.csv`.
* default: the default scenario on 3,000 households for 36 months with a denser county
  (every workshop form present), every policy instrument on with a budget that runs
  short late in the year, a training requirement at park workshops, and the 2020
  order collapse (long enough for workshops to close), migration stop and illness
  shocks moved into the run; fixtures `tests/fixtures/regression_default_<table>.csv`
  for the monthly and summary tables and every long table. Compared exactly.

Regenerate them with

    WSIM_UPDATE_FIXTURES=1 .venv/bin/pytest tests/model/test_regression.py

only when the model's rules change on purpose (and say so in the commit), never to hide
a change that was meant to be a pure speed-up or refactoring: those must reproduce the
fixtures exactly.
"""

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from model_helpers import variant

from model.collection import TABLES
from model.scenario import Scenario, load_scenario
from model.simulate import RunResult, simulate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
UPDATE = os.environ.get("WSIM_UPDATE_FIXTURES") == "1"
SEED = 2016
SHOCK_START = dt.date(2018, 2, 1)  # inside the default case's 36 months


@dataclass(frozen=True)
class Case:
    """A seeded run and the fixtures it must reproduce.

    Attributes:
        prefix: fixture file names start with it (`<prefix>_<table>.csv`).
        households, months: size of the run.
        tables: long tables kept besides the monthly and summary tables.
        rtol: relative tolerance of float columns (0 = exact).
    """

    prefix: str
    households: int
    months: int
    tables: tuple[str, ...] = ()
    rtol: float = 0.0

    def path(self, table: str) -> Path:
        """Fixture file of one table."""
        return FIXTURES / f"{self.prefix}_{table}.csv"

    @property
    def table_names(self) -> tuple[str, ...]:
        """Every table the case keeps."""
        return ("summary", "monthly", *self.tables)


TINY = Case("regression", households=300, months=12, rtol=1e-9)
DEFAULT = Case("regression_default", households=3000, months=36, tables=tuple(TABLES))
CASES = {"tiny": TINY, "default": DEFAULT}

DEFAULT_CHANGES = {
    "county.households": 12_000,  # scale 0.25: 75 villages, dozens of workshops
    "workshops.community.initial_count": 8,
    "workshops.park.training_required": True,
    "policy.budget_yuan_per_year": 8_000_000.0,  # runs short: the last instruments wait
    **{
        f"policy.{name}.enabled": True
        for name in ("hiring_bonus", "absorption_award", "free_rent", "factory_cash_support")
    },
    "shocks.order_collapse.enabled": True,
    "shocks.order_collapse.start": SHOCK_START,
    "shocks.order_collapse.months": 7,
    "shocks.migration_stop.enabled": True,
    "shocks.migration_stop.start": SHOCK_START,
    "shocks.illness.enabled": True,
}


def case_scenario(name: str, tiny: Scenario) -> Scenario:
    """The scenario of a case."""
    case = CASES[name]
    run = {"households": case.households, "months": case.months, "seed": SEED}
    if name == "tiny":
        return variant(tiny, **run)
    return variant(load_scenario(SCENARIOS / "default.toml"), DEFAULT_CHANGES, **run)


def run_tables(result: RunResult, case: Case) -> dict[str, pd.DataFrame]:
    """The run's tables the case keeps, by name."""
    return {name: result.all_tables()[name] for name in case.table_names}


def write_fixtures(result: RunResult, case: Case) -> None:
    """Write a case's fixtures from a run (floats at full precision)."""
    for name, table in run_tables(result, case).items():
        table.to_csv(case.path(name), index=False)


def compare(actual: pd.DataFrame, path: Path, rtol: float) -> None:
    """A run's table against its fixture (exactly where `rtol` is 0)."""
    expected = pd.read_csv(path)
    # CSV keeps values, not dtypes: read the run's own table back the same way
    actual = actual.reset_index(drop=True)
    assert list(actual.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(
        actual, expected, check_exact=rtol == 0, rtol=rtol or 1e-5, check_dtype=False
    )


@pytest.fixture(scope="module", params=sorted(CASES))
def case_run(request, tiny) -> tuple[Case, RunResult]:
    case = CASES[request.param]
    result = simulate(case_scenario(request.param, tiny))
    if UPDATE:
        write_fixtures(result, case)
    return case, result


def test_run_tables_match_the_committed_fixtures(case_run):
    case, result = case_run
    tables = run_tables(result, case)
    assert tuple(tables) == case.table_names
    for name, table in tables.items():
        compare(table, case.path(name), case.rtol)  # asserts columns and values


def test_each_run_covers_every_month_and_the_start(case_run):
    case, result = case_run
    assert result.monthly["month"].tolist() == list(range(case.months + 1))
    assert result.summary["households"].tolist() == [case.households]


def test_default_case_exercises_workshops_hiring_training_and_spending(tiny):
    """What the default case is for, checked on a fresh run (not on its fixtures)."""
    tables = simulate(case_scenario("default", tiny)).all_tables()
    monthly = tables["monthly"]
    assert monthly["workshops_open"].iloc[0] == 0  # the starting state has none
    assert (monthly["workshops_open"].iloc[1:] > 0).all()
    assert monthly["workshop_applicants"].sum() > 0 and monthly["trainees"].sum() > 0
    spending = tables["spending"]
    paid = spending.groupby("instrument")["paid"].sum()
    assert (paid > 0).all(), "every instrument pays at some point"
    assert (spending["due"] > spending["paid"]).any(), "the budget runs short"
    workshops = tables["workshops"]
    assert workshops.query("status == 'closed'")["count"].sum() > 0
    assert set(workshops.query("status == 'open' and count > 0")["form"]) == {
        "factory",
        "outwork",
        "cooperative",
        "park",
        "community",
    }


def test_array_versions_reproduce_the_fixtures_too(tiny, monkeypatch):
    # the compiled loops (model.compiled) run by default; the array versions
    # must give the same tables
    monkeypatch.setenv("WSIM_NUMBA", "0")
    result = simulate(case_scenario("default", tiny))
    tables = run_tables(result, DEFAULT)
    assert tuple(tables) == DEFAULT.table_names
    for name, table in tables.items():
        compare(table, DEFAULT.path(name), DEFAULT.rtol)  # asserts columns and values
