import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.metrics import (
    STAYED_OUT_MONTHS,
    Groups,
    IncomeRangeError,
    PovertyTracker,
    Transitions,
    fgt,
    fgt_of_groups,
)

# ------------------------------------------------------------------ FGT


def test_fgt_on_a_hand_computed_example():
    income = np.array([0.0, 50.0, 100.0, 200.0])
    weights = np.array([1, 2, 1, 1])
    p0, p1, p2 = fgt(income, 100.0, weights)
    # poor: the 0 household (gap 1, 1 person) and the 50 one (gap 0.5, 2 people); 5 people
    assert p0 == pytest.approx(3 / 5)
    assert p1 == pytest.approx((1 * 1 + 2 * 0.5) / 5)
    assert p2 == pytest.approx((1 * 1 + 2 * 0.25) / 5)


def test_income_at_the_line_is_not_poor():
    assert fgt(np.array([100.0]), 100.0, np.array([3])) == (0.0, 0.0, 0.0)


def test_everyone_without_income_gives_one_for_every_measure():
    assert fgt(np.zeros(4), 2300.0, np.array([1, 2, 3, 4])) == pytest.approx((1.0, 1.0, 1.0))


def test_fgt_of_nobody_is_zero():
    assert fgt(np.array([10.0, 20.0]), 100.0, np.array([0, 0])) == (0.0, 0.0, 0.0)
    assert fgt(np.empty(0), 100.0, np.empty(0)) == (0.0, 0.0, 0.0)


def test_fgt_weights_count_people_not_households():
    one = fgt(np.array([50.0, 200.0]), 100.0, np.array([1, 1]))
    many = fgt(np.array([50.0, 200.0]), 100.0, np.array([3, 1]))
    assert one[0] == pytest.approx(0.5)
    assert many[0] == pytest.approx(0.75)


@given(
    st.lists(st.tuples(st.floats(-500, 10_000), st.integers(0, 8)), min_size=1, max_size=60),
    st.floats(1.0, 5000.0),
)
@settings(max_examples=200, deadline=None)
def test_fgt_measures_are_ordered_shares(rows, line):
    income = np.array([r[0] for r in rows])
    weights = np.array([r[1] for r in rows])
    p0, p1, p2 = fgt(income, line, weights)
    assert 0.0 <= p2 <= p1 + 1e-12 <= p0 + 2e-12 <= 1.0 + 2e-12


def test_fgt_of_a_group_equals_fgt_of_its_members():
    rng = np.random.default_rng(0)
    income = rng.gamma(2.0, 1500.0, 500)
    weights = rng.integers(1, 6, 500)
    masks = {"some": rng.random(500) < 0.3, "none": np.zeros(500, dtype=bool)}
    measures = fgt_of_groups(income, 3000.0, weights, Groups.of(masks, weights))
    mask = masks["some"]
    assert measures["some"] == pytest.approx(fgt(income[mask], 3000.0, weights[mask]))
    assert measures["none"] == (0.0, 0.0, 0.0)


def test_fgt_sums_add_households_left_to_right():
    income = np.array([0.0, 50.0, 2.0, 60.0, 99.0, 500.0])
    weights = np.array([3, 1, 2, 5, 1, 4])
    line = 100.0
    poor = income < line
    gap = (line - income) / line
    expected = [0.0, 0.0]
    for h in np.flatnonzero(poor):
        expected[0] += weights[h] * gap[h]
        expected[1] += weights[h] * gap[h] * gap[h]
    people = weights.sum()
    p0, p1, p2 = fgt(income, line, weights)
    assert p0 == weights[poor].sum() / people
    assert (p1, p2) == (expected[0] / people, expected[1] / people)


