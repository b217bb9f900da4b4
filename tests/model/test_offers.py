import numpy as np
import pytest
from model_helpers import months, variant, workers_per_slot

from model.economy import WorkshopEconomy
from model.offers import (
    Market,
    Viewer,
    build_offers,
    migrant_net_wage,
    productivity,
    wage_productivity,
    work_disutility,
)
from model.scenario import Activity, interpolate_by_year
from model.workshops import Form, Status

A = Activity


@pytest.fixture(scope="module")
def market_model(tiny):
    model = WorkshopEconomy(variant(tiny, {"workshops.park.initial_count": 30}))
    list(months(model, 2))
    workers = workers_per_slot(model)
    return model, Market.of(model.workshop_table, workers, model.pools), workers


def viewer(model: WorkshopEconomy, idx: np.ndarray) -> Viewer:
    """The people `idx` of the model as revisers see the county now."""
    return Viewer(
        idx,
        model.people,
        model.households,
        model.geography.park_distance_km,
        model.year,
        model.farms,
    )


def test_vacancies_are_free_places_at_hiring_workshops(market_model):
    model, market, workers = market_model
    for w in model.workshop_slots:
        expected = max(w.capacity - workers[w.slot], 0) if w.status == Status.OPEN else 0
        assert market.vacancies[w.slot] == expected


def test_pool_pay_is_capacity_weighted_pay_by_scheme_and_the_chance_of_a_place(market_model):
    model, _, workers = market_model
    table = model.workshop_table
    pools = model.pools
    for activity, form in ((A.HOME_OUTWORK, Form.OUTWORK), (A.PARK_WORKSHOP, Form.PARK)):
        pool = pools.county(activity)
        shops = [w for w in model.workshop_slots if w.form == form and w.status == Status.OPEN]
        places = np.array([w.capacity for w in shops], dtype=float)
        utilisation = table.utilisation(workers)
        pays = np.array([w.pay_yuan_per_month * utilisation[w.slot] for w in shops])
        piece = np.array([w.piece_rate_yuan > 0 for w in shops])
        vacancies = np.array([max(w.capacity - workers[w.slot], 0) for w in shops], dtype=float)
        assert vacancies.sum() > 0
        queue = np.zeros(pools.n_pools)
        queue[pool] = 3 * vacancies.sum()  # three turned away per open place: a 1-in-4 chance
        market = Market.of(table, workers, pools, queue)
        mean = (places * pays * piece).sum() / places.sum()
        assert market.pool_piece[pool] == pytest.approx(mean)
        mean = (places * pays * ~piece).sum() / places.sum()
        assert market.pool_time[pool] == pytest.approx(mean)
        assert market.pool_chance[pool] == pytest.approx(0.25)
        assert market.pool_open[pool]
        no_queue = Market.of(table, workers, pools)
        assert no_queue.pool_chance[pool] == 1.0


def test_outwork_pays_by_the_piece_and_park_workshops_a_time_wage(market_model):
    model, market, _ = market_model
    pools = model.pools
    assert market.pool_piece[pools.county(A.HOME_OUTWORK)] > 0
    assert market.pool_time[pools.county(A.HOME_OUTWORK)] == 0
    assert market.pool_time[pools.county(A.PARK_WORKSHOP)] > 0
    assert market.pool_piece[pools.county(A.PARK_WORKSHOP)] == 0


