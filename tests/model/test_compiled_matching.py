"""Compiled matching gives exactly the array version's workshop draws and hiring order."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from twins import run_both

from model.labour_market import hiring_order, pick_in_pools


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
    n_slots=st.integers(0, 40),
    n_pools=st.integers(1, 8),
)
def test_pick_in_pools_twins_are_identical(seed, n_apps, n_slots, n_pools):
    rng = np.random.default_rng(seed)
    slot_key = rng.integers(0, n_pools, n_slots)
    vacancies = rng.integers(0, 4, n_slots) * (rng.random(n_slots) < 0.7)
    key = rng.integers(0, n_pools + 1, n_apps)  # pool n_pools has no workshop
    u = rng.random(n_apps)
    u[: n_apps // 10] = np.nextafter(1.0, 0.0)  # draws at the top of their pool
    order = np.argsort(slot_key, kind="stable")  # as `pick_workshops` prepares them
    cumulative = np.concatenate(([0.0], np.cumsum(vacancies[order].astype(np.float64))))
    target, _ = run_both(pick_in_pools, key, u, slot_key[order], order, cumulative)
    room = np.bincount(slot_key, vacancies, n_pools + 1)  # vacancies per pool
    np.testing.assert_array_equal(target == -1, room[key] == 0)
    placed = target >= 0
    assert (slot_key[target[placed]] == key[placed]).all()