def test_fgt_of_overlapping_groups_adds_each_group_left_to_right():
    rng = np.random.default_rng(3)
    income = rng.gamma(2.0, 1500.0, 400)
    weights = rng.integers(1, 7, 400).astype(np.int16)
    masks = {
        "all": np.ones(400, dtype=bool),
        "some": rng.random(400) < 0.4,
        "few": rng.random(400) < 0.05,
        "none": np.zeros(400, dtype=bool),
    }
    line = 3000.0
    measures = fgt_of_groups(income, line, weights, Groups.of(masks, weights))
    for name, mask in masks.items():
        people = int(weights[mask].sum())
        poor_people, gap_sum, severity_sum = 0, 0.0, 0.0
        for h in np.flatnonzero(mask & (income < line)):
            gap = (line - income[h]) / line
            poor_people += int(weights[h])
            gap_sum += weights[h] * gap
            severity_sum += weights[h] * gap * gap
        expected = (
            (poor_people / people, gap_sum / people, severity_sum / people)
            if people
            else (0.0, 0.0, 0.0)
        )
        assert measures[name] == expected, name  # exactly: same additions, same order


def test_groups_are_fixed_when_made():
    weights = np.array([1, 2, 3])
    mask = np.array([True, False, True])
    groups = Groups.of({"all": np.ones(3, dtype=bool), "some": mask}, weights)
    mask[1] = True  # changing the caller's mask afterwards ...
    assert groups.masks["some"].tolist() == [True, False, True]  # ... changes no group
    assert groups.people == {"all": 6, "some": 4}
    assert groups.membership.tolist() == [[True, True], [True, False], [True, True]]


def test_memberships_go_household_by_household():
    masks = {"a": np.array([True, True, False, True]), "b": np.array([False, True, True, True])}
    groups = Groups.of(masks, np.ones(4, dtype=np.int16))
    position, group = groups.memberships(np.array([1, 2, 3]))
    assert position.tolist() == [0, 0, 1, 2, 2]  # households 1, 1, 2, 3, 3
    assert group.tolist() == [0, 1, 1, 0, 1]


# ------------------------------------------------------------------ panel dynamics

LINE = 1200.0  # yuan per person per year = 100 a month


@pytest.fixture
def tracked():
    """Three households followed for 20 months (income per month, whole household).

    0: one person, 50 at the start (poor), 200 for months 1-4 (exits in month 4), nothing in
       months 5-7 (re-enters in month 5), 300 from month 8 on (exits again in month 8).
    1: two people, always 500 (never poor).
    2: four people, 500 at the start (not poor), nothing afterwards (enters in month 3).
    """
    size = np.array([1, 2, 4])
    tracker = PovertyTracker(np.array([50.0, 500.0, 500.0]), size, LINE)
    incomes = {
        m: np.array([200.0 if m <= 4 else 0.0 if m <= 7 else 300.0, 500.0, 0.0])
        for m in range(1, 21)
    }
    flows = {m: tracker.update(incomes[m], m, LINE) for m in range(1, 21)}
    return tracker, flows


def test_tracker_starts_from_twelve_times_the_first_month():
    tracker = PovertyTracker(np.array([50.0, 500.0]), np.array([1, 2]), LINE)
    assert tracker.per_capita.tolist() == [600.0, 3000.0]
    assert tracker.poor.tolist() == [True, False]
    assert tracker.start_poor.tolist() == [True, False]


def test_rolling_income_is_the_sum_of_the_last_twelve_months():
    tracker = PovertyTracker(np.array([10.0]), np.array([1]), LINE)
    history = [10.0] * 12
    for m, income in enumerate([5.0, 300.0, 0.0, 70.0] * 5, start=1):
        tracker.update(np.array([income]), m, LINE)
        history.append(income)
        assert tracker.rolling[0] == pytest.approx(sum(history[-12:]))


def test_exits_entries_and_re_entries_by_month(tracked):
    _, flows = tracked
    expected = {
        3: Transitions(0, 1, 0),
        4: Transitions(1, 0, 0),
        5: Transitions(0, 1, 1),
        8: Transitions(1, 0, 0),
    }
    for m, f in flows.items():
        assert f == expected.get(m, Transitions(0, 0, 0)), m


