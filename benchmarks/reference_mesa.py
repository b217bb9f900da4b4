"""The household rules written the idiomatic Mesa way: one agent per household.

A yardstick for the vectorised model: the same county, with each household a
`mesa.Agent` holding its members as Python objects and the household rules written as
Python code in the agents' methods, stepped with `AgentSet.shuffle_do`.
`ns_per_household_month` times its monthly steps on the benchmark's scenario, and
`make bench` prints that beside the vectorised model's time (the speed-up target is
stated against this reference at 10^4 households).

Shared with `model.economy.WorkshopEconomy`, which `ReferenceEconomy` subclasses: the
scenario, the random streams, population synthesis (each synthesised household is then
wrapped in an agent), ageing and care load, shocks, workshops (orders, entry,
closure), the policy agent, labour matching and hiring, workshop accounts, the dibao
review and data collection. Workshops and the policy are few Mesa agents in both
models, matching is market-level, and care load changes once a year: sharing them
keeps the comparison about the household phases and lets both models see the same
workshops, policy and jobs.

Re-implemented per household, in Python (`Household` methods, called once per agent
and month in shuffled order):

- `choose`: who revises, the options each revising member sees and may take, logit
  utility and choice (`model.choice`, `model.offers`);
- `earn`: each member's earnings and the household's income by source (`model.pay`);
- `assess_poverty`: rolling 12-month income (each month rounded to whole fen and kept
  as Python integers), poverty status, exits, entries and spells
  (`model.metrics.PovertyTracker`).

These phases are where the work grows with the number of households.

The shared phases read and write the person and household arrays. Before each
household phase the agents' copies are refreshed from the array entries that changed
(`ColumnMirror`); after `earn` the earnings and the income by source are written back,
and the shared data collection reads the agents' poverty status gathered into arrays.
That copying is timed with the rest: about a tenth of the reference's month, the rest
being the agents' own work.

The numbers are the vectorised model's exactly: the keyed draws (`model.keyed`) are
made for everyone at model level and each member reads its own; quantities the arrays
hold in float32 are rounded at the same points (commuting cost, dividends); sums run in
the same order, written as loops (Python's `sum` of floats is compensated). Only the
exponential in the logit may differ in its last bit (the C library's against numpy's
vectorised one), which changes a choice only if two options' race times fall within
that bit of each other.
Only the logit decision rule is written here.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain

import mesa
import numpy as np

from model import collection
from model.choice import N_OPTIONS, YUAN_PER_UTILITY_UNIT
from model.compiled.pay import SlotAccounts
from model.economy import WorkshopEconomy
from model.households import AWAY_ACTIVITIES, NO_EMPLOYER, Health, Source
from model.keyed import Purpose
from model.labour_market import Staff
from model.metrics import (
    FEN_PER_YUAN,
    MAX_MONTH_FEN,
    STAYED_OUT_MONTHS,
    FGTMeasures,
    Groups,
    IncomeRangeError,
    Transitions,
    fgt_of_groups,
)
from model.offers import Market, course_gains, migrant_net_wage
from model.pay import PayContext, book_accounts, cooperative_active_share, slot_accounts
from model.scenario import ACTIVITY_NAMES, Activity, Choice, Scenario
from model.workshops import MONTHS_PER_YEAR, WorkshopTable

NS_PER_SECOND = 1e9
YARDSTICK_HOUSEHOLDS = 10_000  # scale at which the vectorised model is compared with this one
SPEEDUP_TARGET = 30.0  # vectorised model at least this many times faster there
NO_SPELL = -1  # spell start of a household not in poverty
COUNTY_POOLS = (Activity.HOME_OUTWORK, Activity.PARK_WORKSHOP, Activity.COMMUNITY_FACTORY)
CARE_BOUND = (Activity.VILLAGE_WORKSHOP, Activity.COMMUNITY_FACTORY)
LOGIT = "logit"


# ------------------------------------------------------------------ members and their copies


@dataclass(slots=True, eq=False)
class Member:
    """A household member: fixed traits, and state copied from the shared person arrays."""

    index: int  # row in the person arrays and in the month's uniforms
    female: bool
    skill: float  # productivity multiplier
    age: int = 0  # years
    health: int = Health.HEALTHY
    capacity: float = 0.0  # labour capacity (0 = cannot work)
    carer: bool = False
    kept_home: bool = False
    courses: int = 0  # training courses completed
    on_course: bool = False  # trained this month (the household gets the board allowance)
    pieces: float = 0.0  # pieces made this month (piece-paying workshops)
    activity: int = Activity.NOT_WORKING
    employer: int = NO_EMPLOYER  # workshop slot
    must_revise: bool = False
    unpaid_leave: bool = False  # injured at work and uninsured: holds the job, earns nothing
    earnings: float = 0.0  # yuan this month

    def productivity(self, gain_per_course: float) -> float:
        """Output multiplier: skill times (1 + gain) per completed course."""
        return self.skill * (1.0 + gain_per_course) ** self.courses


class ColumnMirror:
    """Keeps the same-named attributes of objects equal to array columns, one object per row.

    Only rows whose value changed since the last copy are written, so keeping the agents
    in step with the shared arrays costs in proportion to what the shared phases changed.
    """

    def __init__(self, objects: Sequence[object]) -> None:
        self.objects = objects
        self.seen: dict[str, np.ndarray] = {}

    def pull(self, columns: dict[str, np.ndarray]) -> None:
        """Copy the changed entries of each column into the objects' attributes."""
        objects = self.objects
        for name, now in columns.items():
            seen = self.seen.get(name)
            rows = np.arange(len(now)) if seen is None else np.flatnonzero(now != seen)
            for row, value in zip(rows.tolist(), now[rows].tolist(), strict=True):
                setattr(objects[row], name, value)
            self.seen[name] = now.copy()


