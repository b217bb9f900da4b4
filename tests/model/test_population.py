import math

import numpy as np
import pytest
from model_helpers import variant
from scipy import stats

from model.households import NO_EMPLOYER, NO_SITE, Health
from model.population import ELDERLY_AGES, SCHOOL_AGE_MAX, by_village, synthesise
from model.scenario import Activity, HouseholdProfile
from model.streams import make_stream

N = 20000  # households: sampling error of shares ~0.2 points, of poor household size ~0.03


@pytest.fixture(scope="module")
def county(tiny):
    scenario = variant(tiny, households=N)
    households, people, geography = synthesise(scenario, make_stream(11, "population"))
    return scenario, households, people, geography


def expected_size(profile: HouseholdProfile) -> float:
    """Mean members per household implied by a profile (an empty draw gets one elderly)."""
    adults = np.dot(np.arange(len(profile.adults_probs)), profile.adults_probs)
    elderly = np.dot(np.arange(len(profile.elderly_probs)), profile.elderly_probs)
    children = profile.young_children_mean + profile.school_children_mean
    empty = profile.adults_probs[0] * profile.elderly_probs[0] * math.exp(-children)
    return float(adults + elderly + children + empty)


def within(value: float, target: float, se: float, z: float = 4.0) -> bool:
    return abs(value - target) <= z * se


def test_disadvantaged_share_matches_the_registered_share(county):
    scenario, hh, _, _ = county
    p = scenario.population.registered_poor_share
    assert within(hh.disadvantaged.mean(), p, math.sqrt(p * (1 - p) / N))


def test_nobody_is_registered_at_synthesis(county):
    # registration is an income test after the starting allocation (test_registration.py)
    _, hh, _, _ = county
    assert hh.disadvantaged.any()
    assert not hh.registered_poor.any()


def test_resettled_share_matches_scenario(county):
    scenario, hh, _, _ = county
    p = scenario.population.resettled_share
    assert within(hh.resettled.mean(), p, math.sqrt(p * (1 - p) / N))


@pytest.mark.parametrize("group", ["poor", "nonpoor"])
def test_mean_household_size_matches_profile(county, group):
    scenario, hh, _, _ = county
    rows = hh.disadvantaged if group == "poor" else ~hh.disadvantaged
    sizes = hh.size[rows].astype(float)
    target = expected_size(getattr(scenario.population, group))
    assert within(sizes.mean(), target, sizes.std() / math.sqrt(len(sizes)))


def test_poor_households_have_about_3_2_members(county):
    # FACTS: Suichuan 46,700 registered poor people in 14,600 households (3.2 each).
    scenario, hh, _, _ = county
    assert expected_size(scenario.population.poor) == pytest.approx(3.2, rel=0.05)
    sizes = hh.size[hh.disadvantaged].astype(float)
    se = sizes.std() / math.sqrt(len(sizes))
    assert sizes.mean() == pytest.approx(3.2, rel=0.05, abs=4 * se)


def test_every_household_has_a_member_and_size_counts_them(county):
    _, hh, people, _ = county
    assert (hh.size >= 1).all()
    assert np.array_equal(hh.size, np.bincount(people.household, minlength=len(hh)))
    assert hh.size.sum() == len(people)


def test_people_are_sorted_by_household(county):
    _, _, people, _ = county
    assert (np.diff(people.household) >= 0).all()


def test_empty_draws_get_one_elderly_member(tiny):
    lonely = {
        f"population.{g}.{k}": v
        for g in ("poor", "nonpoor")
        for k, v in (
            ("adults_probs", [1.0, 0.0, 0.0, 0.0, 0.0]),
            ("elderly_probs", [1.0, 0.0, 0.0]),
            ("young_children_mean", 0.0),
            ("school_children_mean", 0.0),
        )
    }
    hh, people, _ = synthesise(variant(tiny, lonely, households=300), make_stream(1, "population"))
    assert (hh.size == 1).all()
    assert ((people.age >= ELDERLY_AGES[0]) & (people.age <= ELDERLY_AGES[1])).all()


def test_only_grown_ups_are_ill_or_disabled_and_only_elderly_are_frail(county):
    _, _, people, _ = county
    child = people.age <= SCHOOL_AGE_MAX
    assert (people.health[child] == Health.HEALTHY).all()
    assert not people.frail[people.age < ELDERLY_AGES[0]].any()
    assert people.frail[people.age >= ELDERLY_AGES[0]].any()


@pytest.mark.parametrize("group", ["poor", "nonpoor"])
def test_health_shares_match_profile(county, group):
    scenario, hh, people, _ = county
    profile = getattr(scenario.population, group)
    rows = hh.disadvantaged[people.household] == (group == "poor")
    grown = rows & (people.age > SCHOOL_AGE_MAX)
    n = grown.sum()
    for health, share in (
        (Health.CHRONIC, profile.chronic_illness_share),
        (Health.DISABLED, profile.disability_share),
    ):
        observed = (people.health[grown] == health).mean()
        assert within(observed, share, math.sqrt(share * (1 - share) / n))


