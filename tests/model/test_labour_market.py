import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from model.households import NO_EMPLOYER, People
from model.keyed import KeyedDraws
from model.labour_market import (
    PICK_GROUPS,
    QUOTA_TOLERANCE,
    Applications,
    Screening,
    Staff,
    county_key,
    first_in_line,
    hire,
    market_key,
    nonpoor_room,
    pick_workshops,
    release,
    take_up,
)
from model.scenario import Activity
from model.workshops import Form, FormRules, WorkshopTable

A = Activity


def apps(keys, poor, trained=None, merit=None, site=None) -> Applications:
    keys = np.asarray(keys, dtype=np.int64)
    trained = np.zeros(len(keys), bool) if trained is None else np.asarray(trained, bool)
    merit = np.ones(len(keys)) if merit is None else np.asarray(merit, np.float64)
    site = None if site is None else np.asarray(site, np.int32)
    return Applications(np.arange(len(keys)), keys, np.asarray(poor, bool), trained, merit, site)


def staff(workers, poor) -> Staff:
    return Staff(np.asarray(workers, np.int64), np.asarray(poor, np.int64))


# ------------------------------------------------------------------ pools and quota room


def test_market_key_pools_village_workshops_by_village_and_the_rest_county_wide():
    activity = np.array(
        [
            A.VILLAGE_WORKSHOP,
            A.VILLAGE_WORKSHOP,
            A.HOME_OUTWORK,
            A.PARK_WORKSHOP,
            A.COMMUNITY_FACTORY,
        ],
        dtype=np.int8,
    )
    village = np.array([3, 7, 3, -1, -1])
    site = np.array([-1, -1, -1, -1, -1])
    keys = market_key(activity, village, site, n_villages=10)
    assert keys.tolist() == [
        3,
        7,
        10 + A.HOME_OUTWORK,
        10 + A.PARK_WORKSHOP,
        10 + A.COMMUNITY_FACTORY,
    ]


def test_community_factories_pool_by_resettlement_site_and_county_wide():
    activity = np.array([A.COMMUNITY_FACTORY, A.COMMUNITY_FACTORY, A.HOME_OUTWORK], np.int8)
    village, site = np.array([3, 4, 5]), np.array([2, -1, 1])
    by_site = market_key(activity, village, site, n_villages=10)
    assert by_site.tolist() == [10 + len(A) + 2, 10 + A.COMMUNITY_FACTORY, 10 + A.HOME_OUTWORK]
    county = county_key(activity, village, n_villages=10)
    assert county.tolist() == [10 + A.COMMUNITY_FACTORY] * 2 + [10 + A.HOME_OUTWORK]


@pytest.mark.parametrize(
    ("workers", "poor", "quota", "room"),
    [
        (3, 3, 0.3, 7),  # 3 / (3 + 7) = 0.30 exactly
        (8, 3, 0.3, 2),
        (12, 3, 0.3, 0),  # already below quota: no room, never negative
        (0, 0, 0.3, 0),  # no poor worker yet: a non-poor hire would make the share 0
        (4, 2, 0.5, 0),
        (2, 2, 0.5, 2),
        (5, 5, 1.0, 0),
    ],
)
def test_nonpoor_room_on_hand_examples(workers, poor, quota, room):
    assert nonpoor_room(staff([workers], [poor]), quota).tolist() == [room]


def test_nonpoor_room_without_quota_is_unlimited():
    assert (nonpoor_room(staff([10, 0], [0, 0]), 0.0) > 10**9).all()


def test_nonpoor_room_with_a_tiny_quota_is_practically_unlimited():
    # A quota of 1e-300 lets 10 poor workers carry ~1e301 non-poor colleagues.
    room = nonpoor_room(staff([10], [10]), 1e-300)
    assert room[0] > 10**9


