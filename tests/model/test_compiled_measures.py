"""Compiled poverty measures and group income sums equal the array versions exactly."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import jit
from model.collection import _jobs_block
from model.compiled_measures import column_sums, fgt_sums
from model.economy import WorkshopEconomy
from model.metrics import Groups, _fgt_sums, fgt_of_groups

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="numba not installed")


def random_groups(rng: np.random.Generator, n: int) -> tuple[Groups, np.ndarray]:
    weights = rng.integers(1, 9, n).astype(np.int16)
    masks = {"all": np.ones(n, dtype=bool), "a": rng.random(n) < 0.3,
             "b": rng.random(n) < 0.6, "none": np.zeros(n, dtype=bool)}
    return Groups.of(masks, weights), weights


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 3000))
def test_compiled_fgt_sums_equal_the_array_version(seed, n):
    rng = np.random.default_rng(seed)
    groups, weights = random_groups(rng, n)
    income = rng.lognormal(8.0, 1.0, n) * rng.choice([1.0, 0.0, -0.5], n, p=[0.9, 0.05, 0.05])
    line = float(np.quantile(income, 0.4))
    compiled = fgt_sums(income, line, weights, groups.membership)
    arrays = np.array(_fgt_sums(income, line, weights, groups))
    np.testing.assert_array_equal(compiled, arrays)   # exact, float bits included


def test_fgt_of_groups_is_the_same_with_and_without_compiled_loops(monkeypatch):
    rng = np.random.default_rng(1)
    groups, weights = random_groups(rng, 5000)
    income = rng.lognormal(8.0, 1.0, 5000)
    line = float(np.median(income))
    compiled = fgt_of_groups(income, line, weights, groups)
    monkeypatch.setenv("WSIM_NUMBA", "0")
    assert fgt_of_groups(income, line, weights, groups) == compiled
    assert compiled["none"] == (0.0, 0.0, 0.0) and 0 < compiled["all"][0] < 1


def test_compiled_column_sums_add_left_to_right():
    rng = np.random.default_rng(2)
    by_source = rng.lognormal(5.0, 2.0, (8, 20_000))
    rows = np.flatnonzero(rng.random(20_000) < 0.4)
    np.testing.assert_array_equal(column_sums(by_source, rows),
                                  by_source[:, rows].sum(axis=1))
    sequential = np.zeros(8)
    for row in rows[:50]:
        sequential += by_source[:, row]
    np.testing.assert_array_equal(column_sums(by_source, rows[:50]), sequential)


def test_compiled_job_sums_equal_the_array_version(tiny, monkeypatch):
    model = WorkshopEconomy(tiny)
    for _ in range(3):
        model.step()
    model.people.earnings_before_job[model.employed_now()[::3]] = np.nan   # unknown gains
    compiled = _jobs_block(model)
    monkeypatch.setenv("WSIM_NUMBA", "0")
    arrays = _jobs_block(model)
    assert compiled["jobs_filled"].sum() > 0
    for name in ("jobs_filled", "poor_workers", "earnings_yuan_per_month",
                 "poor_gain_yuan_per_year"):
        np.testing.assert_array_equal(compiled[name], arrays[name], err_msg=name)
