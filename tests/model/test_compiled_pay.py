"""Compiled pay gives exactly the array version's earnings and household incomes."""

import copy

import numpy as np
import pytest
from model_helpers import months, variant
from twins import assert_identical, run_both

from model.compiled.pay import SlotAccounts
from model.economy import WorkshopEconomy
from model.farming import recompute_farms
from model.households import Source
from model.labour_market import Staff
from model.offers import course_gains, migrant_net_wage
from model.pay import Productivity, credit_migrants, pay_workers, slot_pay
from model.scenario import Activity

BOOKED = (Source.WAGES, Source.PIECE_WORK, Source.MIGRANT)


@pytest.fixture(scope="module")
def model(with_cooperatives):
    """A model after four months, with trained workers and piece-rate outwork."""
    model = WorkshopEconomy(variant(with_cooperatives, households=300))
    list(months(model, 4))
    rng = np.random.default_rng(5)
    model.people.courses[:] = rng.integers(0, 3, len(model.people))
    return model


def unpaid(model: WorkshopEconomy):
    """A copy of the people with unknown earnings, and the course gains."""
    people = copy.deepcopy(model.people)
    people.earnings[:] = np.nan
    return people, course_gains(model.params.policy.training.productivity_gain)


def test_pay_workers_twins_are_identical(model):
    people, gains = unpaid(model)
    table, employed = model.workshop_table, model.employed_now()
    utilisation = table.utilisation(
        Staff.count(people, model.registered_person, len(table), employed).workers
    )
    rng = np.random.default_rng(1)
    # credited where workers live (0 there), left alone elsewhere
    wages, piece_work = rng.random(len(model.households)), rng.random(len(model.households))
    homes = people.household[employed]
    wages[homes] = piece_work[homes] = 0.0
    _, (paid, *_, (wages, piece_work), accounts) = run_both(
        pay_workers,
        people,
        employed,
        model.registered_person,
        (
            slot_pay(table, utilisation),
            Productivity(gains, model.params.workshops.time_wage_skill_share),
            model.params.policy.wage_subsidy.worker_age_max,
        ),
        (wages, piece_work),
        SlotAccounts.zeros(len(table)),
    )
    by_piece = table.by_piece[people.employer[employed]]
    assert by_piece.any() and not by_piece.all()
    assert (people.courses[employed] > 0).any()
    assert (piece_work[homes[by_piece]] > 0).any() and (wages[homes[~by_piece]] > 0).any()
    assert not np.isnan(paid.earnings[employed]).any()
    assert (accounts.pieces[table.by_piece] > 0).any() and (
        accounts.pieces[~table.by_piece] == 0
    ).all()
    assert (accounts.poor_wage_bill > 0).any() and (
        accounts.poor_wage_bill <= accounts.wage_bill
    ).all()
    assert (accounts.labour > 0).any()


def test_nobody_paid_leaves_the_accounts_at_zero(model):
    accounts = SlotAccounts.zeros(len(model.workshop_table))
    nobody = np.array([], dtype=np.int64)
    gains = course_gains(model.params.policy.training.productivity_gain)
    _, (*_, accounts) = run_both(
        pay_workers,
        model.people,
        nobody,
        model.registered_person,
        (
            slot_pay(model.workshop_table, np.ones(len(model.workshop_table))),
            Productivity(gains, 0.5),
            60,
        ),
        (np.zeros(len(model.households)), np.zeros(len(model.households))),
        accounts,
    )
    assert not any(total.any() for total in accounts)


def test_credit_migrants_twins_are_identical(model):
    people, gains = unpaid(model)
    migrants = np.flatnonzero(people.activity == Activity.MIGRATION)
    income = np.random.default_rng(2).random(len(model.households))  # overwritten
    _, (paid, *_, income) = run_both(
        credit_migrants, people, migrants, migrant_net_wage(model.params, model.year), gains, income
    )
    assert len(migrants) > 10 and (people.courses[migrants] > 0).any()
    assert (income[people.household[migrants]] > 0).all()
    assert not np.isnan(paid.earnings[migrants]).any()


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
    assert_identical(compiled.people.earnings, arrays.people.earnings)
    assert not np.isnan(compiled.ledger.by_source[list(BOOKED)]).any()
    assert_identical(compiled.ledger.by_source, arrays.ledger.by_source)  # bit for bit
    assert (compiled.ledger.by_source[Source.PIECE_WORK] > 0).any()
    assert_identical(compiled.ledger.total, arrays.ledger.total)
    for bill in ("wage_bill", "poor_wage_bill"):  # workshop accounts
        assert_identical(
            getattr(compiled.workshop_table, bill), getattr(arrays.workshop_table, bill)
        )
    assert (compiled.workshop_table.poor_wage_bill > 0).any()


@pytest.mark.parametrize("flag", ["1", "0"])
def test_sparse_rows_are_cleared_where_credited_last_month(model, monkeypatch, flag):
    monkeypatch.setenv("WSIM_NUMBA", flag)
    copied = copy.deepcopy(model)
    copied._pay()
    copied.people.employer[:] = -1  # nobody works now: every wage must go
    copied.employed = None
    copied._pay()
    assert not copied.ledger.by_source[[Source.WAGES, Source.PIECE_WORK]].any()


@pytest.mark.parametrize("all_households", [True, False])
def test_recompute_farms_twins_are_identical(model, all_households):
    people, households = copy.deepcopy(model.people), model.households
    rng = np.random.default_rng(3)
    able = people.capacity > 0
    people.activity[able] = rng.choice([Activity.FARMING, Activity.MIGRATION], able.sum())
    rows = None if all_households else np.flatnonzero(rng.random(len(households)) < 0.3)
    (farmers, earnings), (*_, n_farmers, income) = run_both(
        recompute_farms,
        people,
        households,
        rows,
        model.params,
        model.farms.farmers.copy(),
        model.farms.income.copy(),
    )
    assert len(farmers) > 50 and (earnings > 0).any()
    recomputed = slice(None) if rows is None else rows
    assert (n_farmers[recomputed] > 0).any() and (income[recomputed] > 0).any()
