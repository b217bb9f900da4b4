"""Poverty measures, income sums, the activity census and job sums, compiled with numba.

Each kernel makes one pass over its households (or people) and adds in a stated order,
so that its array twin can make the same additions in the same order with numpy (the
twins are declared in `model.metrics`, `model.households` and `model.collection`; see
`model.compiled`):

- `poverty_month` (array twin `model.metrics._poverty_month`): each household's income
  this month rounded to whole fen moves its 12-month window and rolling sum (int32 fen);
  the household is reclassified and, if poor, added to the FGT sums of its groups;
- `fgt_sums` (`model.metrics._fgt_sums`): the FGT sums of `fgt_of_groups`, by group;
- `income_sums` (`model.households._income_sums`): the ledger's total per household and
  its income by source summed over all households and over a marked few;
- `activity_census` (`model.collection._activity_census`): people able to work by
  activity x sex x carer, moved by the people whose category changed;
- `job_sums` (`model.collection._job_sums`): the jobs table's sums over the employed.

Sums over households add them in household order (left to right); a household's groups
are the set bits of its group code (`model.metrics.Groups`). `poverty_month` and
`activity_census` take `BLOCK` households (people) at a time, in a few simple loops over
the block that the compiler turns into vector instructions, compiled with numpy's
floating-point error model (`jit_numpy_errors`): the same results, without a check for
division by zero, which would keep a loop from being vectorised.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from model.compiled.registry import jit, jit_numpy_errors

STAYED_OUT_MONTHS = 12  # an exit counts as lasting after this many months out of poverty
FEN_PER_YUAN = 100.0
WINDOW_MONTHS = 12  # months in the rolling income window
# A household's income in one month, in fen, at most this far from 0: then twelve of them,
# the rolling sum, fit an int32 (178,956,970 fen, about 1.79 million yuan a month).
MAX_MONTH_FEN = (2**31 - 1) // WINDOW_MONTHS
LEDGER_SOURCES = 8  # rows of the income ledger (`model.households.Source`)
# Households (or people) a kernel takes at a time: a block's scratch arrays stay in the
# core's own cache, and each step over a block is a simple loop the compiler vectorises.
BLOCK = 16384
NO_CAPACITY = np.float32(0.0)  # labour capacity of those who cannot work


class IncomeRangeError(ValueError):
    """A household's monthly income beyond what the poverty tracker keeps in whole fen."""

    @classmethod
    def of(cls, household: int, income: float) -> IncomeRangeError:
        """The error for `household`'s income this month (yuan)."""
        return cls(
            f"household {household}'s income this month, {income!r} yuan, is beyond the "
            "poverty tracker's range (whole fen in an int32: finite and at most "
            f"{MAX_MONTH_FEN / FEN_PER_YUAN:,.2f} yuan a household-month either way)"
        )


def fgt_sums(
    income_per_capita: np.ndarray,
    line: float,
    weights: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
) -> np.ndarray:
    """People in poor households, poverty gaps and squared gaps, summed by group.

    Args:
        income_per_capita: yuan per person per year, one per household.
        line: poverty line, yuan per person per year.
        weights: people per household.
        codes: each household's groups, bit g set for group g (unsigned integers).
        n_groups: number of groups (the highest bit used, plus one).

    Returns:
        (3, n_groups): the sums of people, of people x gap and of people x gap squared
        over each group's poor households (gap = (line - income) / line, clipped to
        [0, 1]), adding households left to right.
    """
    sums = np.zeros((3, n_groups))
    _fgt_sums(income_per_capita, line, weights, codes, sums)
    return sums


@jit
def _fgt_sums(income_per_capita, line, weights, codes, sums):
    for household in range(income_per_capita.shape[0]):
        income = income_per_capita[household]
        if income < line:
            gap = min(max((line - income) / line, 0.0), 1.0)
            people = np.float64(weights[household])
            term = people * gap
            severity = term * gap
            bits = np.uint64(codes[household])
            group = 0
            while bits:
                if bits & np.uint64(1):
                    sums[0, group] += people
                    sums[1, group] += term
                    sums[2, group] += severity
                bits >>= np.uint64(1)
                group += 1


