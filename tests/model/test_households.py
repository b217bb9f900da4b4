import numpy as np
import pytest

import model.households as households_module
from model.economy import WorkshopEconomy
from model.households import (
    NO_EMPLOYER,
    Health,
    Households,
    IncomeLedger,
    People,
    Source,
    household_sum,
    is_carer,
    labour_capacity,
    members,
    update_care,
)
from model.scenario import Activity

H, C, D = Health.HEALTHY, Health.CHRONIC, Health.DISABLED


def make(members: list[tuple[int, int, bool, int, bool, float]]) -> tuple[Households, People]:
    """Households and people from rows (household, age, female, health, frail, skill)."""
    hh, age, female, health, frail, skill = (np.array(c) for c in zip(*members, strict=True))
    m = len(hh)
    people = People(
        household=hh.astype(np.int32),
        age=age.astype(np.int16),
        female=female.astype(bool),
        health=health.astype(np.int8),
        frail=frail.astype(bool),
        skill=skill.astype(np.float32),
        activity=np.zeros(m, dtype=np.int8),
        employer=np.full(m, NO_EMPLOYER, dtype=np.int32),
        tenure=np.zeros(m, dtype=np.int16),
        courses=np.zeros(m, dtype=np.int8),
        bonus_paid=np.zeros(m, dtype=bool),
        kept_home=np.zeros(m, dtype=bool),
    )
    n = int(hh.max()) + 1
    households = Households(
        village=np.zeros(n, dtype=np.int32),
        disadvantaged=np.zeros(n, dtype=bool),
        resettled=np.zeros(n, dtype=bool),
        land_mu=np.zeros(n, np.float32),
    )
    households.size = np.bincount(people.household, minlength=n).astype(np.int16)
    households.first_member = (np.cumsum(households.size) - households.size).astype(np.int32)
    return households, people


@pytest.fixture
def rules(tiny):
    return tiny.population  # working ages 16-64, young children to 5, elderly can care


def test_labour_capacity_by_age_health_and_frailty(rules):
    _, people = make(
        [
            (0, 15, False, H, False, 1.0),  # too young
            (0, 16, False, H, False, 1.0),  # youngest worker
            (0, 64, False, H, False, 1.0),  # oldest worker
            (0, 65, False, H, False, 1.0),  # too old
            (0, 40, False, C, False, 1.0),  # chronic illness
            (0, 40, False, D, False, 1.0),  # disabled
            (0, 62, False, H, True, 1.0),  # frail
        ]
    )
    cap = labour_capacity(people, rules)
    chronic = rules.chronic_capacity
    disabled = chronic if rules.disabled_can_work else 0.0
    assert cap.tolist() == pytest.approx([0, 1, 1, 0, chronic, disabled, 0])


def test_disabled_cannot_work_when_the_scenario_says_so(rules):
    _, people = make([(0, 40, False, D, False, 1.0)])
    assert labour_capacity(people, rules.model_copy(update={"disabled_can_work": False}))[0] == 0


def test_woman_is_carer_before_a_lower_skilled_man(rules):
    hh, people = make(
        [
            (0, 30, True, H, False, 1.2),
            (0, 32, False, H, False, 0.8),
            (0, 3, False, H, False, 1.0),  # young child
        ]
    )
    update_care(people, hh, rules)
    assert hh.care_need[0]
    assert hh.carer[0] == 0


def test_lowest_skilled_woman_is_carer_among_women(rules):
    hh, people = make(
        [
            (0, 30, True, H, False, 1.0),
            (0, 28, True, H, False, 0.7),
            (0, 40, False, D, False, 0.5),  # disabled man: care need, and a low-skill candidate
        ]
    )
    update_care(people, hh, rules)
    assert hh.care_need[0] and hh.has_disabled[0]
    assert hh.carer[0] == 1


def test_lowest_skilled_man_is_carer_without_women(rules):
    hh, people = make(
        [
            (0, 30, False, H, False, 1.1),
            (0, 33, False, H, False, 0.9),
            (0, 1, True, H, False, 1.0),  # young girl: not a working-age woman
        ]
    )
    update_care(people, hh, rules)
    assert hh.carer[0] == 1