@given(workers=st.integers(0, 200), poor_frac=st.floats(0, 1), quota=st.floats(0.01, 1.0))
@settings(max_examples=200, deadline=None)
def test_nonpoor_room_is_the_largest_number_keeping_the_quota(workers, poor_frac, quota):
    poor = int(round(workers * poor_frac))
    room = int(nonpoor_room(staff([workers], [poor]), quota)[0])
    assert room >= 0
    if room > 0:
        assert poor >= quota * (workers + room) - 1e-6
    if poor >= quota * workers - 1e-6:  # one more would break the quota
        assert poor < quota * (workers + room + 1) + QUOTA_TOLERANCE


# ------------------------------------------------------------------ picking a workshop


KEYED = KeyedDraws(seed=3, replicate=0)


def draws(month: int = 1):
    """The keyed draws and the tick (month, round) of a pick."""
    return KEYED, (month, 0)


def serials(n: int) -> np.ndarray:
    return 1000 + 7 * np.arange(n, dtype=np.int64)


def test_pick_workshops_stays_in_the_applicants_pool_and_skips_full_workshops():
    slot_key = np.array([5, 2, 5, 2, 9])
    vacancies = np.array([3, 0, 0, 4, 1])
    a = apps(np.repeat([5, 2, 9, 7], 250), np.zeros(1000))
    target = pick_workshops(a, slot_key, vacancies, serials(5), *draws())
    assert set(target[:250]) == {0}
    assert set(target[250:500]) == {3}
    assert set(target[500:750]) == {4}
    assert set(target[750:]) == {-1}  # a pool with no workshop


def test_pick_workshops_returns_minus_one_for_a_full_pool_and_for_no_workshops():
    a = apps([1, 1], [False, False])
    full = pick_workshops(a, np.array([1, 1]), np.array([0, 0]), serials(2), *draws())
    assert full.tolist() == [-1, -1]
    none = np.array([], np.int64)
    assert pick_workshops(a, none, none, none, *draws()).tolist() == [-1, -1]


def test_pick_workshops_draws_in_proportion_to_vacancies():
    slot_key = np.array([4, 4, 4, 1])
    vacancies = np.array([1, 6, 3, 50])
    n = 60_000
    target = pick_workshops(
        apps(np.full(n, 4), np.zeros(n)), slot_key, vacancies, serials(4), *draws()
    )
    counts = np.bincount(target, minlength=4)[:3]
    assert stats.chisquare(counts, n * np.array([0.1, 0.6, 0.3])).pvalue > 1e-3


def test_a_new_workshop_moves_only_the_applicants_it_wins():
    # the race keys each draw by the firm's serial: a firm added in another slot, or the
    # slots renumbered, leaves every other applicant's pick as it was
    n = 5_000
    a = apps(np.full(n, 2), np.zeros(n))
    old = serials(3)
    before = pick_workshops(a, np.full(3, 2), np.array([2, 5, 3]), old, *draws())
    alone = next(s for s in range(9000, 9100) if s % PICK_GROUPS not in old % PICK_GROUPS)
    grown = np.array([alone, *old])  # the new firm, in a group of its own, takes slot 0
    after = pick_workshops(a, np.full(4, 2), np.array([4, 2, 5, 3]), grown, *draws())
    moved = after != before + 1
    assert (after[moved] == 0).all()
    assert 0.2 < moved.mean() < 0.4  # 4 of 14 vacancies
    # a new firm in an existing group also draws applicants into that group's firms,
    # but never moves one between two other groups
    shared = next(s for s in range(9000, 9100) if s % PICK_GROUPS == old[1] % PICK_GROUPS)
    grown[0] = shared
    after = pick_workshops(a, np.full(4, 2), np.array([4, 2, 5, 3]), grown, *draws())
    moved = after != before + 1
    assert np.isin(after[moved], [0, 2]).all()
    other_month = pick_workshops(a, np.full(3, 2), np.array([2, 5, 3]), serials(3), *draws(2))
    assert (other_month != before).mean() > 0.4


# ------------------------------------------------------------------ hiring


