"""Workshop agents: forms, capacity, orders, pay, certification state, open / idle / close.

Workshops are few (hundreds to thousands), so each is a `mesa.Agent`. Their state lives in
the model's `WorkshopTable`, one entry per slot, so that the monthly rules (orders, status,
accounts, certification, policy claims) run on arrays over all workshops at once; an
agent's attributes read and write its own slot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Protocol, overload

import mesa
import numpy as np
from scipy import special

from model.households import NO_SITE
from model.keyed import KeyedDraws, Purpose
from model.scenario import Activity, OrderProcess, WorkshopForm, Workshops

if TYPE_CHECKING:
    from model.economy import WorkshopEconomy

MONTHS_PER_YEAR = 12
# A candidate firm's serial: (month << MONTH_SHIFT) | (form << FORM_SHIFT) | k for the
# k-th candidate of its form in that month (month 0: the county's initial workshops).
FORM_SHIFT, MONTH_SHIFT = 20, 24


class Form(IntEnum):
    """Workshop forms named by the counties (FACTS section 1)."""

    FACTORY = 0  # factory-type village workshop
    OUTWORK = 1  # home outwork firm, pays by piece
    COOPERATIVE = 2  # cooperative / equity workshop in a village, pays dividends
    PARK = 3  # park-type workshop in the county industrial park
    COMMUNITY = 4  # community factory at a resettlement site


FORM_FIELDS = {
    Form.FACTORY: "factory",
    Form.OUTWORK: "outwork",
    Form.COOPERATIVE: "cooperative",
    Form.PARK: "park",
    Form.COMMUNITY: "community",
}
FORM_ACTIVITY = {
    Form.FACTORY: Activity.VILLAGE_WORKSHOP,
    Form.OUTWORK: Activity.HOME_OUTWORK,
    Form.COOPERATIVE: Activity.VILLAGE_WORKSHOP,
    Form.PARK: Activity.PARK_WORKSHOP,
    Form.COMMUNITY: Activity.COMMUNITY_FACTORY,
}
VILLAGE_FORMS = (Form.FACTORY, Form.COOPERATIVE)
IS_VILLAGE_FORM = np.isin(np.arange(len(Form)), VILLAGE_FORMS)  # by Form
SITE_FORMS = (Form.COMMUNITY,)  # forms placed at a resettlement site
NO_VILLAGE = -1


class HiringPriority(IntEnum):
    """Applicants a firm hires first, before ranking by expected productivity."""

    NONE = 0
    REGISTERED_POOR = 1  # members of registered-poor households
    OWN_SITE = 2  # households of the factory's resettlement site


PRIORITY_CODES = {p.name.lower(): p for p in HiringPriority}


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


UNDECIDED = -1  # insurance enrolment of a workshop not yet certified


@dataclass
class FormRules:
    """Each form's parameters as arrays indexed by `Form`, for the rules over all slots."""

    orders: list[OrderProcess]
    persistence: np.ndarray  # float64, AR(1) coefficient of log orders
    volatility: np.ndarray  # float64, sd of monthly log-order innovations
    stationary_var: np.ndarray  # float64, variance of log orders around their mean
    mean_load: np.ndarray  # float64, x capacity
    sales_channel_load: np.ndarray  # float64, x capacity
    idle_load: np.ndarray  # float64, x capacity
    idle_months_to_close: np.ndarray  # int64, months
    training_required: np.ndarray  # bool
    value_added: np.ndarray  # float64, yuan per worker-month at full orders
    rent: np.ndarray  # float64, yuan per month
    loan: np.ndarray  # float64, yuan
    activity: np.ndarray  # int8, Activity of a job
    piece_rate_share: np.ndarray  # float64, share of firms paying by the piece
    piece_rate_yuan: np.ndarray  # float64, yuan per piece at firms paying by the piece
    priority: np.ndarray  # int8, HiringPriority

    @classmethod
    def of(cls, workshops: Workshops) -> FormRules:
        """The rules of the scenario's five forms."""
        specs = [form_spec(workshops, form) for form in Form]
        orders = [spec.orders for spec in specs]

        def floats(values: list[float]) -> np.ndarray:
            return np.array(values, dtype=np.float64)

        return cls(
            orders=orders,
            persistence=floats([o.persistence for o in orders]),
            volatility=floats([o.volatility for o in orders]),
            stationary_var=floats([o.volatility**2 / (1 - o.persistence**2) for o in orders]),
            mean_load=floats([o.mean_load for o in orders]),
            sales_channel_load=floats([o.sales_channel_load for o in orders]),
            idle_load=floats([s.idle_load for s in specs]),
            idle_months_to_close=np.array([s.idle_months_to_close for s in specs]),
            training_required=np.array([s.training_required for s in specs], dtype=bool),
            value_added=floats([s.value_added_yuan_per_worker_month for s in specs]),
            rent=floats([s.rent_yuan_per_month for s in specs]),
            loan=floats([s.loan_yuan for s in specs]),
            activity=np.array([FORM_ACTIVITY[f] for f in Form], dtype=np.int8),
            piece_rate_share=floats([s.piece_rate_share for s in specs]),
            piece_rate_yuan=floats([s.piece_rate_yuan for s in specs]),
            priority=np.array([PRIORITY_CODES[s.hiring_priority] for s in specs], dtype=np.int8),
        )

    def seasonal(self, month_of_year: int) -> np.ndarray:
        """Seasonal factor of each form this month."""
        return np.array([seasonal_factor(o, month_of_year) for o in self.orders])