def test_healthy_grandparent_frees_the_parents(rules):
    hh, people = make(
        [
            (0, 30, True, H, False, 1.0),
            (0, 32, False, H, False, 1.0),
            (0, 4, False, H, False, 1.0),
            (0, 70, True, H, False, 1.0),  # healthy, not frail, past working age
        ]
    )
    update_care(people, hh, rules)
    assert hh.care_need[0] and hh.substitute_carer[0]
    assert hh.carer[0] == -1
    assert not is_carer(people, hh).any()


@pytest.mark.parametrize(
    "grandparent",
    [
        (0, 70, True, C, False, 1.0),  # chronically ill
        (0, 70, True, H, True, 1.0),  # frail (and so needs care herself)
        (0, 62, True, H, False, 1.0),  # still of working age
    ],
)
def test_only_a_healthy_retired_grandparent_is_a_substitute(rules, grandparent):
    hh, people = make(
        [
            (0, 30, True, H, False, 1.0),
            (0, 32, False, H, False, 1.0),
            (0, 4, False, H, False, 1.0),
            grandparent,
        ]
    )
    update_care(people, hh, rules)
    assert not hh.substitute_carer[0]
    assert hh.carer[0] >= 0


def test_grandparent_cannot_substitute_when_the_scenario_says_so(rules):
    hh, people = make(
        [
            (0, 30, True, H, False, 1.0),
            (0, 4, False, H, False, 1.0),
            (0, 70, True, H, False, 1.0),
        ]
    )
    update_care(people, hh, rules.model_copy(update={"healthy_elderly_can_care": False}))
    assert hh.carer[0] == 0


def test_frail_elderly_member_needs_a_carer(rules):
    hh, people = make(
        [
            (0, 45, False, H, False, 1.0),
            (0, 80, True, H, True, 1.0),
        ]
    )
    update_care(people, hh, rules)
    assert hh.care_need[0]
    assert hh.carer[0] == 0


def test_no_carer_without_care_need(rules):
    hh, people = make(
        [
            (0, 30, True, H, False, 1.0),
            (0, 32, False, H, False, 1.0),
            (0, 8, False, H, False, 1.0),  # school child: no daily care
            (0, 70, False, C, False, 1.0),  # ill but not frail
        ]
    )
    update_care(people, hh, rules)
    assert not hh.care_need[0]
    assert hh.carer[0] == -1


def test_no_carer_when_nobody_can_work(rules):
    hh, people = make(
        [
            (0, 70, True, C, False, 1.0),
            (0, 2, False, H, False, 1.0),
        ]
    )
    update_care(people, hh, rules)
    assert hh.care_need[0] and not hh.has_labour[0]
    assert hh.carer[0] == -1


def test_carers_are_chosen_per_household(rules):
    hh, people = make(
        [
            (0, 30, True, H, False, 1.0),  # 0: carer of household 0
            (0, 2, False, H, False, 1.0),
            (1, 40, False, H, False, 1.0),  # household 1: no care need
            (2, 50, False, H, False, 0.6),  # 3
            (2, 51, False, H, False, 0.4),  # 4: carer of household 2
            (2, 88, False, H, True, 1.0),
        ]
    )
    update_care(people, hh, rules)
    assert hh.carer.tolist() == [0, -1, 4]
    flags = is_carer(people, hh)
    assert np.flatnonzero(flags).tolist() == [0, 4]
    assert np.array_equal(people.carer, flags)
    assert hh.has_labour.tolist() == [True, True, True]


def test_household_sum_adds_members():
    _, people = make(
        [(0, 30, True, H, False, 1.0), (0, 3, True, H, False, 1.0), (2, 40, True, H, False, 1.0)]
    )
    assert household_sum(people, np.array([1.5, 2.0, 4.0]), 3).tolist() == [3.5, 0.0, 4.0]


def test_ledger_total_is_the_sum_over_sources():
    ledger = IncomeLedger.empty(3)
    ledger.add(Source.WAGES, np.array([100.0, 0.0, 50.0]))
    ledger.add(Source.PENSION, np.array([10.0, 20.0, 0.0]))
    ledger.add(Source.WAGES, np.array([1.0, 1.0, 1.0]))
    assert ledger.by_source.shape == (len(Source), 3)
    assert ledger.total.tolist() == [111.0, 21.0, 51.0]
    assert ledger.by_source[Source.WAGES].tolist() == [101.0, 1.0, 51.0]
    ledger.set(Source.PENSION, np.array([0.0, 0.0, 5.0]))
    assert ledger.total.tolist() == [101.0, 1.0, 56.0]


