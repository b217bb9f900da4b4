"""Candidates' runs and their gains: what every policy in a search is judged on.

Every policy (a candidate mix, a hand-designed arm, the counterfactual) runs on the same
uncertainty scenarios and replicates (common random numbers), so a difference between
two policies is theirs rather than sampling noise. A run is identified, as in a sweep,
by its parameter values and replicate (`experiments.sweep.seeding.run_id`), and stored
in the directory's sweep store as soon as its batch finishes: a search that is killed
and started again finds its earlier runs there and only makes the missing ones.

The counterfactual is the county without a workshop policy: every instrument off and no
certification (hence no hiring quota); its workshops and households are the base's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import qmc

from experiments.executors import Executor
from experiments.intervals import t_half_width
from experiments.optimisation.spec import BUDGET_KEY, OptimiseSpec
from experiments.sweep.design import lever_arms, to_values
from experiments.sweep.runs import evaluate
from experiments.sweep.seeding import ARM, BASELINE, RunSetup, RunTask, run_id
from experiments.sweep.store import RUN_ID, RunRecord, SweepStore
from model.scenario import INSTRUMENTS, KeyValue
from model.streams import make_stream

COUNTERFACTUAL = "no_policy"  # label of the counterfactual's runs
SHARE_DIGITS = 6  # allocation shares are floored to a millionth, so they sum to at most 1
KEPT_MONTHLY = ("month", "poor_households")  # monthly columns stored with each run


class OptimiseError(ValueError):
    """A search that cannot go on (a run failed, or the store holds another search)."""


@dataclass(frozen=True)
class RunPlan:
    """The uncertainty scenarios and replicates every policy of a stage runs on.

    Attributes:
        scenarios: one dict of uncertainty values per scenario (empty dicts when the
            spec has no uncertainty).
        replicates: replicates per scenario.
        first_replicate: scenario s runs replicates first + s * replicates ... + replicates - 1.
    """

    scenarios: tuple[dict[str, KeyValue], ...]
    replicates: int
    first_replicate: int

    def replicates_of(self, scenario: int) -> range:
        """The replicate indices scenario `scenario` runs."""
        start = self.first_replicate + scenario * self.replicates
        return range(start, start + self.replicates)


def plan(spec: OptimiseSpec, stage: str, count: int, replicates: int, first: int) -> RunPlan:
    """A stage's scenarios: a Latin hypercube over the spec's uncertainties.

    Args:
        spec: the optimisation spec.
        stage: "search" or "check": each draws its own hypercube (stream named by it).
        count: scenarios.
        replicates: replicates per scenario.
        first: the stage's first replicate.
    """
    if not spec.uncertainties:
        return RunPlan(tuple({} for _ in range(count)), replicates, first)
    rng = make_stream(spec.file.seed, f"optimise-{stage}-scenarios")
    unit = qmc.LatinHypercube(d=len(spec.uncertainties), seed=rng).random(count)
    columns = {u.column: to_values(u, unit[:, i]) for i, u in enumerate(spec.uncertainties)}
    scenarios = tuple(
        {key: values[s].item() for key, values in columns.items()} for s in range(count)
    )
    return RunPlan(scenarios, replicates, first)


def search_plan(spec: OptimiseSpec) -> RunPlan:
    """The scenarios and replicates (from 0) every candidate of the search runs on."""
    e = spec.file.evaluation
    return plan(spec, "search", e.scenarios, e.replicates, 0)


def check_plan(spec: OptimiseSpec) -> RunPlan:
    """Fresh scenarios and replicates for the out-of-sample check (`[check]`)."""
    c = spec.file.check
    assert c is not None  # only called for specs with a check
    return plan(spec, "check", c.scenarios, c.replicates, c.first_replicate)


def allocation_shares(
    weights: Mapping[str, float], floors: Mapping[str, float]
) -> dict[str, float]:
    """Each instrument's share of the budget: its floor plus its weight's part of the rest.

    Shares are floored to `SHARE_DIGITS` decimals, so they sum to at most 1.
    """
    free = 1.0 - sum(floors.values())
    total = sum(weights.values())
    even = 1.0 / len(floors)
    scale = 10**SHARE_DIGITS
    return {
        name: np.floor((floor + free * (weights[name] / total if total > 0 else even)) * scale)
        / scale
        for name, floor in floors.items()
    }


def mix_point(
    spec: OptimiseSpec, shares: Mapping[str, float], settings: Mapping[str, KeyValue]
) -> dict[str, KeyValue]:
    """The scenario changes of a mix: the yearly budget, its split and the settings.

    Instruments given a share are in force; every other instrument is off.
    """
    point: dict[str, KeyValue] = {BUDGET_KEY: spec.yuan_per_year}
    point |= {f"policy.{name}.enabled": name in shares for name in INSTRUMENTS}
    point |= {f"policy.allocation.{name}": share for name, share in shares.items()}
    return point | dict(settings)


def counterfactual_point() -> dict[str, KeyValue]:
    """The county without a workshop policy: every instrument off, no certification."""
    point: dict[str, KeyValue] = {f"policy.{name}.enabled": False for name in INSTRUMENTS}
    return point | {"policy.certification.enabled": False}


def hand_points(spec: OptimiseSpec) -> dict[str, dict[str, KeyValue]]:
    """The hand-designed arms of `[check] hand_arms`, by arm label (none without a check).

    The sweep's ``baseline`` arm (its base scenario's own policy) is labelled by the base
    scenario's name, e.g. ``default policy``.
    """
    if spec.hand is None:
        return {}
    one_at_a_time = spec.hand.file.design.method == "one_at_a_time"
    arms = lever_arms(spec.hand.levers, one_at_a_time=one_at_a_time)
    base = f"{spec.hand.base.name} policy"
    return {
        base if row[ARM] == BASELINE else str(row[ARM]): {
            str(k): v for k, v in row.items() if k != ARM
        }
        for row in arms.to_dict("records")
    }


def run_setup(spec: OptimiseSpec) -> RunSetup:
    """What a worker needs to build any run of the search (reforms of the hand arms too)."""
    reforms = {}
    if spec.hand is not None:
        reforms = {lever.column: lever.reforms for lever in spec.hand.levers if lever.reforms}
    run = {"seed": spec.file.seed, **spec.file.run.model_dump(exclude_none=True)}
    return RunSetup(spec.base, reforms, run, KEPT_MONTHLY, True, None)


def policy_runs(label: str, policy: Mapping[str, KeyValue], runs: RunPlan) -> list[RunTask]:
    """The runs of one policy on every scenario and replicate of a plan."""
    tasks = []
    for s, scenario in enumerate(runs.scenarios):
        point = {**policy, **scenario}
        tasks += [RunTask(run_id(point, r), r, label, point) for r in runs.replicates_of(s)]
    return tasks


class Runner:
    """Makes runs that the store does not hold yet, and reads any run's summary.

    Args:
        store: the search's directory.
        setup: builds each run's scenario.
        executor: where runs are made (entered by the caller).
        on_runs: called with the number of runs stored after each batch.
    """

    def __init__(
        self,
        store: SweepStore,
        setup: RunSetup,
        executor: Executor,
        on_runs: Callable[[int], None] | None = None,
    ) -> None:
        self.store, self.setup, self.executor = store, setup, executor
        self.on_runs = on_runs
        self._summary = pd.DataFrame()
        self._failures = pd.DataFrame()
        self._refresh()

    def run(self, tasks: Sequence[RunTask]) -> None:
        """Make the runs of `tasks` the store lacks (each once), then re-read the store."""
        unique = list({t.run_id: t for t in tasks}.values())
        held = set(self._summary.index) | set(self._failures.get(RUN_ID, []))
        missing = [t for t in unique if t.run_id not in held]
        if missing:
            evaluate(missing, self.setup, self.executor, self.store, self._stored)
            self._refresh()

    def summaries(self, tasks: Sequence[RunTask]) -> pd.DataFrame:
        """The summary rows of `tasks`' runs with their arm, scenario index and replicate.

        Raises:
            OptimiseError: a run failed (its error is quoted) or is missing.
        """
        ids = [t.run_id for t in tasks]
        failed = self._failures
        if len(failed) and (failed := failed[failed[RUN_ID].isin(ids)]).shape[0]:
            first = failed.iloc[0]
            raise OptimiseError(f"run {first[RUN_ID]} ({first['arm']}) failed: {first['error']}")
        missing = sorted(set(ids) - set(self._summary.index))
        if missing:
            raise OptimiseError(f"runs {missing[:3]} are not in {self.store.directory}")
        rows = self._summary.loc[ids].reset_index()
        rows["arm"] = [t.arm for t in tasks]
        rows["replicate"] = [t.replicate for t in tasks]
        return rows

    def _stored(self, records: list[RunRecord]) -> None:
        if self.on_runs is not None:
            self.on_runs(len(records))

    def _refresh(self) -> None:
        if not (self.store.directory / "runs").exists():
            return
        data = self.store.load(panel=False)
        self._summary = data.summary.set_index(RUN_ID)
        self._failures = data.failures


def scenario_gains(
    spec: OptimiseSpec, policy: pd.DataFrame, counterfactual: pd.DataFrame, runs: RunPlan
) -> np.ndarray:
    """A policy's gain in each scenario: the mean over its replicates of the paired gain.

    Args:
        spec: the spec (its outcome and the sign of a gain).
        policy: the policy's summaries (`Runner.summaries`), in plan order.
        counterfactual: the counterfactual's, in the same order.
        runs: the plan both ran on.
    """
    outcome = spec.outcome
    paired = outcome.sign * (
        policy[outcome.column].to_numpy(float) - counterfactual[outcome.column].to_numpy(float)
    )
    return paired.reshape(len(runs.scenarios), runs.replicates).mean(axis=1)


def mean_with_interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% t interval of independent values (NaN bounds for fewer than 2)."""
    mean = float(np.mean(values))
    half = float(t_half_width(np.std(values, ddof=1), len(values))) if len(values) > 1 else np.nan
    return mean, mean - half, mean + half
