"""Compiled poverty measures, income sums, activity census and job sums equal the array versions."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from twins import run_both

from model.collection import (
    ACTIVITY_CODES,
    CENSUS_CODES,
    UNCOUNTED,
    activity_census,
    job_sums,
)
from model.compiled.measures import BLOCK, LEDGER_SOURCES, WINDOW_MONTHS
from model.economy import WorkshopEconomy
from model.households import Source, income_sums
from model.metrics import (
    FEN_PER_YUAN,
    MAX_MONTH_FEN,
    NO_CODES,
    STAYED_OUT_MONTHS,
    Groups,
    IncomeRangeError,
    PovertyStatus,
    fen_of,
    fgt_sums,
    poverty_month,
)
from model.scenario import Activity
from model.workshops import MONTHS_PER_YEAR, Form

# sizes within one block of the kernels, and across blocks (with a tail of a few)
SIZES = st.integers(1, 3000) | st.sampled_from([BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 13])


def test_kernel_constants_agree_with_the_model():
    assert len(Source) == LEDGER_SOURCES and WINDOW_MONTHS == MONTHS_PER_YEAR
    assert 12 * MAX_MONTH_FEN <= np.iinfo(np.int32).max < 12 * (MAX_MONTH_FEN + 1)


def random_groups(rng: np.random.Generator, n: int) -> tuple[Groups, np.ndarray]:
    weights = rng.integers(1, 9, n).astype(np.int16)
    masks = {
        "all": np.ones(n, dtype=bool),
        "a": rng.random(n) < 0.3,
        "b": rng.random(n) < 0.6,
        "none": np.zeros(n, dtype=bool),
    }
    return Groups.of(masks, weights), weights


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 3000))
def test_fgt_sums_twins_are_identical(seed, n):
    rng = np.random.default_rng(seed)
    groups, weights = random_groups(rng, n)
    income = rng.lognormal(8.0, 1.0, n) * rng.choice([1.0, 0.0, -0.5], n, p=[0.9, 0.05, 0.05])
    line = float(np.quantile(income, 0.4))
    sums, _ = run_both(fgt_sums, income, line, weights, groups.codes, len(groups))
    assert sums.shape == (3, 4) and (sums[:, 3] == 0).all()
    assert sums[0, 0] == weights[income < line].sum()


def test_fgt_sums_of_many_groups_use_wider_codes():
    rng = np.random.default_rng(4)
    n = 500
    weights = rng.integers(1, 6, n)
    masks = {f"g{g}": rng.random(n) < 0.5 for g in range(20)}
    groups = Groups.of(masks, weights)
    assert groups.codes.dtype == np.uint32
    income = rng.gamma(2.0, 1500.0, n)
    sums, _ = run_both(fgt_sums, income, 3000.0, weights, groups.codes, len(groups))
    for g, mask in enumerate(masks.values()):
        assert sums[0, g] == weights[mask & (income < 3000.0)].sum()


def ledger_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    """A ledger's eight rows: mostly zero, a few large and tiny amounts, some negative."""
    rows = rng.lognormal(5.0, 2.0, (8, n)) * (rng.random((8, n)) < 0.6)
    rows[0, rng.random(n) < 0.01] *= -1.0
    rows[1, rng.random(n) < 0.01] = 1e-300
    return rows


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 4000))
def test_income_sums_twins_are_identical(seed, n):
    rng = np.random.default_rng(seed)
    by_source = ledger_rows(rng, n)
    apart = rng.random(n) < 0.3
    sums, (_, _, total) = run_both(income_sums, by_source, apart, np.full(n, np.nan))
    alone, _ = run_both(income_sums, by_source, np.zeros(0, dtype=bool), np.empty(n))
    assert (alone[1] == 0).all() and np.array_equal(alone[0], sums[0])
    sequential = by_source[0].copy()
    for row in by_source[1:]:
        sequential += row
    np.testing.assert_array_equal(total, sequential)  # sources in order
    head, _ = run_both(income_sums, by_source[:, :200], apart[:200], np.empty(min(n, 200)))
    for source in range(8):  # households left to right
        everyone = over_apart = 0.0
        for h in range(min(n, 200)):
            everyone += by_source[source, h]
            over_apart += by_source[source, h] if apart[h] else 0.0
        assert head[0, source] == everyone and head[1, source] == over_apart


