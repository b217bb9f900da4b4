import numpy as np
import pytest
from model_helpers import months, variant, workers_per_slot

from model.economy import WorkshopEconomy
from model.households import Households, IncomeLedger, Source
from model.pay import cooperative_active_share, review_dibao
from model.scenario import Activity, interpolate_by_year
from model.workshops import PIECE_RATE_FORMS, Form, Status, WorkshopTable


@pytest.fixture(scope="module")
def paid(with_cooperatives):
    """A model after four months (cooperatives, equity and training in force)."""
    model = WorkshopEconomy(variant(with_cooperatives, households=300))
    list(months(model, 4))
    return model


def by_household(model, amounts):
    return np.bincount(model.people.household, amounts, len(model.households))


def test_workshop_pay_is_pay_times_utilisation_times_capacity(paid):
    people = paid.people
    table = paid.workshop_table
    utilisation = table.utilisation(workers_per_slot(paid))
    employed = people.employer >= 0
    slot = np.where(employed, people.employer, 0)
    base = np.where(employed, table.pay[slot] * utilisation[slot] * people.capacity, 0.0)
    piece = employed & np.isin(table.form[slot], PIECE_RATE_FORMS)
    gain = paid.params.policy.training.productivity_gain
    productivity = people.skill * (1 + gain) ** people.courses.astype(float)
    wages = np.where(employed & ~piece, base, 0.0)
    pieces = np.where(piece, base * productivity, 0.0)
    ledger = paid.ledger.by_source
    assert ledger[Source.WAGES] == pytest.approx(by_household(paid, wages), rel=1e-6)
    assert ledger[Source.PIECE_WORK] == pytest.approx(by_household(paid, pieces), rel=1e-6)
    assert pieces.sum() > 0 and wages.sum() > 0
    assert (people.courses[piece] > 0).any()  # trained outworkers are in the check


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
        registered_poor=np.zeros(3, bool),
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
