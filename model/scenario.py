"""Scenario schema, TOML loading, `extends` + overrides (reforms) and dotted keys.

A scenario is one TOML file per county or policy set. It is validated into a frozen
pydantic model; every field carries a unit and a one-line description, and the TOML
file carries the source of each value as a comment. A file may start with
``extends = "other.toml"`` and give only the keys it changes: the base is resolved
first (recursively), and a key the base does not have is rejected with a suggestion.
A dotted key (``policy.training.enabled``) names one value: `Scenario.value` reads it,
`Scenario.with_changes` replaces it and `defining_comment` finds the line that sets it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import stat
import tomllib
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

# Peak resident memory of a run per simulated household (bytes): person and household
# arrays, the month's temporaries and the collected tables. Measured as the growth of the
# peak RSS over a run of the default scenario with glibc's allocator ("peak bytes per
# household" of `benchmarks/bench_memory.py --default-malloc --households N --months 13`):
# 850 to 1,060 at 100,000 to 1,000,000 households; rounded up.
BYTES_PER_HOUSEHOLD = 1_100
GIB = 2**30  # bytes
KeyValue = bool | int | float | str  # what a dotted key of a scenario holds, in its unit
_HEADER = re.compile(r"^\s*\[([^\[\]]+)\]")  # a TOML table header line: [policy.training]
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z0-9_.\"-]+)\s*=")  # a TOML key line: key = value


def physical_memory_bytes() -> int:
    """Physical memory of this machine (bytes)."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def max_households() -> int:
    """The most households a run may simulate here: memory over `BYTES_PER_HOUSEHOLD`."""
    return physical_memory_bytes() // BYTES_PER_HOUSEHOLD


class CoherenceError(ValueError):
    """A value that does not fit another part of the scenario; names the key to change."""

    def __init__(self, key: str, expected: str) -> None:
        self.key = key
        super().__init__(expected)


class ScenarioError(ValueError):
    """A scenario file that cannot be used: names the file, the key and what was expected."""

    def __init__(self, file: str | Path, key: str, expected: str) -> None:
        self.file, self.key, self.expected = str(file), key, expected
        super().__init__(f"{file}: {key}: {expected}")


def P(default: Any = ..., *, unit: str, desc: str, **constraints: Any) -> Any:  # noqa: N802
    """A scenario parameter: a pydantic Field with its unit and description."""
    return Field(default, description=desc, json_schema_extra={"unit": unit}, **constraints)


