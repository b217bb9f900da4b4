"""Helpers of the benchmark tests: scenario variants and month-by-month traces of a model."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.economy import WorkshopEconomy
from model.metrics import Transitions

HOUSEHOLDS = 300
MONTHS = 24  # two Januaries: ageing, care load, dibao review and a new budget year
SHOCK_START = dt.date(2016, 7, 1)  # within the run, which starts in January 2016

# Every workshop form open from the start, carers kept from workshops without flexible
# hours, all three shocks inside the run and frequent work injuries, some insured (they
# change what the agents must copy).
STRESS = {
    "workshops.park.initial_count": 60,
    "workshops.community.initial_count": 40,
    "population.resettled_share": 0.3,
    "choice.flexible_hours": False,
    "shocks.order_collapse.enabled": True,
    "shocks.order_collapse.start": SHOCK_START,
    "shocks.migration_stop.enabled": True,
    "shocks.migration_stop.start": SHOCK_START,
    "shocks.illness.enabled": True,
    "shocks.illness.incidence_per_month": 0.01,
    "workshops.injury_rate_per_worker_month": 0.02,
    "policy.injury_insurance.take_up_share": 0.5,
}
# Resettlement sites with community factories and flexible hours: carers at the factory
# downstairs and elsewhere, applicants falling back on the county's factories.
RESETTLED = {
    "workshops.community.initial_count": 40,
    "county.resettlement_sites": 60,
    "population.resettled_share": 0.4,
    "choice.flexible_hours": True,
}
VARIANTS: dict[str, dict[str, Any]] = {"tiny": {}, "stress": STRESS, "resettled": RESETTLED}


@dataclass
class Trace:
    """What a model did each month (index 0 = the starting state, choices from month 1)."""

    revisers: list[np.ndarray] = field(default_factory=list)  # person indices
    chosen: list[np.ndarray] = field(default_factory=list)  # activity per reviser
    current_ok: list[np.ndarray] = field(default_factory=list)  # bool per reviser
    activity: list[np.ndarray] = field(default_factory=list)  # per person, after matching
    income: list[np.ndarray] = field(default_factory=list)  # sources x households, yuan
    poor: list[np.ndarray] = field(default_factory=list)  # bool per household
    flows: list[Transitions] = field(default_factory=list)

    def record(self, model: WorkshopEconomy) -> None:
        if model.month > 0:
            for name, values in zip(
                ("revisers", "chosen", "current_ok"), model.choices, strict=True
            ):
                getattr(self, name).append(values.copy())
            self.flows.append(model.flows)
        self.activity.append(model.people.activity.copy())
        self.income.append(model.ledger.by_source.copy())
        self.poor.append(np.asarray(model.poor).copy())


def trace(model: WorkshopEconomy, months: int) -> Trace:
    """Record the starting state, then each of `months` steps."""
    out = Trace()
    out.record(model)
    for _ in range(months):
        model.step()
        out.record(model)
    return out
