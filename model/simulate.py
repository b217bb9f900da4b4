"""Run a scenario and gather its tables: headline, breakdowns, summary, household panel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.collection import TABLES
from model.economy import WorkshopEconomy
from model.metrics import IncomeRangeError
from model.panel import household_panel, panel_months
from model.scenario import Scenario
from model.workshops import MONTHS_PER_YEAR

MonthCallback = Callable[[WorkshopEconomy], None]


@dataclass
class RunResult:
    """Tidy tables of one run.

    Attributes:
        monthly: one row per month (month 0 = the starting state).
        tables: breakdowns by name (poverty, activity, income, workshops, spending),
            long format, one row per month and category.
        summary: one row: exits, poor household-months, spells, spending, income gains.
        panel: the household panel (`model.panel.household_panel`), one row per household
            at each snapshot month; None unless the run was asked for one.
    """

    monthly: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    summary: pd.DataFrame
    panel: pd.DataFrame | None = None

    def all_tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name, headline and summary included (and the panel if kept)."""
        panel = {} if self.panel is None else {"panel": self.panel}
        return {"monthly": self.monthly, **self.tables, "summary": self.summary, **panel}


def simulate(
    params: Scenario,
    replicate: int = 0,
    on_month: MonthCallback | None = None,
    panel_every_months: int | None = None,
) -> RunResult:
    """Run the scenario for `params.run.months` months.

    Args:
        params: the validated scenario.
        replicate: replicate index (with the scenario seed it fixes all random streams).
        on_month: called after each month, e.g. to advance a progress bar.
        panel_every_months: if given, keep the household panel at month 0 (the starting
            state), every this many months and the final month (`model.panel`).

    Returns:
        The run's tables.

    Raises:
        ValueError: if `panel_every_months` is not a positive number of months.
        NonFiniteResultError: a household's income is too large (or not finite) for the
            poverty tracker's whole fen (`model.metrics.IncomeRangeError`), or a table
            holds an infinite value (`collect_result`).
    """
    snapshot_at = (
        set()
        if panel_every_months is None
        else set(panel_months(params.run.months, panel_every_months))
    )
    try:
        model = WorkshopEconomy(params, replicate=replicate)
        snapshots = [household_panel(model)] if 0 in snapshot_at else []
        for _ in range(params.run.months):
            model.step()
            if model.month in snapshot_at:
                snapshots.append(household_panel(model))
            if on_month is not None:
                on_month(model)
    except IncomeRangeError as err:  # a household's income overflowed: refused like a table's
        raise NonFiniteResultError(
            f"{params.name}: the run produced a non-finite or too large income: {err}: a "
            "value of the scenario is too large for the arithmetic (check amounts and "
            "weights); nothing was written"
        ) from err
    panel = pd.concat(snapshots, ignore_index=True) if snapshots else None
    return collect_result(model, panel)


class NonFiniteResultError(ValueError):
    """A run whose numbers overflowed: infinite values, or gaps in the monthly table."""


def collect_result(model: WorkshopEconomy, panel: pd.DataFrame | None = None) -> RunResult:
    """Gather the tables of a model that has run (with its household panel, if kept).

    Raises:
        NonFiniteResultError: a table holds an infinite value or the monthly table a
            missing one (`check_finite`), so nothing wrong is ever written.
    """
    dc = model.datacollector
    monthly = dc.get_model_vars_dataframe().reset_index(drop=True)
    tables = {name: dc.get_table_dataframe(name) for name in TABLES}
    result = RunResult(monthly, tables, run_summary(model), panel)
    check_finite(result, model.params.name)
    return result


def check_finite(result: RunResult, scenario: str) -> None:
    """Refuse a run with infinite numbers anywhere or missing ones in its monthly table.

    Values too large for the arithmetic (e.g. an income of 1e308 yuan) turn into
    infinities and then NaN; tables other than the monthly one use NaN for a mean over
    nobody (e.g. earnings where no one has a job), which is allowed there.
    """
    bad = [
        f"{name}.{column}"
        for name, table in {
            "monthly": result.monthly,
            "summary": result.summary,
            **result.tables,
        }.items()
        for column, values in table.select_dtypes("number").items()
        if np.isinf(values.to_numpy(dtype=float)).any()
        or (name == "monthly" and values.isna().any())
    ]
    if bad:
        raise NonFiniteResultError(
            f"{scenario}: the run produced non-finite numbers in {', '.join(bad[:4])}"
            f"{' and more' if len(bad) > 4 else ''}: a value of the scenario is too large "
            "for the arithmetic (check amounts and weights); nothing was written"
        )


def run_summary(model: WorkshopEconomy) -> pd.DataFrame:
    """The run summary as a one-row table."""
    tracker, hh = model.tracker, model.households
    net_exits = int(tracker.start_poor.sum() - tracker.poor.sum())
    spent = sum(model.policy.budget.spent_total.values())
    gain = tracker.per_capita - tracker.start_per_capita
    row = {
        "households": len(hh),
        "people": int(hh.size.sum()),
        "months": model.month,
        "poor_households_start": int(tracker.start_poor.sum()),
        "poor_households_end": int(tracker.poor.sum()),
        "gross_exits": tracker.totals.exits,
        "gross_entries": tracker.totals.entries,
        "re_entries": tracker.totals.re_entries,
        "net_exits": net_exits,
        "stayed_out_12_months": int(tracker.stayed_out.sum()),
        "mean_spell_months": tracker.mean_spell_months(),
        "poor_household_months": tracker.start_poor_months,
        "poor_households_final_12_mean": tracker.mean_poor_households(MONTHS_PER_YEAR),
        "total_spending_yuan": spent,
        "income_gain_workshop_yuan": _mean(gain[hh.ever_workshop]),
        "income_gain_other_yuan": _mean(gain[~hh.ever_workshop]),
        **{f"spending_{k}_yuan": v for k, v in model.policy.budget.spent_total.items()},
    }
    row["income_gain_difference_yuan"] = (
        row["income_gain_workshop_yuan"] - row["income_gain_other_yuan"]
    )
    return pd.DataFrame([row])


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else float("nan")
