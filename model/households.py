"""Household and person state as struct-of-arrays, and the income accounting.

One row per person (`People`) and one per household (`Households`); `People.household`
links them. The arrays are owned by the model; the rules that change them are functions
in the module of their concept, taking and returning arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from model.compiled import care as compiled_care
from model.compiled import measures as compiled_measures
from model.compiled import twin
from model.scenario import Activity, Population

NO_EMPLOYER = -1
NO_SITE = -1  # a household not resettled, or a workshop not at a resettlement site


class Health(IntEnum):
    """Health of a person."""

    HEALTHY = 0
    CHRONIC = 1
    DISABLED = 2


class Source(IntEnum):
    """Sources of household income (yuan per month)."""

    WAGES = 0
    PIECE_WORK = 1
    MIGRANT = 2
    FARMING = 3
    DIVIDENDS = 4
    PENSION = 5
    DIBAO = 6
    TRAINING_ALLOWANCE = 7


SOURCE_NAMES = [s.name.lower() for s in Source]

# Activities a person does away from home all day (a carer may not, or only with flexible hours).
AWAY_ACTIVITIES = (Activity.PARK_WORKSHOP, Activity.MIGRATION)
WORKSHOP_ACTIVITIES = (
    Activity.HOME_OUTWORK,
    Activity.VILLAGE_WORKSHOP,
    Activity.PARK_WORKSHOP,
    Activity.COMMUNITY_FACTORY,
)
IS_WORKSHOP_ACTIVITY = np.isin(np.arange(len(Activity)), WORKSHOP_ACTIVITIES)  # by Activity


@dataclass
class People:
    """Per-person state (all arrays have one entry per person).

    A model's people are ordered by household: each household's members are consecutive
    rows, from `Households.first_member` (see `members`).
    """

    household: np.ndarray  # int32, row in Households
    age: np.ndarray  # int16, years
    female: np.ndarray  # bool
    health: np.ndarray  # int8, Health
    frail: np.ndarray  # bool, elderly needing daily care
    skill: np.ndarray  # float32, productivity multiplier
    activity: np.ndarray  # int8, Activity
    employer: np.ndarray  # int32, workshop slot or NO_EMPLOYER (only people whose
    # activity is a workshop activity have a slot; `labour_market.release` before others)
    tenure: np.ndarray  # int16, months with the current employer
    courses: np.ndarray  # int8, training courses completed
    bonus_paid: np.ndarray  # bool, hiring bonus paid for the current job
    kept_home: np.ndarray  # bool, held home by a migration stop
    capacity: np.ndarray = field(init=False)  # float32, labour capacity (0 = cannot work)
    carer: np.ndarray = field(init=False)  # bool, the household's designated carer
    earnings: np.ndarray = field(init=False)  # float32, yuan this month
    earnings_before_job: np.ndarray = field(init=False)  # float32, yuan/month before the
    # current run of workshop jobs began (NaN if unknown, e.g. employed from the start)

    def __post_init__(self) -> None:
        self.capacity = np.zeros(len(self.household), dtype=np.float32)
        self.carer = np.zeros(len(self.household), dtype=bool)
        self.earnings = np.zeros(len(self.household), dtype=np.float32)
        self.earnings_before_job = np.full(len(self.household), np.nan, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.household)


@dataclass
class Households:
    """Per-household state (all arrays have one entry per household)."""

    village: np.ndarray  # int32
    disadvantaged: np.ndarray  # bool, drawn from the disadvantaged profile (`population.poor`)
    resettled: np.ndarray  # bool
    land_mu: np.ndarray  # float32, mu
    registered_poor: np.ndarray = field(init=False)  # bool, registered as poor at the start
    # (`model.registration`, after the starting allocation); nobody before
    site: np.ndarray = field(init=False)  # int32, resettlement site, or NO_SITE
    size: np.ndarray = field(init=False)  # int16, members
    care_need: np.ndarray = field(init=False)  # bool, young child, frail or disabled member
    substitute_carer: np.ndarray = field(init=False)  # bool, a healthy elderly member can care
    carer: np.ndarray = field(init=False)  # int32, person kept home, or -1
    has_disabled: np.ndarray = field(init=False)  # bool
    young_child: np.ndarray = field(init=False)  # bool, a member is a young child
    has_labour: np.ndarray = field(init=False)  # bool, someone can work
    equity_yuan: np.ndarray = field(init=False)  # float32, cooperative shares held
    dibao_yuan_per_month: np.ndarray = field(init=False)  # float32
    ever_workshop: np.ndarray = field(init=False)  # bool, someone has held a workshop job
    first_member: np.ndarray = field(init=False)  # int32, row of the first member in People

    def __post_init__(self) -> None:
        n = len(self.village)
        self.registered_poor = np.zeros(n, dtype=bool)
        self.site = np.full(n, NO_SITE, dtype=np.int32)
        self.first_member = np.zeros(n, dtype=np.int32)
        self.size = np.zeros(n, dtype=np.int16)
        self.care_need = np.zeros(n, dtype=bool)
        self.substitute_carer = np.zeros(n, dtype=bool)
        self.carer = np.full(n, -1, dtype=np.int32)
        self.has_disabled = np.zeros(n, dtype=bool)
        self.young_child = np.zeros(n, dtype=bool)
        self.has_labour = np.zeros(n, dtype=bool)
        self.equity_yuan = np.zeros(n, dtype=np.float32)
        self.dibao_yuan_per_month = np.zeros(n, dtype=np.float32)
        self.ever_workshop = np.zeros(n, dtype=bool)

    def __len__(self) -> int:
        return len(self.village)


def labour_capacity(people: People, rules: Population) -> np.ndarray:
    """Labour capacity per person (1 healthy, `chronic_capacity` if ill, 0 if cannot work).

    Disabled adults keep the chronic capacity where `disabled_can_work`; they may not
    work away from home (park workshops, migration; see `choice.feasible_options`).
    """
    return _labour_capacity(people, rules, _capacity_by_health(rules))


def _labour_capacity(people: People, rules: Population, by_health: np.ndarray) -> np.ndarray:
    """Labour capacity per person, `by_health` in working age and 0 otherwise."""
    in_age = (people.age >= rules.labour_age_min) & (people.age <= rules.labour_age_max)
    in_age &= ~people.frail
    capacity = by_health.take(people.health)
    capacity *= in_age
    return capacity


def _capacity_by_health(rules: Population) -> np.ndarray:
    """Labour capacity of a working-age, non-frail person by `Health` (float32)."""
    return np.array(
        [1.0, rules.chronic_capacity, rules.chronic_capacity if rules.disabled_can_work else 0.0],
        dtype=np.float32,
    )


def update_care(people: People, households: Households, rules: Population) -> None:
    """Recompute care load, substitute carers and the designated carer of each household.

    A household needs care if it has a young child, a frail elderly member or a disabled
    member. A healthy, non-frail member past working age frees the working-age adults
    (where `healthy_elderly_can_care`); otherwise one working-age adult is the carer:
    the woman with the lowest skill if there is one, else the adult with the lowest skill.
    """
    recompute_care(
        people, households, rules, _capacity_by_health(rules), Health.HEALTHY, Health.DISABLED
    )


def _recompute_care(
    people: People,
    households: Households,
    rules: Population,
    by_health: np.ndarray,
    healthy: int,
    disabled: int,
) -> None:
    """`update_care` with arrays; the twin of `model.compiled.care.recompute_care`.

    Args:
        people: the people (ordered by household); `capacity` and `carer` are replaced.
        households: the households; their care flags and `carer` are replaced.
        rules: the scenario's population rules (ages, who may care).
        by_health: labour capacity of a working-age person by health code (float32).
        healthy: the health code of healthy people.
        disabled: the health code of disabled people.
    """
    n_households = len(households)
    young = people.age <= rules.young_child_age_max
    is_disabled = people.health == disabled
    households.young_child = household_any(people, young, n_households)
    households.care_need = household_any(people, young | people.frail | is_disabled, n_households)
    households.has_disabled = household_any(people, is_disabled, n_households)
    can_care = (
        (people.age > rules.labour_age_max) & ~people.frail & (people.health == healthy)
    ) & rules.healthy_elderly_can_care
    households.substitute_carer = household_any(people, can_care, n_households)
    people.capacity = _labour_capacity(people, rules, by_health)
    households.has_labour = household_any(people, people.capacity > 0, n_households)
    households.carer = _designate_carer(people, households)
    people.carer = is_carer(people, households)


recompute_care = twin(
    compiled_care.recompute_care,
    _recompute_care,
    test="tests/model/test_compiled_care.py::test_recompute_care_twins_are_identical",
)


def household_any(people: People, flags: np.ndarray, n_households: int) -> np.ndarray:
    """Whether any member of each household has the flag (bool per household)."""
    found = np.zeros(n_households, dtype=bool)
    found[people.household[np.flatnonzero(flags)]] = True
    return found


def _designate_carer(people: People, households: Households) -> np.ndarray:
    """Index of each household's carer among its working-age members, or -1.

    Only households that need care and have no substitute carer get one: the able woman
    with the lowest skill, or the able man with the lowest skill where no woman can work;
    among equal skills, the first member.
    """
    n = len(households)
    needs_carer = households.care_need & ~households.substitute_carer
    able = np.flatnonzero(people.capacity > 0)
    candidates = able[needs_carer[people.household[able]]]
    home, female = people.household[candidates], people.female[candidates]
    has_woman = np.zeros(n, dtype=bool)
    has_woman[home[female]] = True
    eligible = female == has_woman[home]
    pool, home = candidates[eligible], home[eligible]
    skill = people.skill[pool]
    lowest = np.full(n, np.inf, dtype=skill.dtype)
    np.minimum.at(lowest, home, skill)
    at_lowest = skill == lowest[home]
    pool, home = pool[at_lowest], home[at_lowest]
    # people are ordered by household: the first of each household's run is its first member
    first = np.ones(len(pool), dtype=bool)
    first[1:] = home[1:] != home[:-1]
    carer = np.full(n, -1, dtype=np.int32)
    carer[home[first]] = pool[first]
    return carer


def is_carer(people: People, households: Households) -> np.ndarray:
    """Boolean per person: this person is the household's designated carer."""
    flags = np.zeros(len(people), dtype=bool)
    carers = households.carer[households.carer >= 0]
    flags[carers] = True
    return flags


