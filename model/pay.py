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
from model.compiled.pay import Productivity, SlotAccounts, SlotPay
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
    accounts: SlotAccounts = field(init=False)  # the paid workers' sums per slot, written
    # by `pay_month`


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
    ctx.accounts = SlotAccounts.zeros(len(t))
    pay_workers(
        people,
        employed,
        ctx.registered_person,
        (
            slot_pay(t, ctx.utilisation),
            Productivity(gains, ctx.params.workshops.time_wage_skill_share),
            ctx.params.policy.wage_subsidy.worker_age_max,
        ),
        (ledger.cleared_row(Source.WAGES, homes), ledger.cleared_row(Source.PIECE_WORK, homes)),
        ctx.accounts,
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
    """What each workshop slot pays this month, for `pay_workers`."""
    return SlotPay(table.pay, utilisation, table.piece_rate, table.pieces_at_full_orders)


def _pay_workers(
    people: People,
    paid: np.ndarray,
    registered: np.ndarray,
    pay: tuple[SlotPay, Productivity, int],
    incomes: tuple[np.ndarray, np.ndarray],
    accounts: SlotAccounts,
) -> None:
    """Piece work (pieces x rate) and time wages (pay x utilisation x capacity x multiplier).

    The twin of `model.compiled.pay.pay_workers` (same arguments and results): earnings
    are written to `people`, each household's sums, added in the order of `paid`, are
    credited to the wage and piece-work rows of `incomes` (0 where any worker lives), and
    the slots' sums are added to `accounts` (`slot_accounts`).
    """
    slots, productivity, subsidy_age_max = pay
    slot = people.employer[paid]
    prod = people.skill[paid] * productivity.course_gains[people.courses[paid]]
    by_piece = slots.piece_rate[slot] > 0
    pieces = np.zeros(len(paid))
    ps, pw = slot[by_piece], paid[by_piece]
    pieces[by_piece] = (
        slots.pieces_at_full_orders[ps] * slots.utilisation[ps] * people.capacity[pw]
    ) * prod[by_piece]
    by_pieces = pieces[by_piece] * slots.piece_rate[ps]
    ws, ww = slot[~by_piece], paid[~by_piece]
    share = productivity.time_wage_skill_share
    by_wage = (slots.pay[ws] * slots.utilisation[ws] * people.capacity[ww]) * (
        (1.0 - share) + share * prod[~by_piece]
    )
    wages, piece_work = incomes
    for persons, amounts, income in ((ww, by_wage, wages), (pw, by_pieces, piece_work)):
        people.earnings[persons] = amounts
        homes = people.household[persons]
        income[homes] += np.bincount(homes, amounts, len(income))[homes]
    slot_accounts(
        people, paid, pieces, registered, (productivity.course_gains, subsidy_age_max), accounts
    )


def slot_accounts(
    people: People,
    paid: np.ndarray,
    pieces: np.ndarray,
    registered: np.ndarray,
    rules: tuple[np.ndarray, int],
    accounts: SlotAccounts,
) -> None:
    """Add the paid workers' earnings, pieces and effective labour to their slots' sums.

    Args:
        people: the people, paid this month (`earnings`, float32 yuan).
        paid: the workers paid this month, ascending.
        pieces: the pieces each of `paid` made (0 at time-wage workshops).
        registered: whether each person is registered poor.
        rules: course gains (productivity multiplier by courses completed) and the oldest
            worker (years) the wage subsidy counts in the poor wage bill.
        accounts: the sums per slot, added to in the order of `paid`. Effective labour
            is capacity x skill x course gain, as productivity enters pay.
    """
    gains, subsidy_age_max = rules
    slot, n = people.employer[paid], len(accounts.wage_bill)
    earned = people.earnings[paid].astype(np.float64)
    counted = registered[paid] & (people.age[paid] <= subsidy_age_max)
    labour = (
        people.capacity[paid].astype(np.float64) * people.skill[paid] * gains[people.courses[paid]]
    )
    for total, amounts in (
        (accounts.wage_bill, earned),
        (accounts.poor_wage_bill, earned * counted),
        (accounts.pieces, pieces),
        (accounts.labour, labour),
    ):
        total += np.bincount(slot, amounts, n)


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


pay_workers = twin(
    compiled_pay.pay_workers,
    _pay_workers,
    test="tests/model/test_compiled_pay.py::test_pay_workers_twins_are_identical",
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


def book_accounts(ctx: PayContext) -> None:
    """Write each open workshop's staff, wage bills, pieces and value added for this month.

    Value added = the form's per worker x the firm's productivity x utilisation x the
    paid workers' effective labour (capacity x productivity, as in pay, so value added
    grows with the workers' productivity as piece earnings and skilled time wages do).
    """
    t, staff, accounts = ctx.table, ctx.staff, ctx.accounts
    open_ = np.flatnonzero(t.is_open)
    t.workers[open_], t.poor_workers[open_] = staff.workers[open_], staff.poor_workers[open_]
    t.wage_bill[open_] = accounts.wage_bill[open_]
    t.poor_wage_bill[open_] = accounts.poor_wage_bill[open_]
    t.pieces[open_] = accounts.pieces[open_]
    t.value_added[open_] = (
        t.rules.value_added[t.form[open_]]
        * t.productivity[open_]
        * ctx.utilisation[open_]
        * accounts.labour[open_]
    )


def cooperative_active_share(table: WorkshopTable) -> float:
    """Share of cooperatives ever opened that are open and not idle (1 if none)."""
    coops = table.form == Form.COOPERATIVE
    if not coops.any():
        return 1.0
    return int((table.status[coops] == Status.OPEN).sum()) / int(coops.sum())
