"""Compiled care load and carer designation equal the array version exactly."""

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_helpers import variant

from model import jit
from model.households import Health, update_care
from model.population import synthesise
from model.streams import make_stream

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="numba not installed")
CARE_FLAGS = ("young_child", "care_need", "has_disabled", "substitute_carer", "has_labour",
              "carer")


@pytest.fixture(scope="module")
def county(tiny):
    return synthesise(variant(tiny, households=600), make_stream(5, "population"))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), elderly_care=st.booleans(), disabled_work=st.booleans())
def test_compiled_and_array_care_are_identical(county, tiny, seed, elderly_care, disabled_work):
    households, people, _ = county
    rng = np.random.default_rng(seed)
    people = copy.deepcopy(people)
    n = len(people)
    people.age[:] = rng.integers(0, 90, n)
    people.health[:] = rng.choice([Health.HEALTHY, Health.CHRONIC, Health.DISABLED], n)
    people.frail[:] = rng.random(n) < 0.1
    people.female[:] = rng.random(n) < 0.5
    people.skill[:] = rng.choice([0.5, 0.8, 1.0], n)   # ties within households
    rules = tiny.population.model_copy(update={"healthy_elderly_can_care": elderly_care,
                                               "disabled_can_work": disabled_work})
    results = []
    for flag in ("1", "0"):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("WSIM_NUMBA", flag)
            hh, folk = copy.deepcopy(households), copy.deepcopy(people)
            update_care(folk, hh, rules)
            results.append((hh, folk))
    (hh_c, folk_c), (hh_a, folk_a) = results
    for name in CARE_FLAGS:
        np.testing.assert_array_equal(getattr(hh_c, name), getattr(hh_a, name), err_msg=name)
    np.testing.assert_array_equal(folk_c.capacity, folk_a.capacity)
    np.testing.assert_array_equal(folk_c.carer, folk_a.carer)
    assert (hh_c.carer >= 0).any() and folk_c.capacity.dtype == np.float32
