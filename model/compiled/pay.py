"""Workshop, migrant and farm earnings booked to people and households, compiled with numba.

The array twins are `model.pay._pay_workers`, `model.pay._credit_migrants` and
`model.farming._recompute_farms`: each worker's earnings, then `np.bincount` of them by
household (or by workshop). Here one pass over the workers
(or the households' members) computes each one's earnings with the same floating-point
operations and adds them to the household's income in the same order (ascending person
index), so both give identical numbers without the array versions' temporaries. The
twins are declared in `model.pay` and `model.farming` (see `model.compiled`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from model.compiled.registry import jit
from model.households import Households, People
from model.scenario import Activity, Scenario
from model.workshops import MONTHS_PER_YEAR

FARMING = int(Activity.FARMING)


class SlotPay(NamedTuple):
    """What each workshop slot pays this month (arrays indexed by slot)."""

    pay: np.ndarray  # float64, yuan/month at full orders for productivity 1
    utilisation: np.ndarray  # float64, share of the month each worker is busy
    piece_rate: np.ndarray  # float64, yuan per piece; 0 where the slot pays a time wage
    pieces_at_full_orders: np.ndarray  # float64, pieces a month at productivity 1


class Productivity(NamedTuple):
    """How a worker's productivity enters pay."""

    course_gains: np.ndarray  # productivity multiplier by courses completed
    time_wage_skill_share: float  # share of a time wage that follows productivity


def credit_migrants(
    people: People,
    migrants: np.ndarray,
    net_wage: float,
    course_gains: np.ndarray,
    household_income: np.ndarray,
) -> None:
    """Migrants earn the net wage x productivity x capacity (yuan this month).

    Args:
        people: the people (their `earnings` are written).
        migrants: the migrants, ascending.
        net_wage: migrant wage net of living costs, skill 1 (yuan/month).
        course_gains: productivity multiplier by courses completed.
        household_income: migrant income per household, overwritten (yuan).
    """
    _credit_migrants(
        migrants,
        people.skill,
        people.courses,
        people.capacity,
        people.household,
        course_gains,
        net_wage,
        people.earnings,
        household_income,
    )


class SlotAccounts(NamedTuple):
    """Per-slot sums over the month's paid workers (float64, one entry per workshop slot)."""

    wage_bill: np.ndarray  # yuan: the workers' earnings as stored (float32)
    poor_wage_bill: np.ndarray  # yuan: of registered-poor workers within the subsidy's age
    pieces: np.ndarray  # pieces made
    labour: np.ndarray  # effective labour: capacity x skill x course gain

    @classmethod
    def zeros(cls, n_slots: int) -> SlotAccounts:
        """Accounts of `n_slots` slots with nobody paid."""
        return cls(np.zeros(n_slots), np.zeros(n_slots), np.zeros(n_slots), np.zeros(n_slots))


class WorkerColumns(NamedTuple):
    """Per-person arrays the workshop pay reads (see `model.households.People`)."""

    employer: np.ndarray
    skill: np.ndarray
    courses: np.ndarray
    capacity: np.ndarray
    household: np.ndarray
    age: np.ndarray
    registered: np.ndarray  # bool, member of a registered-poor household


def pay_workers(
    people: People,
    paid: np.ndarray,
    registered: np.ndarray,
    pay: tuple[SlotPay, Productivity, int],
    incomes: tuple[np.ndarray, np.ndarray],
    accounts: SlotAccounts,
) -> None:
    """Workshop workers' earnings, their households' wages and piece work, their slots' sums.

    A piece worker makes pieces at full orders x utilisation x capacity x productivity
    and earns pieces x rate; a time-wage worker earns pay x utilisation x capacity x
    ((1 - s) + s x productivity), s the time wage's skill share. One pass over the
    workers reads each worker's row once.

    Args:
        people: the people (their `earnings` are written, float32 yuan).
        paid: the workers paid this month, ascending.
        registered: whether each person is registered poor.
        pay: what each slot pays, how productivity enters pay, and the oldest worker
            (years) the wage subsidy counts in the poor wage bill.
        incomes: wage and piece-work income per household, 0 where any of `paid` lives;
            credited (yuan).
        accounts: per-slot sums, added to in the order of `paid`.
    """
    slots, productivity, subsidy_age_max = pay
    _pay_workers(
        paid,
        WorkerColumns(
            people.employer,
            people.skill,
            people.courses,
            people.capacity,
            people.household,
            people.age,
            registered,
        ),
        slots,
        productivity,
        subsidy_age_max,
        people.earnings,
        incomes,
        accounts,
    )


