"""A sweep's runs on an executor: batched into tasks, each batch stored as it finishes.

A run that raises is recorded with its parameters and traceback; the sweep goes on. A
task lost on every attempt (see `experiments.executors`) has its runs recorded as failed
with the reason, and the sweep goes on.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable

from experiments.executors import Executor, LostTasks
from experiments.sweep.seeding import RunSetup, RunTask
from experiments.sweep.store import RunRecord, SweepStore
from model.simulate import simulate

TASKS_PER_WORKER = 16  # tasks per worker when batching runs: a short tail vs. overhead
MAX_RUNS_PER_TASK = 8  # at most this many runs are lost when a sweep is killed


def run_one(task: RunTask, setup: RunSetup) -> RunRecord:
    """Simulate one run and keep its outputs, or record why it raised."""
    started = time.perf_counter()
    record = RunRecord(task.run_id, task.replicate, task.arm, task.point, 0.0)
    try:
        result = simulate(
            setup.scenario(task.point),
            replicate=task.replicate,
            panel_every_months=setup.panel_every_months,
        )
    except Exception as err:  # recorded, and the sweep goes on
        record.error = f"{type(err).__name__}: {err}"
        record.traceback = traceback.format_exc()
    else:
        record.monthly = result.monthly[list(setup.monthly)]
        record.summary = result.summary if setup.summary else None
        record.panel = result.panel
    record.seconds = time.perf_counter() - started
    return record


def run_batch(batch: list[RunTask], setup: RunSetup) -> list[RunRecord]:
    """Run several runs in a row (one executor task)."""
    return [run_one(task, setup) for task in batch]


def batches(
    tasks: list[RunTask], workers: int, runs_per_task: int | None = None
) -> list[list[RunTask]]:
    """Split runs into executor tasks.

    Tasks hold `runs_per_task` runs, or by default enough for about `TASKS_PER_WORKER`
    tasks per worker, at most `MAX_RUNS_PER_TASK`.
    """
    size = runs_per_task or min(
        MAX_RUNS_PER_TASK, math.ceil(len(tasks) / (workers * TASKS_PER_WORKER))
    )
    size = max(1, size)
    return [tasks[i : i + size] for i in range(0, len(tasks), size)]


def evaluate(
    tasks: list[RunTask],
    setup: RunSetup,
    executor: Executor,
    store: SweepStore,
    on_batch: Callable[[list[RunRecord]], None] | None = None,
    runs_per_task: int | None = None,
) -> None:
    """Run `tasks` on `executor`, storing each batch as soon as it completes.

    Args:
        tasks: the runs to make.
        setup: builds each run's scenario.
        executor: where runs are made (entered).
        store: where batches are written.
        on_batch: called with each stored batch, e.g. to advance a progress bar.
        runs_per_task: runs per executor task (default: see `batches`).
    """

    def stored(records: list[RunRecord]) -> None:
        store.write(records)
        if on_batch is not None:
            on_batch(records)

    try:
        for records in executor.map(
            run_batch, batches(tasks, executor.workers, runs_per_task), setup
        ):
            stored(records)
    except LostTasks as err:
        stored([lost_record(task, err) for batch in err.items for task in batch])


def lost_record(task: RunTask, err: LostTasks) -> RunRecord:
    """The failure record of a run whose worker process died on every attempt."""
    reason = f"{type(err).__name__}: {err}"
    return RunRecord(
        task.run_id, task.replicate, task.arm, task.point, 0.0, error=reason, traceback=reason
    )
