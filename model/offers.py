"""What a revising person can earn in each activity this month (expected, yuan/month).

Workshop offers are the vacancy-weighted mean of pay times utilisation in the person's
pool (own village for village workshops, county-wide otherwise); a person holding a job
sees their own workshop's pay. Farming splits household land among its farmers;
migration pays the year's migrant wage net of living costs away.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from model.choice import N_OPTIONS, Offers
from model.farming import Farms, farm_yuan, mu_per_farmer
from model.households import Households, People
from model.labour_market import market_key
from model.scenario import Activity, Scenario, interpolate_by_year
from model.workshops import WorkshopTable


@dataclass
class Market:
    """Places on offer this month, per workshop slot and per pool."""

    table: WorkshopTable
    utilisation: np.ndarray  # float64 per slot, at the head counts the market was built on
    vacancies: np.ndarray  # int64 per slot
    slot_key: np.ndarray  # int64 per slot, pool of each workshop
    pool_pay: np.ndarray  # float64 per pool, expected yuan/month of applying at skill 1
    pool_open: np.ndarray  # bool per pool, has a workshop that is hiring

    @classmethod
    def of(
        cls,
        table: WorkshopTable,
        workers: np.ndarray,
        n_villages: int,
        queue: np.ndarray | None = None,
    ) -> Market:
        """Vacancies and expected pay per pool.

        Expected pay is the capacity-weighted mean of pay x utilisation over the pool's
        hiring workshops, times the chance of a place: vacancies / (vacancies + the
        applicants the pool turned away last month, `queue`).
        """
        utilisation = table.utilisation(workers)
        vacancies = np.where(table.hiring, np.maximum(table.capacity - workers, 0), 0)
        slot_key = market_key(table.activity, table.village, n_villages)
        n_pools = n_villages + len(Activity)
        places = np.where(table.hiring, table.capacity, 0)
        weight = np.bincount(slot_key, places, n_pools)
        paid = np.bincount(slot_key, places * table.pay * utilisation, n_pools)
        open_places = np.bincount(slot_key, vacancies, n_pools)
        waiting = np.zeros(n_pools) if queue is None else queue
        chance = np.divide(
            open_places, open_places + waiting, out=np.zeros(n_pools), where=open_places > 0
        )
        pool_pay = np.divide(paid, weight, out=np.zeros(n_pools), where=weight > 0) * chance
        return cls(table, utilisation, vacancies.astype(np.int64), slot_key, pool_pay, weight > 0)

    @property
    def n_pools(self) -> int:
        """Number of pools (villages, then one per non-village workshop activity)."""
        return len(self.pool_pay)


def productivity(
    people: People, gain_per_course: float, persons: np.ndarray | None = None
) -> np.ndarray:
    """Output multiplier: skill times (1 + gain) per completed course (of `persons`, or all)."""
    if persons is None:
        return people.skill * course_gain(gain_per_course, people.courses)
    return people.skill[persons] * course_gain(gain_per_course, people.courses[persons])


def course_gain(gain_per_course: float, courses: np.ndarray) -> np.ndarray:
    """(1 + gain) to the power of each count of completed courses (int8 counts)."""
    return course_gains(gain_per_course)[courses]


def course_gains(gain_per_course: float) -> np.ndarray:
    """Productivity multiplier by courses completed: (1 + gain) ** k for k = 0..127."""
    return (1.0 + gain_per_course) ** np.arange(np.iinfo(np.int8).max + 1, dtype=np.int8)


def migrant_net_wage(params: Scenario, year: float) -> float:
    """Migrant wage net of living costs away, for a skill-1 worker (yuan/month)."""
    wage = interpolate_by_year(params.incomes.migrant_wage_yuan_per_month, year)
    return wage * (1.0 - params.incomes.migrant_living_cost_share)


@dataclass
class Viewer:
    """The revising people and the context they see."""

    idx: np.ndarray  # person indices
    people: People
    households: Households
    park_distance_km: np.ndarray  # per village
    year: float
    farms: Farms  # the households' farms

    @cached_property
    def farmers(self) -> np.ndarray:
        """Members of each household farming now."""
        return self.farms.current_farmers(self.people)


def build_offers(v: Viewer, market: Market, params: Scenario) -> Offers:
    """Expected income, non-income cost and availability of each option per reviser."""
    p, hh = v.people, v.households
    i = v.idx
    home = p.household[i]
    village = hh.village[home]
    prod = productivity(p, params.policy.training.productivity_gain, i)
    cap = p.capacity[i].astype(np.float64)
    n = len(i)
    income = np.zeros((n, N_OPTIONS), order="F")
    available = np.zeros((n, N_OPTIONS), dtype=bool, order="F")
    n_villages = len(v.park_distance_km)
    for activity in (Activity.HOME_OUTWORK, Activity.PARK_WORKSHOP, Activity.COMMUNITY_FACTORY):
        pool = n_villages + int(activity)
        income[:, activity] = market.pool_pay[pool] * cap
        available[:, activity] = market.pool_open[pool]
    income[:, Activity.HOME_OUTWORK] *= prod
    income[:, Activity.VILLAGE_WORKSHOP] = market.pool_pay[village] * cap
    available[:, Activity.VILLAGE_WORKSHOP] = market.pool_open[village]
    income[:, Activity.MIGRATION] = migrant_net_wage(params, v.year) * prod * cap
    # A reviser who takes up farming joins the household's other farmers.
    others = v.farmers[home] - (p.activity[i] == Activity.FARMING)
    mu = mu_per_farmer(hh.land_mu[home], others + 1, params)
    income[:, Activity.FARMING] = farm_yuan(mu, cap, params)
    _own_job(v, market, prod, cap, income, available)
    cost = np.zeros((n, N_OPTIONS), order="F")
    cost[:, Activity.PARK_WORKSHOP] = (
        params.choice.commute_yuan_per_km_month * v.park_distance_km[village]
    )
    cost[:, Activity.MIGRATION] = params.choice.migration_cost_yuan_per_month
    return Offers(income, cost, available)


def _own_job(
    v: Viewer,
    market: Market,
    prod: np.ndarray,
    cap: np.ndarray,
    income: np.ndarray,
    available: np.ndarray,
) -> None:
    """A reviser holding a job at an open workshop sees that job's pay."""
    slot = v.people.employer[v.idx]
    rows = np.flatnonzero(slot >= 0)
    slot = slot[rows]
    keep = market.table.is_open[slot]
    rows, slot = rows[keep], slot[keep]
    table = market.table
    piece = table.piece_rate[slot]
    activity = table.activity[slot]
    income[rows, activity] = (
        table.pay[slot] * market.utilisation[slot] * cap[rows] * np.where(piece, prod[rows], 1.0)
    )
    available[rows, activity] = True
