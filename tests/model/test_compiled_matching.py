"""Compiled matching gives exactly the array version's workshop draws and hiring order."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import jit
from model.compiled_matching import hiring_order
from model.labour_market import Applications, pick_workshops

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="numba not installed")


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 400), n_slots=st.integers(1, 30),
       tied=st.booleans())
def test_hiring_order_is_lexsort_by_workshop_then_score(seed, n, n_slots, tied):
    rng = np.random.default_rng(seed)
    slot = rng.integers(0, n_slots, n)
    score = rng.integers(-2, 2, n).astype(float) if tied else rng.random(n) - 2 * (
        rng.random(n) < 0.3)
    np.testing.assert_array_equal(hiring_order(slot, score, n_slots),
                                  np.lexsort((score, slot)))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_apps=st.integers(0, 300), n_slots=st.integers(0, 40),
       n_pools=st.integers(1, 8))
def test_compiled_pool_draw_equals_the_array_version(seed, n_apps, n_slots, n_pools):
    rng = np.random.default_rng(seed)
    slot_key = rng.integers(0, n_pools, n_slots)
    vacancies = rng.integers(0, 4, n_slots) * (rng.random(n_slots) < 0.7)
    apps = Applications(np.arange(n_apps), rng.integers(0, n_pools + 1, n_apps),
                        np.zeros(n_apps, bool), np.zeros(n_apps, bool))
    u = rng.random(n_apps)
    u[: n_apps // 10] = np.nextafter(1.0, 0.0)   # draws at the top of their pool
    compiled = pick_workshops(apps, slot_key, vacancies, u)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WSIM_NUMBA", "0")
        arrays = pick_workshops(apps, slot_key, vacancies, u)
    np.testing.assert_array_equal(compiled, arrays)
    assert (compiled == -1).sum() == (arrays == -1).sum()
