"""Compiled matching gives exactly the array version's pick race and hiring order."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from twins import run_both

from model.labour_market import hiring_order, race


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(0, 400),
    n_slots=st.integers(1, 30),
    tied=st.booleans(),
)
def test_hiring_order_twins_are_identical(seed, n, n_slots, tied):
    rng = np.random.default_rng(seed)
    slot = rng.integers(0, n_slots, n)
    score = (
        rng.integers(-2, 2, n).astype(float) if tied else rng.random(n) - 2 * (rng.random(n) < 0.3)
    )
    order, _ = run_both(hiring_order, slot, score, n_slots)
    np.testing.assert_array_equal(order, np.lexsort((score, slot)))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_apps=st.integers(0, 300),
    n_candidates=st.integers(0, 40),
    n_keys=st.integers(1, 8),
    prefix=st.integers(0, 2**64 - 1),
)
def test_race_twins_are_identical(seed, n_apps, n_candidates, n_keys, prefix):
    rng = np.random.default_rng(seed)
    keys = np.sort(rng.integers(0, n_keys, n_candidates))
    weights = rng.integers(1, 5, n_candidates).astype(np.float64)
    entities = rng.integers(0, 2**40, n_candidates)
    wanted = rng.integers(-1, n_keys + 1, n_apps)  # -1 and key n_keys: no candidate
    persons = rng.integers(0, 10**6, n_apps)
    winner, _ = run_both(race, wanted, keys, weights, entities, persons, np.uint64(prefix))
    entered = winner >= 0
    assert (keys[winner[entered]] == wanted[entered]).all()
    assert np.array_equal(entered, np.isin(wanted, keys))