def test_cleared_row_clears_where_credited_before_and_everything_after_other_writes():
    ledger = IncomeLedger.empty(4)
    ledger.set(Source.WAGES, np.array([5.0, 6.0, 7.0, 8.0]))
    row = ledger.cleared_row(Source.WAGES, np.array([1]))  # written otherwise: all cleared
    assert row.tolist() == [0.0, 0.0, 0.0, 0.0]
    row[1] = 3.0
    assert ledger.total.tolist() == [0.0, 3.0, 0.0, 0.0]
    row = ledger.cleared_row(Source.WAGES, np.array([2, 3]))  # only household 1 cleared
    row[[2, 3]] = [1.0, 2.0]
    assert ledger.total.tolist() == [0.0, 0.0, 1.0, 2.0]
    ledger.add(Source.WAGES, np.array([1.0, 0.0, 0.0, 0.0]))  # an outside write
    assert ledger.cleared_row(Source.WAGES, np.array([0])).tolist() == [0.0] * 4


def test_ledger_sums_each_source_with_the_total_in_one_pass(monkeypatch):
    rng = np.random.default_rng(5)
    ledger = IncomeLedger(rng.lognormal(5.0, 1.0, (len(Source), 50)))
    registered = rng.random(50) < 0.3
    passes = []
    summed = households_module.income_sums
    monkeypatch.setattr(
        households_module, "income_sums", lambda *args: passes.append(1) or summed(*args)
    )
    everyone, apart = ledger.source_sums(registered)
    for source in Source:  # households left to right
        row = ledger.by_source[source]
        expected = [0.0, 0.0]
        for h in range(50):
            expected[0] += row[h]
            expected[1] += row[h] if registered[h] else 0.0
        assert (everyone[source], apart[source]) == tuple(expected)
    assert len(passes) == 1
    ledger.set(Source.PENSION, np.full(50, 7.0))  # a write: summed again when asked
    total = ledger.total
    np.testing.assert_array_equal(total, in_source_order(ledger.by_source))
    assert len(passes) == 2
    everyone, apart = ledger.source_sums(registered)  # the same mask: summed with the total
    assert len(passes) == 2 and apart[Source.PENSION] == 7.0 * registered.sum()
    ledger.source_sums(registered.copy())  # another mask: a pass of its own
    assert len(passes) == 3
    ledger.row(Source.WAGES)[:] = 1.0
    assert ledger.total is total  # the same array, overwritten
    np.testing.assert_array_equal(total, in_source_order(ledger.by_source))


def in_source_order(by_source: np.ndarray) -> np.ndarray:
    total = by_source[0].copy()
    for row in by_source[1:]:
        total += row
    return total


def test_members_lists_each_households_people_in_order():
    households, people = make(
        [
            (0, 30, True, H, False, 1.0),
            (0, 3, True, H, False, 1.0),
            (1, 40, True, H, False, 1.0),
            (3, 40, True, H, False, 1.0),
            (3, 9, True, H, False, 1.0),
            (3, 70, True, H, False, 1.0),
        ]
    )
    households.first_member = np.array([0, 2, 3, 3], dtype=np.int32)
    assert members(households, np.array([0, 3])).tolist() == [0, 1, 3, 4, 5]
    assert members(households, np.array([2, 1])).tolist() == [2]
    assert members(households, np.array([], dtype=np.int64)).tolist() == []


def test_synthesised_people_are_ordered_by_household(small):
    model = WorkshopEconomy(small)
    hh = model.households
    everyone = members(hh, np.arange(len(hh)))
    assert np.array_equal(everyone, np.arange(len(model.people)))
    assert np.array_equal(model.people.household[everyone], np.repeat(np.arange(len(hh)), hh.size))


def test_new_people_start_without_work():
    _, people = make([(0, 30, True, H, False, 1.0)])
    assert people.activity[0] == Activity.NOT_WORKING
    assert people.capacity[0] == 0 and people.earnings[0] == 0
    assert len(people) == 1
