"""Compiled care load and carer designation equal the array version bit for bit."""

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_helpers import variant
from twins import run_both

from model.households import Health, _capacity_by_health, recompute_care
from model.population import synthesise
from model.streams import make_stream


@pytest.fixture(scope="module")
def county(tiny):
    return synthesise(variant(tiny, households=600), make_stream(5, "population"))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), elderly_care=st.booleans(), disabled_work=st.booleans())
def test_recompute_care_twins_are_identical(county, tiny, seed, elderly_care, disabled_work):
    households, people, _ = county
    rng = np.random.default_rng(seed)
    people = copy.deepcopy(people)
    n = len(people)
    people.age[:] = rng.integers(0, 90, n)
    people.health[:] = rng.choice([Health.HEALTHY, Health.CHRONIC, Health.DISABLED], n)
    people.frail[:] = rng.random(n) < 0.1
    people.female[:] = rng.random(n) < 0.5
    people.skill[:] = rng.choice([0.5, 0.8, 1.0], n)  # ties within households
    rules = tiny.population.model_copy(
        update={"healthy_elderly_can_care": elderly_care, "disabled_can_work": disabled_work}
    )
    _, (folk, hh, *_) = run_both(
        recompute_care,
        people,
        households,
        rules,
        _capacity_by_health(rules),
        Health.HEALTHY,
        Health.DISABLED,
    )
    assert (hh.carer >= 0).any() and folk.carer.any()
    assert hh.substitute_carer.any() == elderly_care
    assert folk.capacity.dtype == np.float32
