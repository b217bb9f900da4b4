"""Compiled pay gives exactly the array version's earnings and household incomes."""

import copy

import numpy as np
import pytest
from model_helpers import months, variant

from model import jit
from model.economy import WorkshopEconomy
from model.households import Source
from model.scenario import Activity

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="numba not installed")
BOOKED = (Source.WAGES, Source.PIECE_WORK, Source.MIGRANT)


@pytest.fixture(scope="module")
def model(with_cooperatives):
    """A model after four months, with trained workers and piece-rate outwork."""
    model = WorkshopEconomy(variant(with_cooperatives, households=300))
    list(months(model, 4))
    rng = np.random.default_rng(5)
    model.people.courses[:] = rng.integers(0, 3, len(model.people))
    return model


def pay_once(model: WorkshopEconomy, compiled: bool, monkeypatch) -> WorkshopEconomy:
    """A copy of `model` after paying this month's earnings once."""
    copied = copy.deepcopy(model)
    monkeypatch.setenv("WSIM_NUMBA", "1" if compiled else "0")
    copied.people.earnings[:] = np.nan
    for source in BOOKED:
        copied.ledger.set(source, np.full(len(copied.households), np.nan))
    copied._pay()
    return copied


def test_compiled_and_array_pay_book_the_same_numbers(model, monkeypatch):
    compiled, arrays = (pay_once(model, flag, monkeypatch) for flag in (True, False))
    employed = model.people.employer >= 0
    migrants = compiled.people.activity == Activity.MIGRATION
    assert employed.sum() > 10 and migrants.sum() > 10
    assert (compiled.people.courses[employed] > 0).any()
    np.testing.assert_array_equal(compiled.people.earnings, arrays.people.earnings)
    assert not np.isnan(compiled.ledger.by_source[list(BOOKED)]).any()
    for source in BOOKED:  # exact, not approximately
        np.testing.assert_array_equal(compiled.ledger.by_source[source],
                                      arrays.ledger.by_source[source])
    assert (compiled.ledger.by_source[Source.PIECE_WORK] > 0).any()
    assert (compiled.ledger.total == arrays.ledger.total).all()
    for bill in ("wage_bill", "poor_wage_bill"):   # workshop accounts, exact
        np.testing.assert_array_equal(getattr(compiled.workshop_table, bill),
                                      getattr(arrays.workshop_table, bill))
    assert (compiled.workshop_table.poor_wage_bill > 0).any()


def test_sparse_rows_are_cleared_where_credited_last_month(model, monkeypatch):
    monkeypatch.setenv("WSIM_NUMBA", "1")
    copied = copy.deepcopy(model)
    copied._pay()
    copied.people.employer[:] = -1   # nobody works now: every wage must go
    copied.employed = None
    copied._pay()
    assert not copied.ledger.by_source[[Source.WAGES, Source.PIECE_WORK]].any()


@pytest.mark.parametrize("all_households", [True, False])
def test_compiled_and_array_farms_give_the_same_farmers_and_income(model, monkeypatch,
                                                                   all_households):
    people, households = model.people, model.households
    saved = people.activity.copy()
    rng = np.random.default_rng(3)
    able = people.capacity > 0
    people.activity[able] = rng.choice([Activity.FARMING, Activity.MIGRATION], able.sum())
    rows = None if all_households else np.flatnonzero(rng.random(len(households)) < 0.3)
    results = []
    try:
        for flag in ("1", "0"):
            monkeypatch.setenv("WSIM_NUMBA", flag)
            farms = copy.deepcopy(model.farms)
            farmers, earnings = farms._recompute(people, households, rows)
            results.append((farmers, earnings, farms.farmers, farms.income))
    finally:
        people.activity[:] = saved
    (compiled, arrays) = results
    assert len(compiled[0]) > 50 and (compiled[3] > 0).any()
    for got, expected in zip(compiled, arrays, strict=True):
        np.testing.assert_array_equal(got, expected)   # exact
