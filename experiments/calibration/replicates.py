"""Replicates of a scenario reduced to their named measures, on an executor.

Calibration runs on the executors of sweeps and comparisons (`experiments.executors`):
`replicate_executor` gives one worker process per replicate, at most the machine's CPUs,
or this process for one replicate. Only the measures (a few floats per run) travel back
from a worker, and the table is in replicate order whatever order runs finish in.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import pandas as pd

from experiments.calibration.measures import compute
from experiments.executors import Executor, Processes, Serial, serial_or_processes
from model.scenario import Scenario
from model.simulate import simulate


def run_measures(
    replicate: int, scenario: Scenario, names: list[str]
) -> tuple[int, dict[str, float]]:
    """Simulate one replicate; return its index and its named measures (real scale)."""
    return replicate, compute(names, simulate(scenario, replicate=replicate), scenario.scale)


def measures(
    executor: Executor, scenario: Scenario, replicates: Iterable[int], names: list[str]
) -> pd.DataFrame:
    """One row per replicate (index, in the order given), one column per measure.

    Args:
        executor: where the runs are made (entered).
        scenario: the scenario as run (its `scale` converts counts to real scale).
        replicates: replicate indices to run.
        names: measures to keep (`experiments.calibration.measures`).
    """
    reps = list(replicates)
    by_replicate = dict(executor.map(run_measures, reps, scenario, names))
    return pd.DataFrame(
        [by_replicate[r] for r in reps], index=pd.Index(reps, name="replicate"), columns=names
    )


def replicate_executor(replicates: int) -> Serial | Processes:
    """As many worker processes as replicates, at most the machine's CPUs."""
    return serial_or_processes(min(replicates, os.cpu_count() or 1))
