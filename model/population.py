"""Synthesise households and their members from the scenario's distributions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from model.households import NO_EMPLOYER, NO_SITE, Health, Households, People, update_care
from model.scenario import Activity, HouseholdProfile, Scenario

ADULT_AGES = (18, 59)  # years, working-age adults drawn uniformly in this range
ELDERLY_AGES = (60, 85)  # years
SCHOOL_AGE_MIN = 6  # years, children from this age go to school (to 15)
SCHOOL_AGE_MAX = 15


@dataclass
class Geography:
    """Villages of the simulated county (scaled to the run's households)."""

    n_villages: int
    park_distance_km: np.ndarray  # float32 per village
    n_sites: int = 1  # resettlement sites (scaled); resettled households live at one each
    by_village: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    # int32, households ordered by village (`locate` fills it)
    village_start: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    # where each village's households begin in `by_village` (one more entry than villages)

    def locate(self, village: np.ndarray) -> None:
        """Index the households by village (`village`: each household's village)."""
        self.by_village = by_village(village).astype(np.int32)
        counts = np.bincount(village, minlength=self.n_villages)
        self.village_start = np.concatenate(([0], np.cumsum(counts)))

    def households_in(self, villages: np.ndarray) -> np.ndarray:
        """The households of `villages` (village indices), ascending."""
        parts = [
            self.by_village[self.village_start[v] : self.village_start[v + 1]]
            for v in villages.tolist()
        ]
        return np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int32)


def by_village(village: np.ndarray) -> np.ndarray:
    """Households ordered by village, each village's in ascending order (intp).

    A stable argsort of `village` (non-negative integers); up to 65,536 villages, of
    their 16-bit codes, which numpy sorts in linear time (radix sort): about twice as
    fast at 10^7 households.
    """
    if len(village) and village.max() < 1 << 16:
        return np.argsort(village.astype(np.uint16), kind="stable")
    return np.argsort(village, kind="stable")


class Kind(IntEnum):
    """The kinds of household member, in the order they are drawn and listed."""

    ADULT = 0
    ELDERLY = 1
    YOUNG_CHILD = 2
    SCHOOL_CHILD = 3


AGES = {  # years, lowest and highest age of each kind (drawn uniformly)
    Kind.ADULT: ADULT_AGES,
    Kind.ELDERLY: ELDERLY_AGES,
    Kind.YOUNG_CHILD: (0, SCHOOL_AGE_MIN - 1),
    Kind.SCHOOL_CHILD: (SCHOOL_AGE_MIN, SCHOOL_AGE_MAX),
}


PERSON_DRAWS = ("age", "health", "female", "frail", "skill")  # what is drawn per member
# Members drawn at a time: each draw's temporaries stay small (8 MiB) and are reused while
# the memory is warm, and the draws are those of one call for all members.
DRAW_CHUNK = 1 << 20


@dataclass
class Members:
    """The members drawn for the households of one profile, kind by kind.

    Attributes:
        rows: the households (ascending rows of `Households`).
        counts: members of each kind per household (one int64 array per `Kind`).
        age: years (int16), health (int8, `Health`), female, frail (bool) and skill
            (float32) of each member (`PERSON_DRAWS`), listed kind by kind, then by
            household, then member by member: the order in which they are drawn.
    """

    rows: np.ndarray
    counts: list[np.ndarray]
    age: np.ndarray
    health: np.ndarray
    female: np.ndarray
    frail: np.ndarray
    skill: np.ndarray

    @property
    def size(self) -> np.ndarray:
        """Members per household (int64)."""
        return sum(self.counts[1:], start=self.counts[0])

    def place(self, people: People, first_member: np.ndarray) -> None:
        """Write the members into `people`, which are ordered by household.

        A household's members are listed kind by kind (adults, elderly, young children,
        school children) from its `first_member` row; one kind at a time, so the only
        index array is one kind's.
        """
        start = first_member[self.rows]  # the next free row of each household (int32)
        drawn = 0  # members of earlier kinds, in draw order
        for count in self.counts:
            total = int(count.sum())
            # where each household's members of this kind begin among them
            listed = np.cumsum(count, dtype=np.int32) - count.astype(np.int32)
            places = np.repeat(start - listed, count)  # each member's row in `people`
            places += np.arange(total, dtype=np.int32)
            for name in PERSON_DRAWS:
                getattr(people, name)[places] = getattr(self, name)[drawn : drawn + total]
            start += count
            drawn += total


def synthesise(
    scenario: Scenario, rng: np.random.Generator
) -> tuple[Households, People, Geography]:
    """Draw villages, households and members for a run.

    Args:
        scenario: the validated scenario (its `run.households` sets the size).
        rng: the "population" stream.

    Returns:
        Households, people (care load and capacity already computed) and the geography.
        Each resettled household lives at one of the county's resettlement sites, drawn
        uniformly (others have `NO_SITE`). A share `population.registered_poor_share` of
        households is drawn from the disadvantaged profile (`population.poor`), the rest
        from `population.nonpoor`; nobody is registered yet (`model.registration`).
        People are ordered by household, each household's members kind by kind
        (`Kind`). The arrays are built in their final dtypes and places as they are
        drawn, so the peak memory is the population's own plus a few bytes per person.
    """
    pop = scenario.population
    n = scenario.run.households
    n_villages = max(1, round(scenario.county.villages * scenario.scale))
    geography = Geography(
        n_villages,
        rng.exponential(scenario.county.park_distance_km_mean, n_villages).astype(np.float32),
    )
    # The household type: the disadvantaged profile with the county's registered share.
    # Registration itself comes later, by an income test (`model.registration`).
    disadvantaged = rng.random(n) < pop.registered_poor_share
    households = Households(
        village=rng.integers(0, n_villages, n, dtype=np.int32),
        disadvantaged=disadvantaged,
        resettled=rng.random(n) < pop.resettled_share,
        land_mu=np.zeros(n, dtype=np.float32),
    )
    profiles = (
        (np.flatnonzero(disadvantaged), pop.poor),
        (np.flatnonzero(~disadvantaged), pop.nonpoor),
    )
    drawn = [_members(rows, profile, rng) for rows, profile in profiles]
    for rows, profile in profiles:
        households.land_mu[rows] = rng.exponential(profile.land_mu_mean, len(rows))
    for members in drawn:
        households.size[members.rows] = members.size
    households.first_member = (np.cumsum(households.size) - households.size).astype(np.int32)
    people = _people(households, drawn)
    update_care(people, households, pop)
    geography.locate(households.village)
    # drawn last, so that the sites leave every other draw of the stream as it was
    geography.n_sites = max(1, round(scenario.county.resettlement_sites * scenario.scale))
    site = rng.integers(0, geography.n_sites, n, dtype=np.int32)
    households.site = np.where(households.resettled, site, NO_SITE).astype(np.int32)
    return households, people, geography


