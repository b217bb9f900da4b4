"""What a revising person can earn in each activity this month (expected, yuan/month).

Workshop offers are the capacity-weighted mean of pay times utilisation in the person's
pool (own village for village workshops; own resettlement site for community factories
where it has one, the county otherwise; county-wide for the rest), times the person's
productivity at firms paying by the piece and a time wage's share of it elsewhere,
times the chance of a place; a person holding a job sees their own workshop's pay. A
workshop option is open to a person only if it pays at least their reservation income.
Farming splits household land among its farmers; migration pays the year's migrant
wage net of living costs away.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from model.choice import N_OPTIONS, Offers
from model.farming import Farms, farm_yuan, mu_per_farmer
from model.households import WORKSHOP_ACTIVITIES, Households, People
from model.labour_market import market_key
from model.scenario import ACTIVITY_NAMES, Activity, Choice, Scenario, interpolate_by_year
from model.workshops import WorkshopTable


@dataclass(frozen=True)
class Pools:
    """The labour pools, numbered from 0.

    One pool per village (village workshops), one county-wide per other workshop
    activity, and one per resettlement site (its community factories).
    """

    n_villages: int
    n_sites: int = 1

    @property
    def n_pools(self) -> int:
        """Number of pools."""
        return self.n_villages + len(Activity) + self.n_sites

    def county(self, activity: int) -> int:
        """The county-wide pool of a workshop activity."""
        return self.n_villages + int(activity)

    def site(self, site: np.ndarray) -> np.ndarray:
        """The pools of resettlement sites."""
        return self.n_villages + len(Activity) + site


@dataclass
class Market:
    """Places on offer this month, per workshop slot and per pool.

    A community factory's places are in its site's pool and also in the county-wide
    community-factory pool, which applicants from sites without a vacancy draw on.
    """

    table: WorkshopTable
    pools: Pools
    utilisation: np.ndarray  # float64 per slot, at the head counts the market was built on
    vacancies: np.ndarray  # int64 per slot
    slot_key: np.ndarray  # int64 per slot, pool of each workshop
    pool_piece: np.ndarray  # float64 per pool, yuan/month a hired worker of productivity 1
    # earns at the pool's piece-paying workshops (weighted over all the pool's places)
    pool_time: np.ndarray  # float64 per pool, the same at its time-wage workshops
    pool_chance: np.ndarray  # float64 per pool, chance of a place when applying
    pool_open: np.ndarray  # bool per pool, has a workshop that is hiring

    @classmethod
    def of(
        cls,
        table: WorkshopTable,
        workers: np.ndarray,
        pools: Pools,
        queue: np.ndarray | None = None,
    ) -> Market:
        """Vacancies, pay and chance of a place per pool.

        Pay is the capacity-weighted mean of pay x utilisation over the pool's hiring
        workshops, split into piece-paying and time-wage workshops; the chance of a place
        is vacancies / (vacancies + the applicants the pool turned away last month,
        `queue`).
        """
        utilisation = table.utilisation(workers)
        vacancies = np.where(table.hiring, np.maximum(table.capacity - workers, 0), 0)
        slot_key = market_key(table.activity, table.village, table.site, pools.n_villages)
        community = np.flatnonzero(table.activity == Activity.COMMUNITY_FACTORY)
        rows = np.concatenate((np.arange(len(table)), community))
        keys = np.concatenate(
            (slot_key, np.full(len(community), pools.county(Activity.COMMUNITY_FACTORY)))
        )
        n_pools = pools.n_pools
        places = np.where(table.hiring, table.capacity, 0)[rows]
        paid = places * table.pay[rows] * utilisation[rows]
        by_piece = table.by_piece[rows]
        weight = np.bincount(keys, places, n_pools)
        piece = np.bincount(keys, np.where(by_piece, paid, 0.0), n_pools)
        time = np.bincount(keys, np.where(by_piece, 0.0, paid), n_pools)
        open_places = np.bincount(keys, vacancies[rows], n_pools)
        waiting = np.zeros(n_pools) if queue is None else queue
        chance = np.divide(
            open_places, open_places + waiting, out=np.zeros(n_pools), where=open_places > 0
        )
        has = weight > 0
        return cls(
            table,
            pools,
            utilisation,
            vacancies.astype(np.int64),
            slot_key,
            np.divide(piece, weight, out=np.zeros(n_pools), where=has),
            np.divide(time, weight, out=np.zeros(n_pools), where=has),
            chance,
            has,
        )

    @property
    def n_pools(self) -> int:
        """Number of pools (villages, one per workshop activity, resettlement sites)."""
        return self.pools.n_pools

    def pay_if_hired(
        self, pool: np.ndarray, prod: np.ndarray, wage_prod: np.ndarray, cap: np.ndarray
    ) -> np.ndarray:
        """What a worker would earn in a pool at the pool's mean pay (yuan/month).

        Args:
            pool: each worker's pool.
            prod: each worker's productivity (piece work).
            wage_prod: each worker's time-wage multiplier (`wage_productivity`).
            cap: each worker's labour capacity.
        """
        return (self.pool_piece[pool] * prod + self.pool_time[pool] * wage_prod) * cap


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


def wage_productivity(prod: np.ndarray, skill_share: float) -> np.ndarray:
    """A time wage's multiplier of a worker of productivity `prod`: (1 - share) + share x prod.

    `skill_share` is `workshops.time_wage_skill_share` (0: a flat wage; 1: as by piece).
    """
    return (1.0 - skill_share) + skill_share * prod


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
    """Expected income, non-income cost and availability of each option per reviser.

    A workshop option is available when its pool has a hiring workshop (or the reviser
    holds a job there) and what it pays if hired, net of its cost, reaches the reviser's
    reservation income: what farming would pay (0 without land) plus the activity's
    `choice.work_disutility_yuan_per_month`.
    """
    p, hh = v.people, v.households
    i = v.idx
    home = p.household[i]
    village = hh.village[home]
    prod = productivity(p, params.policy.training.productivity_gain, i)
    wage_prod = wage_productivity(prod, params.workshops.time_wage_skill_share)
    cap = p.capacity[i].astype(np.float64)
    n = len(i)
    income = np.zeros((n, N_OPTIONS), order="F")
    full = np.zeros((n, N_OPTIONS), order="F")  # pay if hired, workshop options
    available = np.zeros((n, N_OPTIONS), dtype=bool, order="F")
    pools = market.pools
    site_pool = pools.site(np.maximum(hh.site[home], 0))
    downstairs = (hh.site[home] >= 0) & (market.pool_chance[site_pool] > 0)
    county_community = pools.county(Activity.COMMUNITY_FACTORY)
    for activity, pool in (
        (Activity.HOME_OUTWORK, np.full(n, pools.county(Activity.HOME_OUTWORK))),
        (Activity.VILLAGE_WORKSHOP, village.astype(np.int64)),
        (Activity.PARK_WORKSHOP, np.full(n, pools.county(Activity.PARK_WORKSHOP))),
        (Activity.COMMUNITY_FACTORY, np.where(downstairs, site_pool, county_community)),
    ):
        full[:, activity] = market.pay_if_hired(pool, prod, wage_prod, cap)
        income[:, activity] = full[:, activity] * market.pool_chance[pool]
        available[:, activity] = market.pool_open[pool]
    income[:, Activity.MIGRATION] = migrant_net_wage(params, v.year) * prod * cap
    # A reviser who takes up farming joins the household's other farmers.
    others = v.farmers[home] - (p.activity[i] == Activity.FARMING)
    mu = mu_per_farmer(hh.land_mu[home], others + 1, params)
    income[:, Activity.FARMING] = farm_yuan(mu, cap, params)
    _own_job(v, market, (prod, wage_prod, cap), (income, full, available), downstairs)
    cost = np.zeros((n, N_OPTIONS), order="F")
    cost[:, Activity.PARK_WORKSHOP] = (
        params.choice.commute_yuan_per_km_month * v.park_distance_km[village]
    )
    cost[:, Activity.MIGRATION] = params.choice.migration_cost_yuan_per_month
    disutility = work_disutility(params.choice)
    for activity in WORKSHOP_ACTIVITIES:
        reservation = income[:, Activity.FARMING] + disutility[activity]
        available[:, activity] &= full[:, activity] - cost[:, activity] >= reservation
    return Offers(income, cost, available, downstairs)


def work_disutility(coef: Choice) -> np.ndarray:
    """`choice.work_disutility_yuan_per_month` by activity code (0 where not given)."""
    table = coef.work_disutility_yuan_per_month
    return np.array([table.get(name, 0.0) for name in ACTIVITY_NAMES])


def _own_job(
    v: Viewer,
    market: Market,
    person: tuple[np.ndarray, np.ndarray, np.ndarray],
    offers: tuple[np.ndarray, np.ndarray, np.ndarray],
    downstairs: np.ndarray,
) -> None:
    """A reviser holding a job at an open workshop sees that job's pay.

    Args:
        v: the revisers.
        market: this month's market.
        person: each reviser's productivity, time-wage multiplier and capacity.
        offers: expected income, pay if hired and availability, updated in place.
        downstairs: whether each reviser's community-factory option is at their own
            site, updated in place for holders of a community-factory job.
    """
    prod, wage_prod, cap = person
    income, full, available = offers
    slot = v.people.employer[v.idx]
    rows = np.flatnonzero(slot >= 0)
    slot = slot[rows]
    keep = market.table.is_open[slot]
    rows, slot = rows[keep], slot[keep]
    table = market.table
    activity = table.activity[slot]
    factor = np.where(table.by_piece[slot], prod[rows], wage_prod[rows])
    own = table.pay[slot] * market.utilisation[slot] * cap[rows] * factor
    income[rows, activity] = own
    full[rows, activity] = own
    available[rows, activity] = True
    community = activity == Activity.COMMUNITY_FACTORY
    home_site = v.households.site[v.people.household[v.idx[rows[community]]]]
    downstairs[rows[community]] = table.site[slot[community]] == home_site