def test_workshops_hire_the_applicants_they_expect_most_of():
    a = apps([0] * 5, [False, True, False, True, False], merit=[0.5, 1.2, 0.9, 0.3, 1.0])
    target = np.zeros(5, dtype=np.int64)
    hired = hire(a, target, np.array([2]), staff([0], [0]), 0.0)
    assert hired.tolist() == [False, True, False, False, True]


def test_a_course_raises_an_applicants_merit_and_so_the_hiring_chance(tiny):
    from model.economy import WorkshopEconomy

    people = WorkshopEconomy(tiny).people
    screening = Screening(gain_per_course=0.1, noise_sd=0.3, park_distance_scale_km=100.0)
    persons = np.flatnonzero(people.capacity == 1)[:50]
    error = np.zeros(len(persons))
    before = screening.merit(people, persons, error, np.zeros(len(persons)))
    saved = people.courses[persons].copy()
    people.courses[persons] = 1
    after = screening.merit(people, persons, error, np.zeros(len(persons)))
    people.courses[persons] = saved
    np.testing.assert_allclose(after, before * 1.1)
    far = screening.merit(people, persons, error, np.full(len(persons), 50.0))
    np.testing.assert_allclose(far, before * np.exp(-0.5))
    # trained and untrained applicants alike otherwise: the trained one gets the place
    a = apps([0, 0], [False, False], trained=[False, True], merit=[before[0], after[0]])
    assert hire(a, np.zeros(2, np.int64), np.array([1]), staff([0], [0]), 0.0).tolist() == [
        False,
        True,
    ]


def test_the_quota_is_met_with_the_fewest_swaps():
    # 10 places, 30%: the 7 best non-poor and the 3 best poor, whatever their merit
    merit = [5.0] * 20 + [1.0, 0.9, 0.8, 0.7, 0.6]
    a = apps([0] * 25, [False] * 20 + [True] * 5, merit=merit)
    hired = hire(a, np.zeros(25, np.int64), np.array([10]), staff([0], [0]), 0.3)
    assert hired[:7].all() and not hired[7:20].any()
    assert hired[20:23].all() and not hired[23:].any()


def test_hiring_respects_the_quota_counting_this_rounds_poor_hires():
    # Empty workshop, quota 0.5: 2 poor hires allow 2 non-poor, not more.
    a = apps([0] * 7, [True, True, False, False, False, False, False], merit=7 - np.arange(7))
    hired = hire(a, np.zeros(7, np.int64), np.array([10]), staff([0], [0]), 0.5)
    assert hired[:2].all()
    assert hired[2:].sum() == 2


def test_quota_counts_existing_staff():
    # 3 poor of 3 workers at quota 0.3: room for 7 non-poor, vacancies for 10.
    a = apps([0] * 10, [False] * 10)
    hired = hire(a, np.zeros(10, np.int64), np.array([10]), staff([3], [3]), 0.3)
    assert hired.sum() == 7


def test_without_poor_applicants_or_staff_a_quota_blocks_every_non_poor_hire():
    a = apps([0] * 4, [False] * 4)
    hired = hire(a, np.zeros(4, np.int64), np.array([4]), staff([0], [0]), 0.3)
    assert not hired.any()


def test_applicants_without_a_workshop_are_not_hired():
    a = apps([0, 0], [True, True])
    hired = hire(a, np.array([-1, 0]), np.array([5]), staff([0], [0]), 0.0)
    assert hired.tolist() == [False, True]


def test_workshops_needing_training_hire_only_trained_applicants():
    a = apps([0, 0, 0, 0], [True, True, False, False], trained=[False, True, False, True])
    target = np.array([0, 0, 1, 1])
    hired = hire(
        a,
        target,
        np.array([5, 5]),
        staff([0, 0], [0, 0]),
        0.0,
        needs_training=np.array([True, False]),
    )
    assert hired.tolist() == [False, True, True, True]


