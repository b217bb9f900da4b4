"""Poverty measures and panel dynamics.

FGT measures (Foster, Greer and Thorbecke 1984) over people, with household per-capita
income: P_a = (1/N) sum over the poor of ((z - y_i) / z)^a. Poverty status uses the
rolling 12-month per-capita income against the line for that year. Panel measures
follow households: exits, entries, re-entries (entries after an earlier exit), spell
lengths (Bane and Ellwood 1986) and whether an exit lasted 12 months or more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.compiled import measures as compiled_measures
from model.compiled import twin
from model.compiled.measures import STAYED_OUT_MONTHS, PovertyStatus
from model.workshops import MONTHS_PER_YEAR


def fgt(
    income_per_capita: np.ndarray, line: float, weights: np.ndarray
) -> tuple[float, float, float]:
    """FGT 0, 1, 2 (headcount, gap, severity) of a population.

    Args:
        income_per_capita: yuan per person per year, one per household.
        line: poverty line, yuan per person per year.
        weights: people per household.

    Returns:
        (P0, P1, P2), each in [0, 1], with P2 <= P1 <= P0.
    """
    everyone = Groups.of({"all": np.ones(len(weights), dtype=bool)}, weights)
    return fgt_of_groups(income_per_capita, line, weights, everyone)["all"]


@dataclass
class Groups:
    """Named groups of households and the people in each, fixed when made (`of`).

    Attributes:
        masks: whether each household is in the group, by name (views of `membership`).
        people: people in each group.
        membership: households x groups (bool), a column per group in the order of `masks`.
    """

    masks: dict[str, np.ndarray]
    people: dict[str, int]
    membership: np.ndarray

    @classmethod
    def of(cls, masks: dict[str, np.ndarray], weights: np.ndarray) -> Groups:
        """Groups from copies of their masks; `weights` are the people per household."""
        people = {name: int(np.sum(weights * mask, dtype=np.int64)) for name, mask in masks.items()}
        membership = np.stack(list(masks.values()), axis=1).astype(bool, copy=False)
        return cls({name: membership[:, g] for g, name in enumerate(masks)}, people, membership)

    def memberships(self, households: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each of `households` with each of its groups, household by household.

        Returns the positions in `households` and the groups (columns of `membership`).
        """
        return _memberships(self.membership, households)