def test_totals_add_up_the_monthly_flows(tracked):
    tracker, flows = tracked
    assert tracker.totals == Transitions(2, 2, 1)
    assert tracker.totals.exits == sum(f.exits for f in flows.values())


def test_status_after_the_run(tracked):
    tracker, _ = tracked
    assert tracker.poor.tolist() == [False, False, True]
    assert tracker.ever_exited.tolist() == [True, False, False]
    assert tracker.start_poor.tolist() == [True, False, False]


def test_spell_lengths_count_months_in_poverty(tracked):
    tracker, _ = tracked
    ended = np.concatenate(tracker.spell_lengths)
    assert sorted(ended.tolist()) == [3, 4]  # months 0-3 and 5-7
    assert tracker.mean_spell_months() == pytest.approx(3.5)
    assert tracker.spell_start.tolist() == [-1, -1, 3]  # household 2 still poor since month 3


def test_an_exit_lasts_after_twelve_months_out(tracked):
    tracker, _ = tracked
    # household 0 is out from month 8: month 19 is its 12th month out
    assert STAYED_OUT_MONTHS == 12
    assert tracker.months_out.tolist() == [13, 0, 0]
    assert tracker.stayed_out.tolist() == [True, False, False]


def test_an_exit_does_not_last_before_twelve_months():
    tracker = PovertyTracker(np.array([0.0]), np.array([1]), LINE)
    tracker.update(np.array([2000.0]), 1, LINE)  # exits at once
    for m in range(2, 12):
        tracker.update(np.array([2000.0]), m, LINE)
    assert tracker.months_out[0] == 11 and not tracker.stayed_out[0]
    tracker.update(np.array([2000.0]), 12, LINE)
    assert tracker.stayed_out[0]


def test_a_higher_line_makes_households_poor_without_income_change():
    tracker = PovertyTracker(np.array([110.0]), np.array([1]), LINE)
    assert not tracker.poor[0]
    flows = tracker.update(np.array([110.0]), 1, 1400.0)
    assert tracker.poor[0] and flows == Transitions(0, 1, 0)


def test_mean_spell_is_nan_without_an_ended_spell():
    tracker = PovertyTracker(np.array([0.0]), np.array([1]), LINE)
    tracker.update(np.array([0.0]), 1, LINE)
    assert math.isnan(tracker.mean_spell_months())


def test_poor_household_months_count_only_households_poor_at_the_start():
    # household 0 poor throughout, 1 poor at the start then out, 2 out at the start then poor
    tracker = PovertyTracker(np.array([10.0, 10.0, 500.0]), np.array([1, 1, 1]), LINE)
    for month in range(1, 25):
        tracker.update(np.array([10.0, 1000.0, 0.0]), month, LINE)
    # the 12-month window: household 1 leaves poverty once its rolling income passes
    # the line, household 2 enters once it falls below
    assert tracker.start_poor_months == 24 + _months_poor(10.0, 1000.0)
    assert len(tracker.poor_counts) == 24
    assert tracker.mean_poor_households(12) == 2.0  # households 0 and 2 in the last year
    assert math.isnan(PovertyTracker(np.ones(1), np.ones(1), LINE).mean_poor_households(12))


def _months_poor(start: float, then: float) -> int:
    """Months 1.. in which a 12-month window that began at `start` is still below LINE."""
    return sum(1 for k in range(1, 25) if (12 - min(k, 12)) * start + min(k, 12) * then < LINE)


# ------------------------------------------------------------------ incomes in whole fen


