"""Fit a county's free parameters to its published figures.

The loss of a parameter set is the sum over the county's used targets of
``((simulated mean - published) / band)^2``, where the band is the target's tolerance in
its unit (relative tolerance x published value, or the absolute tolerance): a target is
within tolerance when its term is at most 1. Means are over replicates 0..R-1 of the
scenario's seed, the same replicates for every parameter set (common random numbers), so
the loss is a deterministic function of the parameters.

Entry of workshops is a Poisson draw and several keys are whole numbers, so the loss is
piecewise constant and rough: no gradients, and simplex methods stall on its small
steps. `fit` therefore searches derivative-free in the unit cube of the bounds (log
scale for a bound pair spanning a factor of 10 or more), in two scipy phases:

1. DIRECT, locally biased (`scipy.optimize.direct`, two thirds of the evaluations): a
   deterministic global search that divides the cube around its best boxes, so it finds
   the basin without a starting point and is not misled by plateaus;
2. Powell (`scipy.optimize.minimize`, bounded, the rest): line searches along each
   parameter from the best point, which suits targets that each hang on a few keys.

Parameter values are rounded to 4 significant digits (whole numbers for integer keys)
before each run, so the values written are exactly the ones evaluated, and the best
point of either phase is kept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from experiments.calibration.replicates import measures, replicate_executor
from experiments.calibration.targets import CountyCalibration, FreeParameter, Target
from experiments.executors import Executor, Serial
from experiments.intervals import t_half_width
from model.scenario import Scenario

NAN_PENALTY = 100.0  # loss term of a target whose measure is undefined (e.g. no workers)
GLOBAL_SHARE = 2 / 3  # share of the evaluations spent on the DIRECT phase
POWELL_STEP = 0.1  # Powell's first step along each parameter, in unit-cube coordinates
LOG_SPAN = 10.0  # bounds spanning this factor or more are searched on a log scale
SIGNIFICANT_DIGITS = 4
SCALED_COUNT = ".initial_count"  # keys the model scales and rounds (model/workshops.py)
CUBE = "in the unit cube of the bounds, log scale for bounds spanning 10x or more"
METHOD = f"locally biased DIRECT then bounded Powell (scipy.optimize) {CUBE}"
REFINE_METHOD = f"bounded Powell (scipy.optimize) from the earlier fit's values {CUBE}"
Values = dict[str, float | int]


def evaluate(
    scenario: Scenario,
    targets: Sequence[Target],
    replicates: Sequence[int],
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Simulate the given replicates and compare each target's measure with its figure.

    Args:
        scenario: the scenario as run (its `scale` converts counts to real scale).
        targets: the targets to measure (used or not).
        replicates: replicate indices (a fit uses 0..R-1; a check, others).
        executor: where to run them, entered (default: in this process).

    Returns:
        One row per target: county, target, unit, published, mean, ci95 (half-width of
        the 95% t-interval of the mean; NaN for one replicate), both over the replicates
        where the measure is defined (NaN if none), tolerance (text), band,
        deviation ((mean - published) / band), within, used, measure, note.
    """
    names = sorted({t.measure for t in targets})
    runs = measures(executor or Serial(), scenario, replicates, names)
    rows = [_row(t, runs[t.measure].to_numpy(dtype=float)) for t in targets]
    return pd.DataFrame(rows)


def _row(target: Target, values: np.ndarray) -> dict[str, Any]:
    """Mean and CI over the replicates where the measure is defined (e.g. has workers)."""
    values = values[~np.isnan(values)]
    n = len(values)
    mean = float(np.mean(values)) if n else float("nan")
    ci = float(t_half_width(np.std(values, ddof=1), n)) if n > 1 else float("nan")
    return {
        "county": target.county,
        "target": target.name,
        "unit": target.unit,
        "published": target.value,
        "mean": mean,
        "ci95": ci,
        "tolerance": target.tolerance_text,
        "band": target.band,
        "deviation": target.deviation(mean),
        "within": target.within(mean),
        "used": target.used,
        "measure": target.measure,
        "note": target.note,
    }


def loss(table: pd.DataFrame) -> float:
    """Sum over used targets of the squared deviation in bands (NaN costs `NAN_PENALTY`)."""
    used = table.loc[table["used"], "deviation"].to_numpy(dtype=float)
    return float(np.sum(np.where(np.isnan(used), NAN_PENALTY, used**2)))


@dataclass(frozen=True)
class Space:
    """The unit cube of the free parameters' bounds and its map to scenario values.

    Keys holding whole numbers stay whole. A workshop form's ``initial_count`` is
    simulated as ``round(count x scale)`` workshops, so it moves in the steps the run
    can represent (multiples of 1 / scale when that is a whole number): the value
    written is then exactly the real count simulated.
    """

    parameters: tuple[FreeParameter, ...]
    integer: tuple[bool, ...]
    scale: float = 1.0

    @classmethod
    def of(cls, parameters: Sequence[FreeParameter], scenario: Scenario) -> Space:
        """The space of `parameters` for runs of `scenario` (its scale)."""
        return cls(
            tuple(parameters),
            tuple(isinstance(scenario.number(p.key), int) for p in parameters),
            scenario.scale,
        )

    def _whole(self, p: FreeParameter, value: float) -> int:
        if p.key.endswith(SCALED_COUNT):
            value = round(value * self.scale) / self.scale
        return round(value)

    @staticmethod
    def _log(p: FreeParameter) -> bool:
        return p.lower > 0 and p.upper >= LOG_SPAN * p.lower

    def values(self, u: np.ndarray) -> Values:
        """Scenario values at unit-cube point `u`, rounded as they will be written."""
        out: Values = {}
        for p, whole, x in zip(self.parameters, self.integer, np.clip(u, 0.0, 1.0), strict=True):
            if self._log(p):
                value = math.exp(math.log(p.lower) + x * math.log(p.upper / p.lower))
            else:
                value = p.lower + x * (p.upper - p.lower)
            value = min(max(value, p.lower), p.upper)
            out[p.key] = (
                self._whole(p, value) if whole else float(f"{value:.{SIGNIFICANT_DIGITS}g}")
            )
        return out

    def point(self, values: Mapping[str, float]) -> np.ndarray:
        """Unit-cube point of scenario values (clipped into the bounds)."""
        u = []
        for p in self.parameters:
            v = min(max(float(values[p.key]), p.lower), p.upper)
            if p.upper == p.lower:
                u.append(0.0)
            elif self._log(p):
                u.append(math.log(v / p.lower) / math.log(p.upper / p.lower))
            else:
                u.append((v - p.lower) / (p.upper - p.lower))
        return np.array(u)