# ------------------------------------------------------------------ what households see


@dataclass
class Jobs:
    """Each workshop slot's job this month, as Python lists."""

    pay: list[float]  # yuan/month at capacity 1: pay x this month's utilisation
    pieces: list[float]  # pieces a month at capacity 1 and productivity 1 (piece rate)
    piece_rate: list[float]  # yuan per piece; 0 where the slot pays a time wage
    activity: list[int]  # activity a job there counts as
    open: list[bool]  # open or idle
    site: list[int]  # resettlement site (community factories), else -1

    @classmethod
    def of(cls, table: WorkshopTable, utilisation: np.ndarray) -> Jobs:
        """The jobs of the shared workshop table at this month's utilisation (per slot)."""
        return cls(
            (table.pay * utilisation).tolist(),
            (table.pieces_at_full_orders * utilisation).tolist(),
            table.piece_rate.tolist(),
            table.activity.tolist(),
            table.is_open.tolist(),
            table.site.tolist(),
        )


@dataclass
class ChoiceSituation:
    """What every reviser sees this month (incomes and costs in yuan/month)."""

    params: Scenario
    coef: Choice  # decision coefficients (inertia 0 while settling)
    u_revise: list[float]  # one keyed uniform per person
    draws: list[list[float]]  # one keyed exponential draw per person and option
    revision_threshold: float  # revision rate per month
    pool_piece: list[float]  # pay if hired per pool at piece-paying workshops, capacity 1
    pool_time: list[float]  # the same at time-wage workshops
    pool_chance: list[float]  # chance of a place per pool
    pool_open: list[bool]  # pool has a hiring workshop
    n_villages: int  # village pools come first, then one per county activity, then sites
    jobs: Jobs
    net_migrant_wage: float  # at skill 1
    commute_yuan: list[float]  # to the park, per village (float32 values)
    constants: list[float]  # utility constant per option
    disutility: list[float]  # reservation income beyond farming, per option (yuan/month)
    decisions: list[tuple[int, int, bool]] = field(default_factory=list)
    # (person, chosen activity, current activity still feasible), appended by the agents

    @classmethod
    def of(
        cls,
        model: WorkshopEconomy,
        market: Market,
        coef: Choice,
        u_revise: np.ndarray,
        draws: np.ndarray,
    ) -> ChoiceSituation:
        """The shared market and the scenario's rules, as Python numbers."""
        params = model.params
        commute = params.choice.commute_yuan_per_km_month * model.geography.park_distance_km
        return cls(
            params,
            coef,
            u_revise.tolist(),
            draws.tolist(),
            params.choice.revision_rate_per_month,
            market.pool_piece.tolist(),
            market.pool_time.tolist(),
            market.pool_chance.tolist(),
            market.pool_open.tolist(),
            model.geography.n_villages,
            Jobs.of(market.table, market.utilisation),
            migrant_net_wage(params, model.year),
            commute.tolist(),
            [coef.option_constants.get(name, 0.0) for name in ACTIVITY_NAMES],
            [coef.work_disutility_yuan_per_month.get(name, 0.0) for name in ACTIVITY_NAMES],
        )

    def decided(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The decisions as the full model's arrays: revisers in person order, choice, ok."""
        decisions = sorted(self.decisions)
        return (
            np.array([d[0] for d in decisions], dtype=np.int64),
            np.array([d[1] for d in decisions], dtype=np.int8),
            np.array([d[2] for d in decisions], dtype=bool),
        )


@dataclass
class PayRates:
    """This month's pay per unit of labour capacity, and the scenario's income rules."""

    params: Scenario
    jobs: Jobs
    net_migrant_wage: float  # yuan/month at skill 1
    cooperative_active_share: float  # share of cooperatives open and not idle


# ------------------------------------------------------------------ poverty of one household


def to_fen(income: float, household: int) -> int:
    """A household's income this month (yuan) rounded to the nearest fen, half to even.

    Raises:
        IncomeRangeError: not finite, or beyond `MAX_MONTH_FEN` fen either way.
    """
    scaled = income * FEN_PER_YUAN
    fen = round(scaled) if math.isfinite(scaled) else MAX_MONTH_FEN + 1
    if abs(fen) > MAX_MONTH_FEN:
        raise IncomeRangeError.of(household, income)
    return fen


class PovertyStatus:
    """One household's rolling 12-month income (whole fen), poverty status and spells."""

    def __init__(self, first_month_income: float, size: int, line: float, row: int) -> None:
        """Start the window at 12 times the first month's income (yuan, kept in fen).

        `size` is the household's members (at least 1), `line` yuan per person-year and
        `row` the household's row (for the error of an income out of range).
        """
        self.size = size
        self.row = row
        first = to_fen(first_month_income, row)
        self.window = [first] * MONTHS_PER_YEAR  # fen
        self.rolling = first * MONTHS_PER_YEAR  # fen, exact (Python integers)
        self.poor = self.per_capita < line
        self.ever_exited = False
        self.months_out = 0  # consecutive months non-poor after an exit
        self.stayed_out = False  # an exit lasted STAYED_OUT_MONTHS
        self.spell_start = 0 if self.poor else NO_SPELL
        self.spell_lengths: list[int] = []
        self.exited = self.entered = self.re_entered = False  # this month

    @property
    def per_capita(self) -> float:
        """Rolling 12-month income per person (yuan per year): fen / (size x 100)."""
        return self.rolling / (self.size * FEN_PER_YUAN)

    def update(self, income: float, month: int, line: float) -> None:
        """Add this month's income (yuan, rounded to fen), reclassify, record the flows."""
        fen = to_fen(income, self.row)
        slot = month % MONTHS_PER_YEAR
        self.rolling += fen - self.window[slot]
        self.window[slot] = fen
        was_poor = self.poor
        self.poor = self.per_capita < line
        self.exited = was_poor and not self.poor
        self.entered = not was_poor and self.poor
        self.re_entered = self.entered and self.ever_exited
        self.ever_exited = self.ever_exited or self.exited
        if self.exited:
            if self.spell_start != NO_SPELL:
                self.spell_lengths.append(month - self.spell_start)
            self.spell_start = NO_SPELL
        if self.entered:
            self.spell_start = month
        self.months_out = self.months_out + 1 if self.ever_exited and not self.poor else 0
        self.stayed_out = self.stayed_out or self.months_out >= STAYED_OUT_MONTHS


class PovertyRoll:
    """The households' poverty status as arrays, for the shared reporting code."""

    def __init__(self, households: Sequence[Household], size: np.ndarray) -> None:
        self.households = households
        self.size = size  # members per household (the shared array)

    @property
    def per_capita(self) -> np.ndarray:
        """Rolling 12-month income per person of each household (yuan per year)."""
        return np.array([h.poverty.per_capita for h in self.households])

    @property
    def poor(self) -> np.ndarray:
        """Whether each household is below the line."""
        return np.array([h.poverty.poor for h in self.households])

    def fgt(self, groups: Groups, line: float) -> FGTMeasures:
        """FGT 0, 1, 2 of each group at `line`, from the households' per-capita incomes."""
        return fgt_of_groups(self.per_capita, line, self.size, groups)

    def flows(self) -> Transitions:
        """Exits, entries and re-entries this month."""
        statuses = [h.poverty for h in self.households]
        return Transitions(
            sum(s.exited for s in statuses),
            sum(s.entered for s in statuses),
            sum(s.re_entered for s in statuses),
        )


# ------------------------------------------------------------------ the household agent


class Household(mesa.Agent):
    """A household: its members, land and transfers, and the rules it follows each month."""

    model: ReferenceEconomy

    def __init__(self, model: ReferenceEconomy, row: int, members: list[Member]) -> None:
        super().__init__(model)
        hh = model.households
        self.row = row
        self.members = members
        self.village = int(hh.village[row])
        self.land_mu = float(hh.land_mu[row])
        self.resettled = bool(hh.resettled[row])
        self.site = int(hh.site[row])  # resettlement site, -1 if not resettled
        self.size = int(hh.size[row])
        self.young_child = False  # copied from the shared care load
        self.equity_yuan = 0.0  # cooperative shares held (float32 value)
        self.dibao_yuan_per_month = 0.0  # minimum living allowance (float32 value)
        self.income = [0.0] * len(Source)  # this month, yuan by Source
        self.poverty: PovertyStatus

    def _farmers(self) -> int:
        return [m.activity for m in self.members].count(Activity.FARMING)

    def _mu_per_farmer(self, farmers: int, mu_max: float) -> float:
        """Land one of `farmers` farmers works (mu)."""
        return min(self.land_mu / max(farmers, 1), mu_max)

    # ---- choose

    def choose(self, s: ChoiceSituation) -> None:
        """Members who revise this month (at random, or because they must) pick an activity."""
        revising = [
            m
            for m in self.members
            if m.capacity > 0 and (m.must_revise or s.u_revise[m.index] < s.revision_threshold)
        ]
        if not revising:
            return
        farmers = self._farmers()
        for m in revising:
            net, downstairs = self._net_offers(m, farmers, s)
            v = self._utilities(m, net, downstairs, s)
            chosen = _logit_choice(v, s.draws[m.index])
            s.decisions.append((m.index, chosen, v[m.activity] is not None))

    def _net_offers(
        self, m: Member, farmers: int, s: ChoiceSituation
    ) -> tuple[list[float | None], bool]:
        """Expected income net of cost of each option, None where the member may not take it.

        Also whether the community factory on offer is downstairs (at the own site).
        """
        params, cap = s.params, m.capacity
        prod = m.productivity(params.policy.training.productivity_gain)
        share = params.workshops.time_wage_skill_share
        wage_prod = (1.0 - share) + share * prod
        county = s.n_villages
        site_pool = county + len(Activity) + max(self.site, 0)
        downstairs = self.site >= 0 and s.pool_chance[site_pool] > 0
        pools = {
            Activity.HOME_OUTWORK: county + Activity.HOME_OUTWORK,
            Activity.VILLAGE_WORKSHOP: self.village,
            Activity.PARK_WORKSHOP: county + Activity.PARK_WORKSHOP,
            Activity.COMMUNITY_FACTORY: site_pool
            if downstairs
            else county + Activity.COMMUNITY_FACTORY,
        }
        income = [0.0] * N_OPTIONS
        full = [0.0] * N_OPTIONS  # pay if hired
        available = [False] * N_OPTIONS
        for activity, pool in pools.items():
            full[activity] = (s.pool_piece[pool] * prod + s.pool_time[pool] * wage_prod) * cap
            income[activity] = full[activity] * s.pool_chance[pool]
            available[activity] = s.pool_open[pool]
        income[Activity.MIGRATION] = s.net_migrant_wage * prod * cap
        # A member who takes up farming joins the household's other farmers.
        mu = self._mu_per_farmer(
            farmers - (m.activity == Activity.FARMING) + 1, params.incomes.mu_per_farmer_max
        )
        income[Activity.FARMING] = (
            mu * params.incomes.farm_net_yuan_per_mu_year / MONTHS_PER_YEAR * cap
        )
        slot = m.employer
        if slot != NO_EMPLOYER and s.jobs.open[slot]:
            own = s.jobs.activity[slot]
            by_piece = s.jobs.piece_rate[slot] > 0
            income[own] = full[own] = s.jobs.pay[slot] * cap * (prod if by_piece else wage_prod)
            available[own] = True
            if own == Activity.COMMUNITY_FACTORY:
                downstairs = s.jobs.site[slot] == self.site
        cost = [0.0] * N_OPTIONS
        cost[Activity.PARK_WORKSHOP] = s.commute_yuan[self.village]
        cost[Activity.MIGRATION] = params.choice.migration_cost_yuan_per_month
        for activity in pools:
            reservation = income[Activity.FARMING] + s.disutility[activity]
            available[activity] = (
                available[activity] and full[activity] - cost[activity] >= reservation
            )
        net = [x - c for x, c in zip(income, cost, strict=True)]
        feasible = self._feasible(m, available, s)
        return [x if ok else None for x, ok in zip(net, feasible, strict=True)], downstairs

    def _feasible(self, m: Member, available: list[bool], s: ChoiceSituation) -> list[bool]:
        """Which options the member may choose (age, health, care duty, land, resettlement)."""
        away_ok = not m.carer and m.health != Health.DISABLED
        near_ok = s.coef.flexible_hours or not m.carer
        return [
            True,
            self.land_mu > 0,
            available[Activity.HOME_OUTWORK],
            available[Activity.VILLAGE_WORKSHOP] and near_ok,
            available[Activity.PARK_WORKSHOP] and away_ok,
            available[Activity.COMMUNITY_FACTORY] and self.resettled and near_ok,
            (
                away_ok
                and m.health == Health.HEALTHY
                and m.age <= s.params.population.migrant_age_max
                and not m.kept_home
            ),
        ]

    def _utilities(
        self, m: Member, net: list[float | None], downstairs: bool, s: ChoiceSituation
    ) -> list[float | None]:
        """Systematic utility of each feasible option (None where infeasible).

        A carer bears the care penalty at village workshops and at community factories
        other than the one downstairs.
        """
        coef, constants = s.coef, s.constants
        mother = m.female and self.young_child
        v: list[float | None] = []
        for option, yuan in enumerate(net):
            if yuan is None:
                v.append(None)
                continue
            u = coef.utility_per_1000_yuan * yuan / YUAN_PER_UTILITY_UNIT + constants[option]
            if option == m.activity:
                u += coef.inertia
            factory_downstairs = option == Activity.COMMUNITY_FACTORY and downstairs
            if m.carer and option in CARE_BOUND and not factory_downstairs:
                u -= coef.care_penalty
            if mother and option in AWAY_ACTIVITIES:
                u -= coef.young_child_away_penalty
            v.append(u)
        return v

    # ---- earn

    def earn(self, rates: PayRates) -> None:
        """Members' earnings and the household's income by source this month (yuan)."""
        inc = rates.params.incomes
        gain = rates.params.policy.training.productivity_gain
        jobs = rates.jobs
        income = [0.0] * len(Source)
        farmers = self._farmers()
        farmed_mu = 0.0
        pensioners = trainees = 0
        share = rates.params.workshops.time_wage_skill_share
        for m in self.members:
            earned = 0.0
            m.pieces = 0.0
            if m.employer != NO_EMPLOYER and not m.unpaid_leave:
                prod = m.productivity(gain)
                rate = jobs.piece_rate[m.employer]
                if rate > 0:
                    m.pieces = jobs.pieces[m.employer] * m.capacity * prod
                    earned = m.pieces * rate
                    income[Source.PIECE_WORK] += earned
                else:
                    earned = jobs.pay[m.employer] * m.capacity * ((1.0 - share) + share * prod)
                    income[Source.WAGES] += earned
            elif m.activity == Activity.MIGRATION:
                earned = rates.net_migrant_wage * m.productivity(gain) * m.capacity
                income[Source.MIGRANT] += earned
            elif m.activity == Activity.FARMING:
                mu = self._mu_per_farmer(farmers, inc.mu_per_farmer_max)
                farmed_mu += mu
                earned = mu * inc.farm_net_yuan_per_mu_year / MONTHS_PER_YEAR * m.capacity
                income[Source.FARMING] += earned
            m.earnings = earned
            pensioners += m.age >= inc.pension_age
            trainees += m.on_course
        self._add_transfers(income, max(self.land_mu - farmed_mu, 0.0), pensioners, trainees, rates)
        self.income = income

    def _add_transfers(
        self, income: list[float], idle_mu: float, pensioners: int, trainees: int, rates: PayRates
    ) -> None:
        """Land rent, pensions, dividends, dibao and the training board allowance (yuan)."""
        params = rates.params
        income[Source.FARMING] += (
            idle_mu * params.incomes.land_rent_yuan_per_mu_year / MONTHS_PER_YEAR
        )
        income[Source.PENSION] += pensioners * params.incomes.pension_yuan_per_month
        if self.equity_yuan:  # shares are held in float32, and the dividend computed so
            income[Source.DIVIDENDS] += float(
                np.float32(self.equity_yuan)
                * params.policy.equity.dividend_rate_per_year
                / MONTHS_PER_YEAR
                * rates.cooperative_active_share
            )
        income[Source.DIBAO] += self.dibao_yuan_per_month
        training = params.policy.training
        income[Source.TRAINING_ALLOWANCE] += (
            trainees * training.board_yuan_per_day * training.days_per_course
        )

    def total_income(self) -> float:
        """This month's income over all sources (yuan), summed in source order."""
        total = 0.0
        for amount in self.income:
            total += amount
        return total

    # ---- poverty

    def start_poverty(self, line: float) -> None:
        """Start the rolling window from this month's income."""
        self.poverty = PovertyStatus(self.total_income(), self.size, line, self.row)

    def assess_poverty(self, month: int, line: float) -> None:
        """Add this month's income to the window and reclassify against the line."""
        self.poverty.update(self.total_income(), month, line)


def _logit_choice(v: Sequence[float | None], draws: Sequence[float]) -> int:
    """Option drawn with probability proportional to exp(v) over feasible options.

    The exponential race of `model.choice.logit_choice`: the feasible option whose weight
    exp(v - max) over its own draw is largest (the first if tied).
    """
    top = max(x for x in v if x is not None)
    best, chosen = -1.0, int(Activity.NOT_WORKING)
    for option, (x, draw) in enumerate(zip(v, draws, strict=True)):
        if x is None:
            continue
        speed = math.exp(min(x - top, 0.0)) / draw
        if speed > best:
            best, chosen = speed, option
    return chosen


# ------------------------------------------------------------------ the model


class ReferenceEconomy(WorkshopEconomy):
    """`WorkshopEconomy` with the household phases run by one Mesa agent per household.

    Args:
        params: the validated scenario (logit decision rule).
        replicate: replicate index; with the scenario's seed it fixes every random stream.

    Raises:
        ValueError: if the scenario's decision rule is not the logit.
    """

    def __init__(self, params: Scenario, replicate: int = 0) -> None:
        if params.choice.rule != LOGIT:
            raise ValueError(
                f"the reference writes only the {LOGIT!r} decision rule, not {params.choice.rule!r}"
            )
        super().__init__(params, replicate)

    def _create_population(self) -> None:
        """Synthesise the households as the full model does, then make each an agent."""
        super()._create_population()
        p = self.people
        self.members = [
            Member(i, female, skill)
            for i, (female, skill) in enumerate(
                zip(p.female.tolist(), p.skill.tolist(), strict=True)
            )
        ]
        by_household: list[list[Member]] = [[] for _ in range(len(self.households))]
        for member, row in zip(self.members, p.household.tolist(), strict=True):
            by_household[row].append(member)
        self.household_agents = [
            Household(self, row, members) for row, members in enumerate(by_household)
        ]
        self.member_mirror = ColumnMirror(self.members)
        self.unpaid_leave = np.zeros(len(p), dtype=bool)  # set each month by `_pay`
        self.household_mirror = ColumnMirror(self.household_agents)

    def _start_economy(self) -> None:
        """Settle as the full model does, then start each household's poverty window."""
        super()._start_economy()
        line = self.poverty_line
        for household in self.household_agents:
            household.start_poverty(line)
        self.roll = PovertyRoll(self.household_agents, self.households.size)
        # the shared reporting code reads only `per_capita`, `poor` and `fgt`, which the roll has
        self.tracker = self.roll  # type: ignore[assignment]
        self.poor = self.roll.poor
        self.poverty = collection.poverty_by_group(self)

    def _each_household(self, method: str, *args: object) -> None:
        self.agents_by_type[Household].shuffle_do(method, *args)

    def _pull(self) -> None:
        """Refresh the agents' copies of the state the shared phases change."""
        p, hh = self.people, self.households
        on_course = np.zeros(len(p), dtype=bool)
        on_course[self.trainees] = True
        self.member_mirror.pull(
            {
                "age": p.age,
                "health": p.health,
                "capacity": p.capacity,
                "carer": p.carer,
                "kept_home": p.kept_home,
                "courses": p.courses,
                "on_course": on_course,
                "activity": p.activity,
                "employer": p.employer,
                "must_revise": self.must_revise,
                "unpaid_leave": self.unpaid_leave,
            }
        )
        self.household_mirror.pull(
            {
                "young_child": hh.young_child,
                "equity_yuan": hh.equity_yuan,
                "dibao_yuan_per_month": hh.dibao_yuan_per_month,
            }
        )

    def _revise_choices(self, coef: Choice | None = None) -> None:
        """Each household's revising members choose, reading the month's keyed draws."""
        n, tick = len(self.people), (self.month, self.round)
        u_revise = self.keyed.uniforms(Purpose.REVISE, np.arange(n), *tick)
        options = np.arange(n * N_OPTIONS)  # person * N_OPTIONS + option, as the model keys them
        draws = -np.log(self.keyed.uniforms(Purpose.CHOICE, options, *tick))
        draws = draws.reshape(n, N_OPTIONS)
        self._pull()
        self.staff = Staff.count(self.people, self.registered_person, len(self.workshop_table))
        situation = ChoiceSituation.of(
            self, self._market(self.staff), coef or self.params.choice, u_revise, draws
        )
        self._each_household("choose", situation)
        self.must_revise[:] = False
        self.choices = situation.decided()

    def _pay(self) -> None:
        """Each household earns; earnings and income go to the shared arrays and ledger."""
        table = self.workshop_table
        self.employed = np.flatnonzero(self.people.employer >= 0)
        self.staff = Staff.count(self.people, self.registered_person, len(table), self.employed)
        paid = self._paid_workers(self.employed)
        self.unpaid_leave = self.people.employer >= 0
        self.unpaid_leave[paid] = False
        ctx = PayContext(
            self.params,
            self.year,
            table,
            table.utilisation(self.staff.workers),
            self.registered_person,
            self.trainees,
            cooperative_active_share(table),
            paid,
            self.staff,
            self.farms,
        )
        self._pull()
        self._each_household(
            "earn",
            PayRates(
                self.params,
                Jobs.of(table, ctx.utilisation),
                migrant_net_wage(self.params, self.year),
                ctx.cooperative_active_share,
            ),
        )
        self.people.earnings[:] = [m.earnings for m in self.members]
        ctx.accounts = SlotAccounts.zeros(len(table))
        slot_accounts(
            self.people,
            paid,
            np.array([self.members[i].pieces for i in paid.tolist()], dtype=np.float64),
            self.registered_person,
            (
                course_gains(self.params.policy.training.productivity_gain),
                self.params.policy.wage_subsidy.worker_age_max,
            ),
            ctx.accounts,
        )
        book_accounts(ctx)
        n = len(self.household_agents)
        by_household = np.fromiter(
            chain.from_iterable(h.income for h in self.household_agents),
            np.float64,
            n * len(Source),
        ).reshape(n, len(Source))
        for source in Source:
            self.ledger.set(source, by_household[:, source])

    def _update_poverty(self) -> None:
        self._each_household("assess_poverty", self.month, self.poverty_line)
        self.flows = self.roll.flows()
        self.poor = self.roll.poor
        self.poverty = collection.poverty_by_group(self)


# ------------------------------------------------------------------ timing


def time_steps(params: Scenario) -> float:
    """Seconds for the scenario's monthly steps of the reference (set-up and month 1 excluded).

    Month 1 is the policy's start (everyone reconsiders), timed apart as in `bench_step`.
    """
    model = ReferenceEconomy(params)
    model.step()
    start = time.perf_counter()
    for _ in range(params.run.months):
        model.step()
    return time.perf_counter() - start


def ns_per_household_month(params: Scenario, repeats: int) -> float:
    """Median over `repeats` runs of the reference's step time, ns per household-month.

    Args:
        params: the scenario to run, e.g. the speed benchmark's (`bench_step.scenario_at`).
        repeats: runs to take the median of.
    """
    runs = [time_steps(params) for _ in range(repeats)]
    return statistics.median(runs) / (params.run.households * params.run.months) * NS_PER_SECOND