@jit
def _pay_workers(paid, p, slots, productivity, subsidy_age_max, earnings, incomes, accounts):
    wages, piece_work = incomes
    share = productivity.time_wage_skill_share
    gains = productivity.course_gains
    for k in range(paid.shape[0]):
        i = paid[k]
        slot = p.employer[i]
        skill = np.float64(p.skill[i])
        gain = gains[p.courses[i]]
        prod = skill * gain
        cap = p.capacity[i]
        used = slots.utilisation[slot]
        if slots.piece_rate[slot] > 0:
            made = (slots.pieces_at_full_orders[slot] * used * cap) * prod
            amount = made * slots.piece_rate[slot]
            piece_work[p.household[i]] += amount
            accounts.pieces[slot] += made
        else:
            amount = (slots.pay[slot] * used * cap) * ((1.0 - share) + share * prod)
            wages[p.household[i]] += amount
        earnings[i] = amount
        earned = np.float64(earnings[i])  # as stored (float32)
        accounts.wage_bill[slot] += earned
        accounts.poor_wage_bill[slot] += earned * (p.registered[i] and p.age[i] <= subsidy_age_max)
        accounts.labour[slot] += (np.float64(cap) * skill) * gain


def recompute_farms(
    people: People,
    households: Households,
    rows: np.ndarray | None,
    params: Scenario,
    farmers: np.ndarray,
    income: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Farmers and farm income (farming plus rent on idle land) of households `rows`.

    Args:
        people: the people.
        households: the households (people are ordered by household).
        rows: the households to recompute, ascending (all if None).
        params: the scenario (land per farmer, net farm income and rent per mu).
        farmers: members farming per household, overwritten at `rows`.
        income: farm income per household (yuan/month), overwritten at `rows`.

    Returns:
        The farmers of those households (ascending) and their farm earnings (yuan).
    """
    if rows is None:
        rows = np.arange(len(households))
    incomes = params.incomes
    room = int(households.size[rows].sum())
    persons, earnings = np.empty(room, dtype=np.int64), np.empty(room)
    found = _recompute_farms(
        rows,
        households.first_member,
        households.size,
        households.land_mu,
        people.activity,
        people.capacity,
        incomes.mu_per_farmer_max,
        incomes.farm_net_yuan_per_mu_year,
        incomes.land_rent_yuan_per_mu_year,
        farmers,
        income,
        persons,
        earnings,
    )
    return persons[:found], earnings[:found]


@jit
def _recompute_farms(
    rows,
    first_member,
    size,
    land_mu,
    activity,
    capacity,
    mu_max,
    net_per_mu_year,
    rent_per_mu_year,
    farmers,
    income,
    persons,
    earnings,
):
    found = 0
    for row in rows:
        start, end = first_member[row], first_member[row] + size[row]
        n_farmers = 0
        for i in range(start, end):
            if activity[i] == FARMING:
                n_farmers += 1
        land = np.float64(land_mu[row])
        mu = min(land / np.float64(max(n_farmers, 1)), mu_max)
        farmed, earned = 0.0, 0.0
        for i in range(start, end):
            if activity[i] == FARMING:
                amount = mu * net_per_mu_year / MONTHS_PER_YEAR * np.float64(capacity[i])
                persons[found], earnings[found] = i, amount
                found += 1
                farmed += mu
                earned += amount
        idle_mu = max(land - farmed, 0.0)
        farmers[row] = n_farmers
        income[row] = earned + idle_mu * rent_per_mu_year / MONTHS_PER_YEAR
    return found


@jit
def _credit_migrants(
    migrants,
    skill,
    courses,
    capacity,
    household,
    course_gains,
    net_wage,
    earnings,
    household_income,
):
    household_income[:] = 0.0
    for k in range(migrants.shape[0]):
        i = migrants[k]
        amount = net_wage * (np.float64(skill[i]) * course_gains[courses[i]]) * capacity[i]
        earnings[i] = amount
        household_income[household[i]] += amount