def _column(dtype: type) -> Any:
    return field(default_factory=lambda: np.empty(0, dtype=dtype))


@dataclass
class WorkshopTable:
    """State of every workshop slot ever opened (closed ones included), one entry per slot.

    The monthly rules read and write these arrays over all slots at once; each `Workshop`
    agent reads and writes its own entries through its attributes.
    """

    rules: FormRules
    serial: np.ndarray = _column(np.int64)  # the firm's serial, its key for random draws
    form: np.ndarray = _column(np.int8)  # Form
    village: np.ndarray = _column(np.int32)  # NO_VILLAGE outside villages
    site: np.ndarray = _column(np.int32)  # resettlement site, NO_SITE for other forms
    capacity: np.ndarray = _column(np.int32)  # places
    pay: np.ndarray = _column(np.float64)  # yuan per month at full orders, productivity 1
    piece_rate: np.ndarray = _column(np.float64)  # yuan per piece; 0: pays a time wage
    productivity: np.ndarray = _column(np.float64)  # value added relative to the form's
    opened_month: np.ndarray = _column(np.int32)  # model month it opened
    status: np.ndarray = _column(np.int8)  # Status
    idle_months: np.ndarray = _column(np.int32)  # consecutive idle months
    order_state: np.ndarray = _column(np.float64)  # log deviation of orders from their mean
    order_multiplier: np.ndarray = _column(np.float64)  # shocks multiply orders
    load: np.ndarray = _column(np.float64)  # orders this month, x capacity
    certified: np.ndarray = _column(bool)
    subsidised_loan: np.ndarray = _column(bool)
    insurance_enrolled: np.ndarray = _column(np.int8)  # 1, 0, or UNDECIDED until certified
    opening_paid: np.ndarray = _column(bool)  # paid, or not due (open before the policy)
    support: np.ndarray = _column(np.float64)  # running support paid this month (yuan)
    insured: np.ndarray = _column(bool)  # the county paid its injury premiums this month
    accident_cost: np.ndarray = _column(np.float64)  # uninsured injuries this month (yuan)
    profit_trend: np.ndarray = _column(np.float64)  # expected profit (yuan/month; NaN: none yet)
    loss_months: np.ndarray = _column(np.int32)  # consecutive months of negative expected profit
    awarded: np.ndarray = _column(bool)
    # last month's accounts (yuan per month)
    workers: np.ndarray = _column(np.int64)
    poor_workers: np.ndarray = _column(np.int64)
    wage_bill: np.ndarray = _column(np.float64)
    poor_wage_bill: np.ndarray = _column(np.float64)  # wages of poor workers the subsidy counts
    value_added: np.ndarray = _column(np.float64)
    pieces: np.ndarray = _column(np.float64)  # pieces made (firms paying by the piece)

    def __len__(self) -> int:
        return len(self.form)

    def append(self, entrants: Sequence[Entrant], month: int) -> np.ndarray:
        """Open a slot per entrant in model month `month`; returns the new slots."""
        first, n = len(self), len(entrants)
        if not n:
            return np.arange(first, first)
        new: dict[str, Any] = {
            "serial": [e.serial for e in entrants],
            "form": [e.form for e in entrants],
            "village": [e.village for e in entrants],
            "site": [e.site for e in entrants],
            "capacity": [e.capacity for e in entrants],
            "pay": [e.spec.pay_yuan_per_month for e in entrants],
            "piece_rate": [e.piece_rate_yuan for e in entrants],
            "productivity": [e.productivity for e in entrants],
            "load": [e.spec.orders.mean_load for e in entrants],
            "order_state": [e.order_state for e in entrants],
            "opened_month": month,
            "status": Status.OPEN,
            "order_multiplier": 1.0,
            "insurance_enrolled": UNDECIDED,
            "profit_trend": np.nan,
        }
        for name in self.columns():
            old = getattr(self, name)
            grown = np.empty(first + n, dtype=old.dtype)
            grown[:first] = old
            grown[first:] = new.get(name, 0)
            setattr(self, name, grown)
        return np.arange(first, first + n)

    @classmethod
    def columns(cls) -> list[str]:
        """Names of the per-slot arrays."""
        return [f.name for f in fields(cls) if f.name != "rules"]

    @property
    def is_open(self) -> np.ndarray:
        """Open or idle (not closed)."""
        return self.status != Status.CLOSED

    @property
    def hiring(self) -> np.ndarray:
        """Open and not idle."""
        return self.status == Status.OPEN

    @property
    def activity(self) -> np.ndarray:
        """The activity a job at each workshop counts as."""
        return self.rules.activity[self.form]

    @property
    def needs_training(self) -> np.ndarray:
        """Hires only people who completed a course."""
        return self.rules.training_required[self.form]

    @property
    def by_piece(self) -> np.ndarray:
        """Pays by the piece: earnings are pieces made x the piece rate."""
        return self.piece_rate > 0

    @property
    def pieces_at_full_orders(self) -> np.ndarray:
        """Pieces a worker of productivity 1 makes in a month of full orders (0: time wage)."""
        return np.divide(
            self.pay, self.piece_rate, out=np.zeros(len(self)), where=self.piece_rate > 0
        )

    @property
    def priority(self) -> np.ndarray:
        """Whom each workshop hires first (`HiringPriority`)."""
        return self.rules.priority[self.form]

    def utilisation(self, workers: np.ndarray) -> np.ndarray:
        """Share of a full month each worker is busy: orders over the workforce, at most 1.

        0 at idle workshops, 1 where nobody works yet.
        """
        busy = self.load * self.capacity / np.maximum(workers, 1)
        return np.where(
            self.status == Status.IDLE, 0.0, np.where(workers == 0, 1.0, np.minimum(1.0, busy))
        )