class Section(BaseModel):
    """Base of every scenario section: unknown keys are errors, numbers finite, values frozen.

    TOML can write ``nan`` and ``inf``; no parameter means them, so they are refused.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


Share = dict(ge=0.0, le=1.0)
Money = dict(ge=0.0)
Finite = dict(allow_inf_nan=False)  # rejects inf and nan, which TOML can write
YuanPerMonth = Annotated[float, Field(ge=0, allow_inf_nan=False)]  # a table's amounts


class Activity(IntEnum):
    """What a working-age person does in a month (one activity per person)."""

    NOT_WORKING = 0
    FARMING = 1
    HOME_OUTWORK = 2
    VILLAGE_WORKSHOP = 3
    PARK_WORKSHOP = 4
    COMMUNITY_FACTORY = 5
    MIGRATION = 6


ACTIVITY_NAMES = [a.name.lower() for a in Activity]
WORKSHOP_ACTIVITY_NAMES = [
    a.name.lower()
    for a in (
        Activity.HOME_OUTWORK,
        Activity.VILLAGE_WORKSHOP,
        Activity.PARK_WORKSHOP,
        Activity.COMMUNITY_FACTORY,
    )
]


class Run(Section):
    """Length, scale and seed of a run."""

    start: dt.date = P(unit="date", desc="first simulated month (day is ignored)")
    months: int = P(unit="months", desc="number of simulated months", gt=0, le=1200)
    households: int = P(unit="households", desc="simulated households", gt=0)
    seed: int = P(0, unit="-", desc="root seed of every random draw", ge=0)

    @model_validator(mode="after")
    def _ends_in_the_calendar(self) -> Run:
        if self.start.year * MONTHS_A_YEAR + self.start.month - 1 + self.months > LAST_MONTH:
            raise ValueError(f"a run that ends by December {dt.MAXYEAR}, got start {self.start}")
        return self

    @field_validator("households")
    @classmethod
    def _households_fit_in_memory(cls, households: int) -> int:
        need, memory = households * BYTES_PER_HOUSEHOLD, physical_memory_bytes()
        if need > memory:
            raise ValueError(
                f"at most {max_households():,} households on this machine: it has "
                f"{memory / GIB:,.1f} GiB of memory and a run needs about "
                f"{BYTES_PER_HOUSEHOLD:,} bytes per household ({need / GIB:,.1f} GiB for these)"
            )
        return households


class County(Section):
    """Geography of the simulated county."""

    name: str = P(unit="-", desc="county name")
    households: int = P(unit="households", desc="rural households at real scale", gt=0)
    villages: int = P(unit="villages", desc="administrative villages at real scale", gt=0)
    registered_poor_households: int | None = P(
        None, unit="households", desc="registered poor households at real scale", gt=0
    )
    park_distance_km_mean: float = P(
        unit="km", desc="mean distance from a village to the county industrial park", ge=0
    )
    resettlement_sites: int = P(
        unit="sites",
        desc="resettlement sites at real scale (resettled households live at one each)",
        gt=0,
    )


class HouseholdProfile(Section):
    """Distributions of household composition for one household type.

    `population.poor` is the disadvantaged profile (drawn with the registered share),
    `population.nonpoor` the others; registration itself is decided later, by an income
    assessment at the start (`model.registration`).
    """

    adults_probs: list[float] = P(
        unit="share",
        desc="probability of 0, 1, 2, 3, 4 working-age adults (18-59)",
        min_length=5,
        max_length=5,
    )
    young_children_mean: float = P(unit="children", desc="mean children aged 0-5 (Poisson)", ge=0)
    school_children_mean: float = P(unit="children", desc="mean children aged 6-15 (Poisson)", ge=0)
    elderly_probs: list[float] = P(
        unit="share", desc="probability of 0, 1, 2 members aged 60+", min_length=3, max_length=3
    )
    frail_elderly_share: float = P(unit="share", desc="elderly who need care", **Share)
    chronic_illness_share: float = P(
        unit="share", desc="adults and elderly with a chronic illness", **Share
    )
    disability_share: float = P(unit="share", desc="adults and elderly with a disability", **Share)
    female_share: float = P(unit="share", desc="women among adults", **Share)
    land_mu_mean: float = P(unit="mu", desc="mean contracted farmland per household", ge=0)
    skill_sd: float = P(unit="log points", desc="sd of log productivity across adults", ge=0)
    skill_mean: float = P(1.0, unit="x", desc="mean productivity multiplier of adults", gt=0)

    @model_validator(mode="after")
    def _probabilities_sum_to_one(self) -> HouseholdProfile:
        for name in ("adults_probs", "elderly_probs"):
            probs = getattr(self, name)
            if any(p < 0 for p in probs) or abs(sum(probs) - 1.0) > 1e-6:
                raise ValueError(f"{name} must be non-negative and sum to 1, got {probs}")
        return self


class Population(Section):
    """Who lives in the county and when people can work or need care."""

    registered_poor_share: float = P(
        unit="share",
        desc="households registered as poor (the quota filled at the start); also the "
        "share of households drawn from the disadvantaged profile",
        **Share,
    )
    registration_income_error_sd: float = P(
        unit="log points",
        desc="sd of the error of the income assessment that fills the registration quota",
        ge=0,
        **Finite,
    )
    resettled_share: float = P(
        unit="share", desc="households moved to a resettlement site", **Share
    )
    poor: HouseholdProfile
    nonpoor: HouseholdProfile
    labour_age_min: int = P(unit="years", desc="youngest age at which a person works", ge=14)
    labour_age_max: int = P(unit="years", desc="oldest age at which a person works", le=90)
    migrant_age_max: int = P(unit="years", desc="oldest age at which a person migrates", le=90)
    young_child_age_max: int = P(unit="years", desc="children up to this age need a carer", ge=0)
    chronic_capacity: float = P(
        unit="x", desc="labour capacity of a chronically ill worker (healthy = 1)", **Share
    )
    disabled_can_work: bool = P(unit="-", desc="disabled adults may do home outwork")
    healthy_elderly_can_care: bool = P(
        unit="-", desc="a healthy, non-working member aged 60+ frees the carer"
    )

    @model_validator(mode="after")
    def _ages_ordered(self) -> Population:
        if not self.labour_age_min < self.migrant_age_max <= self.labour_age_max:
            raise ValueError("need labour_age_min < migrant_age_max <= labour_age_max")
        return self


class Incomes(Section):
    """Earnings outside workshops and transfers."""

    farm_net_yuan_per_mu_year: float = P(unit="yuan/mu/yr", desc="net farm income", **Money)
    mu_per_farmer_max: float = P(unit="mu", desc="land one farmer can work", gt=0)
    land_rent_yuan_per_mu_year: float = P(
        unit="yuan/mu/yr", desc="rent for land nobody in the household farms", **Money
    )
    migrant_wage_yuan_per_month: dict[int, float] = P(
        unit="yuan/month", desc="average migrant wage by calendar year (interpolated)"
    )
    migrant_wage_beyond_table: BeyondTable = P(
        "refuse",
        unit="-",
        desc="a run with years outside the wage table: refuse it, or hold the nearest "
        "year's wage (flat)",
    )
    migrant_living_cost_share: float = P(
        unit="share", desc="share of migrant wage spent on living away from home", **Share
    )
    pension_yuan_per_month: float = P(unit="yuan/month", desc="rural basic pension", **Money)
    pension_age: int = P(unit="years", desc="age at which the pension is paid", ge=0)
    dibao_line_yuan_per_person_year: float = P(
        unit="yuan/person/yr",
        desc="minimum living allowance line; poorer households topped up",
        **Money,
    )

    @model_validator(mode="after")
    def _wages_positive(self) -> Incomes:
        wages = self.migrant_wage_yuan_per_month
        if not wages or min(wages.values()) <= 0:
            raise ValueError("migrant_wage_yuan_per_month needs at least one positive year")
        return self


class Poverty(Section):
    """Poverty line: 2010-price line times a deflator per calendar year."""

    line_2010_yuan_per_person_year: float = P(
        unit="yuan/person/yr (2010 prices)", desc="national rural poverty line", gt=0
    )
    deflator_by_year: dict[int, float] = P(
        unit="x (2010 = 1)", desc="price index by calendar year (interpolated between years)"
    )
    deflator_beyond_table: BeyondTable = P(
        "refuse",
        unit="-",
        desc="a run with years outside the price-index table: refuse it, or hold the "
        "nearest year's index (flat)",
    )

    @model_validator(mode="after")
    def _deflator_positive(self) -> Poverty:
        if not self.deflator_by_year or min(self.deflator_by_year.values()) <= 0:
            raise ValueError("deflator_by_year needs at least one positive year")
        return self


class Choice(Section):
    """Decision rule and its coefficients (utility in thousand yuan a month)."""

    rule: Literal["logit", "income_max", "satisficing"] = P(
        unit="-",
        desc="decision rule: logit random utility, income maximisation, or "
        "satisficing against an aspiration income",
    )
    revision_rate_per_month: float = P(
        unit="share/month", desc="people who reconsider their activity each month", **Share
    )
    utility_per_1000_yuan: float = P(
        unit="utils per 1000 yuan/month", desc="weight of expected net income", gt=0
    )
    inertia: float = P(unit="utils", desc="bonus for keeping the current activity", ge=0)
    care_penalty: float = P(
        unit="utils", desc="cost to a carer of an activity away from home all day", ge=0
    )
    young_child_away_penalty: float = P(
        unit="utils", desc="cost to a woman with a young child at home of working away", ge=0
    )
    commute_yuan_per_km_month: float = P(
        unit="yuan/km/month", desc="cost of commuting daily to the park", **Money
    )
    migration_cost_yuan_per_month: float = P(
        unit="yuan/month", desc="non-wage cost of living away from family", **Money
    )
    option_constants: dict[str, float] = P(
        unit="utils", desc="preference for each activity beyond income (by activity name)"
    )
    flexible_hours: bool = P(
        unit="-",
        desc="carers may walk to a workshop in their village, or work in the community "
        "factory downstairs of their resettlement site",
    )
    work_disutility_yuan_per_month: dict[str, YuanPerMonth] = P(
        unit="yuan/month",
        desc="by workshop activity name: what a job must pay beyond farming (or not "
        "working) before a person takes it; absent activities 0",
    )
    aspiration_yuan_per_month: float = P(
        unit="yuan/month",
        desc="satisficing rule: net income of the current activity at or "
        "above which a reviser keeps it without searching",
        **Money,
    )

    @model_validator(mode="after")
    def _known_activities(self) -> Choice:
        unknown = set(self.option_constants) - set(ACTIVITY_NAMES)
        if unknown:
            raise ValueError(
                f"option_constants has unknown activities {sorted(unknown)}; "
                f"known: {ACTIVITY_NAMES}"
            )
        return self

    @field_validator("work_disutility_yuan_per_month")
    @classmethod
    def _workshop_activities_only(cls, table: dict[str, float]) -> dict[str, float]:
        unknown = set(table) - set(WORKSHOP_ACTIVITY_NAMES)
        if unknown:
            raise ValueError(
                f"activities {sorted(unknown)} are not workshop jobs; known: "
                f"{WORKSHOP_ACTIVITY_NAMES}"
            )
        return table


class OrderProcess(Section):
    """Monthly order load of a workshop (1 = enough orders for its whole capacity)."""

    mean_load: float = P(unit="x capacity", desc="average orders relative to capacity", gt=0)
    seasonal_amplitude: float = P(unit="x", desc="amplitude of the yearly cycle", **Share)
    peak_month: int = P(unit="month of year", desc="month with most orders", ge=1, le=12)
    persistence: float = P(unit="-", desc="AR(1) coefficient of log orders", ge=0, lt=1)
    volatility: float = P(unit="log points", desc="sd of monthly log-order innovations", ge=0)
    sales_channel_load: float = P(
        unit="x capacity", desc="extra orders from e-commerce and sales partnerships", ge=0
    )


class WorkshopForm(Section):
    """One workshop form: how many, how big, what it pays, how it opens and closes."""

    initial_count: int = P(unit="workshops", desc="workshops open at the start", ge=0)
    entrants_per_month: float = P(
        unit="firms/month", desc="candidate firms considering opening each month", ge=0
    )
    capacity_workers_min: int = P(unit="workers", desc="smallest capacity", gt=0)
    capacity_workers_max: int = P(unit="workers", desc="largest capacity", gt=0)
    pay_yuan_per_month: float = P(
        unit="yuan/month",
        desc="earnings at full orders of a worker of productivity 1 (by piece: pieces a "
        "month at full orders x the piece rate)",
        gt=0,
        **Finite,
    )
    piece_rate_share: float = P(
        unit="share", desc="share of the form's firms that pay by the piece", **Share, **Finite
    )
    piece_rate_yuan: float = P(
        unit="yuan/piece", desc="piece rate of a firm that pays by the piece", gt=0, **Finite
    )
    hiring_priority: Literal["none", "registered_poor", "own_site"] = P(
        unit="-",
        desc="applicants a firm of the form hires first, then by expected productivity: "
        "none, registered_poor (members of registered-poor households) or own_site "
        "(households of the factory's resettlement site; community factories only)",
    )
    value_added_yuan_per_worker_month: float = P(
        unit="yuan/worker/month", desc="revenue less materials per worker at full orders", gt=0
    )
    rent_yuan_per_month: float = P(unit="yuan/month", desc="rent of the premises", **Money)
    firm_productivity_sd: float = P(
        unit="log points", desc="sd of a firm's value added around its form's", ge=0
    )
    setup_cost_yuan: float = P(unit="yuan", desc="cost of opening (refit, machines)", **Money)
    loan_yuan: float = P(unit="yuan", desc="start-up loan the firm would take", **Money)
    training_required: bool = P(unit="-", desc="hires only people who completed a course")
    idle_load: float = P(unit="x capacity", desc="below this order load a month is idle", ge=0)
    idle_months_to_close: int = P(unit="months", desc="idle months before closing", gt=0)
    orders: OrderProcess

    @model_validator(mode="after")
    def _capacity_ordered(self) -> WorkshopForm:
        if self.capacity_workers_min > self.capacity_workers_max:
            raise ValueError("capacity_workers_min must be <= capacity_workers_max")
        return self


class Workshops(Section):
    """The five workshop forms and the entry rule."""

    planning_horizon_months: int = P(unit="months", desc="horizon of an entrant's profit", gt=0)
    market_interest_rate_per_year: float = P(
        unit="1/yr", desc="interest rate a firm pays without subsidy", **Share
    )
    expected_fill_share: float = P(
        unit="share", desc="share of capacity an entrant expects to fill", **Share
    )
    profit_memory_months: int = P(
        unit="months",
        desc="a firm's expected profit is the exponentially weighted mean of its monthly "
        "profits (support included) with this mean age",
        ge=1,
        le=120,
    )
    injury_rate_per_worker_month: float = P(
        unit="1/month",
        desc="chance that a workshop worker outside the home is hurt at work in a month",
        **Share,
        **Finite,
    )
    injury_recovery_months: int = P(
        unit="months", desc="months an injured worker cannot work", ge=1, le=24
    )
    injury_cost_yuan: float = P(
        unit="yuan",
        desc="treatment and compensation of one injury, paid by the workshop if uninsured",
        ge=0,
        **Finite,
    )
    loss_months_to_close: int = P(
        unit="months",
        desc="consecutive months of negative expected profit before a firm closes",
        ge=1,
        le=120,
    )
    time_wage_skill_share: float = P(
        unit="share",
        desc="share of a time wage that follows the worker's productivity (0 = flat wage, "
        "1 = as by the piece)",
        **Share,
        **Finite,
    )
    screening_noise_sd: float = P(
        unit="log points",
        desc="sd of a firm's error in judging an applicant's skill (courses are known)",
        ge=0,
        le=5,
        **Finite,
    )
    park_distance_scale_km: float = P(
        unit="km",
        desc="a park firm discounts an applicant's expected productivity by exp(-distance / this)",
        gt=0,
        **Finite,
    )
    factory: WorkshopForm
    outwork: WorkshopForm
    cooperative: WorkshopForm
    park: WorkshopForm
    community: WorkshopForm

    @field_validator("factory", "outwork", "cooperative", "park")
    @classmethod
    def _site_priority_for_community_only(cls, form: WorkshopForm) -> WorkshopForm:
        """Only community factories have a resettlement site to recruit from first."""
        if form.hiring_priority == "own_site":
            raise ValueError(
                "hiring_priority own_site only for community factories (this form has no "
                "resettlement site); use none or registered_poor"
            )
        return form


class Instrument(Section):
    """Common switch of every policy instrument."""

    enabled: bool = P(unit="-", desc="whether the instrument is in force")


class Certification(Instrument):
    """A workshop is certified while poor workers are at least this share of its staff."""

    poor_share_min: float = P(
        unit="share", desc="minimum share of registered-poor workers", **Share
    )


class OpeningSubsidy(Instrument):
    """One-time subsidy when a new workshop is first certified."""

    small_yuan: float = P(unit="yuan", desc="amount for a small workshop", **Money)
    large_yuan: float = P(unit="yuan", desc="amount for a large workshop", **Money)
    large_min_workers: int = P(unit="workers", desc="capacity from which a workshop is large", gt=0)


class WageSubsidy(Instrument):
    """Share of a certified workshop's wage bill for registered-poor workers."""

    share_of_poor_wage_bill: float = P(unit="share", desc="subsidy as share of wages", **Share)
    worker_age_max: int = P(unit="years", desc="oldest worker the subsidy counts", gt=0)