def _members(rows: np.ndarray, profile: HouseholdProfile, rng: np.random.Generator) -> Members:
    """Members of the households `rows`, drawn from one profile (in draw order)."""
    n = len(rows)
    adults = rng.choice(len(profile.adults_probs), n, p=profile.adults_probs)
    elderly = rng.choice(len(profile.elderly_probs), n, p=profile.elderly_probs)
    young = rng.poisson(profile.young_children_mean, n)
    school = rng.poisson(profile.school_children_mean, n)
    # An empty draw gets one elderly member.
    elderly[adults + elderly + young + school == 0] = 1
    counts = [adults, elderly, young, school]  # in `Kind` order
    of_kind = [int(c.sum()) for c in counts]  # members of each kind, over the households
    m = sum(of_kind)
    age = np.empty(m, dtype=np.int16)
    start = 0
    for kind, total in zip(Kind, of_kind, strict=True):
        low, high = AGES[kind]
        for first, end in _chunks(start, start + total):
            age[first:end] = rng.integers(low, high + 1, end - first)
        start += total
    grown = of_kind[Kind.ADULT] + of_kind[Kind.ELDERLY]  # the first members listed
    buffer = np.empty(min(m, DRAW_CHUNK))  # each member draws three uniforms into it
    health = np.zeros(m, dtype=np.int8)
    for part, u in _uniforms(rng, m, buffer, 0, grown):
        health[part] = _health(u, profile)
    female = np.empty(m, dtype=bool)
    for part, u in _uniforms(rng, m, buffer, 0, m):
        np.less(u, profile.female_share, out=female[part])
    frail = np.zeros(m, dtype=bool)
    for part, u in _uniforms(rng, m, buffer, of_kind[Kind.ADULT], grown):
        np.less(u, profile.frail_elderly_share, out=frail[part])
    skill = np.empty(m, dtype=np.float32)
    for first, end in _chunks(0, m):
        drawn = rng.lognormal(-(profile.skill_sd**2) / 2, profile.skill_sd, end - first)
        drawn *= profile.skill_mean
        skill[first:end] = drawn
    return Members(rows, counts, age, health, female, frail, skill)


def _chunks(start: int, stop: int) -> Iterator[tuple[int, int]]:
    """First and end of consecutive runs of at most `DRAW_CHUNK` members, start to stop."""
    for first in range(start, stop, DRAW_CHUNK):
        yield first, min(first + DRAW_CHUNK, stop)


def _uniforms(
    rng: np.random.Generator, m: int, buffer: np.ndarray, low: int, high: int
) -> Iterator[tuple[slice, np.ndarray]]:
    """A uniform for each of `m` members, drawn into `buffer` `DRAW_CHUNK` at a time.

    Every member's uniform is drawn, in order; those of members `low` to `high` - 1 are
    yielded, with the slice of the members they belong to.
    """
    for first, end in _chunks(0, m):
        u = rng.random(out=buffer[: end - first])
        within = slice(max(low, first), min(high, end))
        if within.start < within.stop:
            yield within, u[within.start - first : within.stop - first]


def _health(u: np.ndarray, profile: HouseholdProfile) -> np.ndarray:
    """Health of grown-ups from their uniforms (int8, `Health`).

    Disabled below the disability share, chronically ill up to it plus the chronic
    illness share, healthy above.
    """
    health = np.full(len(u), Health.HEALTHY, dtype=np.int8)
    health[u < profile.disability_share + profile.chronic_illness_share] = Health.CHRONIC
    health[u < profile.disability_share] = Health.DISABLED
    return health


def _people(households: Households, drawn: list[Members]) -> People:
    """The people of every profile's members, ordered by household (`Members.place`)."""
    m = int(households.size.sum(dtype=np.int64))
    people = People(
        household=np.repeat(np.arange(len(households), dtype=np.int32), households.size),
        age=np.empty(m, dtype=np.int16),
        female=np.empty(m, dtype=bool),
        health=np.empty(m, dtype=np.int8),
        frail=np.empty(m, dtype=bool),
        skill=np.empty(m, dtype=np.float32),
        activity=np.full(m, Activity.NOT_WORKING, dtype=np.int8),
        employer=np.full(m, NO_EMPLOYER, dtype=np.int32),
        tenure=np.zeros(m, dtype=np.int16),
        courses=np.zeros(m, dtype=np.int8),
        bonus_paid=np.zeros(m, dtype=bool),
        kept_home=np.zeros(m, dtype=bool),
    )
    for members in drawn:
        members.place(people, households.first_member)
    return people
