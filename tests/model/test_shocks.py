import datetime as dt

import numpy as np
import pytest

from model.economy import WorkshopEconomy
from model.households import Health
from model.scenario import Activity
from model.shocks import (
    collapse_orders,
    month_index,
    shock_window,
    stop_migration,
    strike_illness,
)

START = dt.date(2016, 1, 1)


def test_month_index_counts_months_from_the_start():
    assert month_index(START, dt.date(2016, 1, 1)) == 0
    assert month_index(START, dt.date(2017, 3, 15)) == 14
    assert month_index(dt.date(2019, 11, 1), dt.date(2020, 2, 1)) == 3


def test_shock_window_marks_start_and_end_months(tiny):
    shock = tiny.shocks.migration_stop.model_copy(
        update={"enabled": True, "start": dt.date(2016, 4, 1), "months": 2}
    )
    phases = [shock_window(START, shock, m) for m in range(8)]
    assert phases == ["", "", "", "start", "", "end", "", ""]
    off = shock.model_copy(update={"enabled": False})
    assert all(shock_window(START, off, m) == "" for m in range(8))


@pytest.fixture
def model(small):
    model = WorkshopEconomy(small)
    model._start_policy()  # the initial workshops open
    return model


def test_migration_stop_keeps_a_share_of_migrants_home_and_releases_them(model, tiny):
    people = model.people
    migrants = np.flatnonzero(people.activity == Activity.MIGRATION)
    assert len(migrants) > 50
    shock = tiny.shocks.migration_stop.model_copy(update={"share_kept_home": 0.5})
    kept = stop_migration(people, shock, "start", model.keyed, 1)
    assert set(kept.tolist()) <= set(migrants.tolist())
    assert len(kept) == pytest.approx(0.5 * len(migrants), abs=4 * np.sqrt(len(migrants) / 4))
    assert people.kept_home[kept].all() and people.kept_home.sum() == len(kept)
    assert (people.activity[kept] == Activity.NOT_WORKING).all()
    assert len(stop_migration(people, shock, "", model.keyed, 1)) == 0
    released = stop_migration(people, shock, "end", model.keyed, 1)
    assert sorted(released.tolist()) == sorted(kept.tolist())
    assert not people.kept_home.any()


def test_illness_strikes_only_healthy_people_who_can_work(model):
    people = model.people
    at_risk = (people.health == Health.HEALTHY) & (people.capacity > 0)
    before = people.health.copy()
    ill = strike_illness(people, 1.0, model.keyed, 1)
    assert np.array_equal(np.sort(ill), np.flatnonzero(at_risk))
    assert (people.health[ill] == Health.CHRONIC).all()
    assert np.array_equal(people.health[~at_risk], before[~at_risk])
    assert len(strike_illness(people, 0.0, model.keyed, 1)) == 0


def test_order_collapse_hits_a_share_of_firms_then_all_recover(model, tiny):
    shops, table = model.workshop_slots, model.workshop_table
    shock = tiny.shocks.order_collapse.model_copy(
        update={"share_of_firms": 1.0, "load_multiplier": 0.2}
    )
    collapse_orders(table, shock, "start", model.keyed, 1)
    assert all(w.order_multiplier == 0.2 for w in shops)
    collapse_orders(table, shock, "", model.keyed, 1)
    assert all(w.order_multiplier == 0.2 for w in shops)
    collapse_orders(table, shock, "end", model.keyed, 1)
    assert all(w.order_multiplier == 1.0 for w in shops)
    none = shock.model_copy(update={"share_of_firms": 0.0})
    collapse_orders(table, none, "start", model.keyed, 1)
    assert all(w.order_multiplier == 1.0 for w in shops)