def _memberships(membership: np.ndarray, households: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each of `households` with each of its groups (columns of `membership`), in order."""
    n = membership.shape[1]
    flat = np.flatnonzero(np.take(membership, households, axis=0))
    position = flat // n
    return position, flat - position * n


def fgt_of_groups(
    income_per_capita: np.ndarray, line: float, weights: np.ndarray, groups: Groups
) -> dict[str, tuple[float, float, float]]:
    """FGT 0, 1, 2 of each group of households (see `fgt`).

    The gap and squared-gap sums add the group's poor households left to right in
    household order (households at or above the line add nothing).
    """
    poor_sums, gap_sums, severity_sums = fgt_sums(
        income_per_capita, line, weights, groups.membership
    )
    measures = {}
    for g, name in enumerate(groups.masks):
        people = groups.people[name]
        measures[name] = (
            (0.0, 0.0, 0.0)
            if people == 0
            else (
                int(poor_sums[g]) / people,
                float(gap_sums[g] / people),
                float(severity_sums[g] / people),
            )
        )
    return measures


def _fgt_sums(
    income_per_capita: np.ndarray, line: float, weights: np.ndarray, membership: np.ndarray
) -> np.ndarray:
    """Sums of people, people x gap and people x gap squared over each group's poor.

    The twin of `model.compiled.measures.fgt_sums` (same arguments and result).
    """
    poor = np.flatnonzero(income_per_capita < line)
    gap = np.clip((line - income_per_capita[poor]) / line, 0.0, 1.0)
    poor_people = weights[poor]
    gap_terms = poor_people * gap
    # bincount adds the memberships in order: each group's poor households in household
    # order, the groups interleaved (independent additions, which run side by side)
    position, group = _memberships(membership, poor)
    n = membership.shape[1]
    return np.stack(
        (
            np.bincount(group, poor_people[position], n),  # whole people: exact
            np.bincount(group, gap_terms[position], n),
            np.bincount(group, (gap_terms * gap)[position], n),
        ),
        dtype=np.float64,
    )  # bincount of nothing gives integer zeros


fgt_sums = twin(
    compiled_measures.fgt_sums,
    _fgt_sums,
    test="tests/model/test_compiled_measures.py::test_fgt_sums_twins_are_identical",
)


def _poverty_month(
    income: np.ndarray,
    window_row: np.ndarray,
    rolling: np.ndarray,
    size: np.ndarray,
    line: float,
    status: PovertyStatus,
) -> tuple[np.ndarray, int, int, int]:
    """One month of every household's rolling income and poverty status.

    The twin of `model.compiled.measures.poverty_month` (same arguments and results).
    """
    np.subtract(income, window_row, out=window_row)  # in place: the rolling sum's change
    rolling += window_row
    window_row[:] = income
    now = rolling / size < line
    changed = np.flatnonzero(now != status.poor)
    entering = now[changed]
    re_entries = int(np.count_nonzero(status.ever_exited[changed[entering]]))
    status.ever_exited[changed[~entering]] = True
    status.poor[:] = now
    months_out = status.months_out  # in place (a tuple's fields are not reassigned)
    months_out += 1
    months_out *= status.ever_exited > now  # exited before and not poor now
    np.logical_or(status.stayed_out, months_out >= STAYED_OUT_MONTHS, out=status.stayed_out)
    poor_now = int(np.count_nonzero(now))
    return changed, re_entries, poor_now, int(np.count_nonzero(now & status.start_poor))


poverty_month = twin(
    compiled_measures.poverty_month,
    _poverty_month,
    test="tests/model/test_compiled_measures.py::test_poverty_month_twins_are_identical",
)


@dataclass
class Transitions:
    """Household flows into and out of poverty in one month."""

    exits: int
    entries: int
    re_entries: int


class PovertyTracker:
    """Rolling 12-month income and poverty status of every household, with spells."""

    def __init__(self, first_month_income: np.ndarray, size: np.ndarray, line: float) -> None:
        """Start every household's window at 12 times its first month's income."""
        n = len(size)
        self.size = np.maximum(size, 1).astype(np.int16)  # members (at least 1)
        self.window = np.tile(first_month_income.astype(np.float64), (MONTHS_PER_YEAR, 1))
        self.rolling = first_month_income.astype(np.float64) * MONTHS_PER_YEAR
        self.start_rolling = self.rolling.copy()
        self.poor = self.per_capita < line  # updated in place, month by month
        self.start_poor = self.poor.copy()
        self.ever_exited = np.zeros(n, dtype=bool)
        self.months_out = np.zeros(n, dtype=np.int16)  # consecutive months non-poor after exit
        self.stayed_out = np.zeros(n, dtype=bool)  # an exit lasted STAYED_OUT_MONTHS
        self.spell_start = np.where(self.poor, 0, -1).astype(np.int16)  # month, -1: no spell
        self.spell_lengths: list[np.ndarray] = []
        self.totals = Transitions(0, 0, 0)
        self.poor_counts: list[int] = []  # poor households in each month 1..T
        self.start_poor_months = 0  # months 1..T spent poor by households poor at month 0

    @property
    def status(self) -> PovertyStatus:
        """The status arrays `poverty_month` updates in place."""
        return PovertyStatus(
            self.poor, self.ever_exited, self.months_out, self.stayed_out, self.start_poor
        )

    @property
    def per_capita(self) -> np.ndarray:
        """Rolling 12-month household income per person (yuan per year)."""
        return self.rolling / self.size

    def update(self, income: np.ndarray, month: int, line: float) -> Transitions:
        """Add this month's household income, reclassify, record flows and spells."""
        changed, re_entries, poor_now, start_poor_now = poverty_month(
            income,
            self.window[month % MONTHS_PER_YEAR],  # the month leaving the window
            self.rolling,
            self.size,
            line,
            self.status,
        )
        entering = self.poor[changed]
        exits, entries = changed[~entering], changed[entering]
        self._spells(exits, entries, month)
        self.poor_counts.append(poor_now)
        self.start_poor_months += start_poor_now
        flows = Transitions(len(exits), len(entries), re_entries)
        self.totals = Transitions(
            self.totals.exits + flows.exits,
            self.totals.entries + flows.entries,
            self.totals.re_entries + flows.re_entries,
        )
        return flows

    def _spells(self, exits: np.ndarray, entries: np.ndarray, month: int) -> None:
        """Close the spells of `exits` and open those of `entries` (household indices)."""
        ended = exits[self.spell_start[exits] >= 0]
        self.spell_lengths.append(month - self.spell_start[ended])
        self.spell_start[exits] = -1
        self.spell_start[entries] = month

    def mean_poor_households(self, last_months: int) -> float:
        """Mean number of poor households over the run's last `last_months` months."""
        counts = self.poor_counts[-last_months:]
        return float(np.mean(counts)) if counts else float("nan")

    def mean_spell_months(self) -> float:
        """Mean length of the poverty spells that ended during the run (months)."""
        lengths = np.concatenate(self.spell_lengths) if self.spell_lengths else np.empty(0)
        return float(lengths.mean()) if len(lengths) else float("nan")
