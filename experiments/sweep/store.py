"""Sweep results on disk: a manifest and parquet parts written atomically, read deduplicated.

Layout of a sweep directory (``results/<experiment>/`` by default)::

    manifest.json               the spec (text, parsed form, hash), code and package
                                versions, host, start and end times
    runs/part-<id>.parquet      one row per run done: run_id, replicate, arm, parameter
                                values, status, seconds
    monthly/part-<id>.parquet   run_id + the kept monthly columns
    summary/part-<id>.parquet   run_id + the run summary
    panel/part-<id>.parquet     run_id + the household panel (if the spec keeps one)
    failures/part-<id>.parquet  runs that raised: run_id, replicate, arm, parameter
                                values, status, seconds, error, traceback

Every file is written under a hidden temporary name (``.<name>.tmp``) in its own
directory, fsynced and renamed, so it is visible whole or not at all; temporary files
are never read, and a sweep (re)started removes those a killed one left. A batch writes
its monthly, summary and panel parts before its runs part: a run is done once its runs
row is visible. Readers keep the rows of done runs only and drop repeated ones (by run
id, and month and household where the table has them), so a sweep killed at any moment
and resumed reads exactly like one never interrupted. A write that fails (a full disk, a
read-only directory) raises `StoreError` naming the directory and the reason, and leaves
what was stored before readable.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd

MANIFEST = "manifest.json"
RUN_ID = "run_id"
PART_GLOB = "part-*.parquet"
DONE, FAILED = "done", "failed"
PANEL_KEY = ["month", "household"]  # with run_id, identifies a row of the panel
ROW_KEYS = {
    "monthly": [RUN_ID, "month"],
    "summary": [RUN_ID],  # a row of each run's tables
    "panel": [RUN_ID, *PANEL_KEY],
}
TEMPORARY_GLOB = ".*.tmp"  # a file being written (see `_atomic_write`)


class StoreError(ValueError):
    """A directory that cannot hold (or does not hold) a sweep; names it and why."""


@dataclass
class RunRecord:
    """The outcome of one run, as a worker returns it.

    Attributes:
        run_id: deterministic id of (parameter values, replicate).
        replicate: replicate index.
        arm: label of the lever setting.
        point: parameter column -> value.
        seconds: wall time of the run (s).
        monthly: kept monthly columns (None if the run failed).
        summary: the one-row run summary (None if failed or not kept).
        panel: the household panel (None if failed or not kept).
        error: ``Type: message`` if the run raised.
        traceback: the formatted traceback if the run raised.
    """

    run_id: str
    replicate: int
    arm: str
    point: dict[str, Any]
    seconds: float
    monthly: pd.DataFrame | None = None
    summary: pd.DataFrame | None = None
    panel: pd.DataFrame | None = None
    error: str | None = None
    traceback: str | None = None

    def row(self) -> dict[str, Any]:
        """The run's row of the runs (or failures) table."""
        row = {
            RUN_ID: self.run_id,
            "replicate": self.replicate,
            "arm": self.arm,
            **self.point,
            "status": FAILED if self.error else DONE,
            "seconds": self.seconds,
        }
        return row | ({"error": self.error, "traceback": self.traceback} if self.error else {})


@dataclass
class SweepData:
    """A sweep's results as tidy frames, sorted by run id.

    Attributes:
        runs: one row per finished run: run_id, replicate, arm, parameter values,
            status (``done`` or ``failed``), seconds.
        monthly: run_id + kept monthly columns, one row per run and month.
        summary: run_id + summary columns, one row per done run.
        failures: runs that raised, with error and traceback.
        panel: run_id + household panel columns (`model.panel.household_panel`), one
            row per done run, snapshot month and household; empty (run_id column only)
            if the sweep kept no panel.
    """

    runs: pd.DataFrame
    monthly: pd.DataFrame
    summary: pd.DataFrame
    failures: pd.DataFrame
    panel: pd.DataFrame

    def values(self) -> pd.DataFrame:
        """Scalar outcomes of each done run, indexed by run_id.

        Summary columns, then each kept monthly column at its final month (unless the
        summary has a column of that name).
        """
        summary = self.summary.set_index(RUN_ID)
        if "month" not in self.monthly:
            return summary
        last = self.monthly.sort_values([RUN_ID, "month"]).groupby(RUN_ID).last()
        extra = [c for c in last.columns if c not in {*summary.columns, "month", "date"}]
        return summary.join(last[extra], how="outer")