class PovertyStatus(NamedTuple):
    """Per-household poverty status arrays `poverty_month` updates (see `PovertyTracker`)."""

    poor: np.ndarray  # bool
    ever_exited: np.ndarray  # bool, left poverty at least once
    months_out: np.ndarray  # int16, consecutive months non-poor after an exit
    stayed_out: np.ndarray  # bool, an exit lasted STAYED_OUT_MONTHS
    start_poor: np.ndarray  # bool, poor at the start


def poverty_month(
    income: np.ndarray,
    window_row: np.ndarray,
    rolling: np.ndarray,
    size: np.ndarray,
    line: float,
    status: PovertyStatus,
    codes: np.ndarray,
    n_groups: int,
) -> tuple[np.ndarray, int, int, int, np.ndarray]:
    """One month of every household's rolling income, status and FGT sums, in one pass.

    Each household's income this month (float64 yuan) is rounded to the nearest fen (half
    to even, `np.rint` of yuan x 100) and replaces the oldest month of its window
    (`window_row`, int32 fen), which moves its rolling sum (`rolling`, int32 fen) exactly.
    The rolling income per person, rolling / (size x 100) yuan per person-year, against
    the line gives its status. Exits mark `ever_exited`; the months out of poverty since
    an exit and whether an exit lasted `STAYED_OUT_MONTHS` are kept up to date. Arrays
    are updated in place. A poor household is added to the FGT sums of its groups (as
    `fgt_sums`, with `size` as the weights), household by household.

    Args:
        income: household income this month, yuan (float64).
        window_row: the month leaving the window, fen (int32); this month's replaces it.
        rolling: the 12-month rolling sums, fen (int32).
        size: members per household (at least 1).
        line: poverty line, yuan per person per year.
        status: the status arrays, updated.
        codes: each household's groups (bit g: group g), or empty to sum no group.
        n_groups: number of groups (0 with empty `codes`).

    Returns:
        The households whose status changed (ascending), the re-entries among them
        (poor again after an earlier exit), the poor households now, those poor now and
        at the start, and the FGT sums (3, n_groups) of `fgt_sums`.

    Raises:
        IncomeRangeError: an income is not finite or rounds to more than `MAX_MONTH_FEN`
            fen either way (the arrays are then partly updated: not to be used further).
    """
    changed = np.empty(income.shape[0], dtype=np.int64)
    counts = np.zeros(5, dtype=np.int64)
    sums = np.zeros((3, n_groups))
    _poverty_month(
        income,
        window_row,
        rolling,
        size,
        line,
        status.poor,
        status.ever_exited,
        status.months_out,
        status.stayed_out,
        status.start_poor,
        codes,
        sums,
        changed,
        counts,
    )
    if counts[4]:
        household = int(counts[4]) - 1
        raise IncomeRangeError.of(household, float(income[household]))
    return changed[: counts[0]].copy(), int(counts[1]), int(counts[2]), int(counts[3]), sums


@jit_numpy_errors
def _poverty_month(
    income,
    window_row,
    rolling,
    size,
    line,
    poor,
    ever_exited,
    months_out,
    stayed_out,
    start_poor,
    codes,
    sums,
    changed,
    counts,
):
    # Block by block: each step is a loop over the block that the compiler vectorises,
    # but for the few households whose status changed and the poor households' FGT sums.
    n = income.shape[0]
    measure = codes.shape[0] > 0
    per_capita = np.empty(BLOCK)
    now = np.empty(BLOCK, dtype=np.bool_)
    flipped = np.empty(BLOCK, dtype=np.bool_)
    at = np.empty(BLOCK, dtype=np.int64)
    terms = np.empty((3, BLOCK))
    member_codes = np.empty(BLOCK, dtype=np.uint64)
    n_changed = re_entries = poor_now = poor_both = 0
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        m = stop - start
        block = slice(start, stop)
        if _move_window(income[block], window_row[block], rolling[block], size[block], per_capita):
            counts[4] = start + _first_beyond(income[block]) + 1
            break
        moved, poor_count, both = _classify(
            per_capita[:m], line, poor[block], start_poor[block], now, flipped
        )
        poor_now += poor_count
        poor_both += both
        if moved:
            for i in range(_positions(flipped[:m], at)):  # the few whose status changed
                h = start + at[i]
                changed[n_changed] = h
                n_changed += 1
                if now[at[i]]:
                    re_entries += ever_exited[h]
                else:
                    ever_exited[h] = True
                poor[h] = now[at[i]]
        _count_months_out(now[:m], ever_exited[block], months_out[block], stayed_out[block])
        if measure and poor_count:
            k = _positions(now[:m], at)
            _add_poor(
                per_capita,
                size[block],
                codes[block],
                at[:k],
                line,
                sums,
                terms,
                member_codes,
            )
    counts[0], counts[1], counts[2], counts[3] = n_changed, re_entries, poor_now, poor_both


