"""Registration of the poor at the start: a village quota filled by an income test with error."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_helpers import variant

from model.economy import WorkshopEconomy
from model.keyed import KeyedDraws, Purpose
from model.population import synthesise
from model.registration import assessed_income, register, village_quotas
from model.streams import make_stream

SD = "population.registration_income_error_sd"


def inclusion_exclusion(registered: np.ndarray, poor: np.ndarray) -> tuple[float, float]:
    """Share of the registered who are not poor, share of the poor not registered."""
    return float(np.mean(~poor[registered])), float(np.mean(~registered[poor]))


@pytest.fixture(scope="module")
def county():
    """Incomes and villages of a synthetic county: 40 villages of 100 households."""
    rng = np.random.default_rng(5)
    village = np.repeat(np.arange(40, dtype=np.int32), 100)
    rng.shuffle(village)
    income = rng.lognormal(np.log(5000.0), 0.8, len(village))
    noise = KeyedDraws(1, 0).normals(Purpose.REGISTRATION, np.arange(len(village)))
    return income, village, noise


@pytest.fixture(scope="module")
def models(tiny):
    """The tiny county's starting state with an exact assessment and with the default error."""
    scenario = variant(tiny, households=1200)
    assert scenario.population.registration_income_error_sd > 0
    return {
        "exact": WorkshopEconomy(variant(scenario, {SD: 0.0})),
        "default": WorkshopEconomy(scenario),
    }


# ------------------------------------------------------------------ quotas


@pytest.mark.parametrize(
    ("counts", "share"),
    [([13, 14, 12, 15, 13], 0.12), ([400] * 7, 0.12), ([1, 2, 3, 50, 7, 0], 0.37), ([5], 1.0)],
)
def test_village_quotas_add_up_to_the_county_quota_and_are_proportional(counts, share):
    counts = np.array(counts)
    quota = village_quotas(counts, share)
    assert quota.sum() == round(share * counts.sum())
    exact = share * counts
    assert (quota >= np.floor(exact - 1e-9)).all() and (quota <= np.ceil(exact + 1e-9)).all()
    assert (quota <= counts).all()


def test_registered_count_equals_the_quota_in_the_county_and_each_village(models):
    for model in models.values():
        hh, share = model.households, model.params.population.registered_poor_share
        assert hh.registered_poor.sum() == round(share * len(hh))
        counts = np.bincount(hh.village, minlength=model.geography.n_villages)
        registered = np.bincount(hh.village[hh.registered_poor], minlength=len(counts))
        np.testing.assert_array_equal(registered, village_quotas(counts, share))


# ------------------------------------------------------------------ the income test


def test_an_exact_assessment_registers_the_poorest_of_each_village(county):
    income, village, noise = county
    registered = register(income, village, 40, 0.12, 0.0, noise)
    for v in range(40):
        mine = village == v
        assert income[mine & registered].max() < income[mine & ~registered].min()


def test_an_exact_assessment_in_the_model_registers_the_poorest_at_the_start(models):
    model = models["exact"]
    hh, income = model.households, model.tracker.per_capita
    for v in range(model.geography.n_villages):
        mine = hh.village == v
        if (mine & hh.registered_poor).any():
            # equal incomes (households topped up to the allowance line) go either way
            assert (
                income[mine & hh.registered_poor].max() <= income[mine & ~hh.registered_poor].min()
            )


def test_assessed_income_is_income_times_the_exponential_error():
    income, noise = np.array([1000.0, 2000.0, 0.0]), np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(assessed_income(income, 0.4, noise), income * np.exp(0.4 * noise))
    np.testing.assert_array_equal(assessed_income(income, 0.0, noise), income)


def test_equal_incomes_are_ordered_by_the_keyed_draw():
    income = np.full(10, 2400.0)
    noise = np.linspace(1.0, -1.0, 10)  # the last households have the lowest draws
    registered = register(income, np.zeros(10, dtype=np.int32), 1, 0.3, 0.0, noise)
    np.testing.assert_array_equal(np.flatnonzero(registered), [7, 8, 9])


def registered_by_ranking(income, village, n_villages, share, error_sd, noise):
    """The rule as first written: rank every village's households by (assessed, noise)."""
    n = len(village)
    counts = np.bincount(village, minlength=n_villages)
    assessed = assessed_income(income, error_sd, noise)
    order = np.lexsort((noise, assessed, village))
    home = village[order]
    rank = np.arange(n) - (np.cumsum(counts) - counts)[home]
    registered = np.zeros(n, dtype=bool)
    registered[order] = rank < village_quotas(counts, share)[home]
    return registered


