"""Run a scenario and gather its tables: monthly headline, breakdowns and run summary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.collection import TABLES
from model.economy import WorkshopEconomy
from model.metrics import cost_per_exit
from model.scenario import Scenario

MonthCallback = Callable[[WorkshopEconomy], None]


@dataclass
class RunResult:
    """Tidy tables of one run.

    Attributes:
        monthly: one row per month (month 0 = the starting state).
        tables: breakdowns by name (poverty, activity, income, workshops, spending),
            long format, one row per month and category.
        summary: one row: exits, spells, spending, cost per net exit, income gains.
    """

    monthly: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    summary: pd.DataFrame

    def all_tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name, headline and summary included."""
        return {"monthly": self.monthly, **self.tables, "summary": self.summary}


def simulate(params: Scenario, replicate: int = 0,
             on_month: MonthCallback | None = None) -> RunResult:
    """Run the scenario for `params.run.months` months.

    Args:
        params: the validated scenario.
        replicate: replicate index (with the scenario seed it fixes all random streams).
        on_month: called after each month, e.g. to advance a progress bar.

    Returns:
        The run's tables.
    """
    model = WorkshopEconomy(params, replicate=replicate)
    for _ in range(params.run.months):
        model.step()
        if on_month is not None:
            on_month(model)
    return collect_result(model)


def collect_result(model: WorkshopEconomy) -> RunResult:
    """Gather the tables of a model that has run."""
    dc = model.datacollector
    monthly = dc.get_model_vars_dataframe().reset_index(drop=True)
    tables = {name: dc.get_table_dataframe(name) for name in TABLES}
    return RunResult(monthly, tables, run_summary(model))


def run_summary(model: WorkshopEconomy) -> pd.DataFrame:
    """The run summary as a one-row table."""
    tracker, hh = model.tracker, model.households
    net_exits = int(tracker.start_poor.sum() - tracker.poor.sum())
    spent = sum(model.policy.budget.spent_total.values())
    gain = (tracker.per_capita - tracker.start_rolling / tracker.size)
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
        "total_spending_yuan": spent,
        "cost_per_net_exit_yuan": cost_per_exit(spent, net_exits),
        "income_gain_workshop_yuan": _mean(gain[hh.ever_workshop]),
        "income_gain_other_yuan": _mean(gain[~hh.ever_workshop]),
        **{f"spending_{k}_yuan": v for k, v in model.policy.budget.spent_total.items()},
    }
    row["income_gain_difference_yuan"] = (row["income_gain_workshop_yuan"]
                                          - row["income_gain_other_yuan"])
    return pd.DataFrame([row])


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else float("nan")
