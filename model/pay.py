"""Production and pay: each person's earnings and each household's income by source.

Workshop workers earn pay x utilisation x capacity (piece-rate forms also x productivity);
migrants the year's wage net of living costs x productivity x capacity; farmers their
share of household land x net farm income. Households add land rent for land nobody
farms, pensions, dividends on cooperative shares, the minimum living allowance and the
training board allowance. Workshops' accounts (staff, wage bills, value added) are
written back for the policy agent's next month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.households import Households, IncomeLedger, People, Source
from model.labour_market import Staff
from model.offers import farm_yuan, migrant_net_wage, mu_per_farmer, productivity
from model.scenario import Activity, Scenario
from model.workshops import MONTHS_PER_YEAR, PIECE_RATE_FORMS, Form, Status, Workshop, WorkshopTable


@dataclass
class PayContext:
    """What pay needs besides the household arrays."""

    params: Scenario
    year: float
    table: WorkshopTable
    registered_person: np.ndarray    # bool per person
    trainees: np.ndarray             # person indices trained this month
    cooperative_active_share: float  # share of cooperatives open and not idle
    pensioners: np.ndarray           # members of pension age per household


def pay_month(people: People, households: Households, ctx: PayContext) -> IncomeLedger:
    """Compute every person's earnings and every household's income this month (yuan)."""
    ledger = IncomeLedger.empty(len(households))
    people.earnings[:] = 0.0
    gain = ctx.params.policy.training.productivity_gain
    _pay_workshops(people, ctx, gain, ledger)
    migrants = np.flatnonzero(people.activity == Activity.MIGRATION)
    net_wage = migrant_net_wage(ctx.params, ctx.year)
    _credit(people, ledger, Source.MIGRANT, migrants,
            net_wage * productivity(people, gain, migrants) * people.capacity[migrants])
    _pay_farming(people, households, ctx.params, ledger)
    _transfers(people, households, ctx, ledger)
    return ledger


def _credit(people: People, ledger: IncomeLedger, source: Source, persons: np.ndarray,
            amounts: np.ndarray) -> None:
    """Book earnings of `persons` (yuan this month) to them and to their households."""
    people.earnings[persons] = amounts
    ledger.add(source, np.bincount(people.household[persons], amounts, ledger.n_households))


def _pay_workshops(people: People, ctx: PayContext, gain: float, ledger: IncomeLedger) -> None:
    """Wages (pay x utilisation x capacity) and piece work (also x productivity)."""
    employed = np.flatnonzero(people.employer >= 0)
    slot = people.employer[employed]
    t = ctx.table
    base = t.pay[slot] * t.utilisation[slot] * people.capacity[employed]
    by_piece = np.isin(t.form[slot], PIECE_RATE_FORMS)
    _credit(people, ledger, Source.WAGES, employed[~by_piece], base[~by_piece])
    pieceworkers = employed[by_piece]
    _credit(people, ledger, Source.PIECE_WORK, pieceworkers,
            base[by_piece] * productivity(people, gain, pieceworkers))


def _pay_farming(people: People, households: Households, params: Scenario,
                 ledger: IncomeLedger) -> None:
    """Farm income of farmers, and rent on land no household member farms."""
    farmers = np.flatnonzero(people.activity == Activity.FARMING)
    home = people.household[farmers]
    n_farmers = np.bincount(home, minlength=len(households))
    mu = mu_per_farmer(households.land_mu[home], n_farmers[home], params)
    _credit(people, ledger, Source.FARMING, farmers,
            farm_yuan(mu, people.capacity[farmers], params))
    idle_mu = np.maximum(households.land_mu - np.bincount(home, mu, len(households)), 0.0)
    ledger.add(Source.FARMING,
               idle_mu * params.incomes.land_rent_yuan_per_mu_year / MONTHS_PER_YEAR)


def _transfers(people: People, households: Households, ctx: PayContext,
               ledger: IncomeLedger) -> None:
    inc, n_hh = ctx.params.incomes, len(households)
    ledger.add(Source.PENSION, ctx.pensioners * inc.pension_yuan_per_month)
    equity = ctx.params.policy.equity
    ledger.add(Source.DIVIDENDS, households.equity_yuan * equity.dividend_rate_per_year
               / MONTHS_PER_YEAR * ctx.cooperative_active_share)
    ledger.add(Source.DIBAO, households.dibao_yuan_per_month.astype(np.float64))
    training = ctx.params.policy.training
    allowance = np.bincount(people.household[ctx.trainees], minlength=n_hh) \
        * training.board_yuan_per_day * training.days_per_course
    ledger.add(Source.TRAINING_ALLOWANCE, allowance)


def review_dibao(households: Households, ledger: IncomeLedger, params: Scenario) -> None:
    """Annual minimum-living-allowance (dibao) review.

    Households whose income without the allowance, per person and year, is below the
    dibao line are topped up to it for the coming year.
    """
    own = ledger.total - ledger.by_source[Source.DIBAO]
    per_capita_year = own * MONTHS_PER_YEAR / np.maximum(households.size, 1)
    shortfall = np.maximum(params.incomes.dibao_line_yuan_per_person_year - per_capita_year, 0)
    households.dibao_yuan_per_month = (shortfall * households.size / MONTHS_PER_YEAR
                                       ).astype(np.float32)


def book_accounts(slots: list[Workshop], people: People, ctx: PayContext) -> Staff:
    """Write each workshop's staff, wage bills and value added for this month."""
    n = len(slots)
    staff = Staff.count(people, ctx.registered_person, n)
    employed = np.flatnonzero(people.employer >= 0)
    slot = people.employer[employed]
    earned = people.earnings[employed].astype(np.float64)
    subsidy_age = ctx.params.policy.wage_subsidy.worker_age_max
    counted = ctx.registered_person[employed] & (people.age[employed] <= subsidy_age)
    wage_bill = np.bincount(slot, earned, n)
    poor_bill = np.bincount(slot, np.where(counted, earned, 0.0), n)
    for w in slots:
        if w.is_open:
            a = w.accounts
            a.workers, a.poor_workers = int(staff.workers[w.slot]), int(staff.poor_workers[w.slot])
            a.wage_bill, a.poor_wage_bill = float(wage_bill[w.slot]), float(poor_bill[w.slot])
            a.value_added = (w.spec.value_added_yuan_per_worker_month * w.productivity
                             * ctx.table.utilisation[w.slot] * a.workers)
    return staff


def cooperative_active_share(slots: list[Workshop]) -> float:
    """Share of cooperatives ever opened that are open and not idle (1 if none)."""
    coops = [w for w in slots if w.form == Form.COOPERATIVE]
    if not coops:
        return 1.0
    return sum(w.status == Status.OPEN for w in coops) / len(coops)
