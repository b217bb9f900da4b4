"""The policy agent: a budget and one small class per instrument.

Each month the agent certifies workshops, then lets each enabled instrument present its
claims in the scenario's `payment_order`. Claims are paid whole, in order, while the
budget lasts; what cannot be paid is recorded as unpaid (one-off claims are presented
again the next month). Spending never exceeds the budget. Instruments also tell a
candidate firm what support it can expect, which drives workshop entry.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np

from model.households import NO_EMPLOYER
from model.labour_market import QUOTA_TOLERANCE
from model.scenario import INSTRUMENTS, Policy
from model.workshops import MONTHS_PER_YEAR, Entrant, Form, Workshop

if TYPE_CHECKING:
    from model.economy import WorkshopEconomy


@dataclass
class Budget:
    """Money the policy agent may still spend (yuan) and what each instrument spent."""

    remaining: float = 0.0
    allocated: float = 0.0
    due: dict[str, float] = field(default_factory=lambda: dict.fromkeys(INSTRUMENTS, 0.0))
    paid: dict[str, float] = field(default_factory=lambda: dict.fromkeys(INSTRUMENTS, 0.0))
    spent_total: dict[str, float] = field(default_factory=lambda: dict.fromkeys(INSTRUMENTS, 0.0))

    def allocate(self, amount: float) -> None:
        """Add a year's allocation; unspent money carries over."""
        self.remaining += amount
        self.allocated += amount

    def start_month(self) -> None:
        """Reset this month's due and paid figures."""
        self.due = dict.fromkeys(INSTRUMENTS, 0.0)
        self.paid = dict.fromkeys(INSTRUMENTS, 0.0)

    def pay(self, instrument: str, claims: Sequence[float] | np.ndarray) -> np.ndarray:
        """Pay claims whole, in order, while the budget lasts; return which were paid."""
        claims = np.asarray(claims, dtype=np.float64)
        paid = np.cumsum(claims) <= self.remaining + 1e-6
        amount = float(claims[paid].sum())
        self.remaining = max(self.remaining - amount, 0.0)
        self.due[instrument] += float(claims.sum())
        self.paid[instrument] += amount
        self.spent_total[instrument] += amount
        return paid

    @property
    def exhausted(self) -> bool:
        """Nothing left to pay with."""
        return self.remaining <= 0.0


class Instrument(ABC):
    """One policy instrument: its claims each month and its value to a candidate firm."""

    name: ClassVar[str]

    def __init__(self, params: Any) -> None:
        self.params = params

    @abstractmethod
    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        """Present this month's claims to the budget and apply what was paid."""

    def entrant_value(self, entrant: Entrant, model: WorkshopEconomy) -> float:
        """Expected support to a candidate firm over its planning horizon (yuan)."""
        return 0.0


def _certified(model: WorkshopEconomy) -> list[Workshop]:
    return [w for w in model.workshop_slots if w.certified]


class OpeningSubsidy(Instrument):
    """One-time subsidy when a workshop is first certified (seed 000: 25,000-50,000)."""

    name = "opening_subsidy"

    def _amount(self, capacity: int) -> float:
        p = self.params
        return p.large_yuan if capacity >= p.large_min_workers else p.small_yuan

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        due = [w for w in _certified(model) if not w.opening_paid]
        paid = budget.pay(self.name, [self._amount(w.capacity) for w in due])
        for w, ok in zip(due, paid, strict=True):
            w.opening_paid = bool(ok)

    def entrant_value(self, entrant: Entrant, model: WorkshopEconomy) -> float:
        return self._amount(entrant.capacity)


class WageSubsidy(Instrument):
    """Share of certified workshops' wage bill for registered-poor workers (seed 000: 20%)."""

    name = "wage_subsidy"

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        shops = _certified(model)
        budget.pay(self.name, [self.params.share_of_poor_wage_bill * w.accounts.poor_wage_bill
                               for w in shops])

    def entrant_value(self, entrant: Entrant, model: WorkshopEconomy) -> float:
        return (self.params.share_of_poor_wage_bill * entrant.spec.pay_yuan_per_month
                * entrant.expected_poor_workers * entrant.busy_share * entrant.months)