def receive_orders(
    table: WorkshopTable, slots: np.ndarray, innovations: np.ndarray, month_of_year: int
) -> None:
    """This month's order load of `slots`, from their AR(1) log processes and the season.

    Args:
        table: the workshop table.
        slots: the workshops receiving orders.
        innovations: one standard normal draw per slot.
        month_of_year: calendar month, 1 to 12.
    """
    rules, form = table.rules, table.form[slots]
    state = (
        rules.persistence[form] * table.order_state[slots] + rules.volatility[form] * innovations
    )
    table.order_state[slots] = state
    market = (
        rules.mean_load[form]
        * rules.seasonal(month_of_year)[form]
        * np.exp(state - rules.stationary_var[form] / 2)
    )
    table.load[slots] = (market + rules.sales_channel_load[form]) * table.order_multiplier[slots]


def book_profit(table: WorkshopTable, slots: np.ndarray, memory_months: int) -> None:
    """Fold last month's profit of `slots` into their expected profit (yuan/month).

    Profit = value added - wage bill - rent - uninsured injuries + the running support
    the policy paid the workshop this month (wage subsidy, free rent, cash support).
    The expected profit is an exponentially weighted mean with mean age
    `memory_months`, started at the first month's profit; the months it has stayed
    negative are counted.
    """
    profit = (
        table.value_added[slots]
        - table.wage_bill[slots]
        - table.rules.rent[table.form[slots]]
        - table.accident_cost[slots]
        + table.support[slots]
    )
    trend = table.profit_trend[slots]
    weight = 1.0 / memory_months
    trend = np.where(np.isnan(trend), profit, (1.0 - weight) * trend + weight * profit)
    table.profit_trend[slots] = trend
    table.loss_months[slots] = np.where(trend < 0, table.loss_months[slots] + 1, 0)


