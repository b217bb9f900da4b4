import numpy as np
import pytest
from model_helpers import variant

from model.economy import WorkshopEconomy
from model.keyed import KeyedDraws
from model.scenario import Activity
from model.workshops import (
    FORM_ACTIVITY,
    NO_VILLAGE,
    VILLAGE_FORMS,
    Entrant,
    Form,
    Status,
    Workshop,
    book_profit,
    candidate_serials,
    draw_entrants,
    form_spec,
    initial_workshops,
    make_entrants,
    receive_orders,
    seasonal_factor,
    update_status,
)


@pytest.fixture
def model(small):
    model = WorkshopEconomy(small)
    model._start_policy()  # the initial workshops open
    return model


def open_one(model: WorkshopEconomy, form: Form, capacity: int = 20) -> Workshop:
    """A fresh workshop of `form` opened in the model."""
    spec = form_spec(model.params.workshops, form)
    entrant = Entrant(
        10**6 + len(model.workshop_table),  # a serial no candidate firm has
        form,
        spec,
        0 if form in VILLAGE_FORMS else NO_VILLAGE,
        capacity,
        expected_workers=capacity * 0.8,
        expected_poor_workers=0.0,
        months=36,
        productivity=1.0,
    )
    return model.workshop_slots[model.add_workshops([entrant])[0]]


def orders(model: WorkshopEconomy, shop: Workshop, innovation: float, month: int) -> None:
    """One month's orders of one workshop."""
    receive_orders(model.workshop_table, np.array([shop.slot]), np.array([innovation]), month)


def new_status(model: WorkshopEconomy, shop: Workshop) -> None:
    """One month's status of one workshop, closing it as the model does."""
    rules = model.params.workshops
    for slot in update_status(
        model.workshop_table, np.array([shop.slot]), rules.loss_months_to_close
    ):
        model.workshop_slots[slot].close()


def book(model: WorkshopEconomy, shop: Workshop, value_added: float, wages: float) -> None:
    """One month's accounts of one workshop, folded into its expected profit."""
    table = model.workshop_table
    table.value_added[shop.slot], table.wage_bill[shop.slot] = value_added, wages
    book_profit(table, np.array([shop.slot]), model.params.workshops.profit_memory_months)


def utilisation(model: WorkshopEconomy, shop: Workshop, workers: int) -> float:
    """The workshop's utilisation at a head count."""
    staff = np.zeros(len(model.workshop_table), dtype=np.int64)
    staff[shop.slot] = workers
    return float(model.workshop_table.utilisation(staff)[shop.slot])


def test_every_form_is_a_distinct_modelled_type_with_an_activity():
    assert len(Form) == 5
    assert FORM_ACTIVITY[Form.OUTWORK] == Activity.HOME_OUTWORK
    assert FORM_ACTIVITY[Form.PARK] == Activity.PARK_WORKSHOP
    assert FORM_ACTIVITY[Form.COMMUNITY] == Activity.COMMUNITY_FACTORY
    assert {FORM_ACTIVITY[f] for f in VILLAGE_FORMS} == {Activity.VILLAGE_WORKSHOP}


def test_seasonal_factor_peaks_at_the_peak_month_and_bottoms_six_months_later(tiny):
    orders = tiny.workshops.factory.orders
    amp, peak = orders.seasonal_amplitude, orders.peak_month
    assert seasonal_factor(orders, peak) == pytest.approx(1 + amp)
    assert seasonal_factor(orders, (peak + 6 - 1) % 12 + 1) == pytest.approx(1 - amp)
    year = [seasonal_factor(orders, m) for m in range(1, 13)]
    assert np.mean(year) == pytest.approx(1.0)


def test_initial_workshops_are_the_scaled_counts_of_each_form(small):
    model = WorkshopEconomy(small)
    assert len(model.workshop_slots) == 0  # the starting state has no workshop
    model.step()
    counts = np.bincount([w.form for w in model.workshop_slots], minlength=len(Form))
    for form in Form:
        scaled = form_spec(small.workshops, form).initial_count * small.scale
        assert counts[form] in (np.floor(scaled), np.ceil(scaled))
    assert len(model.workshops) == len(model.workshop_slots)
    assert [w.slot for w in model.workshop_slots] == list(range(len(model.workshop_slots)))
    serials = model.workshop_table.serial
    assert len(set(serials.tolist())) == len(serials)


