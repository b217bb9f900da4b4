"""The revisers' logit choice compiled with numba: one pass per reviser.

The same rules as the array version, which stays the reference and the fallback: offers
as `model.offers.build_offers`, feasibility as `model.choice.feasible_options`, utilities
as `model.choice.utilities` and the draw as `model.choice.logit_choice`. Each reviser's
numbers are computed with the same floating-point operations in the same order, and the
logarithms of the draws are taken by numpy before the compiled pass, so both versions
give identical choices (tests compare them on many states). The array version builds
about fifty (revisers x options) temporaries; this one reads each reviser's row once
and writes only its choice.

The array twin is `model.economy._decisions`, and the twin is declared in
`model.economy` (see `model.compiled`); it is used for the logit rule only, the other
decision rules always run the array version.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from model.choice import N_OPTIONS, YUAN_PER_UTILITY_UNIT
from model.compiled.registry import jit
from model.households import IS_WORKSHOP_ACTIVITY, Health
from model.offers import Market, Viewer, course_gains, migrant_net_wage, work_disutility
from model.scenario import ACTIVITY_NAMES, Activity, Choice, Scenario
from model.workshops import MONTHS_PER_YEAR

(
    NOT_WORKING,
    FARMING,
    HOME_OUTWORK,
    VILLAGE_WORKSHOP,
    PARK_WORKSHOP,
    COMMUNITY_FACTORY,
    MIGRATION,
) = (int(a) for a in Activity)
HEALTHY, DISABLED = int(Health.HEALTHY), int(Health.DISABLED)


class PersonColumns(NamedTuple):
    """Per-person arrays the choice reads (see `model.households.People`)."""

    household: np.ndarray
    activity: np.ndarray
    carer: np.ndarray
    health: np.ndarray
    age: np.ndarray
    kept_home: np.ndarray
    female: np.ndarray
    capacity: np.ndarray
    skill: np.ndarray
    courses: np.ndarray
    employer: np.ndarray


class HouseholdColumns(NamedTuple):
    """Per-household arrays the choice reads, and each village's distance to the park."""

    village: np.ndarray
    land_mu: np.ndarray
    resettled: np.ndarray
    site: np.ndarray
    young_child: np.ndarray
    park_distance_km: np.ndarray


class MarketColumns(NamedTuple):
    """Per-pool and per-slot arrays of this month's market (see `model.offers.Market`)."""

    pool_piece: np.ndarray
    pool_time: np.ndarray
    pool_chance: np.ndarray
    pool_open: np.ndarray
    slot_open: np.ndarray
    slot_pay: np.ndarray
    slot_utilisation: np.ndarray
    slot_by_piece: np.ndarray
    slot_activity: np.ndarray
    slot_site: np.ndarray


class Rates(NamedTuple):
    """Scalars of the offers and the utility (yuan/month unless stated)."""

    n_villages: int
    first_site_pool: int  # pool of resettlement site 0
    course_gain: np.ndarray  # productivity multiplier by courses completed
    time_wage_skill_share: float
    disutility: np.ndarray  # yuan/month, per option (reservation income beyond farming)
    migrant_net_wage: float  # at skill 1
    mu_per_farmer_max: float  # mu
    farm_net_yuan_per_mu_year: float
    commute_yuan_per_km_month: np.float32  # float32, as the park distances
    migration_cost: float
    utility_per_1000_yuan: float
    option_constants: np.ndarray  # utility, per option
    inertia: float
    care_penalty: float
    young_child_away_penalty: float
    migrant_age_max: int
    flexible_hours: bool