def update_status(table: WorkshopTable, slots: np.ndarray, loss_months_to_close: int) -> np.ndarray:
    """Idle `slots` whose orders are below the idle load, reopen the others.

    Returns the slots to close (the caller closes their agents): idle for their form's
    `idle_months_to_close`, or expecting a loss for `loss_months_to_close` months.
    """
    form = table.form[slots]
    idle = table.load[slots] < table.rules.idle_load[form]
    months = np.where(idle, table.idle_months[slots] + 1, 0)
    table.idle_months[slots] = months
    table.status[slots] = np.where(idle, Status.IDLE, Status.OPEN)
    idle_too_long = idle & (months >= table.rules.idle_months_to_close[form])
    return slots[idle_too_long | (table.loss_months[slots] >= loss_months_to_close)]


class SlotView(Protocol):
    """An object standing for one workshop slot of a table."""

    slot: int

    @property
    def table(self) -> WorkshopTable: ...


class SlotAttribute[T]:
    """An attribute kept in one `WorkshopTable` array, at the owner's slot.

    Args:
        read: converts the stored value to the attribute's type.
        column: the table array (default: the attribute's name).
        write: converts an assigned value to the stored one (default: as is).
    """

    def __init__(
        self, read: Callable[[Any], T], column: str = "", write: Callable[[T], Any] | None = None
    ) -> None:
        self.read, self.column, self.write = read, column, write

    def __set_name__(self, owner: type, name: str) -> None:
        self.column = self.column or name

    @overload
    def __get__(self, view: None, owner: type) -> SlotAttribute[T]: ...

    @overload
    def __get__(self, view: SlotView, owner: type) -> T: ...

    def __get__(self, view: SlotView | None, owner: type) -> T | SlotAttribute[T]:
        if view is None:
            return self
        return self.read(getattr(view.table, self.column)[view.slot])

    def __set__(self, view: SlotView, value: T) -> None:
        stored = value if self.write is None else self.write(value)
        getattr(view.table, self.column)[view.slot] = stored


def _enrolment(stored: Any) -> bool | None:
    return None if stored == UNDECIDED else bool(stored)


def _store_enrolment(value: bool | None) -> int:
    return UNDECIDED if value is None else int(value)