def table_of(forms, sites) -> WorkshopTable:
    """A workshop table whose slots have the forms and sites given (default scenario rules)."""
    from model.scenario import load_scenario

    rules = FormRules.of(load_scenario("scenarios/default.toml").workshops)
    table = WorkshopTable(rules)
    table.form = np.asarray(forms, np.int8)
    table.site = np.asarray(sites, np.int32)
    return table


def test_cooperatives_hire_registered_poor_members_first():
    table = table_of([Form.COOPERATIVE, Form.FACTORY], [-1, -1])
    a = apps([0] * 4, [False, True, False, True], merit=[3.0, 1.0, 3.0, 1.0])
    target = np.array([0, 0, 1, 1])
    first = first_in_line(a, target, table)
    assert first.tolist() == [False, True, False, False]
    hired = hire(a, target, np.array([1, 1]), staff([0, 0], [0, 0]), 0.0, first=first)
    assert hired.tolist() == [False, True, True, False]


def test_community_factories_hire_their_own_sites_households_first():
    table = table_of([Form.COMMUNITY], [4])
    a = apps([0] * 3, [False] * 3, merit=[2.0, 1.0, 3.0], site=[4, 4, 1])
    target = np.zeros(3, np.int64)
    first = first_in_line(a, target, table)
    assert first.tolist() == [True, True, False]
    hired = hire(a, target, np.array([2]), staff([0], [0]), 0.0, first=first)
    assert hired.tolist() == [True, True, False]


@st.composite
def hiring_rounds(draw):
    n_slots = draw(st.integers(1, 5))
    n_apps = draw(st.integers(0, 40))
    workers = np.array(draw(st.lists(st.integers(0, 10), min_size=n_slots, max_size=n_slots)))
    poor_workers = np.array([draw(st.integers(0, w)) for w in workers])
    vacancies = np.array(draw(st.lists(st.integers(0, 8), min_size=n_slots, max_size=n_slots)))
    target = np.array(
        draw(st.lists(st.integers(-1, n_slots - 1), min_size=n_apps, max_size=n_apps)),
        dtype=np.int64,
    )
    poor = np.array(draw(st.lists(st.booleans(), min_size=n_apps, max_size=n_apps)), bool)
    trained = np.array(draw(st.lists(st.booleans(), min_size=n_apps, max_size=n_apps)), bool)
    first = np.array(draw(st.lists(st.booleans(), min_size=n_apps, max_size=n_apps)), bool)
    quota = draw(st.sampled_from([0.0, 0.1, 0.3, 0.5, 2 / 3, 1.0]))
    seed = draw(st.integers(0, 2**16))
    return workers, poor_workers, vacancies, target, poor, trained, first, quota, seed


@given(hiring_rounds())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_hiring_keeps_staff_within_places_meets_the_quota_and_follows_the_ranking(case):
    workers, poor_workers, vacancies, target, poor, trained, first, quota, seed = case
    n = len(target)
    merit = np.random.default_rng(seed).random(n)
    a = Applications(np.arange(n), np.zeros(n, np.int64), poor, trained, merit)
    hired = hire(a, target, vacancies, staff(workers, poor_workers), quota, first=first)
    assert not hired[target < 0].any()
    rank = -merit - 1e6 * first  # lower is better
    for s in range(len(vacancies)):
        mine = target == s
        hired_poor = int((hired & mine & poor).sum())
        hired_nonpoor = int((hired & mine & ~poor).sum())
        # staff never exceed places
        assert workers[s] + hired_poor + hired_nonpoor <= workers[s] + vacancies[s]
        if hired_nonpoor:  # non-poor only within the quota
            total = workers[s] + hired_poor + hired_nonpoor
            assert poor_workers[s] + hired_poor >= quota * total - 1e-9
        # within each group, the best-ranked are hired
        for group in (poor, ~poor):
            taken, passed = mine & group & hired, mine & group & ~hired
            if taken.any() and passed.any():
                assert rank[taken].max() <= rank[passed].min()
        # a poor applicant is refused only when the places are full
        if (mine & poor & ~hired).any():
            assert hired_poor + hired_nonpoor == vacancies[s]


