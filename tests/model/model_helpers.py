"""Helpers shared by the model tests: scenario variants and month-by-month driving."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from model.collection import poverty_by_group
from model.economy import WorkshopEconomy
from model.households import NO_EMPLOYER, WORKSHOP_ACTIVITIES, Source, household_sum
from model.labour_market import QUOTA_TOLERANCE
from model.scenario import INSTRUMENTS, Activity, Scenario
from model.workshops import FORM_ACTIVITY, VILLAGE_FORMS, Form

AWAY = (Activity.MIGRATION, Activity.PARK_WORKSHOP)


def variant(base: Scenario, changes: dict[str, Any] | None = None, **run: int) -> Scenario:
    """A validated copy of `base` with dotted keys changed (and run settings replaced).

    A dotted key the scenario does not have raises, so a typo in a test cannot silently
    leave the scenario unchanged.
    """
    changed = base.with_changes(changes or {})
    return changed.with_overrides(**run) if run else changed


def all_instruments_off() -> dict[str, bool]:
    """Changes that switch every policy instrument off (certification, which pays
    nothing, stays as it is)."""
    return {f"policy.{name}.enabled": False for name in INSTRUMENTS}


def months(model: WorkshopEconomy, n: int) -> Iterator[WorkshopEconomy]:
    """Step the model `n` times, yielding it after each month."""
    for _ in range(n):
        model.step()
        yield model


def run(
    scenario: Scenario,
    replicate: int = 0,
    each_month: Callable[[WorkshopEconomy], None] | None = None,
) -> WorkshopEconomy:
    """Build and run a model for the scenario's months, calling `each_month` after each."""
    model = WorkshopEconomy(scenario, replicate=replicate)
    for m in months(model, scenario.run.months):
        if each_month is not None:
            each_month(m)
    return model


def activity_counts(model: WorkshopEconomy) -> np.ndarray:
    """People per activity code (working-age and not)."""
    return np.bincount(model.people.activity, minlength=len(Activity))


def workers_per_slot(model: WorkshopEconomy) -> np.ndarray:
    """Head count per workshop slot, from the people's employers."""
    employed = model.people.employer >= 0
    return np.bincount(model.people.employer[employed], minlength=len(model.workshop_slots))


def form_activity_lookup() -> np.ndarray:
    """Activity code of a job at each workshop form (indexed by Form)."""
    return np.array([FORM_ACTIVITY[f] for f in Form], dtype=np.int8)


# ------------------------------------------------------------------ invariants


def drive(scenario: Scenario, check) -> WorkshopEconomy:
    """Run month by month, calling check(model, month_state_before) after each month."""
    model = WorkshopEconomy(scenario)
    check(model, None)
    for _ in range(scenario.run.months):
        before = snapshot(model)
        model.step()
        check(model, before)
    return model


def snapshot(model: WorkshopEconomy) -> dict:
    """What the coming month's policy step will read: workshops' last accounts."""
    return {
        w.slot: (w.is_open, w.accounts.workers, w.accounts.poor_workers, w.accounts.poor_wage_bill)
        for w in model.workshop_slots
    }


def check_accounting(model: WorkshopEconomy, _before) -> None:
    ledger, people = model.ledger, model.people
    n = len(model.households)
    assert ledger.by_source.shape == (len(Source), n)
    assert (ledger.by_source >= -1e-9).all()
    np.testing.assert_allclose(ledger.by_source.sum(0), ledger.total, rtol=1e-12)
    employed = people.employer >= 0
    at_work = household_sum(people, np.where(employed, people.earnings, 0.0), n)
    np.testing.assert_allclose(
        at_work,
        ledger.by_source[Source.WAGES] + ledger.by_source[Source.PIECE_WORK],
        rtol=1e-5,
        atol=1e-2,
    )
    migrants = people.activity == Activity.MIGRATION
    np.testing.assert_allclose(
        household_sum(people, np.where(migrants, people.earnings, 0), n),
        ledger.by_source[Source.MIGRANT],
        rtol=1e-5,
        atol=1e-2,
    )
    b = model.policy.budget
    for name in b.paid:
        assert 0.0 <= b.paid[name] <= b.due[name] + 1e-6
    assert sum(b.spent_total.values()) <= b.allocated + 1e-6
    assert b.remaining >= 0.0