class HiringBonus(Instrument):
    """Once per poor worker who reaches the contract length at a workshop hiring enough poor."""

    yuan_per_worker: float = P(unit="yuan", desc="bonus per poor worker", **Money)
    contract_months_min: int = P(unit="months", desc="tenure that counts as a contract", gt=0)
    poor_hired_min: int = P(unit="workers", desc="poor workers the workshop must employ", ge=0)


class AbsorptionAward(Instrument):
    """Once per workshop when it employs enough registered-poor workers."""

    award_yuan: float = P(unit="yuan", desc="award per workshop", **Money)
    poor_hired_min: int = P(unit="workers", desc="poor workers needed for the award", gt=0)


class Training(Instrument):
    """Free courses for registered-poor workers that raise their productivity."""

    places_per_month: int = P(unit="trainees/month", desc="course places started each month", ge=0)
    cost_yuan_per_trainee: float = P(unit="yuan", desc="training subsidy per trainee", **Money)
    board_yuan_per_day: float = P(unit="yuan/day", desc="board allowance", **Money)
    days_per_course: int = P(unit="days", desc="course length", gt=0)
    productivity_gain: float = P(
        unit="share", desc="productivity gain per course", ge=0, le=1, **Finite
    )
    courses_per_person_max: int = P(unit="courses", desc="courses one person may take", ge=0)