@dataclass(frozen=True)
class Fit:
    """The outcome of a calibration.

    Attributes:
        county: the county fitted.
        values: fitted value of each free parameter, by dotted key.
        loss: loss at the fitted values.
        evaluations: parameter sets simulated (each with every replicate).
        table: `evaluate` at the fitted values.
        households: simulated households per run.
        replicates: replicates per parameter set.
        seed: root seed of the runs (the scenario's).
        method: the optimiser, as the calibrated file records it.
    """

    county: CountyCalibration
    values: Values
    loss: float
    evaluations: int
    table: pd.DataFrame
    households: int
    replicates: int
    seed: int
    method: str = METHOD


class _BudgetSpent(Exception):
    """Raised inside the optimiser when the evaluation budget is used up."""


@dataclass
class _Objective:
    """The loss at unit-cube points, memoised by rounded values, within a budget."""

    space: Space
    scenario: Scenario
    targets: tuple[Target, ...]
    replicates: int
    executor: Executor
    budget: int

    def __post_init__(self) -> None:
        self.seen: dict[tuple[float | int, ...], tuple[float, Values, pd.DataFrame]] = {}

    def __call__(self, u: np.ndarray) -> float:
        values = self.space.values(u)
        key = tuple(values.values())
        if key not in self.seen:
            if len(self.seen) >= self.budget:
                raise _BudgetSpent
            table = evaluate(
                self.scenario.with_changes(values),
                self.targets,
                range(self.replicates),
                self.executor,
            )
            self.seen[key] = (loss(table), values, table)
        return self.seen[key][0]

    def best(self) -> tuple[float, Values, pd.DataFrame]:
        """The lowest loss seen, its values and its table."""
        return min(self.seen.values(), key=lambda entry: entry[0])


def fit(
    county: CountyCalibration,
    base: Scenario,
    households: int,
    replicates: int,
    max_evaluations: int,
    seed: int | None = None,
    start: Values | None = None,
) -> Fit:
    """Fit the county's free parameters to its used targets.

    Without `start`, DIRECT searches the whole box and Powell refines its best point;
    with `start` (e.g. an earlier fit), Powell alone searches from there.

    Args:
        county: targets and free parameters of the county.
        base: the county's scenario, with shared parameters fitted elsewhere applied.
        households: simulated households per run (the scale follows, shares are kept).
        replicates: replicates per parameter set (common random numbers).
        max_evaluations: most parameter sets to simulate.
        seed: root seed of the runs (default: the scenario's).
        start: values of the free parameters to refine (every free key).

    Returns:
        The best parameter set found and its comparison table.
    """
    seed = base.run.seed if seed is None else seed
    scenario = base.with_overrides(households=households, seed=seed)
    space = Space.of(county.free, scenario)
    with replicate_executor(replicates) as executor:
        objective = _Objective(
            space, scenario, county.used_targets, replicates, executor, max_evaluations
        )
        with contextlib.suppress(_BudgetSpent):
            if start is None:
                _global_search(objective, len(county.free), max_evaluations)
            _local_search(objective, space.point(start or objective.best()[1]), max_evaluations)
    best_loss, values, table = objective.best()
    return Fit(
        county,
        values,
        best_loss,
        len(objective.seen),
        table,
        households,
        replicates,
        seed,
        METHOD if start is None else REFINE_METHOD,
    )


def _global_search(objective: _Objective, dims: int, budget: int) -> None:
    """DIRECT over the cube, with a share of the budget."""
    optimize.direct(
        objective,
        [(0.0, 1.0)] * dims,
        maxfun=max(1, round(budget * GLOBAL_SHARE)),
        locally_biased=True,
    )


def _local_search(objective: _Objective, start: np.ndarray, budget: int) -> None:
    """Bounded Powell from `start` (spends the rest of the budget)."""
    dims = len(start)
    optimize.minimize(
        objective,
        start,
        method="Powell",
        bounds=[(0.0, 1.0)] * dims,
        options={"maxfev": budget, "xtol": 1e-2, "ftol": 1e-3, "direc": np.eye(dims) * POWELL_STEP},
    )


def fit_summary(fit_: Fit) -> str:
    """One line: evaluations, final loss, settings."""
    used = len(fit_.county.used_targets)
    within = int(fit_.table.loc[fit_.table["used"], "within"].sum())
    return (
        f"{fit_.county.name}: {fit_.evaluations} evaluations, loss {fit_.loss:.3g}, "
        f"{within} of {used} used targets within tolerance "
        f"(households {fit_.households:,}, replicates {fit_.replicates}, "
        f"{dt.date.today().isoformat()})"
    )
