"""Workshop agents: forms, capacity, orders, pay, certification state, open / idle / close.

Workshops are few (hundreds to thousands), so each is a `mesa.Agent`. Their numeric state
that the vectorised household phases need (capacity, village, pay, status) is read as
arrays through `WorkshopTable`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

import mesa
import numpy as np

from model.scenario import Activity, OrderProcess, WorkshopForm, Workshops

if TYPE_CHECKING:
    from model.economy import WorkshopEconomy

MONTHS_PER_YEAR = 12


class Form(IntEnum):
    """Workshop forms named by the counties (FACTS section 1)."""

    FACTORY = 0      # factory-type village workshop
    OUTWORK = 1      # home outwork firm, pays by piece
    COOPERATIVE = 2  # cooperative / equity workshop in a village, pays dividends
    PARK = 3         # park-type workshop in the county industrial park
    COMMUNITY = 4    # community factory at a resettlement site


FORM_FIELDS = {Form.FACTORY: "factory", Form.OUTWORK: "outwork",
               Form.COOPERATIVE: "cooperative", Form.PARK: "park",
               Form.COMMUNITY: "community"}
FORM_ACTIVITY = {Form.FACTORY: Activity.VILLAGE_WORKSHOP, Form.OUTWORK: Activity.HOME_OUTWORK,
                 Form.COOPERATIVE: Activity.VILLAGE_WORKSHOP, Form.PARK: Activity.PARK_WORKSHOP,
                 Form.COMMUNITY: Activity.COMMUNITY_FACTORY}
PIECE_RATE_FORMS = (Form.OUTWORK,)
VILLAGE_FORMS = (Form.FACTORY, Form.COOPERATIVE)
NO_VILLAGE = -1


class Status(IntEnum):
    """Operating status of a workshop."""

    OPEN = 0
    IDLE = 1
    CLOSED = 2


def form_spec(workshops: Workshops, form: Form) -> WorkshopForm:
    """The scenario block of a workshop form."""
    return getattr(workshops, FORM_FIELDS[form])


def seasonal_factor(orders: OrderProcess, month_of_year: int) -> float:
    """Yearly order cycle: 1 + amplitude * cos(2 pi (month - peak) / 12)."""
    phase = 2 * np.pi * (month_of_year - orders.peak_month) / MONTHS_PER_YEAR
    return 1.0 + orders.seasonal_amplitude * float(np.cos(phase))


class Workshop(mesa.Agent):
    """A workshop of one form: places, pay, orders and its last month's accounts."""

    def __init__(self, model: WorkshopEconomy, entrant: Entrant) -> None:
        super().__init__(model)
        self.slot = len(model.workshop_slots)
        model.workshop_slots.append(self)
        self.form, self.village, self.capacity = entrant.form, entrant.village, entrant.capacity
        self.productivity = entrant.productivity
        self.pay_yuan_per_month = entrant.spec.pay_yuan_per_month
        self.opened_month = model.month
        self.status = Status.OPEN
        self.idle_months = 0
        self.order_state = 0.0        # log deviation of orders from their mean
        self.order_multiplier = 1.0   # shocks multiply orders
        self.load = entrant.spec.orders.mean_load
        self.subsidised_loan = False
        self.insurance_enrolled: bool | None = None  # decided when first certified
        self.certified = False
        self.opening_paid = False
        self.awarded = False
        self.accounts = Accounts()

    @property
    def spec(self) -> WorkshopForm:
        """The scenario block of this workshop's form."""
        return form_spec(self.model.params.workshops, self.form)

    @property
    def is_open(self) -> bool:
        """Open or idle (not closed)."""
        return self.status != Status.CLOSED

    def receive_orders(self, innovation: float, month_of_year: int) -> None:
        """Update this month's order load from its AR(1) log process and the season."""
        orders = self.spec.orders
        self.order_state = orders.persistence * self.order_state + orders.volatility * innovation
        stationary_var = orders.volatility**2 / (1 - orders.persistence**2)
        market = (orders.mean_load * seasonal_factor(orders, month_of_year)
                  * np.exp(self.order_state - stationary_var / 2))
        self.load = (market + orders.sales_channel_load) * self.order_multiplier

    def update_status(self) -> None:
        """Idle when orders are below the idle load; close after enough idle months."""
        if self.load < self.spec.idle_load:
            self.idle_months += 1
            self.status = Status.IDLE
            if self.idle_months >= self.spec.idle_months_to_close:
                self.close()
        else:
            self.idle_months = 0
            self.status = Status.OPEN

    def close(self) -> None:
        """Close for good: workers lose their jobs at the next matching."""
        self.status = Status.CLOSED
        self.certified = False
        self.remove()

    def utilisation(self, workers: int) -> float:
        """Share of a full month each worker is busy: orders over the workforce, at most 1."""
        if self.status == Status.IDLE:
            return 0.0
        if workers == 0:
            return 1.0
        return min(1.0, self.load * self.capacity / workers)