class Loans(Instrument):
    """Start-up guarantee loans with subsidised interest."""

    interest_subsidy_share: float = P(
        unit="share", desc="share of interest the county pays", **Share
    )
    term_months: int = P(unit="months", desc="loan term", gt=0)
    take_up_share: float = P(unit="share", desc="new workshops granted a guaranteed loan", **Share)


class InjuryInsurance(Instrument):
    """Work-injury insurance premiums paid by the county for workshop employees."""

    premium_yuan_per_worker_month: float = P(unit="yuan/worker/month", desc="premium", **Money)
    poor_workers_only: bool = P(unit="-", desc="insure registered-poor employees only")
    take_up_share: float = P(
        unit="share",
        desc="certified workshops whose employees the county enrols (decided once per workshop)",
        **Share,
    )


class FreeRent(Instrument):
    """Rent of workshop premises paid by the county for the first months."""

    months: int = P(unit="months", desc="rent-free months after opening", ge=0)


class FactoryCashSupport(Instrument):
    """Cash support per open community factory."""

    yuan_per_factory_year: float = P(unit="yuan/yr", desc="support per factory", **Money)


class Equity(Instrument):
    """Poverty funds invested as cooperative shares for households without labour."""

    funds_yuan: float = P(unit="yuan", desc="poverty funds available for shares", **Money)
    share_per_person_yuan: float = P(
        unit="yuan", desc="shares given per member of a household", gt=0, **Finite
    )
    dividend_rate_per_year: float = P(unit="1/yr", desc="dividend on shares", **Share)
    return_on_exit: bool = P(unit="-", desc="shares return to the pool when a household exits")


