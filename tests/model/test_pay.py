import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_helpers import months, variant, workers_per_slot

from model.compiled.pay import Productivity, SlotAccounts, SlotPay
from model.economy import WorkshopEconomy
from model.households import NO_EMPLOYER, Households, IncomeLedger, People, Source
from model.offers import course_gains
from model.pay import cooperative_active_share, pay_workers, review_dibao
from model.scenario import Activity, interpolate_by_year
from model.workshops import Form, Status, WorkshopTable


@pytest.fixture(scope="module")
def paid(with_cooperatives):
    """A model after four months (cooperatives, equity and training in force)."""
    model = WorkshopEconomy(variant(with_cooperatives, households=300))
    list(months(model, 4))
    return model


def by_household(model, amounts):
    return np.bincount(model.people.household, amounts, len(model.households))


def test_workshop_pay_follows_utilisation_capacity_and_productivity(paid):
    people = paid.people
    table = paid.workshop_table
    utilisation = table.utilisation(workers_per_slot(paid))
    employed = people.employer >= 0
    slot = np.where(employed, people.employer, 0)
    base = np.where(employed, table.pay[slot] * utilisation[slot] * people.capacity, 0.0)
    piece = employed & table.by_piece[slot]
    gain = paid.params.policy.training.productivity_gain
    share = paid.params.workshops.time_wage_skill_share
    productivity = people.skill * (1 + gain) ** people.courses.astype(float)
    wages = np.where(employed & ~piece, base * ((1 - share) + share * productivity), 0.0)
    pieces = np.where(piece, base * productivity, 0.0)
    ledger = paid.ledger.by_source
    assert ledger[Source.WAGES] == pytest.approx(by_household(paid, wages), rel=1e-6)
    assert ledger[Source.PIECE_WORK] == pytest.approx(by_household(paid, pieces), rel=1e-6)
    assert pieces.sum() > 0 and wages.sum() > 0
    assert (people.courses[piece] > 0).any()  # trained outworkers are in the check


def test_piece_workshops_wage_bill_is_the_pieces_made_times_the_rate(paid):
    table = paid.workshop_table
    piece = np.flatnonzero(table.by_piece & table.is_open & (table.workers > 0))
    assert len(piece) > 0
    np.testing.assert_allclose(
        table.wage_bill[piece], table.pieces[piece] * table.piece_rate[piece], rtol=1e-6
    )
    assert (table.pieces[~table.by_piece] == 0).all()


def test_value_added_grows_with_the_workers_productivity(paid):
    people, table = paid.people, paid.workshop_table
    employed = np.flatnonzero(people.employer >= 0)
    gain = paid.params.policy.training.productivity_gain
    output = (
        people.capacity[employed]
        * people.skill[employed]
        * (1 + gain) ** people.courses[employed].astype(float)
    )
    labour = np.bincount(people.employer[employed], output, len(table))
    utilisation = table.utilisation(workers_per_slot(paid))
    open_ = np.flatnonzero(table.is_open & (table.workers > 0))
    expected = (
        table.rules.value_added[table.form[open_]]
        * table.productivity[open_]
        * utilisation[open_]
        * labour[open_]
    )
    np.testing.assert_allclose(table.value_added[open_], expected, rtol=1e-6)
    # a workshop's value added per worker is not its form's flat figure
    per_worker = table.value_added[open_] / (table.workers[open_] * utilisation[open_])
    flat = table.rules.value_added[table.form[open_]] * table.productivity[open_]
    assert not np.allclose(per_worker, flat)


def test_trained_workers_earn_more_by_the_piece_than_untrained_of_equal_skill(paid):
    """Earnings per unit of skill and capacity at a piece-paying workshop grow per course."""
    people, table = paid.people, paid.workshop_table
    pieceworkers = np.flatnonzero(people.employer >= 0)
    pieceworkers = pieceworkers[table.by_piece[people.employer[pieceworkers]]]
    slot = people.employer[pieceworkers]
    utilisation = table.utilisation(workers_per_slot(paid))[slot]
    busy = utilisation > 0
    pieceworkers, slot, utilisation = pieceworkers[busy], slot[busy], utilisation[busy]
    per_skill = people.earnings[pieceworkers] / (
        table.pay[slot] * utilisation * people.capacity[pieceworkers] * people.skill[pieceworkers]
    )
    trained = people.courses[pieceworkers] > 0
    assert trained.any() and (~trained).any()
    gain = paid.params.policy.training.productivity_gain
    assert per_skill[trained].min() > per_skill[~trained].max()
    assert per_skill[trained] == pytest.approx(
        (1 + gain) ** people.courses[pieceworkers[trained]].astype(float), rel=1e-5
    )