class Workshop(mesa.Agent):
    """A workshop of one form: places, pay, orders and its last month's accounts.

    Its state is its slot of the model's `WorkshopTable`.
    """

    form = SlotAttribute(Form)
    village = SlotAttribute(int)
    site = SlotAttribute(int)
    capacity = SlotAttribute(int)
    piece_rate_yuan = SlotAttribute(float, "piece_rate")
    productivity = SlotAttribute(float)
    pay_yuan_per_month = SlotAttribute(float, "pay")
    opened_month = SlotAttribute(int)
    status = SlotAttribute(Status)
    idle_months = SlotAttribute(int)
    order_state = SlotAttribute(float)
    order_multiplier = SlotAttribute(float)
    load = SlotAttribute(float)
    certified = SlotAttribute(bool)
    subsidised_loan = SlotAttribute(bool)
    insurance_enrolled = SlotAttribute(_enrolment, write=_store_enrolment)
    opening_paid = SlotAttribute(bool)
    awarded = SlotAttribute(bool)

    def __init__(self, model: WorkshopEconomy, slot: int) -> None:
        super().__init__(model)
        self.slot = slot
        model.workshop_slots.append(self)

    @property
    def table(self) -> WorkshopTable:
        """The model's workshop table."""
        return self.model.workshop_table

    @property
    def spec(self) -> WorkshopForm:
        """The scenario block of this workshop's form."""
        return form_spec(self.model.params.workshops, self.form)

    @property
    def is_open(self) -> bool:
        """Open or idle (not closed)."""
        return self.status != Status.CLOSED

    @property
    def accounts(self) -> Accounts:
        """Its last month's accounts."""
        return Accounts(self.table, self.slot)

    def close(self) -> None:
        """Close for good: workers lose their jobs at the next matching."""
        self.status = Status.CLOSED
        self.certified = False
        self.remove()


class Accounts:
    """A workshop's last month: staff, wages and output (yuan per month), at its slot."""

    workers = SlotAttribute(int)
    poor_workers = SlotAttribute(int)
    poor_wage_bill = SlotAttribute(float)  # wages of poor workers the wage subsidy counts
    wage_bill = SlotAttribute(float)
    value_added = SlotAttribute(float)
    pieces = SlotAttribute(float)

    def __init__(self, table: WorkshopTable, slot: int) -> None:
        self.table, self.slot = table, slot


@dataclass(frozen=True)
class Entrant:
    """A candidate firm weighing whether to open a workshop."""

    serial: int  # see `candidate_serials`
    form: Form
    spec: WorkshopForm
    village: int
    capacity: int
    expected_workers: float
    expected_poor_workers: float
    months: int  # planning horizon
    productivity: float  # firm's value added relative to its form's
    piece_rate_yuan: float = 0.0  # yuan per piece; 0: the firm pays a time wage
    site: int = NO_SITE  # resettlement site of a community factory
    order_state: float = 0.0  # log deviation of orders from their mean at opening

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
        margin = (
            spec.value_added_yuan_per_worker_month * self.productivity - spec.pay_yuan_per_month
        )
        monthly = self.expected_workers * self.busy_share * margin - spec.rent_yuan_per_month
        interest = (
            spec.loan_yuan * market_rate_per_year * min(self.months, loan_months) / MONTHS_PER_YEAR
        )
        return self.months * monthly - spec.setup_cost_yuan - interest


class FirmDraw(IntEnum):
    """The keyed draws that make a candidate firm (`Purpose.FIRM`, one index each)."""

    CAPACITY = 0
    VILLAGE = 1
    PRODUCTIVITY = 2
    PAY_SCHEME = 3  # pays by the piece with probability `piece_rate_share`
    SITE = 4  # resettlement site of a community factory
    ORDER_STATE = 5  # log-order deviation at opening, from its stationary distribution


def candidate_serials(month: int, form: Form, count: int) -> np.ndarray:
    """Serials of the `count` candidate firms of `form` in model month `month`."""
    if count >= 1 << FORM_SHIFT:
        raise ValueError(f"{count} candidate firms of one form in a month exceed the serials")
    return (month << MONTH_SHIFT) | (int(form) << FORM_SHIFT) | np.arange(count, dtype=np.int64)


