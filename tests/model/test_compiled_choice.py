"""The compiled logit choice gives exactly the array version's choices.

Both versions see the same model state: the people able to work all revise, with random
exponential draws, after the state is perturbed (activities, jobs, health, care duties, courses,
migration stop) so that every option, feasibility rule and utility term is exercised.
"""

from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_helpers import variant
from twins import run_both

from model.choice import N_OPTIONS, feasible_options, utilities
from model.compiled import choice as compiled_choice
from model.economy import WorkshopEconomy, _revisers, logit_decisions
from model.households import IS_WORKSHOP_ACTIVITY, NO_EMPLOYER, Health
from model.labour_market import Staff
from model.offers import Viewer, build_offers
from model.scenario import Activity


@pytest.fixture(scope="module")
def economy(tiny) -> WorkshopEconomy:
    """Every workshop form, resettlement sites with community factories, piece and time pay."""
    changes = {
        "policy.training.enabled": True,
        "population.resettled_share": 0.3,
        "workshops.community.initial_count": 20,
        "county.resettlement_sites": 60,
        "workshops.park.initial_count": 20,
        "workshops.factory.piece_rate_share": 0.5,
    }
    scenario = variant(tiny, changes, households=400)
    model = WorkshopEconomy(scenario)
    for _ in range(3):
        model.step()
    return model


def both_versions(model: WorkshopEconomy, coef, u_seed: int):
    """(chosen, current_ok) for every able person, identical in both versions."""
    people = model.people
    idx = np.flatnonzero(people.capacity > 0)
    viewer = Viewer(
        idx, people, model.households, model.geography.park_distance_km, model.year, model.farms
    )
    staff = Staff.count(people, model.registered_person, len(model.workshop_table))
    market = model._market(staff)
    draws = np.random.default_rng(u_seed).exponential(size=(len(idx), N_OPTIONS))
    decisions, _ = run_both(logit_decisions, viewer, market, model.params, coef, draws)
    return decisions


@contextmanager
def perturbed(model: WorkshopEconomy, seed: int):
    """Random activities, health, care duties, courses and migration stops, then restored."""
    p, n = model.people, len(model.people)
    names = ("activity", "employer", "health", "carer", "kept_home", "courses", "female")
    saved = {name: getattr(p, name).copy() for name in names}
    rng = np.random.default_rng(seed)
    able = p.capacity > 0
    p.activity[able] = rng.integers(0, len(Activity), able.sum())
    p.employer[~IS_WORKSHOP_ACTIVITY[p.activity]] = NO_EMPLOYER  # jobs only in workshops
    p.health[:] = rng.choice(
        [Health.HEALTHY, Health.CHRONIC, Health.DISABLED], n, p=[0.8, 0.15, 0.05]
    )
    p.carer[:] = rng.random(n) < 0.2
    p.kept_home[:] = rng.random(n) < 0.1
    p.courses[:] = rng.integers(0, 3, n)
    p.female[:] = rng.random(n) < 0.5
    try:
        yield
    finally:
        for name, values in saved.items():
            getattr(p, name)[:] = values


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    inertia=st.sampled_from([0.0, 1.5]),
    flexible=st.booleans(),
    mother_penalty=st.sampled_from([0.0, 3.0]),
)
def test_logit_decisions_twins_are_identical(economy, seed, inertia, flexible, mother_penalty):
    coef = economy.params.choice.model_copy(
        update={
            "inertia": inertia,
            "flexible_hours": flexible,
            "young_child_away_penalty": mother_penalty,
        }
    )
    with perturbed(economy, seed):
        chosen, ok = both_versions(economy, coef, seed)
    assert len(chosen) > 100 and not ok.all()
    assert len(np.unique(chosen)) >= 5, "most options are chosen by someone"


def test_current_job_pays_its_own_rate_in_both_versions(economy):
    employed = economy.people.employer[economy.people.capacity > 0] >= 0
    assert employed.any()
    both_versions(economy, economy.params.choice, 7)


def test_compiled_utilities_equal_the_array_version_bit_for_bit(economy):
    """Each option k against not working, with log draws equal to the array utilities.

    Option k's score (utility less log draw) is then exactly 0 where the versions agree,
    as is not working's; lowering k's log draw by one ulp makes k win where it is
    feasible. Any utility one ulp apart, or any feasibility apart, changes a choice.
    """
    with perturbed(economy, 11):
        people, coef = economy.people, economy.params.choice
        idx = np.flatnonzero(people.capacity > 0)
        viewer = Viewer(
            idx,
            people,
            economy.households,
            economy.geography.park_distance_km,
            economy.year,
            economy.farms,
        )
        market = economy._market(
            Staff.count(people, economy.registered_person, len(economy.workshop_table))
        )
        r, offers = _revisers(viewer), build_offers(viewer, market, economy.params)
        feasible_arrays = feasible_options(
            r, offers, economy.params.population.migrant_age_max, coef.flexible_hours
        )
        v = utilities(r, offers, coef)
        columns = (
            compiled_choice._persons(viewer),
            compiled_choice._households(viewer),
            compiled_choice._market(market),
            compiled_choice._rates(economy.params, coef, viewer.year, market),
        )
        chosen = np.empty(len(idx), dtype=np.int8)
        current_ok = np.empty(len(idx), dtype=bool)
        for k in range(1, len(Activity)):
            for lowered in (False, True):
                log_draws = np.full(v.shape, np.inf)  # score -inf: never chosen
                log_draws[:, Activity.NOT_WORKING] = v[:, Activity.NOT_WORKING]
                log_draws[:, k] = np.nextafter(v[:, k], -np.inf) if lowered else v[:, k]
                compiled_choice._choose(idx, *columns, log_draws, chosen, current_ok)
                expected = np.where(feasible_arrays[:, k] & lowered, k, Activity.NOT_WORKING)
                np.testing.assert_array_equal(chosen, expected, err_msg=f"option {k}")
    rows = np.arange(len(idx))
    np.testing.assert_array_equal(current_ok, feasible_arrays[rows, r.current])
    # the comparison covers carers at a community factory downstairs and one elsewhere
    carers = r.carer & r.resettled & feasible_arrays[:, Activity.COMMUNITY_FACTORY]
    assert (carers & offers.downstairs).any() and (carers & ~offers.downstairs).any()
    # and workshop options closed by the reservation income although places exist
    assert (offers.income[:, Activity.HOME_OUTWORK] > 0).any()
    assert (~feasible_arrays[:, Activity.HOME_OUTWORK]).any()