class SweepStore:
    """The files of one sweep directory.

    Args:
        directory: the sweep directory.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def check_usable(self, spec_hash: str) -> bool:
        """Whether the directory already holds this spec's sweep (False: new or empty).

        Raises:
            StoreError: if it holds a different spec's sweep, or other files.
        """
        if (self.directory / MANIFEST).exists():
            held = self.manifest().get("spec_hash")
            if held != spec_hash:
                raise StoreError(
                    f"{self.directory}: holds a sweep of a different spec "
                    f"(hash {str(held)[:12]}, this spec {spec_hash[:12]}); "
                    "use another --out or remove it"
                )
            return True
        if self.directory.exists() and (
            not self.directory.is_dir()
            or any(not path.match(TEMPORARY_GLOB) for path in self.directory.iterdir())
        ):
            raise StoreError(
                f"{self.directory}: expected a new or empty directory or a sweep "
                f"directory (with {MANIFEST})"
            )
        return False

    def manifest(self) -> dict[str, Any]:
        """The manifest (StoreError if the directory holds none)."""
        try:
            return dict(json.loads((self.directory / MANIFEST).read_text(encoding="utf-8")))
        except (OSError, ValueError) as err:
            raise StoreError(
                f"{self.directory}: not a sweep directory (no readable {MANIFEST}: {err})"
            ) from err

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write the manifest atomically (creating the directory).

        Raises:
            StoreError: if it cannot be written (the earlier manifest is kept).
        """
        text = json.dumps(manifest, indent=2, allow_nan=False) + "\n"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.directory / MANIFEST, lambda f: f.write(text.encode("utf-8")))
        except OSError as err:
            raise self._write_error(MANIFEST, err) from err

    def write(self, records: list[RunRecord]) -> None:
        """Store a batch of runs: failures, monthly, summary and panel parts, then runs.

        Raises:
            StoreError: if a part cannot be written; the batch is then not stored (its
                runs part is not visible) and every earlier batch stays readable.
        """
        name = f"part-{time.time_ns()}-{secrets.token_hex(4)}.parquet"
        done = [r for r in records if not r.error]
        failed = [r for r in records if r.error]
        if failed:
            self._write_part("failures", pd.DataFrame([r.row() for r in failed]), name)
        if not done:
            return
        for table in ("monthly", "summary", "panel"):
            frames = [
                _with_id(getattr(r, table), r.run_id) for r in done if getattr(r, table) is not None
            ]
            if frames:
                self._write_part(table, pd.concat(frames, ignore_index=True), name)
        self._write_part("runs", pd.DataFrame([r.row() for r in done]), name)

    def finished(self) -> set[str]:
        """Ids of the runs done or failed (the ones a resumed sweep skips)."""
        return {
            run_id
            for table in ("runs", "failures")
            for run_id in self._read(table, columns=[RUN_ID])[RUN_ID]
        }

    def remove_temporary(self) -> None:
        """Delete temporary files left by a sweep that was killed while writing."""
        for path in [
            *self.directory.glob(TEMPORARY_GLOB),
            *self.directory.glob(f"*/{TEMPORARY_GLOB}"),
        ]:
            path.unlink(missing_ok=True)

    def load(self, panel: bool = True) -> SweepData:
        """Read every visible part: done runs deduplicated, their rows only.

        Args:
            panel: read the household panel too (large); without it `panel` is empty.
        """
        runs = _dedupe(self._read("runs"), [RUN_ID])
        failures = _dedupe(self._read("failures"), [RUN_ID])
        failures = failures[~failures[RUN_ID].isin(runs[RUN_ID])].reset_index(drop=True)
        monthly, summary = self._read("monthly"), self._read("summary")
        households = self._read("panel") if panel else pd.DataFrame({RUN_ID: []})
        if len(failures):
            failed_runs = failures.drop(columns=["error", "traceback"])
            runs = _dedupe(pd.concat([runs, failed_runs], ignore_index=True), [RUN_ID])
        return SweepData(
            runs=runs,
            monthly=_dedupe(monthly[monthly[RUN_ID].isin(runs[RUN_ID])], ROW_KEYS["monthly"]),
            summary=_dedupe(summary[summary[RUN_ID].isin(runs[RUN_ID])], ROW_KEYS["summary"]),
            failures=failures,
            panel=_dedupe(households[households[RUN_ID].isin(runs[RUN_ID])], ROW_KEYS["panel"]),
        )

    def run_rows(self, table: str, run_id: str) -> pd.DataFrame:
        """One run's rows of a table (monthly, summary or panel), deduplicated and sorted."""
        filters = [(RUN_ID, "==", run_id)]
        parts = sorted((self.directory / table).glob(PART_GLOB))
        frames = [pd.read_parquet(p, filters=filters) for p in parts]
        rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({RUN_ID: []})
        return _dedupe(rows, ROW_KEYS[table])

    def _write_part(self, table: str, frame: pd.DataFrame, name: str) -> None:
        folder = self.directory / table
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _atomic_write(folder / name, lambda f: frame.to_parquet(f, index=False))
        except OSError as err:
            raise self._write_error(f"a {table} part", err) from err

    def _write_error(self, what: str, err: OSError) -> StoreError:
        """A failed write as one clear error, saying how to go on."""
        then = (
            f"`wsim resume {self.directory}`"
            if (self.directory / MANIFEST).exists()
            else "run `wsim sweep` again"
        )
        return StoreError(
            f"{self.directory}: could not write {what} ({err.strerror or err}); "
            f"the runs stored before are kept: free space or make the directory "
            f"writable, then {then}"
        )

    def _read(self, table: str, columns: list[str] | None = None) -> pd.DataFrame:
        parts = sorted((self.directory / table).glob(PART_GLOB))
        frames = [pd.read_parquet(p, columns=columns) for p in parts]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({RUN_ID: []})


