"""Shocks: order collapse, a migration stop (as in early 2020) and illness.

Each is off unless the scenario switches it on. Shocks change state at the start of a
month; the people they touch are flagged to revise their choice.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from model.households import Health, People
from model.keyed import KeyedDraws, Purpose
from model.scenario import Activity, MigrationStop, OrderCollapse
from model.workshops import WorkshopTable


def month_index(start: dt.date, when: dt.date) -> int:
    """Months from the run's first month to `when` (0 = the first month)."""
    return (when.year - start.year) * 12 + (when.month - start.month)


def shock_window(start: dt.date, shock: OrderCollapse | MigrationStop, month: int) -> str:
    """'start', 'end' or '' for this month relative to a shock's window."""
    first = month_index(start, shock.start)
    if not shock.enabled:
        return ""
    if month == first:
        return "start"
    if month == first + shock.months:
        return "end"
    return ""


def collapse_orders(
    table: WorkshopTable, shock: OrderCollapse, phase: str, keyed: KeyedDraws, month: int
) -> None:
    """At the start, a share of open workshops lose orders; at the end all recover."""
    open_now = np.flatnonzero(table.is_open)
    if phase == "start":
        u = keyed.uniforms(Purpose.ORDER_COLLAPSE, table.serial[open_now], month)
        hit = u < shock.share_of_firms
        table.order_multiplier[open_now] = np.where(hit, shock.load_multiplier, 1.0)
    elif phase == "end":
        table.order_multiplier[open_now] = 1.0


def stop_migration(
    people: People, shock: MigrationStop, phase: str, keyed: KeyedDraws, month: int
) -> np.ndarray:
    """Keep a share of migrants home at the start of the shock; release them at its end.

    Returns the people who must revise their choice.
    """
    if phase == "start":
        migrants = np.flatnonzero(people.activity == Activity.MIGRATION)
        u = keyed.uniforms(Purpose.MIGRATION_STOP, migrants, month)
        kept = migrants[u < shock.share_kept_home]
        people.kept_home[kept] = True
        people.activity[kept] = Activity.NOT_WORKING
        return kept
    if phase == "end":
        released = np.flatnonzero(people.kept_home)
        people.kept_home[released] = False
        return released
    return np.empty(0, dtype=np.int64)


def strike_illness(
    people: People, incidence_per_month: float, keyed: KeyedDraws, month: int
) -> np.ndarray:
    """Healthy working-age people fall chronically ill; returns who did."""
    at_risk = np.flatnonzero((people.health == Health.HEALTHY) & (people.capacity > 0))
    ill = at_risk[keyed.uniforms(Purpose.ILLNESS, at_risk, month) < incidence_per_month]
    people.health[ill] = Health.CHRONIC
    return ill