# ------------------------------------------------------------------ taking up and leaving


def people(n: int) -> People:
    return People(
        household=np.arange(n, dtype=np.int32),
        age=np.full(n, 30, np.int16),
        female=np.zeros(n, bool),
        health=np.zeros(n, np.int8),
        frail=np.zeros(n, bool),
        skill=np.ones(n, np.float32),
        activity=np.zeros(n, np.int8),
        employer=np.full(n, NO_EMPLOYER, np.int32),
        tenure=np.zeros(n, np.int16),
        courses=np.zeros(n, np.int8),
        bonus_paid=np.zeros(n, bool),
        kept_home=np.zeros(n, bool),
    )


def test_take_up_sets_employer_and_activity_and_restarts_tenure():
    p = people(3)
    p.employer[1], p.tenure[1], p.bonus_paid[1] = 4, 9, True
    p.earnings[:] = [100.0, 200.0, 300.0]
    p.earnings_before_job[1] = 50.0
    take_up(
        p,
        np.array([0, 1]),
        np.array([2, 3]),
        np.array([A.HOME_OUTWORK, A.VILLAGE_WORKSHOP], np.int8),
    )
    assert p.employer.tolist() == [2, 3, NO_EMPLOYER]
    assert p.activity.tolist() == [A.HOME_OUTWORK, A.VILLAGE_WORKSHOP, A.NOT_WORKING]
    assert p.tenure.tolist() == [0, 0, 0]
    assert not p.bonus_paid.any()
    # a newcomer's before-job earnings are last month's; a job changer keeps the old ones
    assert p.earnings_before_job[:2].tolist() == [100.0, 50.0]


def test_release_clears_employer_tenure_and_bonus():
    p = people(2)
    p.employer[:], p.tenure[:], p.bonus_paid[:] = [1, 2], [5, 6], [True, True]
    release(p, np.array([1]))
    assert p.employer.tolist() == [1, NO_EMPLOYER]
    assert p.tenure.tolist() == [5, 0]
    assert p.bonus_paid.tolist() == [True, False]


def test_staff_count_counts_workers_and_poor_workers_per_slot():
    p = people(5)
    p.employer[:] = [0, 2, 2, NO_EMPLOYER, 2]
    counted = Staff.count(p, np.array([True, True, False, True, True]), 4)
    assert counted.workers.tolist() == [1, 0, 3, 0]
    assert counted.poor_workers.tolist() == [1, 0, 2, 0]


def test_the_poor_share_of_hires_emerges_from_productivity_and_the_quota():
    rng = np.random.default_rng(5)
    n_apps, n_slots = 4000, 40
    poor = rng.random(n_apps) < 0.5
    skill = np.where(poor, 0.75, 1.1) * rng.lognormal(0, 0.3, n_apps)
    target = rng.integers(0, n_slots, n_apps)
    vacancies = np.full(n_slots, 20, np.int64)
    empty = Staff(np.zeros(n_slots, np.int64), np.zeros(n_slots, np.int64))

    def hired_poor_share(merit, quota):
        a = Applications(np.arange(n_apps), np.zeros(n_apps, np.int64), poor, poor & False, merit)
        hired = hire(a, target, vacancies, empty, quota)
        per_slot = np.bincount(target[hired], minlength=n_slots)
        assert (per_slot <= vacancies).all()
        assert (np.bincount(target[hired], poor[hired], n_slots) >= quota * per_slot - 1e-9).all()
        return poor[hired].mean()

    # the more productive non-poor win the places, down to the quota
    assert hired_poor_share(skill, 0.0) < 0.15
    assert 0.3 <= hired_poor_share(skill, 0.3) < 0.33
    # where firms cannot tell them apart, hires mirror the applicants
    assert 0.4 < hired_poor_share(np.ones(n_apps), 0.0) < 0.6