def test_income_sums_need_the_ledger_rows():
    for version in (income_sums.compiled, income_sums.arrays):
        with pytest.raises(ValueError, match="8 sources"):
            version(np.zeros((3, 5)), np.zeros(0, dtype=bool), np.empty(5))


def census_people(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    return (
        rng.integers(0, len(Activity), n).astype(np.int8),
        rng.random(n) < 0.5,
        rng.random(n) < 0.1,
        (rng.random(n) * (rng.random(n) < 0.7)).astype(np.float32),
    )


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 3000) | SIZES)
@example(seed=1, n=2 * BLOCK + 13)
def test_activity_census_twins_are_identical(seed, n):
    rng = np.random.default_rng(seed)
    people = census_people(rng, n)
    codes = np.full(n, UNCOUNTED, dtype=np.int8)
    counts = np.zeros(CENSUS_CODES, dtype=np.int64)
    counts[UNCOUNTED] = n
    _, (*_, codes, counts, _, _) = run_both(
        activity_census, *people, codes, counts, ACTIVITY_CODES, False
    )
    np.testing.assert_array_equal(codes, census_codes(*people))
    np.testing.assert_array_equal(counts[:UNCOUNTED], np.bincount(codes, minlength=UNCOUNTED))
    assert counts[UNCOUNTED] == 0
    # a month later some people changed: only they move
    activity, female, carer, capacity = people
    later = census_people(rng, n)
    keep = rng.random(n) < 0.8
    moved = tuple(np.where(keep, now, then) for now, then in zip(people, later, strict=True))
    _, (*_, after, recounted, _, _) = run_both(
        activity_census, *moved, codes, counts, ACTIVITY_CODES, False
    )
    np.testing.assert_array_equal(after, census_codes(*moved))
    np.testing.assert_array_equal(recounted[:UNCOUNTED], np.bincount(after, minlength=UNCOUNTED))
    # only activities changed: the rest of each code is kept, the other arrays not read
    activity = np.where(keep, activity, later[0])
    ignored = (np.zeros(0, dtype=bool), np.zeros(0, dtype=bool), np.zeros(0, np.float32))
    _, (*_, after, recounted, _, _) = run_both(
        activity_census, activity, *ignored, codes, counts, ACTIVITY_CODES, True
    )
    np.testing.assert_array_equal(after, census_codes(activity, female, carer, capacity))
    np.testing.assert_array_equal(recounted[:UNCOUNTED], np.bincount(after, minlength=UNCOUNTED))


def census_codes(activity, female, carer, capacity) -> np.ndarray:
    return activity * 4 + female * 2 + carer + (capacity <= 0) * ACTIVITY_CODES


def test_job_sums_twins_are_identical(tiny):
    model = WorkshopEconomy(tiny)
    for _ in range(3):
        model.step()
    p = model.people
    employed = model.employed_now()
    p.earnings_before_job[employed[::3]] = np.nan  # unknown gains
    (jobs, poor_jobs, _, _, gain_n), _ = run_both(
        job_sums,
        employed,
        p.employer,
        model.workshop_table.form,
        model.registered_person,
        p.earnings,
        p.earnings_before_job,
        len(Form),
    )
    assert jobs.sum() == len(employed) > 0
    assert 0 < gain_n.sum() < poor_jobs.sum()