def check_workshops(model: WorkshopEconomy, before) -> None:
    slots = model.workshop_slots
    workers = workers_per_slot(model)
    capacity = np.array([w.capacity for w in slots])
    assert (workers <= capacity).all()
    assert all(workers[w.slot] == 0 for w in slots if not w.is_open)
    table = model.workshop_table
    paid = table.is_open & (table.workers > 0)
    piece = paid & table.by_piece
    np.testing.assert_allclose(
        table.wage_bill[piece], table.pieces[piece] * table.piece_rate[piece], rtol=1e-5
    )
    assert (table.pieces[paid & ~table.by_piece] == 0).all()
    rule = model.params.policy.certification
    if before is None:
        return
    # the wage subsidy pays at most its share of last month's poor wage bills
    share = model.params.policy.wage_subsidy.share_of_poor_wage_bill
    bills = sum(bill for *_, bill in before.values())
    assert model.policy.budget.paid["wage_subsidy"] <= share * bills + 1e-6
    assert (table.support >= 0).all()
    for w in slots:
        if w.slot not in before:
            assert not w.certified  # opened after this month's certification
            continue
        was_open, staff, poor, _ = before[w.slot]
        if w.certified:
            assert was_open and staff > 0
            if rule.enabled:
                assert poor >= rule.poor_share_min * staff - QUOTA_TOLERANCE
        elif (
            w.is_open
            and was_open
            and staff > 0
            and (not rule.enabled or poor >= rule.poor_share_min * staff)
        ):
            raise AssertionError(f"workshop {w.slot} meets the rule but is not certified")


def check_people(model: WorkshopEconomy, initial) -> None:
    people, hh = model.people, model.households
    assert len(people) == initial["people"]
    assert np.array_equal(people.household, initial["household"])
    assert np.array_equal(hh.size, initial["size"])
    assert np.array_equal(np.bincount(people.household, minlength=len(hh)), hh.size)
    activity = people.activity
    assert ((activity >= 0) & (activity < len(Activity))).all()
    cannot = people.capacity <= 0
    assert (activity[cannot] == Activity.NOT_WORKING).all()
    assert (people.employer[cannot] == NO_EMPLOYER).all()
    employed = people.employer >= 0
    assert np.array_equal(employed, np.isin(activity, WORKSHOP_ACTIVITIES))
    slot = people.employer[employed]
    forms = np.array([w.form for w in model.workshop_slots], dtype=np.int64)
    assert np.array_equal(activity[employed], form_activity_lookup()[forms[slot]])
    villages = np.array([w.village for w in model.workshop_slots])
    home_village = hh.village[people.household[employed]]
    in_village = np.isin(forms[slot], VILLAGE_FORMS)
    assert np.array_equal(villages[slot][in_village], home_village[in_village])
    community = activity == Activity.COMMUNITY_FACTORY
    assert hh.resettled[people.household[community]].all()
    farmers = activity == Activity.FARMING
    assert (hh.land_mu[people.household[farmers]] > 0).all()
    assert not (people.kept_home & (activity == Activity.MIGRATION)).any()


def check_poverty(model: WorkshopEconomy, _before) -> None:
    measures = poverty_by_group(model)
    assert measures == model.poverty
    for p0, p1, p2 in measures.values():
        assert 0.0 <= p2 <= p1 + 1e-12 <= p0 + 2e-12 <= 1.0 + 2e-12
    assert np.array_equal(model.poor, model.tracker.poor)
    assert np.array_equal(model.poor, model.tracker.per_capita < model.poverty_line)
    headcount = model.households.size[model.poor].sum() / model.households.size.sum()
    assert measures["all"][0] == pytest.approx(headcount)
