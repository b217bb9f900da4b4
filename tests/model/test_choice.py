import numpy as np
import pytest
from scipy import stats

from model.choice import (
    N_OPTIONS,
    RULES,
    Offers,
    Revisers,
    choice_probabilities,
    choose,
    feasible_options,
    income_max_choice,
    logit_choice,
    utilities,
)
from model.households import Health
from model.scenario import ACTIVITY_NAMES, Activity

A = Activity
ALL = np.ones(N_OPTIONS, dtype=bool)


def revisers(n: int = 1, **overrides) -> Revisers:
    fields = dict(
        current=np.full(n, A.NOT_WORKING, dtype=np.int8),
        carer=np.zeros(n, bool),
        health=np.full(n, Health.HEALTHY, dtype=np.int8),
        age=np.full(n, 30, np.int16),
        kept_home=np.zeros(n, bool),
        has_land=np.ones(n, bool),
        resettled=np.ones(n, bool),
    )
    fields.update({k: np.asarray(v) for k, v in overrides.items()})
    return Revisers(**fields)


def offers(income, cost=None, available=None) -> Offers:
    income = np.atleast_2d(np.asarray(income, dtype=np.float64))
    cost = np.zeros_like(income) if cost is None else np.atleast_2d(cost).astype(np.float64)
    available = np.ones(income.shape, bool) if available is None else np.atleast_2d(available)
    return Offers(income, cost, available)


def feasible(r: Revisers, o: Offers, flexible: bool = True) -> np.ndarray:
    return feasible_options(r, o, migrant_age_max=55, flexible_hours=flexible)


# ------------------------------------------------------------------ feasibility


def test_carer_may_neither_migrate_nor_commute_to_the_park():
    f = feasible(revisers(carer=[True]), offers(np.zeros(N_OPTIONS)))[0]
    assert not f[A.MIGRATION] and not f[A.PARK_WORKSHOP]
    assert f[A.HOME_OUTWORK] and f[A.NOT_WORKING]


def test_carer_walks_to_village_workshop_only_with_flexible_hours():
    r, o = revisers(carer=[True]), offers(np.zeros(N_OPTIONS))
    assert feasible(r, o, flexible=True)[0, A.VILLAGE_WORKSHOP]
    assert feasible(r, o, flexible=True)[0, A.COMMUNITY_FACTORY]
    assert not feasible(r, o, flexible=False)[0, A.VILLAGE_WORKSHOP]
    assert not feasible(r, o, flexible=False)[0, A.COMMUNITY_FACTORY]
    assert feasible(revisers(), o, flexible=False)[0, A.VILLAGE_WORKSHOP]


@pytest.mark.parametrize(
    ("override", "migrate", "park"),
    [
        ({"health": [Health.CHRONIC]}, False, True),
        ({"health": [Health.DISABLED]}, False, False),
        ({"age": [56]}, False, True),
        ({"age": [55]}, True, True),
        ({"kept_home": [True]}, False, True),
    ],
)
def test_who_may_migrate_or_commute(override, migrate, park):
    f = feasible(revisers(**override), offers(np.zeros(N_OPTIONS)))[0]
    assert f[A.MIGRATION] == migrate
    assert f[A.PARK_WORKSHOP] == park


def test_farming_needs_land_and_community_factory_needs_resettlement():
    f = feasible(revisers(has_land=[False], resettled=[False]), offers(np.zeros(N_OPTIONS)))[0]
    assert not f[A.FARMING] and not f[A.COMMUNITY_FACTORY]


def test_workshop_options_need_places_but_not_working_is_always_open():
    closed = np.zeros(N_OPTIONS, dtype=bool)
    f = feasible(revisers(), offers(np.zeros(N_OPTIONS), available=closed))[0]
    assert not f[[A.HOME_OUTWORK, A.VILLAGE_WORKSHOP, A.PARK_WORKSHOP, A.COMMUNITY_FACTORY]].any()
    assert f[A.NOT_WORKING] and f[A.FARMING] and f[A.MIGRATION]


# ------------------------------------------------------------------ utilities


def test_utilities_match_the_formula(tiny):
    coef = tiny.choice
    income = np.array([0, 800, 900, 2000, 3000, 2200, 4000], dtype=float)
    cost = np.array([0, 0, 0, 0, 200, 0, 600], dtype=float)
    r = revisers(2, current=[A.FARMING, A.HOME_OUTWORK], carer=[False, True])
    v = utilities(r, offers(np.tile(income, (2, 1)), np.tile(cost, (2, 1))), coef)
    constants = np.array([coef.option_constants.get(a, 0.0) for a in ACTIVITY_NAMES])
    base = coef.utility_per_1000_yuan * (income - cost) / 1000 + constants
    first = base.copy()
    first[A.FARMING] += coef.inertia
    second = base.copy()
    second[A.HOME_OUTWORK] += coef.inertia
    second[[A.VILLAGE_WORKSHOP, A.COMMUNITY_FACTORY]] -= coef.care_penalty
    assert v[0] == pytest.approx(first)
    assert v[1] == pytest.approx(second)


# ------------------------------------------------------------------ logit