OPEN_TABLES = (  # tables whose entries are named by the user (checked by their validators)
    "policy.allocation",
    "choice.option_constants",
    "choice.work_disutility_yuan_per_month",
)
MAX_INPUT_BYTES = 1 << 20  # 1 MiB: scenario, reform, spec and targets files are a few KiB
MONTHS_A_YEAR = 12
LAST_MONTH = (dt.MAXYEAR + 1) * MONTHS_A_YEAR  # months since year 0 at the calendar's end
BeyondTable = Literal["refuse", "flat"]  # a run's years outside a by-year table
ALLOCATION_TOLERANCE = 1e-9  # shares of a budget may sum to 1 up to rounding
INSTRUMENTS = (
    "opening_subsidy",
    "wage_subsidy",
    "hiring_bonus",
    "absorption_award",
    "training",
    "loans",
    "injury_insurance",
    "free_rent",
    "factory_cash_support",
    "equity",
)


class Policy(Section):
    """The county's workshop policy: a budget and one block per instrument."""

    budget_yuan_per_year: float = P(
        unit="yuan/yr",
        desc="allocated each January; unspent "
        "funds carry over; above 0 when any instrument is "
        "enabled (every instrument pays from it)",
        **Money,
    )
    payment_order: list[str] = P(
        unit="-",
        desc="instruments in the order they are paid; when "
        "the budget runs out the last ones go unpaid",
    )
    allocation: dict[str, float] = P(
        {},
        unit="share",
        desc="share of each year's budget set aside for an instrument (its envelope: "
        "it pays only from it, unspent money carrying over); instruments not named share "
        "the rest; empty: one pool for every instrument",
    )
    support_ends: dt.date | None = P(
        None,
        unit="date",
        desc="first month without support: from then no budget, no certification and "
        "no instrument pays (None: support lasts the whole run)",
    )
    certification: Certification
    opening_subsidy: OpeningSubsidy
    wage_subsidy: WageSubsidy
    hiring_bonus: HiringBonus
    absorption_award: AbsorptionAward
    training: Training
    loans: Loans
    injury_insurance: InjuryInsurance
    free_rent: FreeRent
    factory_cash_support: FactoryCashSupport
    equity: Equity

    @model_validator(mode="after")
    def _order_names_every_instrument(self) -> Policy:
        if sorted(self.payment_order) != sorted(INSTRUMENTS):
            raise ValueError(f"payment_order must list each of {list(INSTRUMENTS)} once")
        return self

    @model_validator(mode="after")
    def _allocation_splits_the_budget(self) -> Policy:
        unknown = sorted(set(self.allocation) - set(INSTRUMENTS))
        if unknown:
            raise ValueError(f"allocation names instruments of {list(INSTRUMENTS)}, got {unknown}")
        bad = {k: v for k, v in self.allocation.items() if not 0.0 <= v <= 1.0}
        if bad:
            raise ValueError(f"allocation shares between 0 and 1, got {bad}")
        if sum(self.allocation.values()) > 1.0 + ALLOCATION_TOLERANCE:
            raise ValueError(
                f"allocation shares summing to at most 1, got {sum(self.allocation.values()):.6g}"
            )
        return self

    @model_validator(mode="after")
    def _budget_for_enabled_instruments(self) -> Policy:
        """Every instrument pays from the budget: one in force needs a budget above 0."""
        enabled = [name for name in INSTRUMENTS if getattr(self, name).enabled]
        if enabled and self.budget_yuan_per_year <= 0:
            raise ValueError(
                f"budget_yuan_per_year > 0 while instruments paid from it are "
                f"enabled ({', '.join(enabled)}), got {self.budget_yuan_per_year}"
            )
        return self