def test_a_small_run_keeps_the_countys_initial_workshops_in_expectation(small):
    # a run so small that plain rounding would open no workshop of most forms
    few = WorkshopEconomy(variant(small, households=60))
    expected = np.array(
        [form_spec(few.params.workshops, f).initial_count * few.params.scale for f in Form]
    )
    assert (expected < 0.5).sum() >= 2
    seeds = 1500
    counts = np.zeros(len(Form))
    for seed in range(seeds):
        opened = initial_workshops(few, KeyedDraws(seed, 0))
        counts += np.bincount([e.form for e in opened], minlength=len(Form))
    assert np.allclose(counts / seeds, expected, atol=0.05 + 0.05 * expected)


def test_entrants_draw_capacity_and_village_by_form(model):
    for seed in range(20):
        for e in initial_workshops(model, KeyedDraws(seed, 0)):
            assert e.spec.capacity_workers_min <= e.capacity <= e.spec.capacity_workers_max
            if e.form in VILLAGE_FORMS:
                assert 0 <= e.village < model.geography.n_villages
            else:
                assert e.village == NO_VILLAGE
            quota = model.params.policy.certification
            share = quota.poor_share_min if quota.enabled else 0.0
            assert e.expected_poor_workers == pytest.approx(e.expected_workers * share)


def test_candidate_firms_arrive_at_the_scaled_rate(model):
    months = 3000
    arrivals = []
    for month in range(1, months + 1):
        model.month = month
        arrivals.append(len(draw_entrants(model, model.keyed)))
    rate = (
        sum(form_spec(model.params.workshops, f).entrants_per_month for f in Form)
        * model.params.scale
    )
    assert np.mean(arrivals) == pytest.approx(rate, abs=4 * np.sqrt(rate / months))


def test_operating_profit_matches_hand_computation(tiny):
    spec = tiny.workshops.factory.model_copy(
        update={
            "value_added_yuan_per_worker_month": 3000.0,
            "pay_yuan_per_month": 2000.0,
            "rent_yuan_per_month": 1000.0,
            "setup_cost_yuan": 50_000.0,
            "loan_yuan": 120_000.0,
            "orders": tiny.workshops.factory.orders.model_copy(update={"mean_load": 0.5}),
        }
    )
    e = Entrant(
        1,
        Form.FACTORY,
        spec,
        0,
        capacity=20,
        expected_workers=16.0,
        expected_poor_workers=5.0,
        months=24,
        productivity=1.1,
    )
    busy = min(1.0, 0.5 * 20 / 16)
    monthly = 16 * busy * (3000 * 1.1 - 2000) - 1000
    interest = 120_000 * 0.05 * 24 / 12  # loan term (36) longer than the horizon (24)
    assert e.busy_share == pytest.approx(busy)
    assert e.operating_profit(0.05, 36) == pytest.approx(24 * monthly - 50_000 - interest)
    interest_12 = 120_000 * 0.05 * 12 / 12
    assert e.operating_profit(0.05, 12) == pytest.approx(24 * monthly - 50_000 - interest_12)


def test_orders_without_volatility_follow_the_season_exactly(tiny):
    calm = variant(
        tiny,
        {
            "workshops.outwork.orders": {
                **tiny.workshops.outwork.orders.model_dump(),
                "volatility": 0.0,
            }
        },
        households=100,
    )
    model = WorkshopEconomy(calm)
    model._start_policy()
    shop = next(w for w in model.workshop_slots if w.form == Form.OUTWORK)
    process = calm.workshops.outwork.orders
    for month in (1, 4, 10):
        orders(model, shop, 1.7, month)
        assert shop.load == pytest.approx(process.mean_load * seasonal_factor(process, month))
    shop.order_multiplier = 0.2
    orders(model, shop, -3.0, 10)
    assert shop.load == pytest.approx(0.2 * process.mean_load * seasonal_factor(process, 10))


def test_orders_average_the_mean_load_over_the_season(model):
    shop = next(w for w in model.workshop_slots if w.form == Form.OUTWORK)
    process = shop.spec.orders
    rng = np.random.default_rng(3)
    loads = []
    for i, z in enumerate(rng.standard_normal(30_000)):
        month = i % 12 + 1
        orders(model, shop, float(z), month)
        loads.append(shop.load / seasonal_factor(process, month))
    assert np.mean(loads[200:]) == pytest.approx(process.mean_load, rel=0.03)


def test_a_workshop_idles_below_the_idle_load_and_closes_after_enough_idle_months(model):
    shop = open_one(model, Form.FACTORY)
    spec = shop.spec
    shop.load = spec.idle_load / 2
    for month in range(1, spec.idle_months_to_close):
        new_status(model, shop)
        assert shop.status == Status.IDLE and shop.idle_months == month
        assert shop in model.workshops
    shop.certified = True
    new_status(model, shop)
    assert shop.status == Status.CLOSED and not shop.is_open
    assert not shop.certified
    assert shop not in model.workshops
    assert model.workshop_slots[shop.slot] is shop