@jit_numpy_errors
def _move_window(income, window_row, rolling, size, per_capita):
    """Round the block's incomes to fen, move windows and sums; True if one is beyond range."""
    beyond = False
    for h in range(income.shape[0]):
        fen = np.rint(np.float64(income[h]) * FEN_PER_YUAN)
        beyond |= not abs(fen) <= MAX_MONTH_FEN  # NaN too
        month_fen = np.int32(fen)
        total = rolling[h] + month_fen - window_row[h]
        rolling[h] = total
        window_row[h] = month_fen
        per_capita[h] = total / (np.float64(size[h]) * FEN_PER_YUAN)
    return beyond


@jit
def _first_beyond(income):
    """The first of `income` (yuan) beyond the range of whole fen in the window."""
    for h in range(income.shape[0]):
        if not abs(np.rint(np.float64(income[h]) * FEN_PER_YUAN)) <= MAX_MONTH_FEN:
            return h
    return -1


@jit_numpy_errors
def _classify(per_capita, line, poor, start_poor, now, flipped):
    """A block's status now (into `now`) and its changes (into `flipped`).

    Returns whether any changed, the poor now and the poor now and at the start.
    """
    moved = poor_count = both = 0
    for j in range(per_capita.shape[0]):
        is_poor = per_capita[j] < line
        change = is_poor != poor[j]
        now[j] = is_poor
        flipped[j] = change
        moved |= change
        poor_count += is_poor
        both += is_poor & start_poor[j]
    return moved, poor_count, both


@jit_numpy_errors
def _count_months_out(now, ever_exited, months_out, stayed_out):
    """Months out of poverty since an exit, and whether an exit lasted, for a block."""
    for j in range(now.shape[0]):
        out = np.int16(months_out[j] + 1) * np.int16(ever_exited[j] > now[j])
        months_out[j] = out
        stayed_out[j] |= out >= STAYED_OUT_MONTHS


@jit
def _positions(flags, at):
    """The positions of the set `flags` (bool) into `at`, ascending; returns how many."""
    m = flags.shape[0]
    whole = m - m % 8
    words = flags[:whole].view(np.uint64)  # eight flags a word, the first in the low byte
    k = np.int64(0)
    for w in range(words.shape[0]):
        word = words[w]
        if word:
            for b in range(8):
                at[k] = 8 * w + b
                k += np.int64((word >> np.uint64(8 * b)) & np.uint64(1))
    for j in range(whole, m):
        at[k] = j
        k += flags[j]
    return k


@jit_numpy_errors
def _add_poor(per_capita, weights, codes, poor_at, line, sums, terms, member_codes):
    """Add a block's poor households (positions `poor_at`) to their groups' FGT sums.

    Each group's sums add the households in order; two groups at a time, with their
    running sums in registers.
    """
    k = poor_at.shape[0]
    for i in range(k):
        j = poor_at[i]
        gap = min(max((line - per_capita[j]) / line, 0.0), 1.0)
        people = np.float64(weights[j])
        term = people * gap
        terms[0, i] = people
        terms[1, i] = term
        terms[2, i] = term * gap
        member_codes[i] = codes[j]
    n_groups = sums.shape[1]
    for first in range(0, n_groups, 2):
        # A member adds its terms; others add 0 x terms = +0.0 (the terms are finite and
        # not negative), which leaves a sum unchanged: no branch to mispredict.
        second = min(first + 1, n_groups - 1)
        p0, g0, s0 = sums[0, first], sums[1, first], sums[2, first]
        p1, g1, s1 = sums[0, second], sums[1, second], sums[2, second]
        for i in range(k):
            code = member_codes[i]
            in_first = np.float64((code >> np.uint64(first)) & np.uint64(1))
            in_second = np.float64((code >> np.uint64(second)) & np.uint64(1))
            p0 += terms[0, i] * in_first
            g0 += terms[1, i] * in_first
            s0 += terms[2, i] * in_first
            p1 += terms[0, i] * in_second
            g1 += terms[1, i] * in_second
            s1 += terms[2, i] * in_second
        sums[0, second], sums[1, second], sums[2, second] = p1, g1, s1
        sums[0, first], sums[1, first], sums[2, first] = p0, g0, s0