class OrderCollapse(Section):
    """A share of firms lose most of their orders for some months."""

    enabled: bool = P(unit="-", desc="whether the shock happens")
    start: dt.date = P(unit="date", desc="first month of the shock")
    months: int = P(unit="months", desc="duration", gt=0)
    share_of_firms: float = P(unit="share", desc="firms hit", **Share)
    load_multiplier: float = P(unit="x", desc="orders of a hit firm relative to normal", **Share)


class MigrationStop(Section):
    """Migrants kept home (as in early 2020)."""

    enabled: bool = P(unit="-", desc="whether the shock happens")
    start: dt.date = P(unit="date", desc="first month of the shock")
    months: int = P(unit="months", desc="duration", gt=0)
    share_kept_home: float = P(unit="share", desc="migrants who cannot leave", **Share)


class Illness(Section):
    """Chronic illness striking healthy working-age people."""

    enabled: bool = P(unit="-", desc="whether illness strikes")
    incidence_per_month: float = P(
        unit="1/month", desc="probability a healthy adult falls ill", **Share
    )


class Shocks(Section):
    """Shocks; each is off unless switched on."""

    order_collapse: OrderCollapse
    migration_stop: MigrationStop
    illness: Illness


class Scenario(Section):
    """A complete, validated scenario."""

    name: str = P(unit="-", desc="scenario name")
    description: str = P("", unit="-", desc="what the scenario represents")
    run: Run
    county: County
    population: Population
    incomes: Incomes
    poverty: Poverty
    choice: Choice
    workshops: Workshops
    policy: Policy
    shocks: Shocks

    @model_validator(mode="after")
    def _tables_cover_the_run(self) -> Scenario:
        first = self.run.start.year
        last = first + (self.run.start.month - 1 + self.run.months - 1) // MONTHS_A_YEAR
        tables = (
            (
                "poverty.deflator_by_year",
                self.poverty.deflator_by_year,
                self.poverty.deflator_beyond_table,
                "poverty.deflator_beyond_table",
            ),
            (
                "incomes.migrant_wage_yuan_per_month",
                self.incomes.migrant_wage_yuan_per_month,
                self.incomes.migrant_wage_beyond_table,
                "incomes.migrant_wage_beyond_table",
            ),
        )
        for key, table, beyond, flag in tables:
            if beyond == "refuse" and not min(table) <= first <= last <= max(table):
                raise CoherenceError(
                    key,
                    f"years covering the run ({first}-{last}), got {min(table)}-{max(table)}; "
                    f'or {flag} = "flat" to hold the nearest year\'s value beyond the table',
                )
        return self

    @model_validator(mode="after")
    def _counts_fit_the_county(self) -> Scenario:
        county = self.county
        if county.villages > county.households:
            raise CoherenceError(
                "county.villages",
                f"at most the county's {county.households:,} households, got {county.villages:,}",
            )
        return self

    @property
    def scale(self) -> float:
        """Simulated households over real households.

        Counts of villages, workshops, entrants, course places, budgets and funds are
        multiplied by it, so a scaled-down run keeps the county's shares.
        """
        return self.run.households / self.county.households

    def value(self, key: str) -> KeyValue:
        """The value a dotted key holds, in the key's unit (``policy.training.enabled``: True).

        Raises:
            KeyError: naming the key, if the scenario has no such key or it holds a table,
                a list or a date rather than one value.
        """
        node: Any = self
        for part in key.split("."):
            if isinstance(node, BaseModel) and part in type(node).model_fields:
                node = getattr(node, part)
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                raise KeyError(f"{key}: not a key of the scenario {self.name!r}")
        if not isinstance(node, KeyValue):
            raise KeyError(f"{key}: holds a {type(node).__name__}, not one value")
        return node

    def number(self, key: str) -> int | float:
        """The number a dotted key holds, in the key's unit (yuan, share, households...).

        Raises:
            KeyError: naming the key, if the scenario has no such key or it holds no number.
        """
        value = self.value(key)
        if isinstance(value, bool | str):
            raise KeyError(f"{key}: holds {value!r}, not a number")
        return value

    def with_changes(self, changes: dict[str, Any], origin: str = "<changes>") -> Scenario:
        """A validated copy with dotted keys replaced, e.g. {"policy.training.enabled": False}.

        A key may also name an entry of a table whose entries are free (e.g.
        "policy.allocation.training"); the table's own validation checks the name.

        Raises:
            ScenarioError: a key the scenario does not have, or an invalid value.
        """
        data = self.model_dump()
        for dotted, value in changes.items():
            *parents, key = dotted.split(".")
            table: Any = data
            for part in parents:
                table = table.get(part) if isinstance(table, dict) else None
            known = isinstance(table, dict) and (key in table or ".".join(parents) in OPEN_TABLES)
            if not known:
                raise ScenarioError(origin, dotted, "a key the scenario has")
            table[key] = value
        return scenario_from_dict(data, origin)

    def with_overrides(self, **run: Any) -> Scenario:
        """Return a copy with `run` settings (start, months, households, seed) replaced."""
        return self.model_validate({**self.model_dump(), "run": {**self.run.model_dump(), **run}})