@settings(max_examples=200)
@given(
    seed=st.integers(0, 2**32 - 1),
    households=st.integers(0, 400),
    n_villages=st.integers(1, 12),
    share=st.floats(0.0, 1.0),
    error_sd=st.sampled_from([0.0, 0.3]),
    levels=st.integers(1, 6),
)
def test_village_cuts_register_the_households_a_full_ranking_registers(
    seed, households, n_villages, share, error_sd, levels
):
    # few income levels (zero of both signs among them) and repeated draws: many ties
    rng = np.random.default_rng(seed)
    village = rng.integers(0, n_villages, households).astype(np.int32)
    income = rng.choice([0.0, -0.0, 800.0, 2300.0, 2300.5, 9000.0][:levels], households)
    noise = rng.choice(rng.standard_normal(max(1, households // 3)), households)
    args = (income, village, n_villages, share, error_sd, noise)
    np.testing.assert_array_equal(register(*args), registered_by_ranking(*args))


def test_an_error_mistargets_both_ways_and_more_with_a_larger_error(county):
    income, village, noise = county
    poor = income < np.quantile(income, 0.12)
    errors = [
        inclusion_exclusion(register(income, village, 40, 0.12, sd, noise), poor)
        for sd in (0.0, 0.25, 0.5, 1.0)
    ]
    inclusion, exclusion = np.array(errors).T
    assert inclusion[1] > 0 and exclusion[1] > exclusion[0]  # both ways already at 0.25
    assert (np.diff(inclusion) > 0).all() and (np.diff(exclusion) > 0).all()


def test_the_model_mistargets_both_ways_with_the_default_error(models):
    exact, default = models["exact"], models["default"]
    poor = default.tracker.poor
    np.testing.assert_array_equal(poor, exact.tracker.poor)  # the same starting incomes
    inclusion, exclusion = inclusion_exclusion(default.households.registered_poor, poor)
    exact_inclusion, exact_exclusion = inclusion_exclusion(exact.households.registered_poor, poor)
    assert inclusion > exact_inclusion and exclusion > exact_exclusion
    # a registered household above the line while a poorer one of its village is not
    hh, income = default.households, default.tracker.per_capita
    inverted = [
        income[(hh.village == v) & hh.registered_poor].max()
        > income[(hh.village == v) & ~hh.registered_poor].min()
        for v in np.unique(hh.village[hh.registered_poor])
    ]
    assert any(inverted)


def test_registered_households_are_poorer_on_average(models):
    for model in models.values():
        hh, income = model.households, model.tracker.per_capita
        assert income[hh.registered_poor].mean() < 0.6 * income[~hh.registered_poor].mean()
        assert model.tracker.poor[hh.registered_poor].mean() > model.tracker.poor.mean()


# ------------------------------------------------------------------ what depends on it


def test_the_population_and_the_starting_incomes_do_not_depend_on_registration(models):
    exact, default = models["exact"], models["default"]
    assert not np.array_equal(exact.households.registered_poor, default.households.registered_poor)
    for field in ("household", "age", "skill", "activity", "health"):
        np.testing.assert_array_equal(getattr(exact.people, field), getattr(default.people, field))
    np.testing.assert_array_equal(exact.households.disadvantaged, default.households.disadvantaged)
    np.testing.assert_array_equal(exact.ledger.by_source, default.ledger.by_source)
    # synthesis gives nobody registered, whatever the error
    hh, _, _ = synthesise(default.params, make_stream(default.params.run.seed, "population"))
    assert not hh.registered_poor.any()


def test_the_registered_indices_follow_the_registration(models):
    model = models["default"]
    hh, people = model.households, model.people
    np.testing.assert_array_equal(model.registered_households, np.flatnonzero(hh.registered_poor))
    np.testing.assert_array_equal(model.registered_person, hh.registered_poor[people.household])
    np.testing.assert_array_equal(model.registered_people, np.flatnonzero(model.registered_person))
    assert model.poverty_groups.people["registered_poor"] == hh.size[hh.registered_poor].sum()


def test_the_same_seed_registers_the_same_households(models):
    again = WorkshopEconomy(models["default"].params)
    np.testing.assert_array_equal(
        again.households.registered_poor, models["default"].households.registered_poor
    )
    other = WorkshopEconomy(models["default"].params, replicate=1)
    assert not np.array_equal(
        other.households.registered_poor, models["default"].households.registered_poor
    )