class HiringBonus(Instrument):
    """Bonus per poor worker reaching the contract length at a workshop with enough poor.

    Seed 002: 1,000 yuan per worker, contract >= 6 months, workshop hires >= 3 poor.
    """

    name = "hiring_bonus"

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        people, p = model.people, self.params
        qualifying_shop = np.array(
            [w.certified and w.accounts.poor_workers >= p.poor_hired_min
             for w in model.workshop_slots] + [False], dtype=bool)
        due = np.flatnonzero(
            (people.employer != NO_EMPLOYER) & model.registered_person & ~people.bonus_paid
            & (people.tenure >= p.contract_months_min) & qualifying_shop[people.employer]
        )
        paid = budget.pay(self.name, np.full(len(due), p.yuan_per_worker))
        people.bonus_paid[due[paid]] = True

    def entrant_value(self, entrant: Entrant, model: WorkshopEconomy) -> float:
        poor = entrant.expected_poor_workers
        return self.params.yuan_per_worker * poor if poor >= self.params.poor_hired_min else 0.0


class AbsorptionAward(Instrument):
    """Once per workshop employing enough poor workers (seed 001: 50,000 for >= 10)."""

    name = "absorption_award"

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        due = [w for w in _certified(model)
               if not w.awarded and w.accounts.poor_workers >= self.params.poor_hired_min]
        paid = budget.pay(self.name, np.full(len(due), self.params.award_yuan))
        for w, ok in zip(due, paid, strict=True):
            w.awarded = bool(ok)

    def entrant_value(self, entrant: Entrant, model: WorkshopEconomy) -> float:
        enough = entrant.expected_poor_workers >= self.params.poor_hired_min
        return self.params.award_yuan if enough else 0.0


class Training(Instrument):
    """Free courses for registered-poor working-age people.

    A subsidy to the workshop per trainee (seed 000: 300 yuan) and a board allowance to
    the trainee (seed 001: 50 yuan a day). Each course raises productivity.
    """

    name = "training"

    @property
    def cost_per_trainee(self) -> float:
        """Yuan spent per trainee: course subsidy plus board allowance."""
        p = self.params
        return p.cost_yuan_per_trainee + p.board_yuan_per_day * p.days_per_course

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        people, p, rng = model.people, self.params, model.streams["training"]
        eligible = np.flatnonzero(model.registered_person & (people.capacity > 0)
                                  & (people.courses < p.courses_per_person_max))
        places = stochastic_round(p.places_per_month * model.params.scale, rng)
        chosen = rng.choice(eligible, size=min(places, len(eligible)), replace=False)
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
        due = [w for w in model.workshops
               if w.subsidised_loan and model.month - w.opened_month < self.params.term_months]
        budget.pay(self.name, [self._monthly(w.spec.loan_yuan, model) for w in due])

    def entrant_value(self, entrant: Entrant, model: WorkshopEconomy) -> float:
        months = min(entrant.months, self.params.term_months)
        expected = self._monthly(entrant.spec.loan_yuan, model) * months
        return self.params.take_up_share * expected

    def grant(self, workshops: list[Workshop], rng: np.random.Generator) -> None:
        """Grant guaranteed loans to a share of new workshops that need one."""
        lucky = rng.random(len(workshops)) < self.params.take_up_share
        for shop, granted in zip(workshops, lucky, strict=True):
            shop.subsidised_loan = bool(granted) and shop.spec.loan_yuan > 0
            self.issued_yuan += shop.spec.loan_yuan if shop.subsidised_loan else 0.0


class InjuryInsurance(Instrument):
    """Work-injury premiums paid by the county for (poor) employees of certified workshops."""

    name = "injury_insurance"

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        certified = [w for w in _certified(model) if w.form != Form.OUTWORK]
        self._enrol(certified, model.streams["enrolment"])
        shops = [w for w in certified if w.insurance_enrolled]
        p = self.params
        insured = [w.accounts.poor_workers if p.poor_workers_only else w.accounts.workers
                   for w in shops]
        paid = budget.pay(self.name, np.multiply(insured, p.premium_yuan_per_worker_month))
        model.insured_workers = int(np.sum(np.asarray(insured)[paid])) if insured else 0

    def _enrol(self, shops: list[Workshop], rng: np.random.Generator) -> None:
        """Decide once, when a workshop is first certified, whether the county enrols it."""
        new = [w for w in shops if w.insurance_enrolled is None]
        enrolled = rng.random(len(new)) < self.params.take_up_share
        for shop, chosen in zip(new, enrolled, strict=True):
            shop.insurance_enrolled = bool(chosen)


class FreeRent(Instrument):
    """Rent of workshop premises paid by the county for the first months (Pingli: 3 years)."""

    name = "free_rent"

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        due = [w for w in model.workshops if model.month - w.opened_month < self.params.months]
        budget.pay(self.name, [w.spec.rent_yuan_per_month for w in due])

    def entrant_value(self, entrant: Entrant, model: WorkshopEconomy) -> float:
        return entrant.spec.rent_yuan_per_month * min(self.params.months, entrant.months)


