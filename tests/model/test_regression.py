"""Regression: a small seeded run must reproduce its committed summary and monthly table.

The fixtures `tests/fixtures/regression_summary.csv` and `regression_monthly.csv` hold the
outputs of the tiny scenario on 300 households for 12 months. Regenerate them with

    WSIM_UPDATE_FIXTURES=1 .venv/bin/pytest tests/model/test_regression.py

only when the model's rules change on purpose (and say so in the commit), never to hide
a change that was meant to be a pure speed-up or refactoring: those must reproduce the
fixtures exactly.
"""

import os
from pathlib import Path

import pandas as pd
import pytest
from model_helpers import variant

from model.simulate import RunResult, simulate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SUMMARY = FIXTURES / "regression_summary.csv"
MONTHLY = FIXTURES / "regression_monthly.csv"
UPDATE = os.environ.get("WSIM_UPDATE_FIXTURES") == "1"


@pytest.fixture(scope="module")
def result(tiny) -> RunResult:
    return simulate(variant(tiny, households=300, months=12, seed=2016))


def write_fixtures(result: RunResult) -> None:
    """Write the regression fixtures from a run (floats at full precision)."""
    result.summary.to_csv(SUMMARY, index=False)
    result.monthly.to_csv(MONTHLY, index=False)


def compare(actual: pd.DataFrame, path: Path) -> None:
    expected = pd.read_csv(path)
    # CSV keeps values, not dtypes: read the run's own table back the same way
    actual = actual.reset_index(drop=True)
    assert list(actual.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(actual, expected, check_exact=False, rtol=1e-9,
                                  check_dtype=False)


@pytest.fixture(scope="module", autouse=True)
def maybe_update(result):
    if UPDATE:
        write_fixtures(result)


def test_run_summary_matches_the_committed_fixture(result):
    compare(result.summary, SUMMARY)


def test_monthly_headline_matches_the_committed_fixture(result):
    compare(result.monthly, MONTHLY)


def test_fixture_covers_every_month_and_the_start(result):
    monthly = pd.read_csv(MONTHLY)
    assert monthly["month"].tolist() == list(range(13))
    assert pd.read_csv(SUMMARY)["households"].tolist() == [300]
