"""WorkshopEconomy: the Mesa model of a county, wiring households, workshops and policy.

Households and people are arrays (see `households.py`); workshops and the policy agent
are Mesa agents. `step()` simulates one month as named phases.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

import mesa
import numpy as np

from model import collection
from model.choice import N_OPTIONS, Revisers, away_misfits, choose
from model.compiled import choice as compiled_choice
from model.compiled import twin
from model.farming import Farms
from model.households import (
    IS_WORKSHOP_ACTIVITY,
    IncomeLedger,
    members,
    update_care,
)
from model.injuries import Injuries
from model.keyed import KeyedDraws, Purpose
from model.labour_market import (
    Applications,
    Screening,
    Staff,
    county_key,
    first_in_line,
    hire,
    labour_cost_share,
    market_key,
    pick_workshops,
    release,
    take_up,
    workshop_parts,
)
from model.memory import release_freed_memory
from model.metrics import PovertyTracker, Transitions
from model.offers import Market, Pools, Viewer, build_offers
from model.pay import (
    PayContext,
    book_accounts,
    book_pensions,
    cooperative_active_share,
    pay_month,
    review_dibao,
)
from model.policy import InjuryInsurance, PolicyAgent
from model.population import synthesise
from model.registration import register
from model.scenario import Activity, Choice, Scenario, interpolate_by_year
from model.shocks import collapse_orders, shock_window, stop_migration, strike_illness
from model.streams import make_stream
from model.workshops import (
    IS_VILLAGE_FORM,
    MONTHS_PER_YEAR,
    Entrant,
    FormRules,
    Workshop,
    WorkshopTable,
    book_profit,
    draw_entrants,
    initial_workshops,
    receive_orders,
    update_status,
)


def merge_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The union of two ascending integer arrays, ascending (one merge pass)."""
    both = np.concatenate((a, b))
    both.sort(kind="stable")  # two sorted runs: a single merge
    first = np.ones(len(both), dtype=bool)
    np.not_equal(both[1:], both[:-1], out=first[1:])
    return both[first]


# Rounds of choice and hiring at the start: the market has settled after a few rounds
# (each round fills or closes pools).
START_ROUNDS = 4

# Revisers decide in parts of at most this many (each part's draws and offers are
# arrays of revisers x options): choices are row by row, so parts only bound the memory
# (about 0.5 kB a reviser at the start, when everyone able to work revises).
CHOICE_CHUNK = 1 << 16