@pytest.mark.parametrize("group", ["poor", "nonpoor"])
def test_skill_and_land_means_match_profile(county, group):
    scenario, hh, people, _ = county
    profile = getattr(scenario.population, group)
    poor = group == "poor"
    skill = people.skill[hh.disadvantaged[people.household] == poor].astype(float)
    assert within(skill.mean(), profile.skill_mean, skill.std() / math.sqrt(len(skill)))
    land = hh.land_mu[hh.disadvantaged == poor].astype(float)
    assert within(land.mean(), profile.land_mu_mean, land.std() / math.sqrt(len(land)))


def test_women_are_about_half_of_grown_ups(county):
    _, _, people, _ = county
    grown = people.age > SCHOOL_AGE_MAX
    assert within(people.female[grown].mean(), 0.5, math.sqrt(0.25 / grown.sum()))


def test_villages_scale_with_the_run(county):
    scenario, hh, _, geography = county
    assert geography.n_villages == round(scenario.county.villages * scenario.scale)
    assert len(geography.park_distance_km) == geography.n_villages
    assert hh.village.min() >= 0 and hh.village.max() < geography.n_villages
    assert (geography.park_distance_km >= 0).all()


def test_nobody_works_before_the_economy_starts(county):
    _, _, people, _ = county
    assert (people.activity == Activity.NOT_WORKING).all()
    assert (people.employer == NO_EMPLOYER).all()
    assert (people.courses == 0).all()


def test_care_and_capacity_are_computed_at_synthesis(county):
    scenario, hh, people, _ = county
    rules = scenario.population
    working_age = (
        (people.age >= rules.labour_age_min) & (people.age <= rules.labour_age_max) & ~people.frail
    )
    assert (people.capacity[~working_age] == 0).all()
    assert (people.capacity[working_age & (people.health == Health.HEALTHY)] == 1).all()
    carers = hh.carer[hh.carer >= 0]
    assert hh.care_need[people.household[carers]].all()
    assert not hh.substitute_carer[people.household[carers]].any()


def test_same_stream_gives_the_same_population(tiny):
    a = synthesise(tiny, make_stream(3, "population"))
    b = synthesise(tiny, make_stream(3, "population"))
    c = synthesise(tiny, make_stream(4, "population"))
    for field in ("household", "age", "female", "health", "frail", "skill"):
        assert np.array_equal(getattr(a[1], field), getattr(b[1], field))
    assert np.array_equal(a[0].land_mu, b[0].land_mu)
    assert not np.array_equal(a[0].land_mu, c[0].land_mu)


def test_households_in_villages_are_those_whose_village_is_listed(county):
    _, households, _, geography = county
    villages = np.array([0, 3, geography.n_villages - 1])
    expected = np.flatnonzero(np.isin(households.village, villages))
    np.testing.assert_array_equal(geography.households_in(villages), expected)
    assert len(geography.households_in(np.array([], dtype=int))) == 0


def test_resettled_households_live_at_resettlement_sites(county):
    scenario, hh, _, geography = county
    expected_sites = max(1, round(scenario.county.resettlement_sites * scenario.scale))
    assert geography.n_sites == expected_sites > 1
    assert (hh.site[~hh.resettled] == NO_SITE).all()
    sites = hh.site[hh.resettled]
    assert ((sites >= 0) & (sites < geography.n_sites)).all()
    # every site holds a share of the resettled households (uniform draw)
    counts = np.bincount(sites, minlength=geography.n_sites)
    assert counts.min() > 0 and stats.chisquare(counts).pvalue > 1e-3


def test_sites_are_drawn_last_so_the_rest_of_the_population_does_not_depend_on_them(tiny):
    few = synthesise(tiny, make_stream(3, "population"))
    many = synthesise(
        variant(tiny, {"county.resettlement_sites": 400}), make_stream(3, "population")
    )
    assert many[2].n_sites > few[2].n_sites
    for field in ("household", "age", "female", "health", "skill"):
        assert np.array_equal(getattr(few[1], field), getattr(many[1], field))
    assert np.array_equal(few[0].resettled, many[0].resettled)


@pytest.mark.parametrize("villages", [1, 300, 65_536, 65_537, 1_000_000])
def test_households_are_grouped_by_village_as_a_stable_sort_groups_them(villages):
    village = np.random.default_rng(villages).integers(0, villages, 50_000, dtype=np.int32)
    np.testing.assert_array_equal(by_village(village), np.argsort(village, kind="stable"))
    assert len(by_village(np.empty(0, dtype=np.int32))) == 0