def random_status(rng: np.random.Generator, poor: np.ndarray) -> PovertyStatus:
    n = len(poor)
    return PovertyStatus(
        poor,
        rng.random(n) < 0.3,  # ever exited
        rng.integers(0, 30, n).astype(np.int16) * ~poor,  # months out, 0 while poor
        rng.random(n) < 0.1,  # stayed out
        rng.random(n) < 0.5,  # poor at the start
    )


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=SIZES, measured=st.booleans())
@example(seed=1, n=2 * BLOCK + 13, measured=True)
def test_poverty_month_twins_are_identical(seed, n, measured):
    rng = np.random.default_rng(seed)
    size = rng.integers(1, 8, n).astype(np.int16)
    window = fen_of(rng.lognormal(6.0, 1.0, (12, n)))
    rolling = window.sum(axis=0, dtype=np.int32)
    line = float(np.quantile(rolling / (size * FEN_PER_YUAN), 0.4))
    poor = rolling / (size * FEN_PER_YUAN) < line
    status = random_status(rng, poor)
    groups, _ = random_groups(rng, n)
    codes, n_groups = (groups.codes, len(groups)) if measured else (NO_CODES, 0)
    # some fall in, some climb out; a few half fen exactly (ties go to the even fen)
    income = window[0] / FEN_PER_YUAN * rng.choice([0.2, 1.0, 3.0], n)
    income[rng.random(n) < 0.05] = 0.125
    (changed, re_entries, poor_now, both, sums), (_, row, rolling_after, _, _, after, *_) = (
        run_both(poverty_month, income, window[0], rolling, size, line, status, codes, n_groups)
    )
    np.testing.assert_array_equal(row, np.rint(income * 100.0).astype(np.int32))
    assert (row[income == 0.125] == 12).all()  # 12.5 fen, to the even fen
    np.testing.assert_array_equal(rolling_after, rolling + row - window[0])
    per_capita = rolling_after / (size * FEN_PER_YUAN)
    np.testing.assert_array_equal(after.poor, per_capita < line)
    assert poor_now == after.poor.sum() and both == (after.poor & after.start_poor).sum()
    np.testing.assert_array_equal(changed, np.flatnonzero(after.poor != poor))
    assert re_entries == (status.ever_exited & after.poor & ~poor).sum()
    assert after.ever_exited[changed[~after.poor[changed]]].all()  # exits marked
    lasting = after.months_out >= STAYED_OUT_MONTHS
    assert (after.stayed_out[lasting]).all() and (after.months_out[after.poor] == 0).all()
    # the FGT sums of the month's pass are those of a pass of their own
    assert sums.shape == (3, n_groups)
    if measured:
        alone, _ = run_both(fgt_sums, per_capita, line, size, codes, n_groups)
        np.testing.assert_array_equal(sums, alone)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan, MAX_MONTH_FEN / 100 + 0.01, -2e7])
@pytest.mark.parametrize(("n", "at"), [(6, 3), (BLOCK + 10, BLOCK + 5)])
def test_poverty_month_refuses_incomes_beyond_its_range(bad, n, at):
    size = np.ones(n, dtype=np.int16)
    income = np.full(n, 100.0)
    income[at] = bad
    income[at + 2] = bad  # the first is named
    for version in (poverty_month.compiled, poverty_month.arrays):
        window = np.zeros((12, n), dtype=np.int32)
        rolling = np.zeros(n, dtype=np.int32)
        status = random_status(np.random.default_rng(0), np.zeros(n, dtype=bool))
        with pytest.raises(IncomeRangeError, match=f"household {at}'s income"):
            version(income, window[0], rolling, size, 1000.0, status, NO_CODES, 0)


def test_poverty_month_takes_incomes_up_to_its_range():
    top = MAX_MONTH_FEN / FEN_PER_YUAN  # yuan a month; twelve of them fit an int32
    income = np.array([top, -top, top + 0.004])  # the last rounds down to the top too
    for version in (poverty_month.compiled, poverty_month.arrays):
        top_fen = np.array([MAX_MONTH_FEN, -MAX_MONTH_FEN, MAX_MONTH_FEN], np.int32)
        window = np.tile(top_fen, (12, 1))
        rolling = window.sum(axis=0, dtype=np.int64).astype(np.int32)
        assert rolling[0] == 12 * MAX_MONTH_FEN <= np.iinfo(np.int32).max
        status = random_status(np.random.default_rng(0), np.zeros(3, dtype=bool))
        version(income, window[0], rolling, np.ones(3, np.int16), 1000.0, status, NO_CODES, 0)
        assert rolling.tolist() == [12 * MAX_MONTH_FEN, -12 * MAX_MONTH_FEN, 12 * MAX_MONTH_FEN]
