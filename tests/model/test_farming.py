import numpy as np
import pytest
from model_helpers import months, variant

from model.economy import WorkshopEconomy
from model.farming import Farms, farm_yuan, mu_per_farmer
from model.households import Source
from model.scenario import Activity


@pytest.fixture(scope="module")
def shocked(tiny):
    """The tiny scenario with illness, so capacities change between Januaries too."""
    return variant(
        tiny,
        {"shocks.illness.enabled": True, "shocks.illness.incidence_per_month": 0.02},
        months=14,
    )


def from_scratch(model: WorkshopEconomy) -> Farms:
    """Farms computed afresh from the people's activities now."""
    farms = Farms(model.people, model.households, model.params)
    farms.update(model.people, model.households)
    return farms


def test_kept_farms_equal_farms_computed_afresh_every_month(shocked):
    model = WorkshopEconomy(shocked)
    for m in months(model, shocked.run.months):
        fresh = from_scratch(m)
        assert np.array_equal(m.farms.farmers, fresh.farmers)
        assert np.array_equal(m.farms.income, fresh.income)
        assert np.array_equal(m.ledger.by_source[Source.FARMING], fresh.income)
        farmers = m.people.activity == Activity.FARMING
        assert np.array_equal(
            m.farms.current_farmers(m.people),
            np.bincount(m.people.household[farmers], minlength=len(m.households)),
        )


def test_current_farmers_follow_changes_since_the_last_update(tiny):
    model = WorkshopEconomy(variant(tiny, months=2))
    people = model.people
    farmer = np.flatnonzero(people.activity == Activity.FARMING)[0]
    idle = np.flatnonzero((people.activity == Activity.NOT_WORKING) & (people.capacity > 0))[0]
    people.activity[farmer] = Activity.MIGRATION
    people.activity[idle] = Activity.FARMING
    before = model.farms.farmers.copy()
    now = model.farms.current_farmers(people)
    expected = before.copy()
    expected[people.household[farmer]] -= 1
    expected[people.household[idle]] += 1
    assert np.array_equal(now, expected)
    assert np.array_equal(model.farms.farmers, before)  # counting changes nothing


def test_an_update_recomputes_only_households_whose_farmers_changed(tiny):
    model = WorkshopEconomy(variant(tiny, months=2))
    people, farms = model.people, model.farms
    farmer = np.flatnonzero(people.activity == Activity.FARMING)[0]
    home = people.household[farmer]
    people.activity[farmer] = Activity.NOT_WORKING
    update = farms.update(people, model.households)
    assert update.changed.tolist() == [farmer]
    assert set(people.household[update.farmers]) <= {home}
    assert farms.farmers[home] == np.count_nonzero(
        people.activity[people.household == home] == Activity.FARMING
    )


def test_farm_income_shares_land_and_rents_out_the_rest(tiny):
    land = np.array([6.0, 6.0, 0.0], dtype=np.float32)
    farmers = np.array([1, 3, 0])
    mu = mu_per_farmer(land, farmers, tiny)
    cap = tiny.incomes.mu_per_farmer_max
    assert mu.tolist() == pytest.approx([min(6.0, cap), 2.0, 0.0])
    yearly = tiny.incomes.farm_net_yuan_per_mu_year
    assert farm_yuan(mu, np.array([1.0, 0.6, 1.0]), tiny) == pytest.approx(
        mu * yearly / 12 * np.array([1.0, 0.6, 1.0])
    )