def _decisions(
    viewer: Viewer, market: Market, params: Scenario, coef: Choice, draws: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each reviser's choice by the rule of `coef` (`model.choice.choose`).

    For the logit rule, the twin of `model.compiled.choice.logit_decisions` (same
    arguments and results).

    Returns:
        The chosen activity per reviser, and whether each reviser's current activity is
        still feasible.
    """
    return choose(
        _revisers(viewer),
        build_offers(viewer, market, params),
        coef,
        params.population.migrant_age_max,
        draws,
    )


logit_decisions = twin(
    compiled_choice.logit_decisions,
    _decisions,
    test="tests/model/test_compiled_choice.py::test_logit_decisions_twins_are_identical",
)


def _revisers(viewer: Viewer) -> Revisers:
    """What the revisers are, for the array version of the decision rules."""
    people, hh, idx = viewer.people, viewer.households, viewer.idx
    home = people.household[idx]
    return Revisers(
        current=people.activity[idx],
        carer=people.carer[idx],
        health=people.health[idx],
        age=people.age[idx],
        kept_home=people.kept_home[idx],
        has_land=hh.land_mu[home] > 0,
        resettled=hh.resettled[home],
        mother=people.female[idx] & hh.young_child[home],
    )


class WorkshopEconomy(mesa.Model):
    """A county's households, workshops and poverty-alleviation office, month by month.

    Args:
        params: the validated scenario.
        replicate: replicate index; with the scenario's seed it fixes every random stream.
    """

    def __init__(self, params: Scenario, replicate: int = 0) -> None:
        super().__init__(
            rng=np.random.default_rng(
                np.random.SeedSequence(params.run.seed, spawn_key=(replicate,))
            )
        )
        self.params, self.replicate = params, replicate
        self.keyed = KeyedDraws(params.run.seed, replicate)
        self.month = 0  # months simulated so far; step k simulates calendar month k
        self.round = 0  # round of choice and hiring within the month (several at the start)
        self.workshop_slots: list[Workshop] = []
        self.trainees = np.empty(0, dtype=np.int64)
        self.insured_workers = 0
        self.injuries = Injuries.none()
        self.queue: np.ndarray | None = None  # applicants each pool turned away last month
        self.applicants = 0
        self.flows = Transitions(0, 0, 0)
        self._create_population()
        self._create_workshops()
        self._create_policy()
        self._start_economy()
        self.datacollector = collection.make_collector()
        self.datacollector.collect(self)
        release_freed_memory()  # synthesis and the starting rounds' temporaries

    # ------------------------------------------------------------------ set-up

    def _create_population(self) -> None:
        self.households, self.people, self.geography = synthesise(
            self.params, make_stream(self.params.run.seed, "population", self.replicate)
        )
        self._index_registered()  # nobody yet: registration follows the start (`_register`)
        self.must_revise = np.zeros(len(self.people), dtype=bool)
        self.employed: np.ndarray | None = None  # see `employed_now`
        self.released_since_count = False
        self._count_pensioners()

    def _index_registered(self) -> None:
        """Index the registered-poor households' members (after `households.registered_poor`)."""
        self.registered_person = self.households.registered_poor[self.people.household]
        self.registered_people = np.flatnonzero(self.registered_person)
        self.registered_households = np.flatnonzero(self.households.registered_poor)

    def _count_pensioners(self) -> None:
        pensioners = np.flatnonzero(self.people.age >= self.params.incomes.pension_age)
        self.pensioners = np.bincount(
            self.people.household[pensioners], minlength=len(self.households)
        )

    def _create_workshops(self) -> None:
        """An empty workshop table: the initial workshops open in month 1 (`_open_workshops`)."""
        self.workshop_table = WorkshopTable(FormRules.of(self.params.workshops))

    def add_workshops(self, entrants: list[Entrant]) -> np.ndarray:
        """Open a workshop for each entrant (a table slot and its agent); returns the slots."""
        slots = self.workshop_table.append(entrants, self.month)
        if len(slots):
            Workshop.create_agents(self, len(slots), slots.tolist())
        return slots

    def _create_policy(self) -> None:
        self.policy = PolicyAgent(self, self.params.policy)

    def _start_economy(self) -> None:
        """Settle the starting allocation, fill the income window and register the poor.

        Everyone able to work chooses without habit, in a few rounds (applicants turned
        away choose again); the first month's income fills the 12-month window. No
        workshop is open yet, so the starting state (month 0) is the same in every arm
        of a comparison: the policy, and the workshops it brings, start in month 1.
        Registration comes last, by an income test on that starting income
        (`_register`); nothing before it depends on who is registered (no workshop is
        open, so no place is reserved, subsidised or counted for the registered poor).
        """
        people = self.people
        people.activity[:] = np.where(
            self.households.land_mu[people.household] > 0, Activity.FARMING, Activity.NOT_WORKING
        )
        people.activity[people.capacity <= 0] = Activity.NOT_WORKING
        self.farms = Farms(people, self.households, self.params)
        self.ledger = IncomeLedger.empty(len(self.households))
        book_pensions(self.pensioners, self.ledger, self.params)
        self.must_revise[:] = people.capacity > 0
        self._choose_in_rounds(START_ROUNDS, self.params.choice.model_copy(update={"inertia": 0.0}))
        people.earnings_before_job[:] = np.nan  # no month before the start to compare with
        self._pay()
        review_dibao(self.households, self.ledger, self.params)
        self._pay()
        self.tracker = PovertyTracker(self.ledger.total, self.households.size, self.poverty_line)
        self.poor = self.tracker.poor
        self._register()
        self.poverty_groups = collection.poverty_groups(self.households)
        self.poverty = collection.poverty_by_group(self)

    def _register(self) -> None:
        """Register the poor: each village's quota, by assessed income (`model.registration`).

        The assessment sees each household's starting income per person (the rolling
        income the poverty status uses) with a keyed error.
        """
        hh, pop = self.households, self.params.population
        noise = self.keyed.normals(Purpose.REGISTRATION, np.arange(len(hh)))
        hh.registered_poor = register(
            self.tracker.per_capita,
            hh.village,
            self.geography.n_villages,
            pop.registered_poor_share,
            pop.registration_income_error_sd,
            noise,
        )
        self._index_registered()

    # ------------------------------------------------------------------ calendar

    @property
    def date(self) -> dt.date:
        """First day of the month being simulated.

        The start month at step 1; the month before it for the starting state (month 0).
        """
        start = self.params.run.start
        index = start.year * MONTHS_PER_YEAR + start.month - 1 + self.month - 1
        return dt.date(index // MONTHS_PER_YEAR, index % MONTHS_PER_YEAR + 1, 1)

    @property
    def month_of_year(self) -> int:
        """Calendar month, 1 to 12."""
        return self.date.month

    @property
    def year(self) -> float:
        """Calendar year with the month as a fraction (for interpolated tables)."""
        return self.date.year + (self.date.month - 1) / MONTHS_PER_YEAR

    @property
    def poverty_line(self) -> float:
        """Poverty line this year, yuan per person per year in current prices."""
        p = self.params.poverty
        return p.line_2010_yuan_per_person_year * interpolate_by_year(
            p.deflator_by_year, self.date.year
        )

    @property
    def workshops(self) -> mesa.agent.AgentSet:
        """Workshops that have not closed."""
        return self.agents_by_type.get(Workshop, mesa.agent.AgentSet([], random=self.random))

    # ------------------------------------------------------------------ the month

    def step(self) -> None:
        """Simulate one month."""
        self.month += 1
        if self.month == 1:
            self._start_policy()
        self._age_people()
        self._apply_shocks()
        self._run_policy()
        self._update_workshops()
        self._choose_in_rounds(START_ROUNDS if self.month == 1 else 1)
        self._pay_month()
        self._update_poverty()
        self.datacollector.collect(self)
        if self.month == 1:
            release_freed_memory()  # the policy's start: everyone able to work reconsidered

    def _choose_in_rounds(self, rounds: int, coef: Choice | None = None) -> None:
        """`rounds` rounds of choice and matching; those refused in one choose again in the next.

        One round a month; `START_ROUNDS` at the start and in month 1, when the initial
        workshops open, so that the market settles within the month (in every arm alike).
        """
        for self.round in range(rounds):
            self._revise_choices(coef)
            refused = self._match_labour()
            if self.round < rounds - 1:
                self.must_revise[refused] = True
        self.round = 0

    def _age_people(self) -> None:
        """Each January everyone is a year older; capacity and care are recomputed."""
        if self.month == 1 or self.month_of_year != 1:
            return
        self.people.age += 1
        self._count_pensioners()
        self._refresh_capacity()
        review_dibao(self.households, self.ledger, self.params)  # on last month's income
        book_pensions(self.pensioners, self.ledger, self.params)

    def _refresh_capacity(self) -> None:
        """Recompute capacity and care; people who can no longer work stop, others revise."""
        people = self.people
        could_work = people.capacity > 0
        update_care(people, self.households, self.params.population)
        self.farms.invalidate()
        self.poverty_groups = collection.poverty_groups(self.households)
        stopped = np.flatnonzero(could_work & (people.capacity <= 0))
        self._release(stopped)
        people.activity[stopped] = Activity.NOT_WORKING
        misfit = away_misfits(
            people.activity,
            people.carer,
            people.health,
            people.age,
            self.params.population.migrant_age_max,
        )
        self.must_revise |= (people.capacity > 0) & (~could_work | misfit)

    def _apply_shocks(self) -> None:
        shocks, keyed, month = self.params.shocks, self.keyed, self.month
        start = self.params.run.start
        phase = shock_window(start, shocks.order_collapse, month - 1)
        collapse_orders(self.workshop_table, shocks.order_collapse, phase, keyed, month)
        phase = shock_window(start, shocks.migration_stop, month - 1)
        kept = stop_migration(self.people, shocks.migration_stop, phase, keyed, month)
        self.must_revise[kept] = True
        if shocks.illness.enabled:
            ill = strike_illness(self.people, shocks.illness.incidence_per_month, keyed, month)
            if len(ill):
                self._refresh_capacity()
                self.must_revise[ill] = True

    def _run_policy(self) -> None:
        self.must_revise[self.trainees] = True  # last month's courses are finished
        self.trainees = np.empty(0, dtype=np.int64)
        self.policy.step()

    def _update_workshops(self) -> None:
        """Orders arrive; workshops book profits, idle or close; candidate firms may open."""
        table, rules = self.workshop_table, self.params.workshops
        open_now = np.flatnonzero(table.is_open)
        booked = open_now[table.opened_month[open_now] < self.month]  # have accounts
        book_profit(table, booked, rules.profit_memory_months)
        innovations = self.keyed.normals(Purpose.ORDERS, table.serial[open_now], self.month)
        receive_orders(table, open_now, innovations, self.month_of_year)
        closing = update_status(table, open_now, rules.loss_months_to_close)
        for slot in closing:
            self.workshop_slots[slot].close()
        if len(closing):
            lost = np.flatnonzero(np.isin(self.people.employer, closing))
            self._release(lost)
            self.people.activity[lost] = Activity.NOT_WORKING
            self.must_revise[lost] = True
        self._open_workshops()

    def _open_workshops(self) -> None:
        """Candidate firms open where profit and support cover their costs."""
        market_rate = self.params.workshops.market_interest_rate_per_year
        loans = self.params.policy.loans
        opening = [
            e
            for e in draw_entrants(self, self.keyed)
            if e.operating_profit(market_rate, loans.term_months) + self.policy.support_for(e) > 0
        ]
        self._open(opening)

    def _open(self, entrants: list[Entrant]) -> None:
        """Open `entrants`' workshops; they apply for loans and their villages hear of them."""
        new = self.add_workshops(entrants)
        self.policy.grant_loans(new)
        self._announce_in_villages(new)

    def _start_policy(self) -> None:
        """Month 1: the county's initial workshops open and everyone able to work reconsiders.

        The initial workshops open whatever their profit, without guaranteed loans and
        without the opening subsidy (they were set up before the policy: only workshops
        opened while it runs claim it). Everyone reconsiders in every arm, with workshops
        or without, so that arms stay alike where they can.
        """
        initial = self.add_workshops(initial_workshops(self, self.keyed))
        self.workshop_table.opening_paid[initial] = True
        self.must_revise[self.people.capacity > 0] = True

    def _announce_in_villages(self, new: np.ndarray) -> None:
        """Everyone able to work in a village where a workshop opened revises (slots `new`)."""
        table = self.workshop_table
        in_village = new[IS_VILLAGE_FORM[table.form[new]]]
        if not len(in_village):
            return
        homes = self.geography.households_in(np.unique(table.village[in_village]))
        persons = members(self.households, homes)
        self.must_revise[persons[self.people.capacity[persons] > 0]] = True

    def employed_now(self) -> np.ndarray:
        """People with a workshop job now, in ascending order.

        A list kept up to date cheaply: people hired are merged in when hired (`_hire`),
        people released (`_release`) drop out here, so nobody with a job is missing.
        """
        if self.employed is None:
            self.employed = np.flatnonzero(self.people.employer >= 0)
        elif self.released_since_count:
            self.employed = self.employed[self.people.employer[self.employed] >= 0]
        self.released_since_count = False
        return self.employed

    def _release(self, leavers: np.ndarray) -> None:
        """Leavers lose their jobs (`labour_market.release`)."""
        release(self.people, leavers)
        self.released_since_count = True

    @property
    def pools(self) -> Pools:
        """The county's labour pools (villages, workshop activities, resettlement sites)."""
        return Pools(self.geography.n_villages, self.geography.n_sites)

    def _market(self, staff: Staff) -> Market:
        """Places on offer at the head counts `staff`."""
        return Market.of(self.workshop_table, staff.workers, self.pools, self.queue)

    def _revise_choices(self, coef: Choice | None = None) -> None:
        """People who revise this month (a share at random plus those triggered) choose."""
        people, keyed, tick = self.people, self.keyed, (self.month, self.round)
        rate = self.params.choice.revision_rate_per_month
        idx = keyed.selection(Purpose.REVISE, rate, self.must_revise, people.capacity, *tick)
        self.must_revise[:] = False
        coef = coef or self.params.choice
        self.staff = Staff.count(
            people, self.registered_person, len(self.workshop_table), self.employed_now()
        )
        market = self._market(self.staff)
        # the logit rule has a compiled version; the other decision rules do not
        decide = logit_decisions if coef.rule == "logit" else _decisions
        chosen, current_ok = np.empty(len(idx), np.int8), np.empty(len(idx), bool)
        for first in range(0, len(idx), CHOICE_CHUNK):
            part = slice(first, first + CHOICE_CHUNK)  # views: no copy of the revisers
            revisers = idx[part]
            draws = -np.log(keyed.option_uniforms(Purpose.CHOICE, revisers, N_OPTIONS, *tick))
            viewer = Viewer(
                revisers,
                people,
                self.households,
                self.geography.park_distance_km,
                self.year,
                self.farms,
            )
            chosen[part], current_ok[part] = decide(viewer, market, self.params, coef, draws)
        self.choices = (idx, chosen, current_ok)

    def _match_labour(self) -> np.ndarray:
        """Apply this month's choices: leave, stay, or apply for workshop places.

        Returns the applicants no workshop hired: they keep their current activity if it
        is still feasible for them, and stop working otherwise.
        """
        people = self.people
        idx, chosen, current_ok = self.choices
        moving = chosen != people.activity[idx]
        to_workshop = IS_WORKSHOP_ACTIVITY[chosen]
        elsewhere = idx[moving & ~to_workshop]
        staff = self.staff.without(people.employer[elsewhere], self.registered_person[elsewhere])
        self._release(elsewhere)
        people.activity[elsewhere] = chosen[moving & ~to_workshop]
        applying = moving & to_workshop
        refused = self._hire(idx[applying], chosen[applying], staff)
        stranded = refused[~current_ok[np.searchsorted(idx, refused)]]
        self._release(stranded)
        people.activity[stranded] = Activity.NOT_WORKING
        return refused

    def _hire(self, persons: np.ndarray, wanted: np.ndarray, staff: Staff) -> np.ndarray:
        """Applicants pick a workshop of their pool and workshops hire; returns the refused."""
        market = self._market(staff)
        home = self.people.household[persons]
        village, site = self.households.village[home], self.households.site[home]
        apps = Applications(
            persons,
            market_key(wanted, village, site, self.geography.n_villages),
            self.registered_person[persons],
            self.people.courses[persons] > 0,
            site=site,
        )
        target = self._pick(apps, wanted, market)
        hired = np.zeros(len(persons), dtype=bool)
        for part in workshop_parts(target, len(market.vacancies)):
            hired[part] = self._select(
                apps.part(part), target[part], wanted[part], village[part], market, staff
            )
        take_up(self.people, persons[hired], target[hired], wanted[hired])
        if self.employed is not None:
            self.employed = merge_sorted(self.employed, persons[hired])
        self.households.ever_workshop[home[hired]] = True
        self.queue = np.bincount(apps.key[~hired], minlength=market.n_pools).astype(np.float64)
        self.applicants = len(persons)
        return persons[~hired]

    def _select(
        self,
        apps: Applications,
        target: np.ndarray,
        wanted: np.ndarray,
        village: np.ndarray,
        market: Market,
        staff: Staff,
    ) -> np.ndarray:
        """Workshops judge their applicants `apps` and hire (`hire`); whom they hire (bool).

        `apps` holds every applicant of the workshops it targets.
        """
        keyed, tick, table, persons = (
            self.keyed,
            (self.month, self.round),
            market.table,
            apps.person,
        )
        judged = self._screening.merit(
            self.people,
            persons,
            keyed.normals(Purpose.HIRE, persons, *tick),
            np.where(
                wanted == Activity.PARK_WORKSHOP, self.geography.park_distance_km[village], 0.0
            ),
        )
        subsidy = self.params.policy.wage_subsidy
        apps.merit = judged / labour_cost_share(
            apps, target, table, self.people.age[persons], subsidy
        )
        quota = self.params.policy.certification
        in_force = quota.enabled and not self.policy.ended
        return hire(
            apps,
            target,
            market.vacancies,
            staff,
            quota.poor_share_min if in_force else 0.0,
            table.needs_training,
            first_in_line(apps, target, table),
        )

    def _pick(self, apps: Applications, wanted: np.ndarray, market: Market) -> np.ndarray:
        """Each applicant's workshop (-1: none with a vacancy in the pool).

        Applicants to community factories whose own site has none with a vacancy try the
        county's (their pool becomes the county-wide one).
        """
        keyed, tick, table = self.keyed, (self.month, self.round), market.table

        target = pick_workshops(apps, market.slot_key, market.vacancies, table.serial, keyed, tick)
        county = market.pools.county(Activity.COMMUNITY_FACTORY)
        again = np.flatnonzero(
            (target < 0) & (wanted == Activity.COMMUNITY_FACTORY) & (apps.key != county)
        )
        if len(again):
            apps.key[again] = county
            elsewhere = Applications(
                apps.person[again], apps.key[again], apps.poor[again], apps.trained[again]
            )
            slot_key = county_key(table.activity, table.village, self.geography.n_villages)
            target[again] = pick_workshops(
                elsewhere, slot_key, market.vacancies, table.serial, keyed, tick
            )
        return target

    @property
    def _screening(self) -> Screening:
        rules = self.params.workshops
        return Screening(
            self.params.policy.training.productivity_gain,
            rules.screening_noise_sd,
            rules.park_distance_scale_km,
        )

    def _pay(self) -> None:
        """Earnings, this month's household income (into `ledger`) and workshop accounts.

        Workers on unpaid injury leave hold their places (in `staff`) but earn nothing.
        """
        people = self.people
        table = self.workshop_table
        employed = self.employed_now()
        self.staff = Staff.count(people, self.registered_person, len(table), employed)
        employed = self._paid_workers(employed)
        ctx = PayContext(
            self.params,
            self.year,
            table,
            table.utilisation(self.staff.workers),
            self.registered_person,
            self.trainees,
            cooperative_active_share(table),
            employed,
            self.staff,
            self.farms,
        )
        pay_month(people, self.households, ctx, self.ledger)
        book_accounts(ctx)

    def _paid_workers(self, employed: np.ndarray) -> np.ndarray:
        """Strike this month's work injuries (`model.injuries`); returns the workers paid.

        All of `employed` but those on unpaid injury leave, whose earnings are set to 0.
        """
        self.workshop_table.accident_cost[:] = 0.0
        unpaid = self.injuries.month(
            self.people,
            employed,
            self.workshop_table,
            partial(InjuryInsurance.covers, self),
            self.params.workshops,
            (self.keyed, self.month),
        )
        if not len(unpaid):
            return employed
        self.people.earnings[unpaid] = 0.0
        return employed[~np.isin(employed, unpaid)]

    def _pay_month(self) -> None:
        self._pay()
        self.people.tenure[self.employed_now()] += 1

    def _update_poverty(self) -> None:
        self.flows = self.tracker.update(self.ledger.total, self.month, self.poverty_line)
        self.poor = self.tracker.poor
        self.poverty = collection.poverty_by_group(self)
