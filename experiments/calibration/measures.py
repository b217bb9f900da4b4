"""Named measures of a run at real scale, for comparison with published county figures.

A measure is a small function ``(RunResult, scale) -> float``. Counts of workshops, jobs,
workers and trainees and sums of money are divided by the run's `scale` (simulated over
real households), because a scaled-down run multiplies the county's counts, entry rates
and budgets by it; pay and income gains per worker are not scaled. Every measure is
registered in `MEASURES` under its name; `measure(name)` looks one up and rejects an
unknown name with a suggestion.

Names: ``workshops_open``, ``jobs_filled``, ``poor_workers`` (all forms, and
``_<form>`` for one form), ``poor_share_of_staff`` and ``poor_share_of_staff_<form>``
(registered-poor workers over all workers, last month), ``earnings_<form>``
(yuan/month), ``poor_gain_yuan_per_year`` and ``poor_gain_<form>`` (yuan/year),
``insured_workers`` (last month) and ``insured_workers_peak`` (most in a month), ``trainees_total``
(person-times), ``loans_issued_yuan`` (principal of the guaranteed loans granted),
``spending_<instrument>_yuan``, ``total_spending_yuan`` and ``workshop_subsidies_yuan``
(opening + wage subsidies, yuan over the run).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd

from model.scenario import INSTRUMENTS
from model.simulate import RunResult
from model.workshops import FORM_FIELDS

Measure = Callable[[RunResult, float], float]
FORMS = tuple(FORM_FIELDS.values())
WORKSHOP_SUBSIDIES = ("opening_subsidy", "wage_subsidy")


class UnknownMeasureError(KeyError):
    """A measure name that is not registered (the message suggests a close name)."""

    def __str__(self) -> str:
        return str(self.args[0])


def _last_month(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["month"] == table["month"].max()]


def _monthly_last(column: str, result: RunResult, scale: float) -> float:
    """A monthly headline count (or cumulative sum) in the last month (at real scale)."""
    return float(result.monthly[column].iloc[-1]) / scale


def _jobs_row(result: RunResult, form: str) -> pd.Series:
    jobs = _last_month(result.tables["jobs"])
    return jobs[jobs["form"] == form].iloc[0]


def workshops_open_of(form: str, result: RunResult, scale: float) -> float:
    """Workshops of `form` open or idle (not closed) in the last month (real scale)."""
    shops = _last_month(result.tables["workshops"])
    alive = shops[(shops["form"] == form) & (shops["status"] != "closed")]
    return float(alive["count"].sum()) / scale


def jobs_of(column: str, form: str, result: RunResult, scale: float) -> float:
    """`jobs_filled` or `poor_workers` of one form in the last month (real scale)."""
    return float(_jobs_row(result, form)[column]) / scale


def poor_share_of_staff(form: str | None, result: RunResult, scale: float) -> float:
    """Registered-poor share of the workers of `form` (every form if None), last month.

    A share in [0, 1]; NaN when there are no workers.
    """
    jobs = _last_month(result.tables["jobs"])
    if form is not None:
        jobs = jobs[jobs["form"] == form]
    filled = float(jobs["jobs_filled"].sum())
    return float(jobs["poor_workers"].sum()) / filled if filled else float("nan")


def earnings_of(form: str, result: RunResult, scale: float) -> float:
    """Mean earnings of the workers of `form` in the last month (yuan/month; NaN if none)."""
    return float(_jobs_row(result, form)["earnings_yuan_per_month"])


def poor_gain_of(form: str, result: RunResult, scale: float) -> float:
    """Mean income gain of registered-poor workers of `form` (yuan/year; NaN if unknown)."""
    return float(_jobs_row(result, form)["poor_gain_yuan_per_year"])


def poor_gain(result: RunResult, scale: float) -> float:
    """Income gain of registered-poor workers, all forms (yuan/year).

    The forms' mean gains in the last month, weighted by their poor workers (forms whose
    gain is unknown are left out); NaN when no form has a known gain.
    """
    jobs = _last_month(result.tables["jobs"])
    known = jobs[jobs["poor_gain_yuan_per_year"].notna() & (jobs["poor_workers"] > 0)]
    if known.empty:
        return float("nan")
    return float(np.average(known["poor_gain_yuan_per_year"], weights=known["poor_workers"]))


def insured_peak(result: RunResult, scale: float) -> float:
    """Most workers insured by the county in any one month (real scale).

    A lower bound on the people insured over the run, which is what a cumulative count
    reports; the last month's count is zero whenever that year's budget ran out first.
    """
    return float(result.monthly["insured_workers"].max()) / scale


def trainees_total(result: RunResult, scale: float) -> float:
    """Course places taken over the run (person-times, real scale)."""
    return float(result.monthly["trainees"].sum()) / scale


def spending_of(instruments: tuple[str, ...], result: RunResult, scale: float) -> float:
    """Yuan paid over the run on `instruments` (real scale)."""
    summary = result.summary.iloc[0]
    return float(sum(summary[f"spending_{name}_yuan"] for name in instruments)) / scale


def total_spending(result: RunResult, scale: float) -> float:
    """Yuan paid over the run on every instrument (real scale)."""
    return float(result.summary["total_spending_yuan"].iloc[0]) / scale


def _registry() -> dict[str, Measure]:
    measures: dict[str, Measure] = {
        name: partial(_monthly_last, name)
        for name in (
            "workshops_open",
            "jobs_filled",
            "poor_workers",
            "insured_workers",
            "loans_issued_yuan",
        )
    }
    for form in FORMS:
        measures[f"workshops_open_{form}"] = partial(workshops_open_of, form)
        measures[f"jobs_filled_{form}"] = partial(jobs_of, "jobs_filled", form)
        measures[f"poor_workers_{form}"] = partial(jobs_of, "poor_workers", form)
        measures[f"earnings_{form}"] = partial(earnings_of, form)
        measures[f"poor_share_of_staff_{form}"] = partial(poor_share_of_staff, form)
        measures[f"poor_gain_{form}"] = partial(poor_gain_of, form)
    for name in INSTRUMENTS:
        measures[f"spending_{name}_yuan"] = partial(spending_of, (name,))
    measures["poor_share_of_staff"] = partial(poor_share_of_staff, None)
    measures["poor_gain_yuan_per_year"] = poor_gain
    measures["insured_workers_peak"] = insured_peak
    measures["trainees_total"] = trainees_total
    measures["total_spending_yuan"] = total_spending
    measures["workshop_subsidies_yuan"] = partial(spending_of, WORKSHOP_SUBSIDIES)
    return measures


MEASURES: dict[str, Measure] = _registry()


def measure(name: str) -> Measure:
    """The measure registered under `name`.

    Raises:
        UnknownMeasureError: if no measure has that name.
    """
    try:
        return MEASURES[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(MEASURES), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UnknownMeasureError(f"a known measure{hint}, got '{name}'") from None


def compute(names: list[str], result: RunResult, scale: float) -> dict[str, float]:
    """Each named measure of one run (real scale), by name."""
    return {name: measure(name)(result, scale) for name in names}