def test_choice_probabilities_are_zero_on_infeasible_and_sum_to_one():
    v = np.array([[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [800.0, -900.0, 0, 0, 0, 0, 1000.0]])
    f = np.array([[True, False, True, True, False, True, False], ALL])
    p = choice_probabilities(v, f)
    assert np.isfinite(p).all()
    assert p.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert (p[~f] == 0).all()
    expected = np.exp(v[0, f[0]]) / np.exp(v[0, f[0]]).sum()
    assert p[0, f[0]] == pytest.approx(expected)
    assert p[1, A.MIGRATION] == pytest.approx(1.0)


def test_logit_frequencies_match_probabilities():
    rng = np.random.default_rng(2016)
    n = 200_000
    v = np.array([0.2, 1.0, -0.5, 0.7, 3.0, 0.0, 1.5])
    f = np.array([True, True, True, True, False, True, True])
    chosen = logit_choice(
        np.tile(v, (n, 1)), np.tile(f, (n, 1)), rng.exponential(size=(n, N_OPTIONS))
    )
    counts = np.bincount(chosen, minlength=N_OPTIONS)
    p = choice_probabilities(v[None], f[None])[0]
    assert counts[~f].sum() == 0
    assert stats.chisquare(counts[f], p[f] * n).pvalue > 1e-3
    assert counts / n == pytest.approx(p, abs=0.005)


def test_logit_never_picks_an_infeasible_option():
    rng = np.random.default_rng(5)
    n = 50_000
    v = rng.normal(0, 5, (n, N_OPTIONS))
    f = rng.random((n, N_OPTIONS)) < 0.4
    f[np.arange(n), rng.integers(0, N_OPTIONS, n)] = True  # at least one feasible
    draws = rng.exponential(size=(n, N_OPTIONS))
    draws[:10] = 1e-300  # infeasible options that would win any race
    chosen = logit_choice(v, f, draws)
    assert f[np.arange(n), chosen].all()


def test_logit_is_a_race_of_each_options_own_draw():
    v = np.zeros((3, N_OPTIONS))
    f = np.zeros((3, N_OPTIONS), dtype=bool)
    f[:, [A.FARMING, A.MIGRATION]] = True
    draws = np.ones((3, N_OPTIONS))
    draws[0, A.FARMING] = 0.5  # farming's draw comes first
    draws[1, A.MIGRATION] = 0.5
    draws[2, A.MIGRATION] = 0.5
    v[2, A.FARMING] = np.log(3.0)  # three times as fast: 1/3 beats 0.5
    chosen = logit_choice(v, f, draws)
    assert chosen.tolist() == [A.FARMING, A.MIGRATION, A.FARMING]


def test_a_change_in_one_options_utility_moves_choices_only_to_or_from_it():
    rng = np.random.default_rng(9)
    n = 20_000
    v = rng.normal(0, 1, (n, N_OPTIONS))
    f = np.ones((n, N_OPTIONS), dtype=bool)
    draws = rng.exponential(size=(n, N_OPTIONS))
    before = logit_choice(v, f, draws)
    v[:, A.PARK_WORKSHOP] += 0.5
    after = logit_choice(v, f, draws)
    moved = before != after
    assert moved.any() and (after[moved] == A.PARK_WORKSHOP).all()


# ------------------------------------------------------------------ income maximisation


def test_income_max_picks_the_highest_net_income():
    r = revisers(1, current=[A.FARMING])
    o = offers([0, 500, 900, 1200, 3000, 0, 3100], cost=[0, 0, 0, 0, 200, 0, 600])
    chosen = income_max_choice(r, o, feasible(r, o))
    assert chosen[0] == A.PARK_WORKSHOP  # 2800 beats 2500 (migration) and 1200


def test_income_max_keeps_current_activity_on_ties():
    r = revisers(1, current=[A.HOME_OUTWORK])
    o = offers([0, 0, 1000, 1000, 0, 0, 0])
    o.available[0, A.MIGRATION] = False
    f = feasible(r, o)
    f[0, A.MIGRATION] = False
    assert income_max_choice(r, o, f)[0] == A.HOME_OUTWORK


def test_income_max_breaks_other_ties_by_lowest_code():
    r = revisers(1, current=[A.NOT_WORKING])
    o = offers([0, 0, 1000, 1000, 0, 0, 0])
    f = feasible(r, o)
    f[0, A.MIGRATION] = False
    assert income_max_choice(r, o, f)[0] == A.HOME_OUTWORK


def test_income_max_never_keeps_an_infeasible_current_activity():
    r = revisers(1, current=[A.MIGRATION], carer=[True])
    o = offers([0, 100, 200, 0, 0, 0, 5000])
    assert income_max_choice(r, o, feasible(r, o))[0] == A.HOME_OUTWORK


def test_choose_applies_the_scenario_rule(tiny):
    assert set(RULES) == {"logit", "income_max", "satisficing"}
    r = revisers(3, current=[A.NOT_WORKING] * 3)
    o = offers(np.tile([0, 100, 200, 0, 300, 0, 10_000], (3, 1)))
    greedy = tiny.choice.model_copy(update={"rule": "income_max"})
    draws = np.ones((3, N_OPTIONS))
    chosen, current_ok = choose(r, o, greedy, 55, draws)
    assert chosen.tolist() == [A.MIGRATION] * 3
    assert current_ok.tolist() == [True] * 3  # not working is always feasible
    # no pay anywhere and not working's draw far ahead of the others': the race takes it
    draws[:, A.NOT_WORKING] = 1e-9
    unpaid = offers(np.zeros((3, N_OPTIONS)))
    assert choose(r, unpaid, tiny.choice, 55, draws)[0].tolist() == [A.NOT_WORKING] * 3


def test_choose_flags_a_current_activity_that_became_infeasible(tiny):
    r = revisers(2, current=[A.MIGRATION, A.MIGRATION], carer=[True, False])
    o = offers(np.tile([0, 100, 200, 0, 300, 0, 10_000], (2, 1)))
    _, current_ok = choose(r, o, tiny.choice, 55, np.ones((2, N_OPTIONS)))
    assert current_ok.tolist() == [False, True]