# ----------------------------------------------------------------------------- loading


class InputFileError(ValueError):
    """An input that is not a readable UTF-8 text file of sensible size (what was expected)."""


def read_input(path: Path, what: str) -> str:
    """The text of an input file (scenario, reform, spec, targets), after checking it is one.

    Only a regular file of at most `MAX_INPUT_BYTES` is read: a directory, a device
    (``/dev/zero``), a named pipe (which would wait for a writer forever) or a socket is
    refused before anything is read.

    Args:
        path: the file.
        what: what it should be, for the message ("a scenario file").

    Raises:
        InputFileError: saying what was expected and what was found.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputFileError("an existing file") from None
    except OSError as err:
        raise InputFileError(f"a readable file ({err.strerror or err})") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputFileError(f"{what}, got {_file_kind(info.st_mode)}")
    if info.st_size > MAX_INPUT_BYTES:
        raise InputFileError(
            f"{what} of at most {MAX_INPUT_BYTES:,} bytes, got {info.st_size:,} bytes"
        )
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputFileError(f"UTF-8 text ({err.reason} at byte {err.start})") from None
    except OSError as err:
        raise InputFileError(f"a readable file ({err.strerror or err})") from None


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "something other than a file")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = read_input(path, "a TOML file")
    except InputFileError as err:
        raise ScenarioError(path, "(file)", str(err)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(path, "(syntax)", f"valid TOML: {err}") from err


def _suggest(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _merge(base: dict[Any, Any], diff: dict[str, Any]) -> dict[Any, Any]:
    """Overlay `diff` on `base` table by table; unknown keys are left for validation."""
    merged = dict(base)
    for key, value in diff.items():
        # TOML keys are strings; by-year tables of the resolved base are keyed by int.
        slot: Any = int(key) if key.isdigit() and int(key) in base else key
        if isinstance(value, dict) and isinstance(base.get(slot), dict):
            merged[slot] = _merge(base[slot], value)
        else:
            merged[slot] = value
    return merged


def _raw_scenario(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The fully merged raw table of a scenario file, following `extends`."""
    if path.resolve() in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise ScenarioError(path, "extends", f"no cycle, got {cycle}")
    data = _read_toml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(path, "extends", "a path to another scenario file (string)")
    parent_path = path.parent / parent
    if parent_path.is_dir():
        raise ScenarioError(path, "extends", f"a scenario file, '{parent}' is a directory")
    if not parent_path.is_file():
        raise ScenarioError(path, "extends", f"an existing file, '{parent}' not found")
    base = load_scenario(parent_path, _chain=(*chain, path.resolve())).model_dump()
    return _merge(base, data)


