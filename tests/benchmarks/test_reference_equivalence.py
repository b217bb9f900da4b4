"""The idiomatic Mesa reference follows the same household rules as the full model.

Both models start from the same scenario, seed and synthesised population, share the
workshops, policy and matching, and read the same pre-drawn uniforms; the reference
re-implements choices, pay and poverty status per household in Python. Everything is
compared exactly. The reference rounds where the full model's float32 arrays do and
sums in the same order, so incomes are bit-identical. The one possible source of a
difference is the logit's exponential (numpy's vectorised exp against the C library's,
which can differ in the last bit): it would change a choice only if a uniform fell
within one rounding step of a boundary between options, a chance of about 1e-16 per
choice, so exact equality is demanded of choices as well.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference_helpers import MONTHS, Trace

from benchmarks.reference_mesa import ReferenceEconomy, ns_per_household_month
from model.households import Source
from model.scenario import Activity, Scenario

# Activities chosen at least once: the tiny county has no park or community workshops.
CHOSEN_AT_LEAST = {
    "tiny": {
        Activity.NOT_WORKING,
        Activity.FARMING,
        Activity.HOME_OUTWORK,
        Activity.VILLAGE_WORKSHOP,
        Activity.MIGRATION,
    },
    "stress": set(Activity),
    "resettled": {Activity.COMMUNITY_FACTORY, Activity.HOME_OUTWORK, Activity.VILLAGE_WORKSHOP},
}


def test_same_choices_every_month(traces: tuple[Trace, Trace]):
    full, ref = traces
    assert len(full.revisers) == len(ref.revisers) == MONTHS
    for month in range(MONTHS):
        np.testing.assert_array_equal(
            ref.revisers[month], full.revisers[month], err_msg=f"who revises, month {month + 1}"
        )
        np.testing.assert_array_equal(
            ref.chosen[month], full.chosen[month], err_msg=f"choices, month {month + 1}"
        )
        np.testing.assert_array_equal(
            ref.current_ok[month],
            full.current_ok[month],
            err_msg=f"current activity feasible, month {month + 1}",
        )


def test_same_activity_of_every_person_every_month(traces: tuple[Trace, Trace]):
    full, ref = traces
    for month, (a, b) in enumerate(zip(full.activity, ref.activity, strict=True)):
        np.testing.assert_array_equal(b, a, err_msg=f"activities, month {month}")


def test_same_household_income_by_source_every_month(traces: tuple[Trace, Trace]):
    full, ref = traces
    for month, (a, b) in enumerate(zip(full.income, ref.income, strict=True)):
        for source in Source:
            np.testing.assert_array_equal(
                b[source], a[source], err_msg=f"{source.name.lower()}, month {month}"
            )


def test_same_poverty_status_and_flows(traces: tuple[Trace, Trace]):
    full, ref = traces
    for month, (a, b) in enumerate(zip(full.poor, ref.poor, strict=True)):
        np.testing.assert_array_equal(b, a, err_msg=f"poverty status, month {month}")
    assert ref.flows == full.flows


def test_comparison_covers_the_rules(variant: str, traces: tuple[Trace, Trace]):
    """People revise every month, choose each activity on offer, and earn from every source."""
    full, _ = traces
    assert all(len(r) > 0 for r in full.revisers)
    assert set(np.concatenate(full.chosen).tolist()) >= CHOSEN_AT_LEAST[variant]
    assert (~np.concatenate(full.current_ok)).any()
    earned = np.stack(full.income).sum(axis=(0, 2))
    assert (earned > 0).all()


def test_reference_writes_only_the_logit_rule(tiny: Scenario):
    with pytest.raises(ValueError, match="logit"):
        ReferenceEconomy(tiny.with_changes({"choice.rule": "income_max"}))


def test_timing_is_per_household_month(tiny: Scenario):
    assert ns_per_household_month(tiny.with_overrides(households=50, months=2), repeats=1) > 0
