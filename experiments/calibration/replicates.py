"""Run replicates of a scenario and keep only their named measures, serially or in processes.

A `Runner` is a context manager. With one worker it runs in this process; with more it
keeps a process pool for its lifetime, so a calibration pays the start-up of the workers
once. Only the measures (a few floats per run) travel back from a worker.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import Executor, ProcessPoolExecutor
from types import TracebackType
from typing import Self

import pandas as pd

from experiments.calibration.measures import compute
from model.scenario import Scenario
from model.simulate import simulate


def run_measures(scenario: Scenario, replicate: int, names: list[str]) -> dict[str, float]:
    """Simulate one replicate and return its named measures (real scale)."""
    return compute(names, simulate(scenario, replicate=replicate), scenario.scale)


class Runner:
    """Runs replicates in this process (one worker) or in a pool of worker processes.

    Args:
        workers: worker processes; 1 runs everything in this process.
    """

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)
        self._pool: Executor | None = None

    @classmethod
    def for_replicates(cls, replicates: int) -> Runner:
        """As many workers as replicates, at most the machine's CPUs."""
        return cls(min(replicates, os.cpu_count() or 1))

    def __enter__(self) -> Self:
        if self.workers > 1:
            # forkserver: no fork of a process that may hold threads (pyarrow, dask).
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def measures(self, scenario: Scenario, replicates: Iterable[int],
                 names: list[str]) -> pd.DataFrame:
        """One row per replicate (index), one column per measure."""
        reps = list(replicates)
        if self._pool is None:
            rows = [run_measures(scenario, r, names) for r in reps]
        else:
            n = len(reps)
            rows = list(self._pool.map(run_measures, [scenario] * n, reps, [names] * n))
        return pd.DataFrame(rows, index=pd.Index(reps, name="replicate"), columns=names)
