"""The satisficing rule: keep an activity that pays the aspiration, otherwise search."""

import numpy as np
import pytest
from model_helpers import AWAY, months, variant
from test_choice import feasible, offers, revisers

from model.bounded_rationality import satisficing_choice, satisfied
from model.choice import N_OPTIONS, RULES, choose, income_max_choice
from model.economy import WorkshopEconomy
from model.households import Health
from model.scenario import Activity

A = Activity
ASPIRATION = 1000.0  # yuan/month
# net incomes (yuan/month) with the best option, migration, far above the aspiration
INCOME = [0.0, 400.0, 700.0, 1500.0, 2400.0, 0.0, 3000.0]


def satisficing(r, o, f, aspiration=ASPIRATION):
    return satisficing_choice(r, o, f, aspiration, search=income_max_choice)


def random_case(n: int, seed: int):
    """Revisers with random incomes, costs, availability and current activities."""
    rng = np.random.default_rng(seed)
    r = revisers(
        n,
        current=rng.integers(0, N_OPTIONS, n).astype(np.int8),
        carer=rng.random(n) < 0.3,
        age=rng.integers(16, 65, n).astype(np.int16),
        health=rng.choice(
            [Health.HEALTHY, Health.CHRONIC, Health.DISABLED], n, p=[0.8, 0.15, 0.05]
        ).astype(np.int8),
        has_land=rng.random(n) < 0.8,
        resettled=rng.random(n) < 0.2,
    )
    o = offers(
        rng.uniform(0, 3000, (n, N_OPTIONS)),
        cost=rng.uniform(0, 600, (n, N_OPTIONS)),
        available=rng.random((n, N_OPTIONS)) < 0.7,
    )
    return r, o, feasible(r, o)


def test_people_whose_current_income_reaches_the_aspiration_never_switch():
    r, o, f = random_case(20_000, seed=1)
    rows = np.arange(len(r.current))
    content = f[rows, r.current] & ((o.income - o.cost)[rows, r.current] >= ASPIRATION)
    assert content.sum() > 1000
    chosen = satisficing(r, o, f)
    assert np.array_equal(chosen[content], r.current[content])


def test_people_below_the_aspiration_switch_to_the_best_feasible_option():
    r, o, f = random_case(20_000, seed=2)
    rows = np.arange(len(r.current))
    short = (o.income - o.cost)[rows, r.current] < ASPIRATION
    assert short.sum() > 1000
    chosen = satisficing(r, o, f)
    assert np.array_equal(chosen[short], income_max_choice(r, o, f)[short])
    net = np.where(f, o.income - o.cost, -np.inf)
    assert np.array_equal(net[rows, chosen][short], net.max(axis=1)[short])


def test_a_farmer_content_with_farming_stays_while_income_maximisers_migrate():
    r = revisers(2, current=[A.FARMING, A.FARMING])
    o = offers(np.tile(INCOME, (2, 1)))
    o.income[0, A.FARMING] = ASPIRATION  # exactly at the aspiration: content
    o.income[1, A.FARMING] = ASPIRATION - 1.0  # just below: searches
    f = feasible(r, o)
    assert satisficing(r, o, f).tolist() == [A.FARMING, A.MIGRATION]
    assert income_max_choice(r, o, f).tolist() == [A.MIGRATION, A.MIGRATION]


def test_raising_the_aspiration_makes_more_people_search():
    r, o, f = random_case(5_000, seed=3)
    kept = [satisfied(r, o, f, a).sum() for a in (0.0, 500.0, 1000.0, 2000.0, 5000.0)]
    assert kept == sorted(kept, reverse=True)
    assert kept[-1] == 0


def test_the_rule_respects_feasibility_carers_never_migrate():
    r, o, f = random_case(20_000, seed=4)
    chosen = satisficing(r, o, f)
    assert f[np.arange(len(chosen)), chosen].all()
    away = np.isin(chosen, AWAY)
    assert not (away & r.carer).any()
    assert not (away & (r.health == Health.DISABLED)).any()


def test_a_carer_migrating_above_the_aspiration_still_comes_home():
    r = revisers(1, current=[A.MIGRATION], carer=[True])
    o = offers(INCOME)
    chosen = satisficing(r, o, feasible(r, o))
    assert chosen[0] == A.VILLAGE_WORKSHOP  # best of what a carer may do


def test_choose_dispatches_satisficing_and_draws_on_no_uniform(tiny):
    assert {"logit", "income_max", "satisficing"} <= set(RULES)
    coef = tiny.choice.model_copy(
        update={"rule": "satisficing", "aspiration_yuan_per_month": ASPIRATION}
    )
    r = revisers(2, current=[A.VILLAGE_WORKSHOP, A.FARMING])
    o = offers(np.tile(INCOME, (2, 1)))
    first, _ = choose(r, o, coef, 55, np.zeros(2))
    second, _ = choose(r, o, coef, 55, np.full(2, 0.99))
    assert first.tolist() == second.tolist() == [A.VILLAGE_WORKSHOP, A.MIGRATION]


@pytest.fixture(scope="module")
def satisficers(tiny):
    return variant(tiny, {"choice.rule": "satisficing"}, months=13)


def test_satisficers_in_the_economy_keep_carers_home(satisficers):
    model = WorkshopEconomy(satisficers)
    for m in months(model, satisficers.run.months):
        carers = m.households.carer[m.households.carer >= 0]
        assert not np.isin(m.people.activity[carers], AWAY).any(), m.month
