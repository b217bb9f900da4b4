"""Redo one run of a sweep from its manifest and check that it reproduces the stored rows.

The manifest holds the spec's text, so a run id names one (parameter point, replicate)
pair of the spec's design (`experiments.sweep.seeding`): the run can be made again wherever
the same code runs. Its monthly and summary rows (and household panel, if the sweep
kept one) go through the same parquet round trip as the stored rows and are compared
with them exactly, column by column.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from experiments.sweep.design import sample
from experiments.sweep.engine import open_sweep
from experiments.sweep.runs import run_one
from experiments.sweep.seeding import RunSetup, RunTask, tasks
from experiments.sweep.store import DONE, RUN_ID, RunRecord

RUN_TABLES = ("monthly", "summary", "panel")  # tables with rows of each run


class RerunError(ValueError):
    """A run that cannot be redone: names the sweep directory, the run and why."""


@dataclass(frozen=True)
class Rerun:
    """A run made again and how it compares with its stored rows.

    Attributes:
        task: the run (id, replicate, arm, parameter values).
        differing: ``<table>.<column>`` whose values differ from the stored ones
            (empty when the run reproduces them).
        error: ``Type: message`` if the run raised this time.
    """

    task: RunTask
    differing: tuple[str, ...]
    error: str | None = None

    @property
    def reproduced(self) -> bool:
        """Whether every stored row came out identical."""
        return not self.differing and self.error is None


def rerun(directory: Path, run_id: str) -> Rerun:
    """Make the run `run_id` of the sweep in `directory` again and compare its rows.

    Raises:
        RerunError: the sweep has no finished run of that id, or the run failed when
            the sweep made it (there are no stored rows to compare).
        StoreError, SpecError: as `experiments.sweep.engine.open_sweep`.
    """
    store, spec = open_sweep(directory)
    runs = store.load(panel=False).runs
    row = runs[runs[RUN_ID] == run_id]
    if row.empty:
        example = f", e.g. {runs[RUN_ID].iloc[0]}" if len(runs) else ""
        raise RerunError(
            f"{directory}: {run_id}: expected the run id of a finished run of "
            f"this sweep (the run_id column of its runs table{example})"
        )
    if row["status"].iloc[0] != DONE:
        raise RerunError(
            f"{directory}: {run_id}: expected a run that was done; it failed "
            "when the sweep made it, so no rows were stored to compare"
        )
    replicate = int(row["replicate"].iloc[0])
    task = next(t for t in tasks(sample(spec, spec.seed), [replicate]) if t.run_id == run_id)
    record = run_one(task, RunSetup.from_spec(spec))
    if record.error is not None:
        return Rerun(task, (), record.error)
    stored = {table: store.run_rows(table, run_id) for table in RUN_TABLES}
    made = {table: _as_stored(record, table) for table in RUN_TABLES}
    differing = [
        f"{table}.{column}"
        for table in RUN_TABLES
        for column in _differing(stored[table], made[table])
    ]
    return Rerun(task, tuple(differing))


def _as_stored(record: RunRecord, table: str) -> pd.DataFrame:
    """A run's table as the store writes it and reads it back (run id first, via parquet)."""
    frame: pd.DataFrame | None = getattr(record, table)
    if frame is None:
        return pd.DataFrame({RUN_ID: []})
    with_id = frame.assign(**{RUN_ID: record.run_id})[[RUN_ID, *frame.columns]]
    return pd.read_parquet(io.BytesIO(with_id.to_parquet(index=False)))


def _differing(stored: pd.DataFrame, made: pd.DataFrame) -> list[str]:
    """Columns of either frame whose values are not exactly equal (NaN equals NaN)."""
    if len(stored) != len(made):
        return sorted({*stored.columns, *made.columns})
    columns = list(dict.fromkeys([*stored.columns, *made.columns]))
    return [
        c
        for c in columns
        if c not in stored
        or c not in made
        or not _same(stored[c].reset_index(drop=True), made[c].reset_index(drop=True))
    ]


def _same(a: pd.Series, b: pd.Series) -> bool:
    try:
        pd.testing.assert_series_equal(a, b, check_dtype=False, check_exact=True, check_names=False)
    except AssertionError:
        return False
    return True