def test_offers_follow_pools_productivity_capacity_and_costs(market_model):
    model, market, _ = market_model
    people, hh, params = model.people, model.households, model.params
    idx = np.flatnonzero((people.capacity > 0) & (people.employer < 0))[:200]
    offers = build_offers(viewer(model, idx), market, params)
    cap = people.capacity[idx].astype(float)
    prod = productivity(people, params.policy.training.productivity_gain, idx)
    wage_prod = wage_productivity(prod, params.workshops.time_wage_skill_share)
    village = hh.village[people.household[idx]]

    def expected(pool):
        pay = market.pool_piece[pool] * prod + market.pool_time[pool] * wage_prod
        return pay * cap * market.pool_chance[pool]

    outwork = model.pools.county(A.HOME_OUTWORK)
    assert offers.income[:, A.HOME_OUTWORK] == pytest.approx(expected(outwork))
    assert offers.income[:, A.VILLAGE_WORKSHOP] == pytest.approx(expected(village))
    net = interpolate_by_year(params.incomes.migrant_wage_yuan_per_month, model.year) * (
        1 - params.incomes.migrant_living_cost_share
    )
    assert migrant_net_wage(params, model.year) == pytest.approx(net)
    assert offers.income[:, A.MIGRATION] == pytest.approx(net * prod * cap)
    assert offers.cost[:, A.MIGRATION] == pytest.approx(
        np.full(len(idx), params.choice.migration_cost_yuan_per_month)
    )
    assert offers.cost[:, A.PARK_WORKSHOP] == pytest.approx(
        params.choice.commute_yuan_per_km_month * model.geography.park_distance_km[village]
    )
    assert (offers.income[:, A.NOT_WORKING] == 0).all()


def test_a_workshop_paying_below_the_reservation_income_is_not_on_offer(market_model):
    model, market, _ = market_model
    people, params = model.people, model.params
    idx = np.flatnonzero((people.capacity > 0) & (people.employer < 0))
    offers = build_offers(viewer(model, idx), market, params)
    cap = people.capacity[idx].astype(float)
    prod = productivity(people, params.policy.training.productivity_gain, idx)
    pool = model.pools.county(A.HOME_OUTWORK)
    if_hired = market.pool_piece[pool] * prod * cap
    reservation = offers.income[:, A.FARMING] + work_disutility(params.choice)[A.HOME_OUTWORK]
    np.testing.assert_array_equal(
        offers.available[:, A.HOME_OUTWORK], market.pool_open[pool] & (if_hired >= reservation)
    )
    assert (if_hired < reservation).any() and (if_hired >= reservation).any()


def test_farming_offer_shares_land_with_the_other_farmers(market_model):
    model, market, _ = market_model
    people, hh, inc = model.people, model.households, model.params.incomes
    idx = np.flatnonzero(people.capacity > 0)
    offers = build_offers(viewer(model, idx), market, model.params)
    farmer = people.activity == A.FARMING
    n_farmers = np.bincount(people.household, farmer, len(hh))[people.household[idx]]
    joining = n_farmers - farmer[idx] + 1
    mu = np.minimum(hh.land_mu[people.household[idx]] / joining, inc.mu_per_farmer_max)
    assert offers.income[:, A.FARMING] == pytest.approx(
        mu * inc.farm_net_yuan_per_mu_year / 12 * people.capacity[idx]
    )


def test_job_holders_see_their_own_workshops_pay(market_model):
    model, market, workers = market_model
    people = model.people
    idx = np.flatnonzero(people.employer >= 0)
    assert len(idx) > 0
    offers = build_offers(viewer(model, idx), market, model.params)
    gain = model.params.policy.training.productivity_gain
    share = model.params.workshops.time_wage_skill_share
    for row, person in enumerate(idx[:50]):
        shop = model.workshop_slots[people.employer[person]]
        own = shop.pay_yuan_per_month * market.utilisation[shop.slot] * people.capacity[person]
        prod = people.skill[person] * (1 + gain) ** int(people.courses[person])
        own *= prod if shop.piece_rate_yuan > 0 else (1 - share) + share * prod
        assert offers.income[row, people.activity[person]] == pytest.approx(own, rel=1e-6)


def test_productivity_compounds_per_course(market_model):
    model, _, _ = market_model
    people = model.people
    saved = people.courses.copy()
    try:
        people.courses[:3] = [0, 1, 3]
        prod = productivity(people, 0.1, np.arange(3))
        assert prod == pytest.approx(people.skill[:3] * np.array([1.0, 1.1, 1.331]), rel=1e-6)
    finally:
        people.courses[:] = saved