def logit_decisions(
    viewer: Viewer, market: Market, params: Scenario, coef: Choice, draws: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The logit choice of each reviser, as `model.choice.choose` makes it.

    Args:
        viewer: the revisers (person indices, ascending) and what they see.
        market: this month's places and expected pay.
        params: the scenario.
        coef: the decision coefficients (rule "logit").
        draws: exponential draws, one per reviser and option (the logit's race).

    Returns:
        The chosen activity per reviser (int8), and whether each reviser's current
        activity is still feasible.
    """
    n = len(viewer.idx)
    chosen = np.empty(n, dtype=np.int8)
    current_ok = np.empty(n, dtype=np.bool_)
    _choose(
        viewer.idx,
        _persons(viewer),
        _households(viewer),
        _market(market),
        _rates(params, coef, viewer.year, market),
        np.log(draws),
        chosen,
        current_ok,
    )
    return chosen, current_ok


def _persons(v: Viewer) -> PersonColumns:
    p = v.people
    return PersonColumns(
        p.household,
        p.activity,
        p.carer,
        p.health,
        p.age,
        p.kept_home,
        p.female,
        p.capacity,
        p.skill,
        p.courses,
        p.employer,
    )


def _households(v: Viewer) -> HouseholdColumns:
    hh = v.households
    return HouseholdColumns(
        hh.village, hh.land_mu, hh.resettled, hh.site, hh.young_child, v.park_distance_km
    )


def _market(m: Market) -> MarketColumns:
    t = m.table
    return MarketColumns(
        m.pool_piece,
        m.pool_time,
        m.pool_chance,
        m.pool_open,
        t.is_open,
        t.pay,
        m.utilisation,
        t.by_piece,
        t.activity,
        t.site,
    )


def _rates(params: Scenario, coef: Choice, year: float, market: Market) -> Rates:
    pools = market.pools
    return Rates(
        pools.n_villages,
        int(pools.site(np.zeros(1, dtype=np.int64))[0]),
        course_gains(params.policy.training.productivity_gain),
        params.workshops.time_wage_skill_share,
        work_disutility(coef),
        migrant_net_wage(params, year),
        params.incomes.mu_per_farmer_max,
        params.incomes.farm_net_yuan_per_mu_year,
        np.float32(params.choice.commute_yuan_per_km_month),
        params.choice.migration_cost_yuan_per_month,
        coef.utility_per_1000_yuan,
        np.array([coef.option_constants.get(name, 0.0) for name in ACTIVITY_NAMES]),
        coef.inertia,
        coef.care_penalty,
        coef.young_child_away_penalty,
        params.population.migrant_age_max,
        coef.flexible_hours,
    )


@jit
def _choose(idx, p, hh, m, r, log_draws, chosen, current_ok):
    """Each reviser's feasible option with the highest utility less its log draw.

    Writes `chosen` and `current_ok` row by row (`model.choice.logit_choice`).
    """
    income = np.empty(N_OPTIONS)
    full = np.zeros(N_OPTIONS)  # pay if hired (workshop options)
    cost = np.zeros(N_OPTIONS)
    ok = np.empty(N_OPTIONS, dtype=np.bool_)
    pool = np.empty(N_OPTIONS, dtype=np.int64)
    share = r.time_wage_skill_share
    for row in range(idx.shape[0]):
        i = idx[row]
        home = p.household[i]
        village = hh.village[home]
        prod = np.float64(p.skill[i]) * r.course_gain[p.courses[i]]
        wage_prod = (1.0 - share) + share * prod
        cap = np.float64(p.capacity[i])
        county = r.n_villages
        site = hh.site[home]
        site_pool = r.first_site_pool + max(site, 0)
        downstairs = site >= 0 and m.pool_chance[site_pool] > 0
        pool[HOME_OUTWORK] = county + HOME_OUTWORK
        pool[VILLAGE_WORKSHOP] = village
        pool[PARK_WORKSHOP] = county + PARK_WORKSHOP
        pool[COMMUNITY_FACTORY] = site_pool if downstairs else county + COMMUNITY_FACTORY
        income[NOT_WORKING] = 0.0
        for option in (HOME_OUTWORK, VILLAGE_WORKSHOP, PARK_WORKSHOP, COMMUNITY_FACTORY):
            k = pool[option]
            full[option] = (m.pool_piece[k] * prod + m.pool_time[k] * wage_prod) * cap
            income[option] = full[option] * m.pool_chance[k]
            ok[option] = m.pool_open[k]
        income[MIGRATION] = r.migrant_net_wage * prod * cap
        others = _other_farmers(p.household, p.activity, i)
        mu = min(np.float64(hh.land_mu[home]) / np.float64(max(others + 1, 1)), r.mu_per_farmer_max)
        income[FARMING] = mu * r.farm_net_yuan_per_mu_year / MONTHS_PER_YEAR * cap
        # only people in a workshop activity hold a job (`People.employer`)
        slot = p.employer[i] if IS_WORKSHOP_ACTIVITY[p.activity[i]] else -1
        if slot >= 0 and m.slot_open[slot]:
            job = m.slot_activity[slot]
            factor = prod if m.slot_by_piece[slot] else wage_prod
            own = m.slot_pay[slot] * m.slot_utilisation[slot] * cap * factor
            income[job] = own
            full[job] = own
            ok[job] = True
            if job == COMMUNITY_FACTORY:
                downstairs = m.slot_site[slot] == site
        cost[PARK_WORKSHOP] = np.float64(r.commute_yuan_per_km_month * hh.park_distance_km[village])
        cost[MIGRATION] = r.migration_cost
        for option in (HOME_OUTWORK, VILLAGE_WORKSHOP, PARK_WORKSHOP, COMMUNITY_FACTORY):
            reservation = income[FARMING] + r.disutility[option]
            ok[option] = ok[option] and full[option] - cost[option] >= reservation
        carer = p.carer[i]
        away_ok = not carer and p.health[i] != DISABLED
        ok[NOT_WORKING] = True
        ok[FARMING] = hh.land_mu[home] > 0
        ok[COMMUNITY_FACTORY] = ok[COMMUNITY_FACTORY] and hh.resettled[home]
        ok[PARK_WORKSHOP] = ok[PARK_WORKSHOP] and away_ok
        ok[MIGRATION] = (
            away_ok
            and p.health[i] == HEALTHY
            and p.age[i] <= r.migrant_age_max
            and not p.kept_home[i]
        )
        if not r.flexible_hours:
            ok[VILLAGE_WORKSHOP] = ok[VILLAGE_WORKSHOP] and not carer
            ok[COMMUNITY_FACTORY] = ok[COMMUNITY_FACTORY] and not carer
        current = p.activity[i]
        current_ok[row] = ok[current]
        mother = p.female[i] and hh.young_child[home]
        best = -np.inf
        for option in range(N_OPTIONS):
            x = (income[option] - cost[option]) * r.utility_per_1000_yuan
            x = x / YUAN_PER_UTILITY_UNIT + r.option_constants[option]
            if option == current:
                x += r.inertia
            if carer and (
                option == VILLAGE_WORKSHOP or (option == COMMUNITY_FACTORY and not downstairs)
            ):
                x -= r.care_penalty
            if mother and option in (PARK_WORKSHOP, MIGRATION):
                x -= r.young_child_away_penalty
            score = x - log_draws[row, option]
            if ok[option] and score > best:
                best = score
                chosen[row] = option


@jit
def _other_farmers(household, activity, i):
    """Members of person i's household other than i who farm (members are adjacent)."""
    home, farming = household[i], 0
    j = i - 1
    while j >= 0 and household[j] == home:
        farming += activity[j] == FARMING
        j -= 1
    j = i + 1
    while j < household.shape[0] and household[j] == home:
        farming += activity[j] == FARMING
        j += 1
    return farming