def draw_entrants(model: WorkshopEconomy, keyed: KeyedDraws) -> list[Entrant]:
    """Candidate firms this month: Poisson per form at the scenario's (scaled) rate."""
    params = model.params
    means = [form_spec(params.workshops, f).entrants_per_month * params.scale for f in Form]
    counts = keyed.poisson(Purpose.CANDIDATES, np.array(means), model.month)
    entrants = []
    for form, count in zip(Form, counts.tolist(), strict=True):
        if count:
            serials = candidate_serials(model.month, form, count)
            entrants += make_entrants(model, form, serials, keyed)
    return entrants


def make_entrants(
    model: WorkshopEconomy, form: Form, serials: np.ndarray, keyed: KeyedDraws
) -> list[Entrant]:
    """The candidate firms `serials` of `form`, each drawn from its own keyed uniforms."""
    params, spec = model.params, form_spec(model.params.workshops, form)

    def draw(attribute: FirmDraw) -> np.ndarray:
        return keyed.uniforms(Purpose.FIRM, serials, index=int(attribute))

    span = spec.capacity_workers_max - spec.capacity_workers_min + 1
    capacity = spec.capacity_workers_min + np.floor(draw(FirmDraw.CAPACITY) * span)
    in_villages, at_site = form in VILLAGE_FORMS, form in SITE_FORMS
    village = np.floor(draw(FirmDraw.VILLAGE) * model.geography.n_villages)
    site = np.floor(draw(FirmDraw.SITE) * model.geography.n_sites)
    piece_rate = np.where(
        draw(FirmDraw.PAY_SCHEME) < spec.piece_rate_share, spec.piece_rate_yuan, 0.0
    )
    sd = spec.firm_productivity_sd  # lognormal with mean 1
    productivity = np.exp(-(sd**2) / 2 + sd * special.ndtri(draw(FirmDraw.PRODUCTIVITY)))
    orders = spec.orders  # a firm opens with the orders of a firm drawn from the stationary AR(1)
    spread = orders.volatility / np.sqrt(1 - orders.persistence**2)
    order_state = spread * special.ndtri(draw(FirmDraw.ORDER_STATE))
    quota = params.policy.certification
    poor_share = quota.poor_share_min if quota.enabled else 0.0
    entrants = []
    for serial, places, home, firm_productivity, rate, place, state in zip(
        serials.tolist(),
        capacity.tolist(),
        village.tolist(),
        productivity.tolist(),
        piece_rate.tolist(),
        site.tolist(),
        order_state.tolist(),
        strict=True,
    ):
        workers = params.workshops.expected_fill_share * places
        entrants.append(
            Entrant(
                serial,
                form,
                spec,
                int(home) if in_villages else NO_VILLAGE,
                int(places),
                workers,
                workers * poor_share,
                params.workshops.planning_horizon_months,
                firm_productivity,
                rate,
                int(place) if at_site else NO_SITE,
                state,
            )
        )
    return entrants


def initial_workshops(model: WorkshopEconomy, keyed: KeyedDraws) -> list[Entrant]:
    """The workshops open when the policy starts, drawn like entrants (they open regardless).

    A form's count is its county count times the run's scale, rounded up or down at
    random with the odds that keep it unbiased (keyed by the form), so a small run keeps
    the county's workshops in expectation instead of rounding a fraction of one to none.
    Their serials are those of month 0's candidates, so each arm's initial workshops are
    the same firms as far as their counts agree.
    """
    entrants = []
    for form in Form:
        scaled = form_spec(model.params.workshops, form).initial_count * model.params.scale
        count = keyed.stochastic_round(scaled, Purpose.INITIAL_WORKSHOPS, entity=int(form))
        entrants += make_entrants(model, form, candidate_serials(0, form, count), keyed)
    return entrants
