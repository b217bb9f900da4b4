"""Poverty measures and panel dynamics.

FGT measures (Foster, Greer and Thorbecke 1984) over people, with household per-capita
income: P_a = (1/N) sum over the poor of ((z - y_i) / z)^a. Poverty status uses the
rolling 12-month per-capita income against the line for that year. Panel measures
follow households: exits, entries, re-entries (entries after an earlier exit), spell
lengths (Bane and Ellwood 1986) and whether an exit lasted 12 months or more.

Incomes in the 12-month window are kept in whole fen (0.01 yuan) as int32: each
household's income of the month (float64 yuan, from the ledger) is rounded to the
nearest fen once, when it enters the window, so the rolling sums are exact integer sums,
the same whatever the order of additions. Rounding moves a household-month by at most
half a fen, a rolling year by at most 6 fen (`PovertyTracker`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.compiled import measures as compiled_measures
from model.compiled import twin
from model.compiled.measures import (
    FEN_PER_YUAN,
    MAX_MONTH_FEN,
    STAYED_OUT_MONTHS,
    IncomeRangeError,
    PovertyStatus,
)
from model.workshops import MONTHS_PER_YEAR

__all__ = [
    "FEN_PER_YUAN",
    "MAX_MONTH_FEN",
    "NO_CODES",
    "FGTMeasures",
    "STAYED_OUT_MONTHS",
    "Groups",
    "IncomeRangeError",
    "PovertyStatus",
    "PovertyTracker",
    "Transitions",
    "fen_of",
    "fgt",
    "fgt_of_groups",
    "fgt_sums",
    "poverty_month",
]

FGTMeasures = dict[str, tuple[float, float, float]]  # (P0, P1, P2) by group name


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


@dataclass(frozen=True, eq=False)
class Groups:
    """Named groups of households and the people in each, fixed when made (`of`).

    Attributes:
        names: the groups, in order (group g is bit g of a household's code).
        people: people in each group, by name.
        codes: one per household, bit g set if the household is in group g (the smallest
            unsigned integer type with a bit per group: uint8 for up to 8 groups).
    """

    names: tuple[str, ...]
    people: dict[str, int]
    codes: np.ndarray

    @classmethod
    def of(cls, masks: dict[str, np.ndarray], weights: np.ndarray) -> Groups:
        """Groups from their masks (copied into the codes); `weights`: people per household.

        Raises:
            ValueError: more than 64 groups.
        """
        dtype = next((t for t in CODE_TYPES if np.iinfo(t).bits >= len(masks)), None)
        if dtype is None:
            raise ValueError(f"at most 64 groups, not {len(masks)}")
        codes = np.zeros(len(weights), dtype=dtype)
        for g, mask in enumerate(masks.values()):
            bit = np.asarray(mask, dtype=bool).astype(dtype)
            np.left_shift(bit, g, out=bit, casting="unsafe")  # g < the bits of dtype
            np.bitwise_or(codes, bit, out=codes)
        people = {name: int(np.sum(weights * mask, dtype=np.int64)) for name, mask in masks.items()}
        return cls(tuple(masks), people, codes)

    def __len__(self) -> int:
        """Number of groups."""
        return len(self.names)

    @property
    def membership(self) -> np.ndarray:
        """Households x groups (bool), a column per group in the order of `names`."""
        return _membership(self.codes, len(self))

    @property
    def masks(self) -> dict[str, np.ndarray]:
        """Whether each household is in the group, by name (made when asked)."""
        membership = self.membership
        return {name: membership[:, g] for g, name in enumerate(self.names)}

    def memberships(self, households: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each of `households` with each of its groups, household by household.

        Returns the positions in `households` and the groups (columns of `membership`).
        """
        return _memberships(self.codes, len(self), households)

    def measures(self, sums: np.ndarray) -> FGTMeasures:
        """FGT 0, 1, 2 of each group from its sums (`fgt_sums`); 0 for a group of nobody."""
        measures = {}
        for g, name in enumerate(self.names):
            people = self.people[name]
            measures[name] = (
                (0.0, 0.0, 0.0)
                if people == 0
                else (
                    int(sums[0, g]) / people,
                    float(sums[1, g] / people),
                    float(sums[2, g] / people),
                )
            )
        return measures


CODE_TYPES = (np.uint8, np.uint16, np.uint32, np.uint64)
NO_CODES = np.zeros(0, dtype=np.uint8)  # no group to measure


def _membership(codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Households x groups (bool) from the group codes."""
    bits = np.arange(n_groups, dtype=codes.dtype)
    return ((codes[:, None] >> bits) & codes.dtype.type(1)).astype(bool)


def _memberships(
    codes: np.ndarray, n_groups: int, households: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each of `households` with each of its groups (bits of `codes`), in order."""
    flat = np.flatnonzero(_membership(codes[households], n_groups))
    position = flat // n_groups if n_groups else flat
    return position, flat - position * n_groups


def fgt_of_groups(
    income_per_capita: np.ndarray, line: float, weights: np.ndarray, groups: Groups
) -> FGTMeasures:
    """FGT 0, 1, 2 of each group of households (see `fgt`).

    The gap and squared-gap sums add the group's poor households left to right in
    household order (households at or above the line add nothing).
    """
    return groups.measures(fgt_sums(income_per_capita, line, weights, groups.codes, len(groups)))


def _fgt_sums(
    income_per_capita: np.ndarray,
    line: float,
    weights: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
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
    position, group = _memberships(codes, n_groups, poor)
    return np.stack(
        (
            np.bincount(group, poor_people[position], n_groups),  # whole people: exact
            np.bincount(group, gap_terms[position], n_groups),
            np.bincount(group, (gap_terms * gap)[position], n_groups),
        ),
        dtype=np.float64,
    ).reshape(3, n_groups)  # bincount of nothing gives integer zeros


fgt_sums = twin(
    compiled_measures.fgt_sums,
    _fgt_sums,
    test="tests/model/test_compiled_measures.py::test_fgt_sums_twins_are_identical",
)


def fen_of(income: np.ndarray) -> np.ndarray:
    """Household incomes of a month (yuan) rounded to the nearest fen, half to even (int32).

    Raises:
        IncomeRangeError: an income that is not finite or beyond `MAX_MONTH_FEN` fen.
    """
    fen = np.rint(np.asarray(income, dtype=np.float64) * FEN_PER_YUAN)
    beyond = np.flatnonzero(~(np.abs(fen) <= MAX_MONTH_FEN))  # NaN too
    if len(beyond):
        raise IncomeRangeError.of(int(beyond[0]), float(income[beyond[0]]))
    return fen.astype(np.int32)


def _poverty_month(
    income: np.ndarray,
    window_row: np.ndarray,
    rolling: np.ndarray,
    size: np.ndarray,
    line: float,
    status: PovertyStatus,
    codes: np.ndarray,
    n_groups: int,
) -> tuple[np.ndarray, int, int, int, np.ndarray]:
    """One month of every household's rolling income, poverty status and FGT sums.

    The twin of `model.compiled.measures.poverty_month` (same arguments and results;
    out-of-range incomes are refused before anything is changed).
    """
    fen = fen_of(income)
    np.subtract(fen, window_row, out=window_row)  # in place: the rolling sum's change
    rolling += window_row
    window_row[:] = fen
    per_capita = rolling / (size * FEN_PER_YUAN)
    now = per_capita < line
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
    sums = (
        _fgt_sums(per_capita, line, size, codes, n_groups)
        if len(codes)
        else np.zeros((3, n_groups))
    )
    return changed, re_entries, poor_now, int(np.count_nonzero(now & status.start_poor)), sums


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
    """Rolling 12-month income and poverty status of every household, with spells.

    Incomes are kept in whole fen (int32): each household's income of a month (float64
    yuan) is rounded to the nearest fen, half to even, as it enters the window, so that
    the rolling sums are exact (the sum of the rounded months, bit-reproducible). Each
    household-month moves by at most half a fen, the rolling income per person by at most
    6 fen / size a year. A household-month may be at most `MAX_MONTH_FEN` fen (about 1.79
    million yuan) either way, so that the 12 months' sum fits an int32; a larger or
    non-finite income raises `IncomeRangeError`.

    Each `update` also adds the households to the FGT sums of the groups last asked for
    (`fgt`), in the same pass; `fgt` of those groups at the month's line costs nothing
    more.

    Attributes:
        size: members per household, at least 1: the caller's array (a reference, not a
            copy; `Households.size` in the model).
        window_fen: the last 12 months' incomes, fen (int32, 12 x households); month
            m's is row m % 12.
        rolling_fen: the sum of `window_fen`'s rows, fen (int32).
        start_rolling_fen: `rolling_fen` at the start, fen (int32).
        poor, start_poor, ever_exited, months_out, stayed_out: the status (see
            `PovertyStatus`).
        spell_start: month the current poverty spell began (int16), -1 out of poverty.
    """

    def __init__(self, first_month_income: np.ndarray, size: np.ndarray, line: float) -> None:
        """Start every household's window at 12 times its first month's income.

        Args:
            first_month_income: household income of the first month, yuan.
            size: members per household, each at least 1 (kept by reference).
            line: poverty line, yuan per person per year.

        Raises:
            ValueError: a household without members.
            IncomeRangeError: an income beyond the tracker's range (see the class).
        """
        n = len(size)
        if n and np.min(size) < 1:
            raise ValueError("every household has at least one member")
        self.size = size
        first = fen_of(first_month_income)
        self.window_fen = np.tile(first, (MONTHS_PER_YEAR, 1))
        self.rolling_fen = first * np.int32(MONTHS_PER_YEAR)  # fits: see MAX_MONTH_FEN
        self.start_rolling_fen = self.rolling_fen.copy()
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
        self.groups: Groups | None = None  # measured by each update (`fgt`)
        self._measured: tuple[Groups, float, np.ndarray] | None = None  # groups, line, sums

    @property
    def status(self) -> PovertyStatus:
        """The status arrays `poverty_month` updates in place."""
        return PovertyStatus(
            self.poor, self.ever_exited, self.months_out, self.stayed_out, self.start_poor
        )

    @property
    def per_capita(self) -> np.ndarray:
        """Rolling 12-month household income per person (yuan per year, float64).

        rolling_fen / (size x 100): one division, as in the monthly status test.
        """
        return self.rolling_fen / (self.size * FEN_PER_YUAN)

    @property
    def start_per_capita(self) -> np.ndarray:
        """`per_capita` at the start (yuan per year)."""
        return self.start_rolling_fen / (self.size * FEN_PER_YUAN)

    @property
    def rolling(self) -> np.ndarray:
        """Rolling 12-month household income (yuan per year, float64)."""
        return self.rolling_fen / FEN_PER_YUAN

    @property
    def start_rolling(self) -> np.ndarray:
        """`rolling` at the start (yuan per year)."""
        return self.start_rolling_fen / FEN_PER_YUAN

    def update(self, income: np.ndarray, month: int, line: float) -> Transitions:
        """Add this month's household income, reclassify, record flows and spells.

        Args:
            income: household income this month, yuan (rounded to fen here).
            month: the month (its window row is month % 12).
            line: poverty line, yuan per person per year.

        Raises:
            IncomeRangeError: an income beyond the tracker's range (see the class); the
                tracker is then not to be used further.
        """
        groups = self.groups
        codes, n_groups = (NO_CODES, 0) if groups is None else (groups.codes, len(groups))
        changed, re_entries, poor_now, start_poor_now, sums = poverty_month(
            np.asarray(income, dtype=np.float64),
            self.window_fen[month % MONTHS_PER_YEAR],  # the month leaving the window
            self.rolling_fen,
            self.size,
            line,
            self.status,
            codes,
            n_groups,
        )
        self._measured = None if groups is None else (groups, line, sums)
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

    def fgt(self, groups: Groups, line: float) -> FGTMeasures:
        """FGT 0, 1, 2 of each of `groups` now, at `line` (yuan per person per year).

        The weights are `size`. The groups last asked for are measured by each `update`,
        in its pass: asking again for the same groups (the same object) at the line of
        the last update costs nothing; other groups, or another line, cost a pass (and
        are the ones measured from then on).
        """
        measured = self._measured
        if measured is None or measured[0] is not groups or measured[1] != line:
            self.groups = groups
            sums = fgt_sums(self.per_capita, line, self.size, groups.codes, len(groups))
            measured = self._measured = (groups, line, sums)
        return groups.measures(measured[2])

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
