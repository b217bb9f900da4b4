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
    Priority,
    Staff,
    hire,
    market_key,
    nonpoor_room,
    pick_workshops,
    release,
    take_up,
)
from model.scenario import Activity

A = Activity


def apps(keys, poor, trained=None) -> Applications:
    keys = np.asarray(keys, dtype=np.int64)
    trained = np.zeros(len(keys), bool) if trained is None else np.asarray(trained, bool)
    return Applications(np.arange(len(keys)), keys, np.asarray(poor, bool), trained)


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
    keys = market_key(activity, village, n_villages=10)
    assert keys.tolist() == [
        3,
        7,
        10 + A.HOME_OUTWORK,
        10 + A.PARK_WORKSHOP,
        10 + A.COMMUNITY_FACTORY,
    ]


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


def test_poor_applicants_are_hired_first():
    a = apps([0] * 5, [False, True, False, True, False])
    target = np.zeros(5, dtype=np.int64)
    hired = hire(a, target, np.array([2]), staff([0], [0]), 0.0, np.linspace(0, 1, 5))
    assert hired.tolist() == [False, True, False, True, False]


def test_trained_poor_applicants_come_before_untrained():
    a = apps([0, 0, 0], [True, True, True], trained=[False, True, False])
    hired = hire(
        a, np.zeros(3, np.int64), np.array([1]), staff([0], [0]), 0.0, np.array([0.0, 0.9, 0.1])
    )
    assert hired.tolist() == [False, True, False]


def test_hiring_respects_the_quota_counting_this_rounds_poor_hires():
    # Empty workshop, quota 0.5: 2 poor hires allow 2 non-poor, not more.
    a = apps([0] * 7, [True, True, False, False, False, False, False])
    hired = hire(a, np.zeros(7, np.int64), np.array([10]), staff([0], [0]), 0.5, np.arange(7) / 7)
    assert hired[:2].all()
    assert hired[2:].sum() == 2


def test_quota_counts_existing_staff():
    # 3 poor of 3 workers at quota 0.3: room for 7 non-poor, vacancies for 10.
    a = apps([0] * 10, [False] * 10)
    hired = hire(
        a, np.zeros(10, np.int64), np.array([10]), staff([3], [3]), 0.3, np.arange(10) / 10
    )
    assert hired.sum() == 7


def test_without_poor_applicants_or_staff_a_quota_blocks_every_non_poor_hire():
    a = apps([0] * 4, [False] * 4)
    hired = hire(a, np.zeros(4, np.int64), np.array([4]), staff([0], [0]), 0.3, np.zeros(4))
    assert not hired.any()


def test_applicants_without_a_workshop_are_not_hired():
    a = apps([0, 0], [True, True])
    hired = hire(a, np.array([-1, 0]), np.array([5]), staff([0], [0]), 0.0, np.zeros(2))
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
        np.zeros(4),
        needs_training=np.array([True, False]),
    )
    assert hired.tolist() == [False, True, True, True]


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
    quota = draw(st.sampled_from([0.0, 0.1, 0.3, 0.5, 2 / 3, 1.0]))
    seed = draw(st.integers(0, 2**16))
    return workers, poor_workers, vacancies, target, poor, trained, quota, seed


@given(hiring_rounds())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_hire_never_exceeds_vacancies_keeps_quota_and_prefers_the_poor(case):
    workers, poor_workers, vacancies, target, poor, trained, quota, seed = case
    n = len(target)
    a = Applications(np.arange(n), np.zeros(n, np.int64), poor, trained)
    u = np.random.default_rng(seed).random(n)
    hired = hire(a, target, vacancies, staff(workers, poor_workers), quota, u)
    assert not hired[target < 0].any()
    for s in range(len(vacancies)):
        mine = target == s
        hired_poor = int((hired & mine & poor).sum())
        hired_nonpoor = int((hired & mine & ~poor).sum())
        assert hired_poor + hired_nonpoor <= vacancies[s]
        # poor applicants are hired up to the vacancies before anyone else
        assert hired_poor == min(vacancies[s], int((mine & poor).sum()))
        if hired_nonpoor:
            total = workers[s] + hired_poor + hired_nonpoor
            assert poor_workers[s] + hired_poor >= quota * total - 1e-9
        if (mine & ~poor & ~hired).any():  # a non-poor turned away: no place or no quota room
            room = nonpoor_room(
                staff([workers[s] + hired_poor], [poor_workers[s] + hired_poor]), quota
            )[0]
            assert hired_poor + hired_nonpoor == vacancies[s] or hired_nonpoor == room


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


def test_soft_priority_mixes_applicants_but_keeps_the_quota():
    rng = np.random.default_rng(5)
    n_apps, n_slots = 4000, 40
    apps = Applications(
        np.arange(n_apps),
        np.zeros(n_apps, np.int64),
        rng.random(n_apps) < 0.5,
        np.zeros(n_apps, bool),
    )
    target = rng.integers(0, n_slots, n_apps)
    vacancies = np.full(n_slots, 20, np.int64)
    staff = Staff(np.zeros(n_slots, np.int64), np.zeros(n_slots, np.int64))
    strict = hire(apps, target, vacancies, staff, 0.3, rng.random(n_apps))
    soft = hire(
        apps,
        target,
        vacancies,
        staff,
        0.3,
        rng.random(n_apps),
        priority=Priority(poor=0.0, trained=0.0),
    )
    for hired in (strict, soft):
        per_slot = np.bincount(target[hired], minlength=n_slots)
        poor = np.bincount(target[hired], apps.poor[hired], n_slots)
        assert (per_slot <= vacancies).all()
        assert (poor >= 0.3 * per_slot - 1e-9).all()
    assert apps.poor[strict].mean() == 1.0  # enough poor applicants fill every place
    assert 0.35 < apps.poor[soft].mean() < 0.65  # no priority: about the applicant mix
