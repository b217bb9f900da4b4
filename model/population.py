"""Synthesise households and their members from the scenario's distributions."""

from __future__ import annotations

from dataclasses import dataclass, field

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
        self.by_village = np.argsort(village, kind="stable").astype(np.int32)
        counts = np.bincount(village, minlength=self.n_villages)
        self.village_start = np.concatenate(([0], np.cumsum(counts)))

    def households_in(self, villages: np.ndarray) -> np.ndarray:
        """The households of `villages` (village indices), ascending."""
        parts = [
            self.by_village[self.village_start[v] : self.village_start[v + 1]]
            for v in villages.tolist()
        ]
        return np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int32)


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
    members = [
        _members(np.flatnonzero(disadvantaged == flag), profile, rng)
        for flag, profile in ((True, pop.poor), (False, pop.nonpoor))
    ]
    people = _concatenate(members)
    for flag, profile in ((True, pop.poor), (False, pop.nonpoor)):
        rows = np.flatnonzero(disadvantaged == flag)
        households.land_mu[rows] = rng.exponential(profile.land_mu_mean, len(rows))
    order = np.argsort(people.household, kind="stable")
    people = _take(people, order)
    households.size = np.bincount(people.household, minlength=n).astype(np.int16)
    households.first_member = (np.cumsum(households.size) - households.size).astype(np.int32)
    update_care(people, households, pop)
    geography.locate(households.village)
    # drawn last, so that the sites leave every other draw of the stream as it was
    geography.n_sites = max(1, round(scenario.county.resettlement_sites * scenario.scale))
    site = rng.integers(0, geography.n_sites, n, dtype=np.int32)
    households.site = np.where(households.resettled, site, NO_SITE).astype(np.int32)
    return households, people, geography


def _members(rows: np.ndarray, profile: HouseholdProfile, rng: np.random.Generator) -> People:
    """Members of the households `rows`, drawn from one profile."""
    n = len(rows)
    adults = rng.choice(len(profile.adults_probs), n, p=profile.adults_probs)
    elderly = rng.choice(len(profile.elderly_probs), n, p=profile.elderly_probs)
    young = rng.poisson(profile.young_children_mean, n)
    school = rng.poisson(profile.school_children_mean, n)
    # An empty draw gets one elderly member.
    elderly = np.where(adults + elderly + young + school == 0, 1, elderly)
    counts = {"adult": adults, "elderly": elderly, "young": young, "school": school}
    household = np.concatenate([np.repeat(rows, c) for c in counts.values()]).astype(np.int32)
    kind = np.concatenate([np.full(c.sum(), i) for i, c in enumerate(counts.values())])
    low = np.array([ADULT_AGES[0], ELDERLY_AGES[0], 0, SCHOOL_AGE_MIN])[kind]
    high = np.array([ADULT_AGES[1], ELDERLY_AGES[1], SCHOOL_AGE_MIN - 1, SCHOOL_AGE_MAX])[kind]
    age = rng.integers(low, high + 1).astype(np.int16)
    grown = kind <= 1
    health = np.where(grown, _draw_health(len(kind), profile, rng), Health.HEALTHY).astype(np.int8)
    m = len(household)
    return People(
        household=household,
        age=age,
        female=rng.random(m) < profile.female_share,
        health=health,
        frail=(kind == 1) & (rng.random(m) < profile.frail_elderly_share),
        skill=(
            profile.skill_mean * rng.lognormal(-(profile.skill_sd**2) / 2, profile.skill_sd, m)
        ).astype(np.float32),
        activity=np.full(m, Activity.NOT_WORKING, dtype=np.int8),
        employer=np.full(m, NO_EMPLOYER, dtype=np.int32),
        tenure=np.zeros(m, dtype=np.int16),
        courses=np.zeros(m, dtype=np.int8),
        bonus_paid=np.zeros(m, dtype=bool),
        kept_home=np.zeros(m, dtype=bool),
    )


def _draw_health(m: int, profile: HouseholdProfile, rng: np.random.Generator) -> np.ndarray:
    u = rng.random(m)
    return np.where(
        u < profile.disability_share,
        Health.DISABLED,
        np.where(
            u < profile.disability_share + profile.chronic_illness_share,
            Health.CHRONIC,
            Health.HEALTHY,
        ),
    )


_PERSON_FIELDS = (
    "household",
    "age",
    "female",
    "health",
    "frail",
    "skill",
    "activity",
    "employer",
    "tenure",
    "courses",
    "bonus_paid",
    "kept_home",
)


def _concatenate(parts: list[People]) -> People:
    return People(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in _PERSON_FIELDS})


def _take(people: People, order: np.ndarray) -> People:
    return People(**{f: getattr(people, f)[order] for f in _PERSON_FIELDS})
