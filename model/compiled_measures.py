"""Poverty measures, income totals and activity counts, compiled with numba.

The array versions are `model.metrics.fgt_of_groups` and the registered households'
income by source in `model.collection`: they gather the households of each group, then
add them up in household order. Here one pass over the households adds each one to the
running sums of its groups in the same order, giving identical sums without gathering.
The activity census (`model.collection.ActivityCensus`) is kept up to date in one pass
over the people as well. Used when compiled loops are enabled (`model.jit`).
"""

from __future__ import annotations

import numpy as np

from model.jit import jit


def fgt_sums(income_per_capita: np.ndarray, line: float, weights: np.ndarray,
             membership: np.ndarray) -> np.ndarray:
    """People in poor households, poverty gaps and squared gaps, summed by group.

    Args:
        income_per_capita: yuan per person per year, one per household.
        line: poverty line, yuan per person per year.
        weights: people per household.
        membership: households x groups (bool).

    Returns:
        (3, groups): the sums of people, of people x gap and of people x gap squared over
        each group's poor households (gap = (line - income) / line, clipped to [0, 1]).
    """
    sums = np.zeros((3, membership.shape[1]))
    _fgt_sums(income_per_capita, line, weights, membership, sums)
    return sums


def column_sums(by_source: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Each row of `by_source` summed over the columns `rows`, left to right."""
    sums = np.zeros(by_source.shape[0])
    _column_sums(by_source, rows, sums)
    return sums


def recount_activities(activity: np.ndarray, female: np.ndarray, carer: np.ndarray,
                       capacity: np.ndarray, codes: np.ndarray, counts: np.ndarray,
                       per_activity: int, unable: int) -> None:
    """Bring each person's census code and the counts per code up to date (in place).

    The code is activity x `per_activity` + female x 2 + carer, plus `unable` for people
    with no labour capacity; `counts` move only for the people whose code changed.
    """
    _recount_activities(activity, female, carer, capacity, codes, counts, per_activity, unable)


@jit
def _recount_activities(activity, female, carer, capacity, codes, counts, per_activity,
                        unable):
    for i in range(activity.shape[0]):
        code = activity[i] * per_activity + female[i] * 2 + carer[i]
        if capacity[i] <= 0:
            code += unable
        if code != codes[i]:
            counts[codes[i]] -= 1
            counts[code] += 1
            codes[i] = code


def job_sums(employed: np.ndarray, employer: np.ndarray, form: np.ndarray,
             registered: np.ndarray, earnings: np.ndarray, earnings_before_job: np.ndarray,
             n_forms: int) -> tuple[np.ndarray, ...]:
    """Jobs, poor workers, earnings, poor workers' known gains and their number, by form.

    Earnings and gains are summed in yuan, adding in the order of `employed`; a gain is
    this month's earnings less those of the month before the first workshop job.
    """
    jobs, poor_jobs, gain_n = (np.zeros(n_forms, dtype=np.int64) for _ in range(3))
    earned, gain_sum = np.zeros(n_forms), np.zeros(n_forms)
    _job_sums(employed, employer, form, registered, earnings, earnings_before_job, jobs,
              poor_jobs, earned, gain_sum, gain_n)
    return jobs, poor_jobs, earned, gain_sum, gain_n


@jit
def _job_sums(employed, employer, form, registered, earnings, earnings_before_job, jobs,
              poor_jobs, earned, gain_sum, gain_n):
    for i in employed:
        f = form[employer[i]]
        jobs[f] += 1
        earned[f] += np.float64(earnings[i])
        if registered[i]:
            poor_jobs[f] += 1
            gain = np.float64(earnings[i] - earnings_before_job[i])  # float32 difference
            if not np.isnan(gain):
                gain_sum[f] += gain
                gain_n[f] += 1


def update_poverty(income: np.ndarray, oldest: np.ndarray, rolling: np.ndarray,
                   size: np.ndarray, line: float, was_poor: np.ndarray, ever_exited: np.ndarray,
                   spell_start: np.ndarray, months_out: np.ndarray, stayed_out: np.ndarray,
                   month: int, stayed_out_months: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, np.ndarray]:
    """One month of `model.metrics.PovertyTracker.update`, household by household.

    Adds this month's income to the rolling sums (replacing `oldest`, the window's month
    leaving it), reclassifies, and updates exits, spells and months out in place.

    Returns:
        This month's poverty status, the exits and entries (ascending), the number of
        re-entries, and the lengths of the spells that ended (months, int16).
    """
    n = len(income)
    poor = np.empty(n, dtype=np.bool_)
    exits, entries = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    ended = np.empty(n, dtype=np.int16)
    n_exits, n_entries, re_entries, n_ended = _update_poverty(
        income, oldest, rolling, size, line, was_poor, poor, ever_exited, spell_start,
        months_out, stayed_out, month, stayed_out_months, exits, entries, ended)
    return poor, exits[:n_exits], entries[:n_entries], re_entries, ended[:n_ended].copy()


@jit
def _update_poverty(income, oldest, rolling, size, line, was_poor, poor, ever_exited,
                    spell_start, months_out, stayed_out, month, stayed_out_months, exits,
                    entries, ended):
    n_exits = n_entries = re_entries = n_ended = 0
    for h in range(income.shape[0]):
        rolling[h] += income[h] - oldest[h]
        oldest[h] = income[h]
        poor[h] = rolling[h] / size[h] < line
        if was_poor[h] and not poor[h]:
            exits[n_exits] = h
            n_exits += 1
            ever_exited[h] = True
            if spell_start[h] >= 0:
                ended[n_ended] = month - spell_start[h]
                n_ended += 1
            spell_start[h] = -1
        elif poor[h] and not was_poor[h]:
            entries[n_entries] = h
            n_entries += 1
            re_entries += ever_exited[h]
            spell_start[h] = month
        months_out[h] = (months_out[h] + 1) * (ever_exited[h] and not poor[h])
        stayed_out[h] |= months_out[h] >= stayed_out_months
    return n_exits, n_entries, re_entries, n_ended


@jit
def _fgt_sums(income_per_capita, line, weights, membership, sums):
    for household in range(income_per_capita.shape[0]):
        income = income_per_capita[household]
        if income < line:
            gap = min(max((line - income) / line, 0.0), 1.0)
            people = np.float64(weights[household])
            term = people * gap
            severity = term * gap
            for group in range(membership.shape[1]):
                if membership[household, group]:
                    sums[0, group] += people
                    sums[1, group] += term
                    sums[2, group] += severity


@jit
def _column_sums(by_source, rows, sums):
    for row in rows:
        for source in range(by_source.shape[0]):
            sums[source] += by_source[source, row]
