"""Household panel: every household's state at chosen months, to follow households over a run.

A snapshot is one row per household at the model's current month; a run's panel is the
snapshots at month 0 (the starting state), every `every` months and the final month.
Worker counts use the categories of the "activity" table (`model.collection`): members
able to work (labour capacity > 0), by their activity this month.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from model.scenario import ACTIVITY_NAMES

if TYPE_CHECKING:
    from model.economy import WorkshopEconomy

WORKER_COLUMNS = [f"workers_{name}" for name in ACTIVITY_NAMES]
PANEL_COLUMNS = [
    "month",
    "household",
    "village",
    "size",
    "registered_poor",
    "income_per_capita_yuan",
    "poor",
    *WORKER_COLUMNS,
    "equity_yuan",
]


def household_panel(model: WorkshopEconomy) -> pd.DataFrame:
    """One row per household at the model's current month.

    Columns:
        month (int16): months simulated so far (0 = the starting state).
        household (int32): household index, 0 to households - 1.
        village (int32): village index.
        size (int16): members (people).
        registered_poor (bool): registered as poor at the start.
        income_per_capita_yuan (float32): rolling 12-month household income per person
            (yuan per person per year), the income poverty status is judged on.
        poor (bool): below this year's poverty line.
        workers_<activity> (int16): members able to work (labour capacity > 0) doing
            that activity this month, one column per activity of the "activity" table
            (``workers_not_working`` counts those able to work who do not).
        equity_yuan (float32): cooperative shares held (yuan).
    """
    hh, people = model.households, model.people
    n = len(hh)
    able = people.capacity > 0
    code = people.household[able].astype(np.int64) * len(ACTIVITY_NAMES) + people.activity[able]
    workers = np.bincount(code, minlength=n * len(ACTIVITY_NAMES)).reshape(n, -1)
    columns = {
        "month": np.full(n, model.month, dtype=np.int16),
        "household": np.arange(n, dtype=np.int32),
        "village": hh.village.astype(np.int32),
        "size": hh.size.astype(np.int16),
        "registered_poor": hh.registered_poor.astype(bool),
        "income_per_capita_yuan": model.tracker.per_capita.astype(np.float32),
        "poor": model.tracker.poor.astype(bool),
        **{name: workers[:, i].astype(np.int16) for i, name in enumerate(WORKER_COLUMNS)},
        "equity_yuan": hh.equity_yuan.astype(np.float32),
    }
    return pd.DataFrame(columns, columns=PANEL_COLUMNS)


def panel_months(months: int, every: int) -> list[int]:
    """Months a run of `months` months takes a snapshot at: 0, every `every`, the last.

    Raises:
        ValueError: if `every` is not a positive number of months.
    """
    if every <= 0:
        raise ValueError(f"months between panel snapshots: expected > 0, got {every}")
    return sorted({*range(0, months + 1, every), months})