def load(directory: str | Path, panel: bool = True) -> SweepData:
    """Read a sweep directory into tidy frames (runs, monthly, summary, failures, panel).

    Rows are deduplicated by run id and sorted by it; only the runs whose runs part is
    visible count as done. `panel=False` skips the household panel (empty frame).

    Raises:
        StoreError: if the directory holds no sweep.
    """
    store = SweepStore(Path(directory))
    store.manifest()
    return store.load(panel)


def _with_id(frame: pd.DataFrame, run_id: str) -> pd.DataFrame:
    return frame.assign(**{RUN_ID: run_id})[[RUN_ID, *frame.columns]]


def _dedupe(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    key = [k for k in key if k in frame.columns]  # a table with no part yet has run_id only
    unique = frame.drop_duplicates(subset=key, keep="first")
    return unique.sort_values(key, kind="stable").reset_index(drop=True)


def _atomic_write(path: Path, write: Callable[[IO[bytes]], Any]) -> None:
    """Write `path` under a hidden temporary name beside it, fsync, rename into place.

    A write that raises removes its temporary file (where it can) and leaves `path` as it was.
    """
    tmp = path.with_name(f".{path.stem}.tmp")
    try:
        with open(tmp, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # make the rename itself durable
    finally:
        os.close(directory)
