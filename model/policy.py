"""The policy agent: a budget and one small class per instrument.

Each month the agent certifies workshops, then lets each enabled instrument present its
claims in the scenario's `payment_order`. Claims are paid whole, in order, while the
budget lasts; what cannot be paid is recorded as unpaid (one-off claims are presented
again the next month). Spending never exceeds the budget. Instruments also tell a
candidate firm what support it can expect, which drives workshop entry.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np

from model.households import Households
from model.keyed import KeyedDraws, Purpose
from model.labour_market import QUOTA_TOLERANCE
from model.scenario import INSTRUMENTS, Policy
from model.workshops import MONTHS_PER_YEAR, UNDECIDED, Entrant, Form, WorkshopTable

if TYPE_CHECKING:
    from model.economy import WorkshopEconomy


@dataclass
class Budget:
    """Money the policy agent may still spend (yuan) and what each instrument spent."""

    remaining: float = 0.0
    allocated: float = 0.0
    shares: Mapping[str, float] = field(default_factory=dict)  # `policy.allocation`
    envelope: dict[str, float] = field(default_factory=dict)  # unspent yuan of each share
    due: dict[str, float] = field(default_factory=lambda: dict.fromkeys(INSTRUMENTS, 0.0))
    paid: dict[str, float] = field(default_factory=lambda: dict.fromkeys(INSTRUMENTS, 0.0))
    spent_total: dict[str, float] = field(default_factory=lambda: dict.fromkeys(INSTRUMENTS, 0.0))

    def allocate(self, amount: float) -> None:
        """Add a year's allocation; unspent money carries over."""
        self.remaining += amount
        self.allocated += amount
        for instrument, share in self.shares.items():
            self.envelope[instrument] = self.envelope.get(instrument, 0.0) + share * amount

    def available(self, instrument: str) -> float:
        """What `instrument` may still spend (yuan): its envelope, or the common pool.

        Without an allocation every instrument draws on the whole remaining budget.
        """
        if instrument in self.shares:
            return self.envelope.get(instrument, 0.0)
        return max(self.remaining - sum(self.envelope.values()), 0.0)

    def start_month(self) -> None:
        """Reset this month's due and paid figures."""
        self.due = dict.fromkeys(INSTRUMENTS, 0.0)
        self.paid = dict.fromkeys(INSTRUMENTS, 0.0)

    def pay(self, instrument: str, claims: Sequence[float] | np.ndarray) -> np.ndarray:
        """Pay claims whole, in order, while the instrument's money lasts; return which were paid.

        The money is `available(instrument)`: its envelope under an allocation, else the
        common pool.
        """
        claims = np.asarray(claims, dtype=np.float64)
        paid = np.cumsum(claims) <= self.available(instrument) + 1e-6
        amount = float(claims[paid].sum())
        self.remaining = max(self.remaining - amount, 0.0)
        if instrument in self.shares:
            self.envelope[instrument] = max(self.envelope[instrument] - amount, 0.0)
        self.due[instrument] += float(claims.sum())
        self.paid[instrument] += amount
        self.spent_total[instrument] += amount
        return paid


class Instrument(ABC):
    """One policy instrument: its claims each month and its value to a candidate firm.

    Attributes:
        name: the instrument's key in the scenario's policy.
        forms_paid: the workshop forms whose workshops it pays for (None: it pays for
            people, whatever the form).
        claims_wait: an unpaid claim is presented again the next month (one-off claims).
    """

    name: ClassVar[str]
    forms_paid: ClassVar[tuple[Form, ...] | None] = tuple(Form)
    claims_wait: ClassVar[bool] = False

    def __init__(self, params: Any) -> None:
        self.params = params

    @abstractmethod
    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        """Present this month's claims to the budget and apply what was paid."""

    def entrant_value(self, entrant: Entrant, model: WorkshopEconomy) -> float:
        """Expected support to a candidate firm over its planning horizon (yuan)."""
        return 0.0


def _certified(model: WorkshopEconomy) -> np.ndarray:
    """Slots of the certified workshops."""
    return np.flatnonzero(model.workshop_table.certified)


def support_workshops(
    name: str, table: WorkshopTable, budget: Budget, slots: np.ndarray, claims: np.ndarray
) -> None:
    """Pay running support to the workshops `slots` (`claims`, yuan) while the budget lasts.

    What is paid counts in each workshop's profit this month (`WorkshopTable.support`),
    so running support keeps workshops open as well as drawing them in.
    """
    claims = np.asarray(claims, dtype=np.float64)
    paid = budget.pay(name, claims)
    np.add.at(table.support, slots[paid], claims[paid])