def _location(error: Any) -> str:
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, CoherenceError):
        return cause.key
    return ".".join(str(p) for p in error["loc"]) or "(top level)"


def _describe(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        *parents, key = [str(p) for p in error["loc"]]
        known = [k for k in _known_fields(parents) if k != key]
        return "a known key" + _suggest(key, known)
    got = error.get("input")
    shown = "" if isinstance(got, dict) else f", got {got!r}"
    return error["msg"].removeprefix("Value error, ") + shown


def _known_fields(parents: list[str]) -> list[str]:
    model: Any = Scenario
    for p in parents:
        field = model.model_fields.get(p)
        if field is None or not isinstance(field.annotation, type):
            return []
        model = field.annotation
    return list(getattr(model, "model_fields", {}))


def load_scenario(path: str | Path, _chain: tuple[Path, ...] = ()) -> Scenario:
    """Load and validate a scenario file, following `extends`.

    Args:
        path: the TOML file.

    Returns:
        The frozen, validated scenario.

    Raises:
        ScenarioError: naming the file, the first offending key and what was expected.
    """
    path = Path(path)
    return scenario_from_dict(_raw_scenario(path, _chain), path)


def apply_reforms(base: Scenario, reforms: list[str | Path]) -> Scenario:
    """Overlay reform files on a scenario, in order (composing them).

    Each reform's own keys (its `extends` line aside) replace the base's; a key the
    scenario does not have is rejected naming the reform file.
    """
    scenario = base
    for reform in map(Path, reforms):
        diff = _read_toml(reform)
        diff.pop("extends", None)
        scenario = scenario_from_dict(_merge(scenario.model_dump(), diff), reform)
    return scenario


def extends_chain(path: Path) -> list[Path]:
    """The scenario file and every file it extends, nearest first (resolved paths)."""
    chain: list[Path] = []
    current: Path | None = path.resolve()
    while current is not None and current not in chain:
        chain.append(current)
        parent = tomllib.loads(current.read_text(encoding="utf-8")).get("extends")
        current = (current.parent / parent).resolve() if isinstance(parent, str) else None
    return chain


def key_field(key: str) -> FieldInfo | None:
    """The schema field of a dotted scenario key (its description and its unit's metadata).

    A key inside a table keyed by name or year (``choice.option_constants.farming``) has
    the table's field; a key the schema does not know, or a whole section, has none.
    """
    model: Any = Scenario
    field = None
    for part in key.split("."):
        fields = getattr(model, "model_fields", None)
        if fields is None:  # inside a table keyed by name or year
            break
        if part not in fields:
            return None
        field = fields[part]
        model = field.annotation
    return None if isinstance(model, type) and issubclass(model, BaseModel) else field


def field_unit(field: FieldInfo | None) -> str | None:
    """The unit a schema field declares (``unit`` in its metadata), None if it has none."""
    extra = field.json_schema_extra if field is not None else None
    return extra.get("unit") if isinstance(extra, dict) else None  # type: ignore[return-value]


def defining_comment(scenario_path: Path, key: str) -> tuple[Path, str]:
    """The file of the `extends` chain that sets a dotted key (nearest first), and its comment.

    Returns:
        The file and the comment on the key's line (empty if it has none).

    Raises:
        KeyError: if no file of the chain sets the key.
    """
    for file in extends_chain(scenario_path):
        table = ""
        for line in file.read_text(encoding="utf-8").splitlines():
            header, assignment = _HEADER.match(line), _ASSIGNMENT.match(line)
            if header:
                table = header.group(1).strip()
            elif assignment and ".".join(filter(None, (table, assignment.group(1)))) == key:
                return file, line.partition("#")[2]
    raise KeyError(key)


def scenario_from_dict(data: dict[str, Any], origin: str | Path = "<dict>") -> Scenario:
    """Validate a scenario given as a (merged) dictionary, e.g. from a notebook."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        raise ScenarioError(origin, _location(first), _describe(first)) from err


def interpolate_by_year(table: dict[int, float], year: float) -> float:
    """Linear interpolation in a by-year table, flat beyond its ends."""
    import numpy as np

    years = sorted(table)
    return float(np.interp(year, years, [table[y] for y in years]))