def income_sums(by_source: np.ndarray, apart: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Each household's income over the sources, and each source's over households (yuan).

    Args:
        by_source: the ledger's rows, sources x households (`LEDGER_SOURCES` rows, float64).
        apart: households whose income by source is also summed apart (bool), or empty.
        total: overwritten with the total per household, its sources added in order.

    Returns:
        (2, sources): each source summed over every household and over those `apart`,
        adding households left to right (the second row zeros with `apart` empty).

    Raises:
        ValueError: `by_source` does not have `LEDGER_SOURCES` rows.
    """
    if by_source.shape[0] != LEDGER_SOURCES:
        raise ValueError(f"a ledger has {LEDGER_SOURCES} sources, not {by_source.shape[0]}")
    sums = np.zeros((2, LEDGER_SOURCES))
    _income_sums(by_source, apart, total, sums)
    return sums


@jit
def _income_sums(by_source, apart, total, sums):
    # the eight sources' running sums are kept in registers (one local each), so that the
    # pass runs at the speed of reading the ledger
    r0, r1, r2, r3 = by_source[0], by_source[1], by_source[2], by_source[3]
    r4, r5, r6, r7 = by_source[4], by_source[5], by_source[6], by_source[7]
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
    some_apart = apart.shape[0] > 0
    for h in range(by_source.shape[1]):
        x0, x1, x2, x3 = r0[h], r1[h], r2[h], r3[h]
        x4, x5, x6, x7 = r4[h], r5[h], r6[h], r7[h]
        total[h] = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7  # left to right
        a0 += x0
        a1 += x1
        a2 += x2
        a3 += x3
        a4 += x4
        a5 += x5
        a6 += x6
        a7 += x7
        if some_apart and apart[h]:
            sums[1, 0] += x0
            sums[1, 1] += x1
            sums[1, 2] += x2
            sums[1, 3] += x3
            sums[1, 4] += x4
            sums[1, 5] += x5
            sums[1, 6] += x6
            sums[1, 7] += x7
    sums[0, 0], sums[0, 1], sums[0, 2], sums[0, 3] = a0, a1, a2, a3
    sums[0, 4], sums[0, 5], sums[0, 6], sums[0, 7] = a4, a5, a6, a7


def activity_census(
    activity: np.ndarray,
    female: np.ndarray,
    carer: np.ndarray,
    capacity: np.ndarray,
    codes: np.ndarray,
    counts: np.ndarray,
    unable: int,
    activity_only: bool,
) -> None:
    """Move each person whose category changed from the old category's count to the new.

    A person's category is activity x 4 + female x 2 + carer, plus `unable` for those who
    cannot work (capacity 0); `codes` (int8, one per person) holds last month's and is
    updated, `counts` (int64, one per category) too. With `activity_only`, the caller
    knows that sex, carer and capacity are as at the last count (which made `codes`):
    only `activity` is read, the rest of each code kept.
    """
    _activity_census(activity, female, carer, capacity, codes, counts, unable, activity_only)


@jit_numpy_errors
def _activity_census(activity, female, carer, capacity, codes, counts, unable, activity_only):
    n = activity.shape[0]
    now = np.empty(BLOCK, dtype=np.int8)
    for start in range(0, n, BLOCK):
        block = slice(start, min(start + BLOCK, n))
        if activity_only:
            differ = _activity_codes(activity[block], codes[block], unable, now)
        else:
            differ = _census_codes(
                activity[block],
                female[block],
                carer[block],
                capacity[block],
                codes[block],
                unable,
                now,
            )
        if differ:
            _recount(now[: activity[block].shape[0]], codes[block], counts)


@jit_numpy_errors
def _census_codes(activity, female, carer, capacity, codes, unable, now):
    """A block's category codes (into `now`); whether any differs from `codes`."""
    differ = 0
    for i in range(activity.shape[0]):
        code = activity[i] * 4 + female[i] * 2 + carer[i] + (capacity[i] <= NO_CAPACITY) * unable
        now[i] = code
        differ |= code ^ codes[i]
    return differ != 0


@jit_numpy_errors
def _activity_codes(activity, codes, unable, now):
    """A block's codes with this month's activity and the rest of last month's code."""
    differ = 0
    for i in range(activity.shape[0]):
        old = codes[i]  # the sex and carer bits are its lowest two; `unable` is above
        code = activity[i] * 4 + (old & 3) + (old >= unable) * unable
        now[i] = code
        differ |= code ^ old
    return differ != 0


@jit
def _recount(now, codes, counts):
    """Move the people of a block whose code changed; eight codes compared at a time."""
    m = now.shape[0]
    whole = m - m % 8
    now_words, code_words = now[:whole].view(np.uint64), codes[:whole].view(np.uint64)
    for w in range(whole // 8):
        word = now_words[w]
        differ = word ^ code_words[w]
        if differ:
            for b in range(8):  # the bytes that differ: the people who changed
                if (differ >> np.uint64(8 * b)) & np.uint64(0xFF):
                    counts[now[8 * w + b]] += 1
                    counts[codes[8 * w + b]] -= 1
            code_words[w] = word
    for i in range(whole, m):
        if now[i] != codes[i]:
            counts[now[i]] += 1
            counts[codes[i]] -= 1
            codes[i] = now[i]


def job_sums(
    employed: np.ndarray,
    employer: np.ndarray,
    form: np.ndarray,
    registered: np.ndarray,
    earnings: np.ndarray,
    earnings_before_job: np.ndarray,
    n_forms: int,
) -> tuple[np.ndarray, ...]:
    """Jobs, poor workers, earnings, poor workers' known gains and their number, by form.

    Earnings and gains are summed in yuan, adding in the order of `employed`; a gain is
    this month's earnings less those of the month before the first workshop job.
    """
    jobs, poor_jobs, gain_n = (np.zeros(n_forms, dtype=np.int64) for _ in range(3))
    earned, gain_sum = np.zeros(n_forms), np.zeros(n_forms)
    _job_sums(
        employed,
        employer,
        form,
        registered,
        earnings,
        earnings_before_job,
        jobs,
        poor_jobs,
        earned,
        gain_sum,
        gain_n,
    )
    return jobs, poor_jobs, earned, gain_sum, gain_n


@jit
def _job_sums(
    employed,
    employer,
    form,
    registered,
    earnings,
    earnings_before_job,
    jobs,
    poor_jobs,
    earned,
    gain_sum,
    gain_n,
):
    # The employed are scattered over the person arrays: each is first gathered by a
    # loop of its own (independent loads, many cache misses in flight at once), then
    # the gathered values are added up.
    k = employed.shape[0]
    slot = np.empty(k, dtype=np.int64)
    earned_now = np.empty(k, dtype=earnings.dtype)
    poor = np.empty(k, dtype=np.bool_)
    before = np.empty(k, dtype=earnings_before_job.dtype)
    for j in range(k):
        slot[j] = employer[employed[j]]
    for j in range(k):
        earned_now[j] = earnings[employed[j]]
    for j in range(k):
        poor[j] = registered[employed[j]]
    for j in range(k):
        if poor[j]:
            before[j] = earnings_before_job[employed[j]]
    for j in range(k):
        f = form[slot[j]]
        jobs[f] += 1
        earned[f] += np.float64(earned_now[j])
        if poor[j]:
            poor_jobs[f] += 1
            gain = np.float64(earned_now[j] - before[j])  # float32 difference
            if not np.isnan(gain):
                gain_sum[f] += gain
                gain_n[f] += 1