def test_rolling_sums_in_fen_are_exact_sums_of_the_rounded_months():
    rng = np.random.default_rng(7)
    n, months = 400, 40
    size = rng.integers(1, 9, n).astype(np.int16)
    incomes = rng.lognormal(6.0, 1.5, (months + 1, n)) * (rng.random((months + 1, n)) < 0.9)
    incomes[:, :20] = 0.125  # 12.5 fen: ties go to the even fen (12)
    incomes[:, 20:40] = 1e6 + 0.005 * rng.integers(0, 3, (months + 1, 20))  # large, near ties
    tracker = PovertyTracker(incomes[0], size, LINE)
    as_fen = [[round(float(x) * 100.0) for x in month] for month in incomes]  # exact, Python
    history = [as_fen[0]] * 12
    float_window = [incomes[0]] * 12
    for m in range(1, months + 1):
        tracker.update(incomes[m], m, LINE)
        history.append(as_fen[m])
        float_window.append(incomes[m])
        exact = [sum(month[h] for month in history[-12:]) for h in range(n)]
        assert tracker.rolling_fen.tolist() == exact
        assert tracker.rolling_fen.dtype == tracker.window_fen.dtype == np.int32
        # each month of the window moves by at most half a fen (0.005 yuan)
        unrounded = np.sum(float_window[-12:], axis=0)
        assert np.all(np.abs(tracker.rolling - unrounded) <= 12 * 0.005 * (1 + 1e-9))
        per_capita_gap = np.abs(tracker.per_capita - unrounded / size)
        assert np.all(per_capita_gap <= 12 * 0.005 / size * (1 + 1e-9) + 1e-9)
    assert (tracker.rolling_fen[:20] == 12 * 12).all()
    np.testing.assert_array_equal(tracker.poor, tracker.per_capita < LINE)


def test_tracker_state_is_64_bytes_a_household_and_size_is_not_copied():
    size = np.array([1, 2, 3], dtype=np.int16)
    tracker = PovertyTracker(np.array([50.0, 500.0, 500.0]), size, LINE)
    assert tracker.size is size
    own = [
        value
        for name, value in vars(tracker).items()
        if isinstance(value, np.ndarray) and name != "size"
    ]
    assert sum(a.nbytes for a in own) == 64 * 3  # window 48, rolling and start 8, status 8
    assert tracker.start_rolling.tolist() == [600.0, 6000.0, 6000.0]  # yuan
    np.testing.assert_array_equal(tracker.start_per_capita, [600.0, 3000.0, 2000.0])


def test_tracker_refuses_households_without_members_and_incomes_out_of_range():
    with pytest.raises(ValueError, match="at least one member"):
        PovertyTracker(np.array([50.0, 10.0]), np.array([1, 0]), LINE)
    with pytest.raises(IncomeRangeError, match="household 1's income"):
        PovertyTracker(np.array([50.0, np.inf]), np.array([1, 2]), LINE)
    tracker = PovertyTracker(np.array([50.0, 10.0]), np.array([1, 2]), LINE)
    with pytest.raises(IncomeRangeError, match="household 0's income this month, 2000000.0 yuan"):
        tracker.update(np.array([2e6, 10.0]), 1, LINE)


def test_tracker_measures_the_groups_last_asked_for_in_its_monthly_pass():
    rng = np.random.default_rng(11)
    n = 300
    size = rng.integers(1, 7, n).astype(np.int16)
    masks = {"all": np.ones(n, dtype=bool), "some": rng.random(n) < 0.4}
    groups = Groups.of(masks, size)
    tracker = PovertyTracker(rng.gamma(2.0, 150.0, n), size, 2000.0)
    first = tracker.fgt(groups, 2000.0)
    assert first == fgt_of_groups(tracker.per_capita, 2000.0, size, groups)
    for month in range(1, 15):
        tracker.update(rng.gamma(2.0, 150.0, n), month, 2000.0 + month)
        measured = tracker._measured
        assert measured is not None and measured[0] is groups  # summed in the update's pass
        expected = fgt_of_groups(tracker.per_capita, 2000.0 + month, size, groups)
        assert tracker.fgt(groups, 2000.0 + month) == expected  # exactly
        assert tracker._measured is measured  # no pass of its own
    other = Groups.of(masks, size)  # new groups (as each January): measured when asked
    assert tracker.fgt(other, 2014.0) == fgt_of_groups(tracker.per_capita, 2014.0, size, other)
    assert tracker.groups is other
    assert tracker.fgt(groups, 2100.0) == fgt_of_groups(tracker.per_capita, 2100.0, size, groups)
