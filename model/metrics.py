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

from model.workshops import MONTHS_PER_YEAR

STAYED_OUT_MONTHS = 12  # an exit counts as lasting after this many months out of poverty


def fgt(income_per_capita: np.ndarray, line: float,
        weights: np.ndarray) -> tuple[float, float, float]:
    """FGT 0, 1, 2 (headcount, gap, severity) of a population.

    Args:
        income_per_capita: yuan per person per year, one per household.
        line: poverty line, yuan per person per year.
        weights: people per household.

    Returns:
        (P0, P1, P2), each in [0, 1], with P2 <= P1 <= P0.
    """
    terms = fgt_terms(income_per_capita, line, weights)
    return fgt_of_group(terms, np.ones(len(weights), dtype=bool))


def fgt_terms(income_per_capita: np.ndarray, line: float, weights: np.ndarray) -> np.ndarray:
    """Per-household weighted FGT terms (4, n): people, poor people, gap, squared gap."""
    gap = np.clip((line - income_per_capita) / line, 0.0, 1.0)
    poor = weights * (income_per_capita < line)
    return np.stack([weights.astype(np.float64), poor, poor * gap, poor * gap * gap])


def fgt_of_group(terms: np.ndarray, mask: np.ndarray) -> tuple[float, float, float]:
    """FGT 0, 1, 2 of the households in `mask`, from `fgt_terms`."""
    sums = terms[:, mask].sum(axis=1)
    if sums[0] == 0:
        return 0.0, 0.0, 0.0
    return float(sums[1] / sums[0]), float(sums[2] / sums[0]), float(sums[3] / sums[0])


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
        self.size = np.maximum(size, 1).astype(np.float64)
        self.window = np.tile(first_month_income.astype(np.float64), (MONTHS_PER_YEAR, 1))
        self.rolling = first_month_income.astype(np.float64) * MONTHS_PER_YEAR
        self.start_rolling = self.rolling.copy()
        self.poor = self.per_capita < line
        self.start_poor = self.poor.copy()
        self.ever_exited = np.zeros(n, dtype=bool)
        self.months_out = np.zeros(n, dtype=np.int32)   # consecutive months non-poor after exit
        self.stayed_out = np.zeros(n, dtype=bool)       # an exit lasted STAYED_OUT_MONTHS
        self.spell_start = np.where(self.poor, 0, -1).astype(np.int32)
        self.spell_lengths: list[np.ndarray] = []
        self.totals = Transitions(0, 0, 0)

    @property
    def per_capita(self) -> np.ndarray:
        """Rolling 12-month household income per person (yuan per year)."""
        return self.rolling / self.size

    def update(self, income: np.ndarray, month: int, line: float) -> Transitions:
        """Add this month's household income, reclassify, record flows and spells."""
        slot = month % MONTHS_PER_YEAR
        self.rolling += income - self.window[slot]
        self.window[slot] = income
        was_poor = self.poor
        self.poor = self.per_capita < line
        exits = was_poor & ~self.poor
        entries = ~was_poor & self.poor
        re_entries = entries & self.ever_exited
        self.ever_exited |= exits
        self._spells(exits, entries, month)
        flows = Transitions(int(exits.sum()), int(entries.sum()), int(re_entries.sum()))
        self.totals = Transitions(self.totals.exits + flows.exits,
                                  self.totals.entries + flows.entries,
                                  self.totals.re_entries + flows.re_entries)
        return flows

    def _spells(self, exits: np.ndarray, entries: np.ndarray, month: int) -> None:
        ended = np.flatnonzero(exits & (self.spell_start >= 0))
        self.spell_lengths.append(month - self.spell_start[ended])
        self.spell_start[exits] = -1
        self.spell_start[entries] = month
        self.months_out = np.where(self.ever_exited & ~self.poor, self.months_out + 1, 0)
        self.stayed_out |= self.months_out >= STAYED_OUT_MONTHS

    def mean_spell_months(self) -> float:
        """Mean length of the poverty spells that ended during the run (months)."""
        lengths = np.concatenate(self.spell_lengths) if self.spell_lengths else np.empty(0)
        return float(lengths.mean()) if len(lengths) else float("nan")


def cost_per_exit(spending_yuan: float, net_exits: int) -> float:
    """Spending per net poverty exit (yuan); NaN when there is no net exit."""
    return spending_yuan / net_exits if net_exits > 0 else float("nan")