def members(households: Households, rows: np.ndarray) -> np.ndarray:
    """People of the households `rows`, in household order then member order.

    Relies on people being ordered by household (as `population.synthesise` makes them).
    """
    size = households.size[rows].astype(np.intp)
    end = np.cumsum(size)
    return np.repeat(households.first_member[rows] - (end - size), size) + np.arange(
        end[-1] if len(end) else 0
    )


def household_sum(people: People, values: np.ndarray, n_households: int) -> np.ndarray:
    """Sum a per-person array over each household (float64)."""
    return np.bincount(people.household, values, n_households)


@dataclass
class IncomeLedger:
    """This month's household income by source, yuan per month (sources x households).

    Sources credited to few households (wages, piece work, training allowances) are
    cleared only where they were credited the month before (`cleared_row`). The rows are
    float64. Writing a row (`row`, `cleared_row`, `set`, `add`) drops the sums, which
    one pass over the ledger makes again when next asked for: the total per household
    (`total`) and each source's sum over all households and over the households last
    given to `source_sums`, each adding households in household order.
    """

    by_source: np.ndarray
    _total: np.ndarray | None = field(default=None, init=False, repr=False)  # reused
    _sums: np.ndarray | None = field(default=None, init=False, repr=False)  # None: stale
    _apart: np.ndarray | None = field(default=None, init=False, repr=False)  # bool mask
    _credited: dict[Source, np.ndarray] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def empty(cls, n_households: int) -> IncomeLedger:
        """A ledger of zeros."""
        return cls(np.zeros((len(Source), n_households), dtype=np.float64))

    def add(self, source: Source, amounts: np.ndarray) -> None:
        """Add per-household amounts (yuan) to one source."""
        self.row(source)[:] += amounts

    def set(self, source: Source, amounts: np.ndarray) -> None:
        """Replace one source's per-household amounts (yuan)."""
        self.row(source)[:] = amounts

    def row(self, source: Source) -> np.ndarray:
        """One source's per-household amounts, to be overwritten in place (yuan)."""
        self._sums = None
        self._credited.pop(source, None)
        return self.by_source[source]

    def cleared_row(self, source: Source, households: np.ndarray) -> np.ndarray:
        """One source's row set to 0, to be credited in place to `households` only (yuan).

        Only the households given at the previous call are cleared (the whole row if
        the row was written otherwise since), so a sparse source costs what it credits.
        """
        last = self._credited.get(source)
        row = self.row(source)
        if last is None:
            row.fill(0.0)
        else:
            row[last] = 0.0
        self._credited[source] = households
        return row

    @property
    def n_households(self) -> int:
        """Number of households in the ledger."""
        return int(self.by_source.shape[1])

    @property
    def total(self) -> np.ndarray:
        """Household income this month: the sum over sources, in source order (yuan).

        One array, overwritten when the ledger is summed again (after a row is written):
        copy it to keep a month's totals.
        """
        return self._add_up()[0]

    def source_sums(self, households: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each source's income this month summed over all households and over `households`.

        Args:
            households: a bool mask of households, e.g. the registered poor. The mask
                given last (the same array object) is summed in the pass that makes
                `total`, at no further cost; another one costs a pass.

        Returns:
            Two arrays of yuan, one per source: over every household and over
            `households`, each adding households left to right.
        """
        if households is not self._apart:
            self._apart, self._sums = households, None
        sums = self._add_up()[1]
        return sums[0], sums[1]

    def _add_up(self) -> tuple[np.ndarray, np.ndarray]:
        """The total and the sums by source, made in one pass (`income_sums`) if stale."""
        if self._total is None or len(self._total) != self.n_households:
            self._total, self._sums = np.empty(self.n_households), None
        if self._sums is None:
            apart = NOBODY if self._apart is None else self._apart
            self._sums = income_sums(self.by_source, apart, self._total)
        return self._total, self._sums


NOBODY = np.zeros(0, dtype=bool)  # no households summed apart


def _income_sums(by_source: np.ndarray, apart: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Each household's income over the sources (into `total`), each source's over households.

    The twin of `model.compiled.measures.income_sums` (same arguments and results): the
    total adds the sources in order; bincount adds households in household order.
    """
    n_sources = compiled_measures.LEDGER_SOURCES
    if by_source.shape[0] != n_sources:
        raise ValueError(f"a ledger has {n_sources} sources, not {by_source.shape[0]}")
    total[:] = by_source[0]
    for row in by_source[1:]:
        total += row
    n = by_source.shape[1]
    everyone = np.zeros(n, dtype=np.intp)
    marked = apart.astype(np.intp) if len(apart) else everyone
    sums = np.zeros((2, n_sources))
    for source, row in enumerate(by_source):
        sums[0, source] = np.bincount(everyone, row, 1)[0]
        sums[1, source] = np.bincount(marked, row, 2)[1] if len(apart) else 0.0
    return sums


income_sums = twin(
    compiled_measures.income_sums,
    _income_sums,
    test="tests/model/test_compiled_measures.py::test_income_sums_twins_are_identical",
)