class FactoryCashSupport(Instrument):
    """Cash support per open community factory (Pingli: 50,000 yuan a year)."""

    name = "factory_cash_support"

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        due = [w for w in model.workshops if w.form == Form.COMMUNITY]
        budget.pay(self.name, np.full(len(due), self.params.yuan_per_factory_year
                                      / MONTHS_PER_YEAR))

    def entrant_value(self, entrant: Entrant, model: WorkshopEconomy) -> float:
        if entrant.form != Form.COMMUNITY:
            return 0.0
        return self.params.yuan_per_factory_year / MONTHS_PER_YEAR * entrant.months


class Equity(Instrument):
    """Poverty funds bought as cooperative shares for households without labour.

    Registered-poor households without labour capacity get shares (seed 002); shares
    return to the pool when a household leaves poverty.
    """

    name = "equity"

    def __init__(self, params: Any, scale: float) -> None:
        super().__init__(params)
        self.uninvested_yuan = params.funds_yuan * scale
        self.returned_yuan = 0.0

    def run(self, model: WorkshopEconomy, budget: Budget) -> None:
        hh, share = model.households, self.params.share_per_household_yuan
        if self.params.return_on_exit:
            leaving = (hh.equity_yuan > 0) & ~model.poor
            self.returned_yuan += float(hh.equity_yuan[leaving].sum())
            hh.equity_yuan[leaving] = 0.0
        if not any(w.form == Form.COOPERATIVE for w in model.workshops):
            return
        eligible = np.flatnonzero(hh.registered_poor & ~hh.has_labour & model.poor
                                  & (hh.equity_yuan == 0))
        from_pool = eligible[: int(self.returned_yuan // share)]
        hh.equity_yuan[from_pool] = share
        self.returned_yuan -= share * len(from_pool)
        rest = eligible[len(from_pool):][: int(self.uninvested_yuan // share)]
        paid = budget.pay(self.name, np.full(len(rest), share))
        hh.equity_yuan[rest[paid]] = share
        self.uninvested_yuan -= share * int(paid.sum())


INSTRUMENT_CLASSES: dict[str, type[Instrument]] = {
    cls.name: cls for cls in (OpeningSubsidy, WageSubsidy, HiringBonus, AbsorptionAward,
                              Training, Loans, InjuryInsurance, FreeRent,
                              FactoryCashSupport, Equity)
}


def stochastic_round(x: float, rng: np.random.Generator) -> int:
    """Round x to floor(x) or ceil(x) with the right odds (keeps scaled counts unbiased)."""
    whole = int(np.floor(x))
    return whole + int(rng.random() < x - whole)


class PolicyAgent(mesa.Agent):
    """The county's poverty-alleviation office: certifies workshops and pays instruments."""

    def __init__(self, model: WorkshopEconomy, params: Policy) -> None:
        super().__init__(model)
        self.params = params
        self.budget = Budget()
        self.instruments = [self._make(name) for name in params.payment_order
                            if getattr(params, name).enabled]

    def _make(self, name: str) -> Instrument:
        block = getattr(self.params, name)
        if name == Equity.name:
            return Equity(block, self.model.params.scale)
        return INSTRUMENT_CLASSES[name](block)

    def step(self) -> None:
        """Allocate the year's budget in January, certify, then pay every instrument."""
        model = self.model
        if model.month == 1 or model.month_of_year == 1:
            self.budget.allocate(self.params.budget_yuan_per_year * model.params.scale)
        self.budget.start_month()
        self.certify()
        for instrument in self.instruments:
            instrument.run(model, self.budget)

    def certify(self) -> None:
        """A workshop is certified while it is open, staffed and meets the poor-worker quota."""
        rule = self.params.certification
        for w in self.model.workshop_slots:
            staffed = w.is_open and w.accounts.workers > 0
            share_ok = (not rule.enabled) or (
                w.accounts.poor_workers >= rule.poor_share_min * w.accounts.workers
                - QUOTA_TOLERANCE)
            w.certified = staffed and share_ok

    def grant_loans(self, workshops: list[Workshop], rng: np.random.Generator) -> None:
        """New workshops apply for guaranteed loans (if the instrument is in force)."""
        for instrument in self.instruments:
            if isinstance(instrument, Loans):
                instrument.grant(workshops, rng)

    @property
    def loans_issued_yuan(self) -> float:
        """Principal of the guaranteed loans granted so far (yuan)."""
        return sum(i.issued_yuan for i in self.instruments if isinstance(i, Loans))

    def support_for(self, entrant: Entrant) -> float:
        """Expected support to a candidate firm from every instrument in force (yuan)."""
        if self.budget.exhausted and self.model.month > 1:
            return 0.0
        return sum(i.entrant_value(entrant, self.model) for i in self.instruments)
