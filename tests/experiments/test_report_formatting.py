"""Human names, units and numbers as the report shows them (`experiments.analysis.formatting`)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from experiments.analysis.formatting import (
    MEASURES,
    for_reading,
    format_amount,
    format_difference,
    format_estimate,
    labelled,
)
from experiments.api import UNITS


@pytest.mark.parametrize(
    ("value", "unit", "amount", "difference"),
    [
        (445.5, "households", "446", "+446"),
        (-0.3, "households", "0", "0"),
        (-2.6, "household-months", "-3", "-3"),
        (1_234_567.8, "yuan", "1,234,568", "+1,234,568"),
        (0.64, "yuan per person per month", "0.6", "+0.6"),
        (0.04904, "share of people", "4.9%", "+4.9 pp"),
        (-0.0004, "share of people", "0.0%", "0.0 pp"),
        (math.nan, "yuan", "n/a", "n/a"),
        (2.597, "months", "2.597", "+2.597"),
        ("undefined", "yuan", "undefined", "undefined"),
    ],
)
def test_numbers_read_in_their_unit(value: object, unit: str, amount: str, difference: str) -> None:
    assert format_amount(value, unit) == amount
    assert format_difference(value, unit) == difference


def test_an_estimate_shows_its_interval_and_a_share_s_points_once() -> None:
    assert format_estimate(12.4, 5.2, 19.6, "households") == "+12 [+5, +20]"
    assert format_estimate(0.0123, 0.004, 0.0206, "share of people") == "+1.2 [+0.4, +2.1] pp"
    assert format_estimate(-18_400.0, -30_000.5, -6_800.0, "yuan") == ("-18,400 [-30,001, -6,800]")


@pytest.mark.parametrize(
    ("measure", "shown"),
    [
        ("net_exits", "Net exits (households)"),
        ("total_spending_yuan", "Spending (yuan)"),
        ("headcount", "Poverty headcount, final month (share of people)"),
        ("poor_household_months", "Poor household-months (household-months)"),
        ("spending_free_rent_yuan", "Spending on free rent (yuan)"),
        ("mu_star", "Mu star"),
    ],
)
def test_measures_are_named_with_their_units(measure: str, shown: str) -> None:
    assert labelled(measure) == shown


def test_units_agree_with_the_python_interface_s() -> None:
    shared = [m for m in MEASURES if m in UNITS]
    assert len(shared) > 15
    assert {m: MEASURES[m][1] for m in shared} == {m: UNITS[m] for m in shared}


def test_an_effects_table_reads_each_row_in_its_outcome_s_unit() -> None:
    effects = pd.DataFrame(
        {
            "arm": ["reform", "reform"],
            "outcome": ["net_exits", "headcount"],
            "n": [3, 3],
            "baseline": [445.5, 0.05],
            "arm_mean": [457.9, 0.038],
            "difference": [12.4, -0.012],
            "ci_low": [5.2, -0.02],
            "ci_high": [19.6, -0.004],
            "half_width_unpaired": [9.1, 0.01],
        }
    )
    shown = for_reading("effects", effects)
    assert list(shown.columns) == [
        "Scenario",
        "Outcome (unit)",
        "Baseline mean (outcome's unit)",
        "Difference (outcome's unit)",
        "Unpaired half-width (outcome's unit)",
        "95% CI",
    ]
    assert shown.iloc[0].tolist() == [
        "reform",
        "Net exits (households)",
        "446",
        "+12",
        "±9",
        "[+5, +20]",
    ]
    assert shown.iloc[1].tolist() == [
        "reform",
        "Poverty headcount, final month (share of people)",
        "5.0%",
        "-1.2 pp",
        "±1.0 pp",
        "[-2.0 pp, -0.4 pp]",
    ]