def _people(skill, courses, capacity, employer, household) -> People:
    n = len(skill)
    people = People(
        household=np.asarray(household, np.int32),
        age=np.full(n, 30, np.int16),
        female=np.zeros(n, bool),
        health=np.zeros(n, np.int8),
        frail=np.zeros(n, bool),
        skill=np.asarray(skill, np.float32),
        activity=np.where(np.asarray(employer) >= 0, Activity.HOME_OUTWORK, 0).astype(np.int8),
        employer=np.asarray(employer, np.int32),
        tenure=np.zeros(n, np.int16),
        courses=np.asarray(courses, np.int8),
        bonus_paid=np.zeros(n, bool),
        kept_home=np.zeros(n, bool),
    )
    people.capacity = np.asarray(capacity, np.float32)
    return people


@st.composite
def piece_work(draw):
    n_slots, n = draw(st.integers(1, 6)), draw(st.integers(1, 40))
    floats = st.floats(0.0, 1.0)
    rate = [draw(st.sampled_from([0.0, draw(st.floats(0.1, 5.0))])) for _ in range(n_slots)]
    pay = [draw(st.floats(100.0, 5000.0)) for _ in range(n_slots)]
    utilisation = [draw(floats) for _ in range(n_slots)]
    employer = [draw(st.integers(-1, n_slots - 1)) for _ in range(n)]
    skill = [draw(st.floats(0.05, 3.0)) for _ in range(n)]
    courses = [draw(st.integers(0, 3)) for _ in range(n)]
    capacity = [draw(st.sampled_from([0.6, 1.0])) for _ in range(n)]
    household = sorted(draw(st.integers(0, n - 1)) for _ in range(n))
    return rate, pay, utilisation, employer, skill, courses, capacity, household, draw(floats)


@given(piece_work())
@settings(max_examples=100, deadline=None)
def test_piece_earnings_are_pieces_times_the_rate(case):
    rate, pay, utilisation, employer, skill, courses, capacity, household, share = case
    people = _people(skill, courses, capacity, employer, household)
    rate, pay = np.array(rate), np.array(pay)
    slots = SlotPay(
        pay,
        np.array(utilisation),
        rate,
        np.divide(pay, rate, out=np.zeros(len(rate)), where=rate > 0),
    )
    employed = np.flatnonzero(people.employer != NO_EMPLOYER)
    n_households = len(people)
    wages, piece = np.zeros(n_households), np.zeros(n_households)
    accounts = SlotAccounts.zeros(len(rate))
    pay_workers(
        people,
        employed,
        np.zeros(len(people), bool),
        (slots, Productivity(course_gains(0.1), share), 60),
        (wages, piece),
        accounts,
    )
    slot = people.employer[employed]
    by_piece = rate[slot] > 0
    # a piece worker makes the firm's pieces at full orders x utilisation x capacity x skill
    prod = people.skill[employed] * course_gains(0.1)[people.courses[employed]]
    pieces = (pay / np.where(rate > 0, rate, 1))[slot] * slots.utilisation[slot]
    pieces = np.where(by_piece, pieces * people.capacity[employed] * prod, 0.0)
    made = pieces * rate[slot]
    np.testing.assert_allclose(
        people.earnings[employed[by_piece]], made[by_piece].astype(np.float32), rtol=1e-6
    )
    homes = people.household[employed]
    np.testing.assert_allclose(
        piece, np.bincount(homes[by_piece], made[by_piece], n_households), rtol=1e-9, atol=1e-9
    )
    np.testing.assert_allclose(
        accounts.pieces, np.bincount(slot, pieces, len(rate)), rtol=1e-9, atol=1e-9
    )
    assert (accounts.pieces[rate == 0] == 0).all() and (accounts.pieces >= 0).all()
    np.testing.assert_allclose(
        accounts.wage_bill,
        np.bincount(slot, people.earnings[employed].astype(np.float64), len(rate)),
        rtol=1e-12,
    )