class OpeningSubsidy(Instrument):
    """One-time subsidy when a workshop is first certified (seed 000: 25,000-50,000)."""

    name = "opening_subsidy"
    claims_wait = True

    def _amount(self, capacity: np.ndarray) -> np.ndarray:
        p = self.params
        return np.where(capacity >= p.large_min_workers, p.large_yuan, p.small_yuan)

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        table = model.workshop_table
        due = np.flatnonzero(table.certified & ~table.opening_paid)
        table.opening_paid[due] = budget.pay(self.name, self._amount(table.capacity[due]))

    def entrant_value(self, entrant: Entrant, model: WorkshopEconomy) -> float:
        return float(self._amount(np.asarray(entrant.capacity)))


class WageSubsidy(Instrument):
    """Share of certified workshops' wage bill for registered-poor workers (seed 000: 20%)."""

    name = "wage_subsidy"

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        table, certified = model.workshop_table, _certified(model)
        claims = self.params.share_of_poor_wage_bill * table.poor_wage_bill[certified]
        support_workshops(self.name, table, budget, certified, claims)

    def entrant_value(self, entrant: Entrant, model: WorkshopEconomy) -> float:
        return (
            self.params.share_of_poor_wage_bill
            * entrant.spec.pay_yuan_per_month
            * entrant.expected_poor_workers
            * entrant.busy_share
            * entrant.months
        )


class HiringBonus(Instrument):
    """Bonus per poor worker reaching the contract length at a workshop with enough poor.

    Seed 002: 1,000 yuan per worker, contract >= 6 months, workshop hires >= 3 poor.
    """

    name = "hiring_bonus"
    claims_wait = True

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        people, p, table = model.people, self.params, model.workshop_table
        qualifying_shop = table.certified & (table.poor_workers >= p.poor_hired_min)
        employed = model.employed_now()
        due = np.compress(
            model.registered_person[employed]
            & ~people.bonus_paid[employed]
            & (people.tenure[employed] >= p.contract_months_min)
            & qualifying_shop[people.employer[employed]],
            employed,
        )
        paid = budget.pay(self.name, np.full(len(due), p.yuan_per_worker))
        people.bonus_paid[due[paid]] = True

    def entrant_value(self, entrant: Entrant, model: WorkshopEconomy) -> float:
        poor = entrant.expected_poor_workers
        return self.params.yuan_per_worker * poor if poor >= self.params.poor_hired_min else 0.0


class AbsorptionAward(Instrument):
    """Once per workshop employing enough poor workers (seed 001: 50,000 for >= 10)."""

    name = "absorption_award"
    claims_wait = True

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        table = model.workshop_table
        due = np.flatnonzero(
            table.certified & ~table.awarded & (table.poor_workers >= self.params.poor_hired_min)
        )
        table.awarded[due] = budget.pay(self.name, np.full(len(due), self.params.award_yuan))

    def entrant_value(self, entrant: Entrant, model: WorkshopEconomy) -> float:
        enough = entrant.expected_poor_workers >= self.params.poor_hired_min
        return self.params.award_yuan if enough else 0.0


class Training(Instrument):
    """Free courses for registered-poor working-age people.

    A subsidy to the workshop per trainee (seed 000: 300 yuan) and a board allowance to
    the trainee (seed 001: 50 yuan a day). Each course raises productivity.
    """

    name = "training"
    forms_paid = None  # courses for people

    @property
    def cost_per_trainee(self) -> float:
        """Yuan spent per trainee: course subsidy plus board allowance."""
        p = self.params
        return p.cost_yuan_per_trainee + p.board_yuan_per_day * p.days_per_course

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        people, p, keyed = model.people, self.params, model.keyed
        registered = model.registered_people
        # np.compress takes the selected indices: faster than a boolean mask on large arrays
        eligible = np.compress(
            (people.capacity[registered] > 0)
            & (people.courses[registered] < p.courses_per_person_max),
            registered,
        )
        places = keyed.stochastic_round(
            p.places_per_month * model.params.scale, Purpose.TRAINING_PLACES, model.month
        )
        chosen = keyed.by_priority(Purpose.TRAINING, eligible, places, model.month)
        paid = budget.pay(self.name, np.full(len(chosen), self.cost_per_trainee))
        trainees = chosen[paid]
        people.courses[trainees] += 1
        model.trainees = trainees

    def entrant_value(self, entrant: Entrant, model: WorkshopEconomy) -> float:
        return self.params.cost_yuan_per_trainee * entrant.expected_poor_workers


