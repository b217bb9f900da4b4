"""Production and pay: each person's earnings and each household's income by source.

At a workshop paying by the piece a worker makes pieces (the firm's pieces a month at
full orders x utilisation x capacity x productivity) and earns pieces x the piece rate;
at one paying a time wage, pay x utilisation x capacity x the wage's productivity
multiplier ((1 - s) + s x productivity, s = `workshops.time_wage_skill_share`).
Migrants earn the year's wage net of living costs x productivity x capacity; farmers their
share of household land x net farm income. Households add land rent for land nobody
farms, pensions, dividends on cooperative shares, the minimum living allowance and the
training board allowance. Workshops' accounts (staff, wage bills, value added) are
written back for the policy agent's next month.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from model.compiled import pay as compiled_pay
from model.compiled import twin
from model.compiled.pay import Productivity, SlotPay
from model.farming import Farms
from model.households import Households, IncomeLedger, People, Source
from model.labour_market import Staff
from model.offers import course_gains, migrant_net_wage
from model.scenario import Activity, Scenario
from model.workshops import MONTHS_PER_YEAR, Form, Status, WorkshopTable


@dataclass
class PayContext:
    """What pay needs besides the household arrays."""

    params: Scenario
    year: float
    table: WorkshopTable
    utilisation: np.ndarray  # per slot, this month
    registered_person: np.ndarray  # bool per person
    trainees: np.ndarray  # person indices trained this month
    cooperative_active_share: float  # share of cooperatives open and not idle
    employed: np.ndarray  # people with a workshop job (ascending)
    staff: Staff  # head counts per slot
    farms: Farms  # households' farmers and farm income
    pieces: np.ndarray = field(default_factory=lambda: np.empty(0))  # per employed person,
    # pieces made this month (0 at time-wage workshops), written by `pay_month`


def pay_month(
    people: People, households: Households, ctx: PayContext, ledger: IncomeLedger
) -> None:
    """Compute every person's earnings and each household's income this month (yuan).

    Earnings are written to `people`, household income by source to every row of `ledger`.
    """
    farms = ctx.farms.update(people, households)
    people.earnings[farms.changed] = 0.0
    people.earnings[farms.farmers] = farms.earnings
    ledger.set(Source.FARMING, ctx.farms.income)
    gains = course_gains(ctx.params.policy.training.productivity_gain)
    t, employed = ctx.table, ctx.employed
    homes = people.household[employed]
    ctx.pieces = credit_workshop_workers(
        people,
        employed,
        slot_pay(t, ctx.utilisation),
        Productivity(gains, ctx.params.workshops.time_wage_skill_share),
        ledger.cleared_row(Source.WAGES, homes),
        ledger.cleared_row(Source.PIECE_WORK, homes),
    )
    credit_migrants(
        people,
        np.flatnonzero(people.activity == Activity.MIGRATION),
        migrant_net_wage(ctx.params, ctx.year),
        gains,
        ledger.row(Source.MIGRANT),
    )
    _transfers(people, households, ctx, ledger)


def slot_pay(table: WorkshopTable, utilisation: np.ndarray) -> SlotPay:
    """What each workshop slot pays this month, for `credit_workshop_workers`."""
    return SlotPay(table.pay, utilisation, table.piece_rate, table.pieces_at_full_orders)


def _credit_workshop_workers(
    people: People,
    employed: np.ndarray,
    slots: SlotPay,
    productivity: Productivity,
    wages: np.ndarray,
    piece_work: np.ndarray,
) -> np.ndarray:
    """Piece work (pieces x rate) and time wages (pay x utilisation x capacity x multiplier).

    The twin of `model.compiled.pay.credit_workshop_workers` (same arguments and result):
    earnings are written to `people`, and each household's sums, added in the order of
    `employed`, are credited to `wages` and `piece_work` (0 where any worker lives).
    Returns the pieces each of `employed` made (0 at time-wage workshops).
    """
    slot = people.employer[employed]
    prod = people.skill[employed] * productivity.course_gains[people.courses[employed]]
    by_piece = slots.piece_rate[slot] > 0
    pieces = np.zeros(len(employed))
    ps, pw = slot[by_piece], employed[by_piece]
    pieces[by_piece] = (
        slots.pieces_at_full_orders[ps] * slots.utilisation[ps] * people.capacity[pw]
    ) * prod[by_piece]
    by_pieces = pieces[by_piece] * slots.piece_rate[ps]
    ws, ww = slot[~by_piece], employed[~by_piece]
    share = productivity.time_wage_skill_share
    by_wage = (slots.pay[ws] * slots.utilisation[ws] * people.capacity[ww]) * (
        (1.0 - share) + share * prod[~by_piece]
    )
    for persons, amounts, income in ((ww, by_wage, wages), (pw, by_pieces, piece_work)):
        people.earnings[persons] = amounts
        homes = people.household[persons]
        income[homes] += np.bincount(homes, amounts, len(income))[homes]
    return pieces


def _credit_migrants(
    people: People,
    migrants: np.ndarray,
    net_wage: float,
    course_gains: np.ndarray,
    household_income: np.ndarray,
) -> None:
    """Migrants earn the net wage x productivity x capacity (yuan this month).

    The twin of `model.compiled.pay.credit_migrants` (same arguments): earnings are
    written to `people`, and `household_income` is overwritten with each household's sum.
    """
    amounts = (
        net_wage
        * (people.skill[migrants] * course_gains[people.courses[migrants]])
        * people.capacity[migrants]
    )
    people.earnings[migrants] = amounts
    household_income[:] = np.bincount(people.household[migrants], amounts, len(household_income))


credit_workshop_workers = twin(
    compiled_pay.credit_workshop_workers,
    _credit_workshop_workers,
    test="tests/model/test_compiled_pay.py::test_credit_workshop_workers_twins_are_identical",
)
credit_migrants = twin(
    compiled_pay.credit_migrants,
    _credit_migrants,
    test="tests/model/test_compiled_pay.py::test_credit_migrants_twins_are_identical",
)


def _transfers(
    people: People, households: Households, ctx: PayContext, ledger: IncomeLedger
) -> None:
    """Book dividends and the training board allowance.

    Pensions and the dibao are booked when they change (`book_pensions`, `review_dibao`).
    """
    equity = ctx.params.policy.equity
    ledger.set(
        Source.DIVIDENDS,
        households.equity_yuan
        * equity.dividend_rate_per_year
        / MONTHS_PER_YEAR
        * ctx.cooperative_active_share,
    )
    training = ctx.params.policy.training
    homes, trainees = np.unique(people.household[ctx.trainees], return_counts=True)
    allowance = ledger.cleared_row(Source.TRAINING_ALLOWANCE, homes)
    allowance[homes] = trainees * training.board_yuan_per_day * training.days_per_course


def book_pensions(pensioners: np.ndarray, ledger: IncomeLedger, params: Scenario) -> None:
    """Book the pension of each household's members of pension age (yuan/month).

    Args:
        pensioners: members of pension age per household.
        ledger: the income ledger; its pension row is overwritten and stays until the next
            count of pensioners.
        params: the scenario (pension per person and month).
    """
    np.multiply(pensioners, params.incomes.pension_yuan_per_month, out=ledger.row(Source.PENSION))


def review_dibao(households: Households, ledger: IncomeLedger, params: Scenario) -> None:
    """Annual minimum-living-allowance (dibao) review.

    Households whose income without the allowance, per person and year, is below the
    dibao line are topped up to it for the coming year; the allowance is booked in the
    ledger's dibao row, where it stays until the next review.
    """
    own = ledger.total - ledger.by_source[Source.DIBAO]
    per_capita_year = own * MONTHS_PER_YEAR / np.maximum(households.size, 1)
    shortfall = np.maximum(params.incomes.dibao_line_yuan_per_person_year - per_capita_year, 0)
    households.dibao_yuan_per_month = (shortfall * households.size / MONTHS_PER_YEAR).astype(
        np.float32
    )
    np.copyto(ledger.row(Source.DIBAO), households.dibao_yuan_per_month)


def book_accounts(people: People, ctx: PayContext) -> None:
    """Write each open workshop's staff, wage bills, pieces and value added for this month.

    Value added = the form's per worker x the firm's productivity x utilisation x the
    workers' effective labour (`effective_labour`).
    """
    t, staff, employed = ctx.table, ctx.staff, ctx.employed
    subsidy_age = ctx.params.policy.wage_subsidy.worker_age_max
    wage_bill, poor_bill = wage_bills(people, employed, ctx.registered_person, subsidy_age, len(t))
    pieces = np.bincount(people.employer[employed], ctx.pieces, len(t))
    open_ = np.flatnonzero(t.is_open)
    t.workers[open_], t.poor_workers[open_] = staff.workers[open_], staff.poor_workers[open_]
    t.wage_bill[open_], t.poor_wage_bill[open_] = wage_bill[open_], poor_bill[open_]
    t.pieces[open_] = pieces[open_]
    t.value_added[open_] = (
        t.rules.value_added[t.form[open_]]
        * t.productivity[open_]
        * ctx.utilisation[open_]
        * effective_labour(people, employed, ctx.params, len(t))[open_]
    )


def effective_labour(
    people: People, employed: np.ndarray, params: Scenario, n_slots: int
) -> np.ndarray:
    """Each slot's workers weighted by what they produce: capacity x productivity.

    Productivity is skill x (1 + gain) per completed course, as in pay, so value added
    grows with the workers' productivity as piece earnings and skilled time wages do.
    """
    gains = course_gains(params.policy.training.productivity_gain)
    output = (
        people.capacity[employed].astype(np.float64)
        * people.skill[employed]
        * gains[people.courses[employed]]
    )
    return np.bincount(people.employer[employed], output, n_slots)


def _wage_bills(
    people: People, employed: np.ndarray, registered: np.ndarray, subsidy_age_max: int, n_slots: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each workshop slot's wage bill and its registered-poor workers' bill (yuan).

    The twin of `model.compiled.pay.wage_bills` (same arguments and results).
    """
    slot = people.employer[employed]
    earned = people.earnings[employed].astype(np.float64)
    counted = registered[employed] & (people.age[employed] <= subsidy_age_max)
    # float64 also for nobody employed (bincount of nothing gives integer zeros)
    wage_bill = np.bincount(slot, earned, n_slots).astype(np.float64, copy=False)
    poor_bill = np.bincount(slot, earned * counted, n_slots).astype(np.float64, copy=False)
    return wage_bill, poor_bill


wage_bills = twin(
    compiled_pay.wage_bills,
    _wage_bills,
    test="tests/model/test_compiled_pay.py::test_wage_bills_twins_are_identical",
)


def cooperative_active_share(table: WorkshopTable) -> float:
    """Share of cooperatives ever opened that are open and not idle (1 if none)."""
    coops = table.form == Form.COOPERATIVE
    if not coops.any():
        return 1.0
    return int((table.status[coops] == Status.OPEN).sum()) / int(coops.sum())