def test_a_workshop_expecting_losses_for_long_enough_closes_even_with_orders(model):
    shop = open_one(model, Form.FACTORY)
    rent = shop.spec.rent_yuan_per_month
    book(model, shop, value_added=30_000.0, wages=20_000.0)
    assert model.workshop_table.profit_trend[shop.slot] == pytest.approx(10_000.0 - rent)
    shop.load = shop.spec.idle_load * 2  # busy: the idle rule does not apply
    months_to_close = model.params.workshops.loss_months_to_close
    closed_after = None
    for month in range(1, 40):
        book(model, shop, value_added=10_000.0, wages=20_000.0)
        new_status(model, shop)
        if not shop.is_open:
            closed_after = month
            break
    assert closed_after is not None
    # the expected profit turns negative only after a few losing months, then the count runs
    assert closed_after > months_to_close
    assert model.workshop_table.loss_months[shop.slot] == months_to_close


def test_running_support_counts_in_a_workshop_s_profit(model):
    shop, supported = open_one(model, Form.FACTORY), open_one(model, Form.FACTORY)
    rent = shop.spec.rent_yuan_per_month
    model.workshop_table.support[supported.slot] = 2 * rent
    for one in (shop, supported):
        book(model, one, value_added=20_000.0, wages=20_000.0)
    trend = model.workshop_table.profit_trend
    assert trend[shop.slot] == pytest.approx(-rent)
    assert trend[supported.slot] == pytest.approx(rent)


def test_a_new_workshop_s_orders_start_from_their_stationary_spread(small):
    model = WorkshopEconomy(small)
    serials = candidate_serials(1, Form.FACTORY, 4000)
    entrants = make_entrants(model, Form.FACTORY, serials, model.keyed)
    states = np.array([e.order_state for e in entrants])
    orders = small.workshops.factory.orders
    spread = orders.volatility / np.sqrt(1 - orders.persistence**2)
    assert abs(states.mean()) < 4 * spread / np.sqrt(len(states))
    assert states.std() == pytest.approx(spread, rel=0.05)


def test_workshops_close_in_ordinary_runs(small):
    model = WorkshopEconomy(variant(small, months=48))
    for _ in range(48):
        model.step()
    table = model.workshop_table
    closed = (table.status == Status.CLOSED).mean()
    assert 0.02 < closed < 0.6


def test_orders_back_above_the_idle_load_reopen_and_reset_the_idle_count(model):
    shop = open_one(model, Form.OUTWORK)
    shop.load = 0.0
    new_status(model, shop)
    new_status(model, shop)
    shop.load = shop.spec.idle_load
    new_status(model, shop)
    assert shop.status == Status.OPEN and shop.idle_months == 0


def test_utilisation_is_orders_over_workforce_capped_at_one(model):
    shop = open_one(model, Form.FACTORY, capacity=20)
    shop.load = 0.5
    assert utilisation(model, shop, 0) == 1.0
    assert utilisation(model, shop, 5) == 1.0  # 10 workers' worth of orders for 5
    assert utilisation(model, shop, 20) == pytest.approx(0.5)
    assert utilisation(model, shop, 16) == pytest.approx(10 / 16)
    shop.status = Status.IDLE
    assert utilisation(model, shop, 16) == 0.0


def test_workshop_table_reads_status_and_activity(model):
    shops = model.workshop_slots
    shops[0].status = Status.IDLE
    shops[1].insurance_enrolled = False
    workers = np.zeros(len(shops), dtype=np.int64)
    table = model.workshop_table
    assert table.activity.tolist() == [FORM_ACTIVITY[w.form] for w in shops]
    assert table.is_open[0] and not table.hiring[0]
    assert table.hiring[1:].all()
    assert table.capacity.tolist() == [w.capacity for w in shops]
    assert table.utilisation(workers)[0] == 0.0
    assert table.insurance_enrolled[1] == 0 and shops[1].insurance_enrolled is False
    assert shops[2].insurance_enrolled is None and shops[2].form == table.form[2]


def test_new_slots_start_open_with_their_forms_order_load(model):
    shop = open_one(model, Form.PARK, capacity=33)
    assert shop.slot == len(model.workshop_table) - 1 == len(model.workshop_slots) - 1
    assert shop.status == Status.OPEN and shop.capacity == 33 and shop.idle_months == 0
    assert shop.load == shop.spec.orders.mean_load and shop.order_multiplier == 1.0
    assert shop.opened_month == model.month and shop.accounts.workers == 0