class Loans(Instrument):
    """Interest subsidy on start-up loans taken while the instrument is in force."""

    name = "loans"

    def __init__(self, params: Any) -> None:
        super().__init__(params)
        self.issued_yuan = 0.0  # principal of the loans granted so far

    def _monthly(self, loan_yuan: float, model: WorkshopEconomy) -> float:
        rate = model.params.workshops.market_interest_rate_per_year
        return loan_yuan * rate / MONTHS_PER_YEAR * self.params.interest_subsidy_share

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        table = model.workshop_table
        due = np.flatnonzero(
            table.is_open
            & table.subsidised_loan
            & (model.month - table.opened_month < self.params.term_months)
        )
        monthly = np.array([self._monthly(loan, model) for loan in table.rules.loan.tolist()])
        budget.pay(self.name, monthly[table.form[due]])

    def entrant_value(self, entrant: Entrant, model: WorkshopEconomy) -> float:
        months = min(entrant.months, self.params.term_months)
        expected = self._monthly(entrant.spec.loan_yuan, model) * months
        return self.params.take_up_share * expected

    def grant(self, table: WorkshopTable, slots: np.ndarray, keyed: KeyedDraws) -> None:
        """Grant guaranteed loans to a share of the new workshops `slots` that need one."""
        lucky = keyed.uniforms(Purpose.LOAN, table.serial[slots]) < self.params.take_up_share
        loan = table.rules.loan[table.form[slots]]
        table.subsidised_loan[slots] = lucky & (loan > 0)
        for granted in loan[table.subsidised_loan[slots]].tolist():
            self.issued_yuan += granted


class InjuryInsurance(Instrument):
    """Work-injury premiums paid by the county for (poor) employees of certified workshops."""

    name = "injury_insurance"
    forms_paid = tuple(f for f in Form if f != Form.OUTWORK)  # homes are not insured

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        table, p = model.workshop_table, self.params
        certified = np.flatnonzero(table.certified & (table.form != Form.OUTWORK))
        self._enrol(table, certified, model.keyed)
        shops = certified[table.insurance_enrolled[certified] == 1]
        insured = (table.poor_workers if p.poor_workers_only else table.workers)[shops]
        paid = budget.pay(self.name, insured * p.premium_yuan_per_worker_month)
        model.insured_workers = int(insured[paid].sum())
        table.insured[:] = False
        table.insured[shops[paid]] = True

    @staticmethod
    def covers(model: WorkshopEconomy, persons: np.ndarray) -> np.ndarray:
        """Whether the county's insurance covers each of `persons` (workers) this month."""
        p = model.params.policy.injury_insurance
        if not p.enabled:
            return np.zeros(len(persons), dtype=bool)
        shop_insured = model.workshop_table.insured[model.people.employer[persons]]
        return shop_insured & (model.registered_person[persons] | (not p.poor_workers_only))

    def _enrol(self, table: WorkshopTable, shops: np.ndarray, keyed: KeyedDraws) -> None:
        """Decide once, when a workshop is first certified, whether the county enrols it."""
        new = shops[table.insurance_enrolled[shops] == UNDECIDED]
        u = keyed.uniforms(Purpose.ENROLMENT, table.serial[new])
        table.insurance_enrolled[new] = u < self.params.take_up_share


class FreeRent(Instrument):
    """Rent of workshop premises paid by the county for the first months (Pingli: 3 years)."""

    name = "free_rent"

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        table = model.workshop_table
        due = np.flatnonzero(
            table.is_open & (model.month - table.opened_month < self.params.months)
        )
        support_workshops(self.name, table, budget, due, table.rules.rent[table.form[due]])

    def entrant_value(self, entrant: Entrant, model: WorkshopEconomy) -> float:
        return entrant.spec.rent_yuan_per_month * min(self.params.months, entrant.months)


class FactoryCashSupport(Instrument):
    """Cash support per open community factory (Pingli: 50,000 yuan a year)."""

    name = "factory_cash_support"
    forms_paid = (Form.COMMUNITY,)

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        table = model.workshop_table
        due = np.flatnonzero(table.is_open & (table.form == Form.COMMUNITY))
        monthly = np.full(len(due), self.params.yuan_per_factory_year / MONTHS_PER_YEAR)
        support_workshops(self.name, table, budget, due, monthly)

    def entrant_value(self, entrant: Entrant, model: WorkshopEconomy) -> float:
        if entrant.form != Form.COMMUNITY:
            return 0.0
        return self.params.yuan_per_factory_year / MONTHS_PER_YEAR * entrant.months


