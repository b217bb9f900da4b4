"""Compiled poverty measures, group income sums and job sums equal the array versions."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from twins import run_both

from model.collection import column_sums, job_sums
from model.economy import WorkshopEconomy
from model.metrics import STAYED_OUT_MONTHS, Groups, PovertyStatus, fgt_sums, poverty_month
from model.workshops import Form


def random_groups(rng: np.random.Generator, n: int) -> tuple[Groups, np.ndarray]:
    weights = rng.integers(1, 9, n).astype(np.int16)
    masks = {
        "all": np.ones(n, dtype=bool),
        "a": rng.random(n) < 0.3,
        "b": rng.random(n) < 0.6,
        "none": np.zeros(n, dtype=bool),
    }
    return Groups.of(masks, weights), weights


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 3000))
def test_fgt_sums_twins_are_identical(seed, n):
    rng = np.random.default_rng(seed)
    groups, weights = random_groups(rng, n)
    income = rng.lognormal(8.0, 1.0, n) * rng.choice([1.0, 0.0, -0.5], n, p=[0.9, 0.05, 0.05])
    line = float(np.quantile(income, 0.4))
    sums, _ = run_both(fgt_sums, income, line, weights, groups.membership)
    assert sums.shape == (3, 4) and (sums[:, 3] == 0).all()
    assert sums[0, 0] == weights[income < line].sum()


def test_column_sums_twins_are_identical():
    rng = np.random.default_rng(2)
    by_source = rng.lognormal(5.0, 2.0, (8, 20_000))
    rows = np.flatnonzero(rng.random(20_000) < 0.4)
    run_both(column_sums, by_source, rows)
    sequential = np.zeros(8)
    for row in rows[:50]:
        sequential += by_source[:, row]
    sums, _ = run_both(column_sums, by_source, rows[:50])
    np.testing.assert_array_equal(sums, sequential)  # added left to right


def test_job_sums_twins_are_identical(tiny):
    model = WorkshopEconomy(tiny)
    for _ in range(3):
        model.step()
    p = model.people
    employed = model.employed_now()
    p.earnings_before_job[employed[::3]] = np.nan  # unknown gains
    (jobs, poor_jobs, _, _, gain_n), _ = run_both(
        job_sums,
        employed,
        p.employer,
        model.workshop_table.form,
        model.registered_person,
        p.earnings,
        p.earnings_before_job,
        len(Form),
    )
    assert jobs.sum() == len(employed) > 0
    assert 0 < gain_n.sum() < poor_jobs.sum()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 3000))
def test_poverty_month_twins_are_identical(seed, n):
    rng = np.random.default_rng(seed)
    size = rng.integers(1, 8, n).astype(np.int16)
    window = rng.lognormal(6.0, 1.0, (12, n))
    rolling = window.sum(axis=0)
    line = float(np.quantile(rolling / size, 0.4))
    poor = rolling / size < line
    status = PovertyStatus(
        poor,
        rng.random(n) < 0.3,  # ever exited
        rng.integers(0, 30, n).astype(np.int16) * ~poor,  # months out, 0 while poor
        rng.random(n) < 0.1,  # stayed out
        rng.random(n) < 0.5,  # poor at the start
    )
    income = window[0] * rng.choice([0.2, 1.0, 3.0], n)  # some fall in, some climb out
    (changed, re_entries, poor_now, both), (_, row, rolling_after, _, _, after) = run_both(
        poverty_month, income, window[0], rolling, size, line, status
    )
    np.testing.assert_array_equal(row, income)
    np.testing.assert_allclose(rolling_after, rolling + income - window[0])
    np.testing.assert_array_equal(after.poor, rolling_after / size < line)
    assert poor_now == after.poor.sum() and both == (after.poor & after.start_poor).sum()
    np.testing.assert_array_equal(changed, np.flatnonzero(after.poor != poor))
    assert re_entries == (status.ever_exited & after.poor & ~poor).sum()
    assert after.ever_exited[changed[~after.poor[changed]]].all()  # exits marked
    lasting = after.months_out >= STAYED_OUT_MONTHS
    assert (after.stayed_out[lasting]).all() and (after.months_out[after.poor] == 0).all()