@dataclass
class Accounts:
    """A workshop's last month: staff, wages and output (yuan per month)."""

    workers: int = 0
    poor_workers: int = 0
    poor_wage_bill: float = 0.0     # wages of poor workers the wage subsidy counts
    wage_bill: float = 0.0
    value_added: float = 0.0


@dataclass
class WorkshopTable:
    """Arrays over all workshop slots (closed ones included), read once per phase."""

    form: np.ndarray       # int8, Form
    village: np.ndarray    # int32, NO_VILLAGE outside villages
    capacity: np.ndarray   # int32, places
    pay: np.ndarray        # float64, yuan per month at full orders
    utilisation: np.ndarray  # float64, this month
    is_open: np.ndarray    # bool, open or idle
    hiring: np.ndarray     # bool, open and not idle
    certified: np.ndarray  # bool
    needs_training: np.ndarray  # bool, hires only people who completed a course

    @classmethod
    def of(cls, slots: list[Workshop], workers: np.ndarray) -> WorkshopTable:
        """Snapshot of the workshops; `workers` is the head count per slot."""
        return cls(
            form=np.fromiter((w.form for w in slots), np.int8, len(slots)),
            village=np.fromiter((w.village for w in slots), np.int32, len(slots)),
            capacity=np.fromiter((w.capacity for w in slots), np.int32, len(slots)),
            pay=np.fromiter((w.pay_yuan_per_month for w in slots), np.float64, len(slots)),
            utilisation=np.fromiter(
                (w.utilisation(int(n)) for w, n in zip(slots, workers, strict=True)),
                np.float64, len(slots)),
            is_open=np.fromiter((w.is_open for w in slots), bool, len(slots)),
            hiring=np.fromiter((w.status == Status.OPEN for w in slots), bool, len(slots)),
            certified=np.fromiter((w.certified for w in slots), bool, len(slots)),
            needs_training=np.fromiter((w.spec.training_required for w in slots), bool,
                                       len(slots)),
        )

    @property
    def activity(self) -> np.ndarray:
        """The activity a job at each workshop counts as."""
        lookup = np.array([FORM_ACTIVITY[f] for f in Form], dtype=np.int8)
        return lookup[self.form]


@dataclass(frozen=True)
class Entrant:
    """A candidate firm weighing whether to open a workshop."""

    form: Form
    spec: WorkshopForm
    village: int
    capacity: int
    expected_workers: float
    expected_poor_workers: float
    months: int          # planning horizon
    productivity: float  # firm's value added relative to its form's

    @property
    def busy_share(self) -> float:
        """Expected utilisation of the expected workforce."""
        return min(1.0, self.load * self.capacity / max(self.expected_workers, 1.0))

    @property
    def load(self) -> float:
        """Expected order load: the form's mean plus its sales channels."""
        return self.spec.orders.mean_load + self.spec.orders.sales_channel_load

    def operating_profit(self, market_rate_per_year: float, loan_months: int) -> float:
        """Profit over the horizon without any policy support (yuan).

        Value added less wages at the expected order load and rent, minus set-up cost
        and the interest on its start-up loan at the market rate.
        """
        spec = self.spec
        margin = spec.value_added_yuan_per_worker_month * self.productivity \
            - spec.pay_yuan_per_month
        monthly = self.expected_workers * self.busy_share * margin - spec.rent_yuan_per_month
        interest = spec.loan_yuan * market_rate_per_year * min(self.months, loan_months) \
            / MONTHS_PER_YEAR
        return self.months * monthly - spec.setup_cost_yuan - interest


def draw_entrants(model: WorkshopEconomy, rng: np.random.Generator) -> list[Entrant]:
    """Candidate firms this month: Poisson per form at the scenario's (scaled) rate."""
    params = model.params
    entrants = []
    for form in Form:
        spec = form_spec(params.workshops, form)
        for _ in range(rng.poisson(spec.entrants_per_month * params.scale)):
            entrants.append(_entrant(model, form, spec, rng))
    return entrants


def _entrant(model: WorkshopEconomy, form: Form, spec: WorkshopForm,
             rng: np.random.Generator) -> Entrant:
    params = model.params
    capacity = int(rng.integers(spec.capacity_workers_min, spec.capacity_workers_max + 1))
    village = int(rng.integers(model.geography.n_villages)) if form in VILLAGE_FORMS \
        else NO_VILLAGE
    workers = params.workshops.expected_fill_share * capacity
    quota = params.policy.certification
    productivity = float(rng.lognormal(-spec.firm_productivity_sd**2 / 2,
                                       spec.firm_productivity_sd))
    return Entrant(form, spec, village, capacity, workers,
                   workers * (quota.poor_share_min if quota.enabled else 0.0),
                   params.workshops.planning_horizon_months, productivity)


def initial_workshops(model: WorkshopEconomy, rng: np.random.Generator) -> list[Entrant]:
    """The workshops open at the start, drawn like entrants (they open unconditionally)."""
    return [
        _entrant(model, form, form_spec(model.params.workshops, form), rng)
        for form in Form
        for _ in range(round(form_spec(model.params.workshops, form).initial_count
                             * model.params.scale))
    ]