def test_migrants_earn_the_net_wage_times_productivity_and_capacity(paid):
    people, inc = paid.people, paid.params.incomes
    net = interpolate_by_year(inc.migrant_wage_yuan_per_month, paid.year) * (
        1 - inc.migrant_living_cost_share
    )
    gain = paid.params.policy.training.productivity_gain
    migrant = people.activity == Activity.MIGRATION
    earned = np.where(
        migrant,
        net * people.skill * (1 + gain) ** people.courses.astype(float) * people.capacity,
        0.0,
    )
    assert paid.ledger.by_source[Source.MIGRANT] == pytest.approx(
        by_household(paid, earned), rel=1e-6
    )


def test_farmers_share_household_land_and_idle_land_is_rented_out(paid):
    people, hh, inc = paid.people, paid.households, paid.params.incomes
    farmer = people.activity == Activity.FARMING
    n_farmers = np.bincount(people.household, farmer, len(hh))
    mu = np.where(
        farmer,
        np.minimum(
            hh.land_mu[people.household] / np.maximum(n_farmers[people.household], 1),
            inc.mu_per_farmer_max,
        ),
        0.0,
    )
    farm = by_household(paid, mu * inc.farm_net_yuan_per_mu_year / 12 * people.capacity)
    idle = np.maximum(hh.land_mu - by_household(paid, mu), 0.0)
    rent = idle * inc.land_rent_yuan_per_mu_year / 12
    assert paid.ledger.by_source[Source.FARMING] == pytest.approx(farm + rent, rel=1e-5)
    no_farmer = (n_farmers == 0) & (hh.land_mu > 0)
    assert no_farmer.any()
    assert paid.ledger.by_source[Source.FARMING][no_farmer] == pytest.approx(
        hh.land_mu[no_farmer] * inc.land_rent_yuan_per_mu_year / 12, rel=1e-5
    )


def test_transfers_pensions_dividends_dibao_and_board(paid):
    people, hh, p = paid.people, paid.households, paid.params
    ledger = paid.ledger.by_source
    pensioners = by_household(paid, people.age >= p.incomes.pension_age)
    assert ledger[Source.PENSION] == pytest.approx(pensioners * p.incomes.pension_yuan_per_month)
    active = cooperative_active_share(paid.workshop_table)
    assert ledger[Source.DIVIDENDS] == pytest.approx(
        hh.equity_yuan * p.policy.equity.dividend_rate_per_year / 12 * active
    )
    assert ledger[Source.DIVIDENDS].sum() > 0
    assert ledger[Source.DIBAO] == pytest.approx(hh.dibao_yuan_per_month)
    board = p.policy.training.board_yuan_per_day * p.policy.training.days_per_course
    trainees = np.bincount(people.household[paid.trainees], minlength=len(hh))
    assert ledger[Source.TRAINING_ALLOWANCE] == pytest.approx(trainees * board)


def test_cooperative_active_share_counts_every_cooperative_ever_opened(paid):
    coops = [w for w in paid.workshop_slots if w.form == Form.COOPERATIVE]
    assert len(coops) >= 2
    expected = sum(w.status == Status.OPEN for w in coops) / len(coops)
    assert cooperative_active_share(paid.workshop_table) == pytest.approx(expected)
    assert cooperative_active_share(WorkshopTable(paid.workshop_table.rules)) == 1.0


def test_dibao_review_tops_up_to_the_line(tiny):
    hh = Households(
        village=np.zeros(3, np.int32),
        disadvantaged=np.zeros(3, bool),
        resettled=np.zeros(3, bool),
        land_mu=np.zeros(3, np.float32),
    )
    hh.size = np.array([1, 2, 4], dtype=np.int16)
    ledger = IncomeLedger.empty(3)
    ledger.add(Source.WAGES, np.array([100.0, 500.0, 0.0]))
    ledger.add(Source.DIBAO, np.array([999.0, 999.0, 999.0]))  # the old allowance is ignored
    review_dibao(hh, ledger, tiny)
    line = tiny.incomes.dibao_line_yuan_per_person_year  # 2400 a person a year
    assert line == 2400.0
    # 1 person at 1200/yr -> 1200 short; 2 at 3000/yr -> none; 4 at 0 -> 9600 a year
    assert hh.dibao_yuan_per_month.tolist() == pytest.approx([100.0, 0.0, 800.0])
