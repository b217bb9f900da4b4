"""Poverty measures, income totals and job counts, compiled with numba.

The array twins are `model.metrics._fgt_sums` (the sums of `fgt_of_groups`) and
`model.collection._column_sums` (the registered households' income by source): they
gather the households of each group, then add them up in household order. The month's
poverty status (`poverty_month`) moves every household's 12-month window and status in
one pass (array twin `model.metrics._poverty_month`). Here one pass
over the households adds each one to the running sums of its groups in the same order,
giving identical sums without gathering. The jobs table's sums over the employed are made
in one pass as well (array twin `model.collection._job_sums`). The twins are declared in
`model.metrics` and `model.collection` (see `model.compiled`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from model.compiled.registry import jit

STAYED_OUT_MONTHS = 12  # an exit counts as lasting after this many months out of poverty


def fgt_sums(
    income_per_capita: np.ndarray, line: float, weights: np.ndarray, membership: np.ndarray
) -> np.ndarray:
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


def poverty_month(
    income: np.ndarray,
    window_row: np.ndarray,
    rolling: np.ndarray,
    size: np.ndarray,
    line: float,
    status: PovertyStatus,
) -> tuple[np.ndarray, int, int, int]:
    """One month of every household's rolling income and poverty status, in one pass.

    Each household's income this month replaces the oldest month of its 12-month window
    (`window_row`), which moves its rolling sum; the rolling income per person (yuan per
    person per year) against the line gives its status. Exits
    mark `ever_exited`; the months out of poverty since an exit and whether an exit
    lasted `STAYED_OUT_MONTHS` are kept up to date. Arrays are updated in place.

    Returns:
        The households whose status changed (ascending), the re-entries among them
        (poor again after an earlier exit), the poor households now, and those poor
        now and at the start.
    """
    changed = np.empty(income.shape[0], dtype=np.int64)
    counts = np.zeros(4, dtype=np.int64)
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
        changed,
        counts,
    )
    return changed[: counts[0]].copy(), int(counts[1]), int(counts[2]), int(counts[3])


class PovertyStatus(NamedTuple):
    """Per-household poverty status arrays `poverty_month` updates (see `PovertyTracker`)."""

    poor: np.ndarray  # bool
    ever_exited: np.ndarray  # bool, left poverty at least once
    months_out: np.ndarray  # int16, consecutive months non-poor after an exit
    stayed_out: np.ndarray  # bool, an exit lasted STAYED_OUT_MONTHS
    start_poor: np.ndarray  # bool, poor at the start


@jit
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
    changed,
    counts,
):
    n_changed = re_entries = poor_now = poor_both = 0
    for h in range(income.shape[0]):
        rolling[h] += income[h] - window_row[h]
        window_row[h] = income[h]
        now = rolling[h] / size[h] < line
        if now != poor[h]:
            changed[n_changed] = h
            n_changed += 1
            if now:
                re_entries += ever_exited[h]
            else:
                ever_exited[h] = True
            poor[h] = now
        out = np.int16(months_out[h] + 1) * np.int16(ever_exited[h] > now)
        months_out[h] = out
        stayed_out[h] |= out >= STAYED_OUT_MONTHS
        poor_now += now
        poor_both += now & start_poor[h]
    counts[0], counts[1], counts[2], counts[3] = n_changed, re_entries, poor_now, poor_both