class Equity(Instrument):
    """Poverty funds bought as cooperative shares for households without labour.

    Registered-poor households without labour capacity get shares (seed 002) worth
    `share_per_person_yuan` per member; shares return to the pool when a household
    leaves poverty and go to the next households waiting before any new money is spent.
    """

    name = "equity"
    forms_paid = (Form.COOPERATIVE,)  # shares are bought only while a cooperative is open
    claims_wait = True

    def __init__(self, params: Any, scale: float) -> None:
        super().__init__(params)
        self.uninvested_yuan = params.funds_yuan * scale
        self.returned_yuan = 0.0

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        hh = model.households
        if self.params.return_on_exit:
            leaving = (hh.equity_yuan > 0) & ~model.poor
            self.returned_yuan += float(hh.equity_yuan[leaving].sum())
            hh.equity_yuan[leaving] = 0.0
        table = model.workshop_table
        if not (table.is_open & (table.form == Form.COOPERATIVE)).any():
            return
        eligible = np.flatnonzero(
            hh.registered_poor & ~hh.has_labour & model.poor & (hh.equity_yuan == 0)
        )
        shares = self.params.share_per_person_yuan * hh.size[eligible].astype(np.float64)
        self.returned_yuan -= self._give(hh, eligible, shares, self.returned_yuan)
        waiting = hh.equity_yuan[eligible] == 0
        eligible, shares = eligible[waiting], shares[waiting]
        affordable = np.cumsum(shares) <= self.uninvested_yuan
        paid = budget.pay(self.name, shares[affordable])
        self.uninvested_yuan -= self._give(
            hh, eligible[affordable][paid], shares[affordable][paid], np.inf
        )

    @staticmethod
    def _give(hh: Households, households: np.ndarray, shares: np.ndarray, funds: float) -> float:
        """Give `households` their `shares` in order while `funds` last; returns the yuan."""
        given = np.cumsum(shares) <= funds
        hh.equity_yuan[households[given]] = shares[given]
        return float(shares[given].sum())


INSTRUMENT_CLASSES: dict[str, type[Instrument]] = {
    cls.name: cls
    for cls in (
        OpeningSubsidy,
        WageSubsidy,
        HiringBonus,
        AbsorptionAward,
        Training,
        Loans,
        InjuryInsurance,
        FreeRent,
        FactoryCashSupport,
        Equity,
    )
}


class PolicyAgent(mesa.Agent):
    """The county's poverty-alleviation office: certifies workshops and pays instruments."""

    def __init__(self, model: WorkshopEconomy, params: Policy) -> None:
        super().__init__(model)
        self.params = params
        self.budget = Budget(shares=dict(params.allocation))
        self.instruments = [
            self._make(name) for name in params.payment_order if getattr(params, name).enabled
        ]

    def _make(self, name: str) -> Instrument:
        block = getattr(self.params, name)
        if name == Equity.name:
            return Equity(block, self.model.params.scale)
        return INSTRUMENT_CLASSES[name](block)

    @property
    def ended(self) -> bool:
        """Whether support has ended (`policy.support_ends` is past)."""
        end = self.params.support_ends
        return end is not None and self.model.date >= end.replace(day=1)

    def step(self) -> None:
        """Allocate the year's budget in January, certify, then pay every instrument.

        Once support has ended, nothing is allocated, certified or paid.
        """
        model = self.model
        if self.ended:
            table = model.workshop_table
            table.support[:], table.certified[:], table.insured[:] = 0.0, False, False
            model.insured_workers = 0
            self.budget.start_month()
            return
        if model.month == 1 or model.month_of_year == 1:
            self.budget.allocate(self.params.budget_yuan_per_year * model.params.scale)
        self.budget.start_month()
        model.workshop_table.support[:] = 0.0
        self.certify()
        for instrument in self.instruments:
            instrument.run(model, self.budget)

    def certify(self) -> None:
        """A workshop is certified while it is open, staffed and meets the poor-worker quota."""
        rule, table = self.params.certification, self.model.workshop_table
        staffed = table.is_open & (table.workers > 0)
        share_ok = table.poor_workers >= rule.poor_share_min * table.workers - QUOTA_TOLERANCE
        table.certified[:] = staffed & (share_ok | (not rule.enabled))

    def grant_loans(self, slots: np.ndarray) -> None:
        """New workshops (`slots`) apply for guaranteed loans (if the instrument is in force)."""
        for instrument in self.instruments:
            if isinstance(instrument, Loans):
                instrument.grant(self.model.workshop_table, slots, self.model.keyed)

    @property
    def loans_issued_yuan(self) -> float:
        """Principal of the guaranteed loans granted so far (yuan)."""
        return sum((i.issued_yuan for i in self.instruments if isinstance(i, Loans)), 0.0)

    def support_for(self, entrant: Entrant) -> float:
        """Expected support to a candidate firm from every instrument in force (yuan).

        After the first month, an instrument whose money is spent (its envelope under an
        allocation, else the whole budget) promises nothing.
        """
        if self.ended:
            return 0.0
        budget, first = self.budget, self.model.month <= 1
        return sum(
            i.entrant_value(entrant, self.model)
            for i in self.instruments
            if first or budget.available(i.name) > 0.0
        )
