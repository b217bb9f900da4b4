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
    .lock, .writer              the lock of the one process writing, and who holds it
    .corrupt/<table>/           batches set aside because a part would not read

Every file is written under a hidden temporary name (``.<name>.<pid>-<token>.tmp``) in
its own directory, fsynced and renamed, so it is visible whole or not at all; temporary
files are never read, and a sweep (re)started removes those whose writing process is no
longer running. A batch writes its monthly, summary and panel parts before its runs part,
all under one file name: a run is done once its runs row is visible. Readers keep the
rows of done runs only and drop repeated ones (by run id, and month and household where
the table has them), so a sweep killed at any moment and resumed reads exactly like one
never interrupted. A write that fails (a full disk, a read-only directory) raises
`StoreError` naming the directory and the reason, and leaves what was stored before
readable.

One process writes a sweep directory at a time: `SweepStore.writer` holds its lock file
(``filelock``), and another process asking for it is refused at once. `SweepStore.repair`
(run under the lock when a sweep resumes) sets aside every batch with a part that does
not read (truncated, empty, garbage) and removes the parts of batches that never got
their runs part, so their runs are made again. A manifest of the wrong shape, a folder of
another kind (a run, a comparison, a budget search) and a part that does not read are
each one `StoreError` naming the file and what was expected.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import platform
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from experiments.executors import process_alive
from experiments.optimisation import KIND as OPTIMISATION_KIND

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
TABLES = ("runs", "monthly", "summary", "panel", "failures")
BATCH_TABLES = ("monthly", "summary", "panel")  # parts that count only with their runs part
TEMPORARY_GLOB = ".*.tmp"  # a file being written (see `_atomic_write`)
TEMPORARY_WRITER = re.compile(r"\.(\d+)-[0-9a-f]+\.tmp$")  # the pid of its writing process
LOCK = ".lock"  # held by the one process writing the directory (`SweepStore.writer`)
WRITER = ".writer"  # who holds the lock: pid, host and since when (JSON)
CORRUPT = ".corrupt"  # batches set aside by `SweepStore.repair`, by table
HOUSEKEEPING = frozenset({LOCK, WRITER, CORRUPT})  # not results: a new sweep may start
COMPARISON_KIND = "compare"  # a comparison's manifest "kind" (experiments.compare.KIND)
SHOWN_PATH_CHARS = 240  # longer paths are shortened in messages
# What a sweep's manifest holds: key -> (JSON types allowed, what is expected).
SWEEP_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "experiment": ((str,), "the experiment's name (a string)"),
    "spec_file": ((str,), "the spec file's path (a string)"),
    "spec_text": ((str,), "the spec file's text (a string)"),
    "spec": ((dict,), "the parsed spec (a JSON object)"),
    "spec_hash": ((str,), "the spec's SHA-256 (a string)"),
    "started_utc": ((str,), "the start time (a string)"),
    "finished_utc": ((str, type(None)), "the finish time (a string, or null)"),
    "sessions": ((list,), "the sessions (a list of JSON objects)"),
}


class StoreError(ValueError):
    """A directory that cannot hold (or does not hold) a sweep; names it and why."""


class CorruptPart(StoreError):
    """A parquet part that does not read (truncated, empty, garbage, no run_id column).

    Attributes:
        path: the part file.
        reason: what the reader said.
    """

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        directory = path.parent.parent
        super().__init__(
            f"{path}: expected a parquet part of the sweep, got one that does not read "
            f"({reason}); `wsim resume {directory}` sets it aside and makes its runs again"
        )


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


@dataclass(frozen=True)
class Repair:
    """What `SweepStore.repair` did to a sweep directory before it resumed.

    Attributes:
        corrupt: the parts that did not read.
        set_aside: every part of their batches, as moved into ``.corrupt/<table>/``.
        orphans: parts of batches that never got their runs part, removed.
    """

    corrupt: tuple[CorruptPart, ...] = ()
    set_aside: tuple[Path, ...] = ()
    orphans: tuple[Path, ...] = ()

    def notes(self) -> list[str]:
        """One line per corrupt part and one for the orphans removed (none: nothing done)."""
        lines = [
            f"{err.path}: does not read ({err.reason}); its batch was moved to "
            f"{err.path.parent.parent / CORRUPT}/ and its runs are made again"
            for err in self.corrupt
        ]
        if self.orphans:
            lines.append(
                f"{self.orphans[0].parent.parent}: removed {len(self.orphans)} part(s) of "
                "batches that stopped before their runs part"
            )
        return lines


class SweepStore:
    """The files of one sweep directory.

    Args:
        directory: the sweep directory.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock: FileLock | None = None
        self._holds = 0  # nested `writer` blocks of this store

    def check_usable(self, spec_hash: str) -> bool:
        """Whether the directory already holds this spec's sweep (False: new or empty).

        Raises:
            StoreError: if it holds a different spec's sweep, a folder of another kind, a
                malformed manifest or other files, or the system refuses the path.
        """
        try:
            held = (self.directory / MANIFEST).exists()
            exists, is_dir = self.directory.exists(), self.directory.is_dir()
            entries = list(self.directory.iterdir()) if is_dir and not held else []
        except OSError as err:
            raise _path_error(self.directory, "cannot be used as a sweep directory", err) from err
        if held:
            return self._is_sweep_of(spec_hash)
        if exists and (not is_dir or any(not _housekeeping(path) for path in entries)):
            raise StoreError(
                f"{self.directory}: expected a new or empty directory or a sweep "
                f"directory (with {MANIFEST})"
            )
        return False

    def _is_sweep_of(self, spec_hash: str) -> bool:
        """Whether the manifest there is this spec's (StoreError if another's or malformed)."""
        manifest = self.manifest()
        other, held = _other_kind(manifest), manifest.get("spec_hash")
        if other is not None and held != spec_hash:
            raise StoreError(
                f"{self.directory}: holds {other}, not a sweep of this spec; "
                "use another --out or remove it"
            )
        if other is None:
            _check_sweep_manifest(self.directory / MANIFEST, manifest)
        if held != spec_hash:
            raise StoreError(
                f"{self.directory}: holds a sweep of a different spec "
                f"(hash {str(held)[:12]}, this spec {spec_hash[:12]}); "
                "use another --out or remove it"
            )
        return True

    def manifest(self) -> dict[str, Any]:
        """The manifest, a JSON object (StoreError if there is none, or not an object)."""
        path = self.directory / MANIFEST
        try:
            text = path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError) as err:
            raise StoreError(f"{self.directory}: not a sweep directory ({_missing(path)})") from err
        except IsADirectoryError as err:
            raise StoreError(f"{path}: expected the sweep's manifest, got a directory") from err
        except OSError as err:
            raise _path_error(self.directory, f"could not read its {MANIFEST}", err) from err
        except UnicodeDecodeError as err:
            raise StoreError(f"{path}: expected a sweep's manifest in JSON, got {err}") from err
        try:
            manifest = json.loads(text)
        except ValueError as err:
            raise StoreError(
                f"{path}: expected a sweep's manifest in JSON, got text that does not parse ({err})"
            ) from err
        if not isinstance(manifest, dict):
            raise StoreError(
                f"{path}: expected a sweep's manifest (a JSON object), got {_json_type(manifest)}"
            )
        return manifest

    def sweep_manifest(self) -> dict[str, Any]:
        """The manifest of the sweep here, checked: a sweep's, with every key it needs.

        Raises:
            StoreError: no manifest; a run, comparison or budget search folder (says
                which); a manifest of the wrong shape (names the key and what was expected).
        """
        manifest = self.manifest()
        other = _other_kind(manifest)
        if other is not None:
            raise StoreError(f"{self.directory}: holds {other}, not a sweep")
        _check_sweep_manifest(self.directory / MANIFEST, manifest)
        return manifest

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write the manifest atomically (creating the directory).

        Raises:
            StoreError: if it cannot be written (the earlier manifest is kept).
        """
        text = json.dumps(manifest, indent=2, allow_nan=False) + "\n"
        make_directory(self.directory)
        try:
            _atomic_write(self.directory / MANIFEST, lambda f: f.write(text.encode("utf-8")))
        except OSError as err:
            raise self._write_error(MANIFEST, err) from err

    @contextlib.contextmanager
    def writer(self) -> Iterator[None]:
        """Hold the directory's lock while writing: one writing process at a time.

        Creates the directory if need be (all of it or none). Nested blocks of this store
        hold the lock once; it is released when the outermost ends (and when the process
        dies, however it dies). While it is held, ``.writer`` names the holder.

        Raises:
            StoreError: another process holds the lock (naming its pid; nothing is
                changed), or the directory or its lock file cannot be made.
        """
        if self._holds == 0:
            self._lock = self._take_lock()
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1
            if self._holds == 0:
                self._let_go()

    def _take_lock(self) -> FileLock:
        make_directory(self.directory)
        lock = FileLock(str(self.directory / LOCK), timeout=0, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            raise StoreError(
                f"{self.directory}: another process{self._holder()} is writing this sweep "
                "directory; nothing was changed: wait for it to finish, or stop it and "
                f"`wsim resume {self.directory}`"
            ) from None
        except OSError as err:
            raise self._write_error(f"its lock file {LOCK}", err) from err
        record = {"pid": os.getpid(), "host": platform.node(), "since": _now()}
        with contextlib.suppress(OSError):  # the holder's name is a courtesy, not the lock
            (self.directory / WRITER).write_text(json.dumps(record), encoding="utf-8")
        return lock

    def _let_go(self) -> None:
        with contextlib.suppress(OSError):
            (self.directory / WRITER).unlink(missing_ok=True)
        if self._lock is not None:
            self._lock.release()
        self._lock = None

    def _holder(self) -> str:
        """`` (pid N on HOST since TIME)`` of the lock's holder, or "" if not recorded."""
        try:
            record = json.loads((self.directory / WRITER).read_text(encoding="utf-8"))
            return f" (pid {int(record['pid'])} on {record['host']} since {record['since']})"
        except (OSError, ValueError, TypeError, KeyError):
            return ""

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
        for table in BATCH_TABLES:
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

    def remove_temporary(self) -> list[Path]:
        """Delete temporary files whose writing process is no longer running.

        A temporary file's name holds its writer's pid (`_atomic_write`): the files of a
        running process are left alone, so one process's clean-up never deletes another's
        file in flight. A name without a pid (written before names had one) counts as
        left behind.

        Returns:
            The files deleted.
        """
        paths = [*self.directory.glob(TEMPORARY_GLOB), *self.directory.glob(f"*/{TEMPORARY_GLOB}")]
        left = [path for path in paths if not _writer_running(path)]
        for path in left:
            path.unlink(missing_ok=True)
        return left

    def repair(self) -> Repair:
        """Set aside batches with a part that does not read; remove orphan parts.

        Under the lock. Every part is read whole; a batch (the parts of one file name)
        with a part that does not read is moved into ``.corrupt/<table>/``, so its runs
        are pending again. Monthly, summary and panel parts of a batch without a runs part
        (the process stopped between them) are removed. Failures parts stand alone (a
        batch whose every run failed has no runs part) and are kept.

        Raises:
            StoreError: if the parts cannot be moved or removed.
        """
        with self.writer():
            checked = (_check_part(part) for table in TABLES for part in self._parts(table))
            corrupt = tuple(err for err in checked if err is not None)
            try:
                set_aside = self._set_aside_batches({err.path.name for err in corrupt})
                orphans = self._remove_orphans()
            except OSError as err:
                raise self._write_error("its parts", err) from err
        return Repair(corrupt, set_aside, orphans)

    def _set_aside_batches(self, names: set[str]) -> tuple[Path, ...]:
        """Move every part of the batches named into ``.corrupt/<table>/``."""
        return tuple(
            self._set_aside(part)
            for table in TABLES
            for part in self._parts(table)
            if part.name in names
        )

    def _remove_orphans(self) -> tuple[Path, ...]:
        """Delete the monthly, summary and panel parts of batches without a runs part."""
        with_runs = {part.name for part in self._parts("runs")}
        parts = [part for table in BATCH_TABLES for part in self._parts(table)]
        orphans = tuple(part for part in parts if part.name not in with_runs)
        for part in orphans:
            part.unlink(missing_ok=True)
        return orphans

    def _set_aside(self, part: Path) -> Path:
        """Move a part into ``.corrupt/<table>/`` (a unique name there)."""
        folder = self.directory / CORRUPT / part.parent.name
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / part.name
        if target.exists():
            target = folder / f"{part.stem}-{secrets.token_hex(4)}{part.suffix}"
        os.replace(part, target)
        return target

    def load(self, panel: bool = True) -> SweepData:
        """Read every visible part: done runs deduplicated, their rows only.

        Args:
            panel: read the household panel too (large); without it `panel` is empty.

        Raises:
            CorruptPart: a part does not read (names it).
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
        frames = [_read_part(p, filters=filters) for p in self._parts(table)]
        rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({RUN_ID: []})
        return _dedupe(rows, ROW_KEYS[table])

    def _parts(self, table: str) -> list[Path]:
        return sorted((self.directory / table).glob(PART_GLOB))

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
        frames = [_read_part(p, columns=columns) for p in self._parts(table)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({RUN_ID: []})


def load(directory: str | Path, panel: bool = True) -> SweepData:
    """Read a sweep directory into tidy frames (runs, monthly, summary, failures, panel).

    Rows are deduplicated by run id and sorted by it; only the runs whose runs part is
    visible count as done. `panel=False` skips the household panel (empty frame).

    Raises:
        StoreError: if the directory holds no sweep, a malformed manifest, or a part
            that does not read (`CorruptPart`, naming it).
    """
    store = SweepStore(Path(directory))
    store.sweep_manifest()
    return store.load(panel)


def make_directory(path: Path) -> None:
    """Create `path` and its missing parents, or none of them.

    Raises:
        StoreError: the system refuses the path (too long, not a directory on the way,
            no permission, read-only); the directories made before the refusal are
            removed again.
    """
    made: list[Path] = []
    try:
        for folder in [*reversed(path.parents), path]:
            if folder.is_dir():
                continue
            try:
                os.mkdir(folder)
            except FileExistsError:
                if folder.is_dir():  # made by another process meanwhile
                    continue
                raise NotADirectoryError(
                    errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder)
                ) from None
            made.append(folder)
    except OSError as err:
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise _path_error(path, "could not be made a sweep directory", err) from err


def shown(path: Path) -> str:
    """`path` for a message: shortened in the middle when very long."""
    text = str(path)
    if len(text) <= SHOWN_PATH_CHARS:
        return text
    return f"{text[:120]}...{text[-80:]} ({len(text):,} characters)"


def _path_error(path: Path, what: str, err: OSError) -> StoreError:
    """A path the system refuses, as one error naming it (shortened if very long)."""
    return StoreError(f"{shown(path)}: {what} ({err.strerror or err})")


def _missing(manifest: Path) -> str:
    """Why a sweep directory's manifest is not there, in words."""
    folder = manifest.parent
    if folder.is_dir():
        return f"no {MANIFEST}"
    return "a file, not a directory" if folder.exists() else "no such directory"


def _other_kind(manifest: dict[str, Any]) -> str | None:
    """What a manifest describes if it is not a sweep's (None: a sweep's, or meant to be)."""
    kind = manifest.get("kind")
    if kind == OPTIMISATION_KIND:
        return "a wsim optimise search"
    if kind == COMPARISON_KIND:
        return "a wsim compare output"
    if kind is not None:
        return f"results of kind {kind!r}"
    if "scenario_name" in manifest:
        return "a wsim run output"
    return None


def _check_sweep_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Raise StoreError naming the first key of a sweep's manifest that is missing or wrong."""
    for key, (types, expected) in SWEEP_KEYS.items():
        if key not in manifest:
            raise StoreError(
                f"{path}: {key}: missing; expected {expected} (a sweep's manifest has "
                f"{', '.join(SWEEP_KEYS)})"
            )
        if not isinstance(manifest[key], types) or isinstance(manifest[key], bool):
            raise StoreError(f"{path}: {key}: expected {expected}, got {_json_type(manifest[key])}")
    sessions = manifest["sessions"]
    for index, session in enumerate(sessions):
        workers = session.get("workers") if isinstance(session, dict) else None
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise StoreError(
                f"{path}: sessions.{index}: expected a session (a JSON object with a whole "
                f"number of workers >= 1), got {_json_type(session)}"
            )
    if not sessions:
        raise StoreError(f"{path}: sessions: expected at least one session, got an empty list")


def _json_type(value: Any) -> str:
    """A JSON value's kind in words, e.g. ``a JSON array``."""
    if isinstance(value, dict):
        return "a JSON object"
    if isinstance(value, list):
        return f"a JSON array of {len(value)} item(s)" if value else "an empty JSON array"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"the string {str(value)[:40]!r}"


def _housekeeping(path: Path) -> bool:
    """Whether a directory entry is the store's own (lock, set-aside parts, a temporary)."""
    return path.name in HOUSEKEEPING or path.match(TEMPORARY_GLOB)


def _writer_running(temporary: Path) -> bool:
    """Whether the process that is writing a temporary file still runs."""
    found = TEMPORARY_WRITER.search(temporary.name)
    return found is not None and process_alive(int(found.group(1)))


def _read_part(
    path: Path, columns: list[str] | None = None, filters: list[Any] | None = None
) -> pd.DataFrame:
    """A parquet part as a frame (CorruptPart naming it if it does not read)."""
    try:
        frame = pd.read_parquet(path, columns=columns, filters=filters)
    except (OSError, ValueError, pyarrow.ArrowException) as err:
        raise CorruptPart(path, _reason(err)) from err
    if RUN_ID not in frame.columns:
        raise CorruptPart(path, f"no {RUN_ID} column")
    return frame


def _check_part(path: Path) -> CorruptPart | None:
    """Why a part does not read whole, batch by batch (None: it reads)."""
    try:
        with pq.ParquetFile(path) as parts:
            if RUN_ID not in parts.schema_arrow.names:
                return CorruptPart(path, f"no {RUN_ID} column")
            for _ in parts.iter_batches():
                pass
    except (OSError, ValueError, pyarrow.ArrowException) as err:
        return CorruptPart(path, _reason(err))
    return None


def _reason(err: BaseException) -> str:
    """A reader's error on one line, cut short."""
    text = " ".join(str(err).split())
    return text if len(text) <= 160 else text[:157] + "..."


def _with_id(frame: pd.DataFrame, run_id: str) -> pd.DataFrame:
    return frame.assign(**{RUN_ID: run_id})[[RUN_ID, *frame.columns]]


def _dedupe(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    key = [k for k in key if k in frame.columns]  # a table with no part yet has run_id only
    unique = frame.drop_duplicates(subset=key, keep="first")
    return unique.sort_values(key, kind="stable").reset_index(drop=True)


def _atomic_write(path: Path, write: Callable[[IO[bytes]], Any]) -> None:
    """Write `path` under a hidden temporary name beside it, fsync, rename into place.

    The temporary name holds this process's pid and a random token, so two processes
    never share one, and a clean-up knows whose it is (`SweepStore.remove_temporary`).
    A write that raises removes its temporary file (where it can) and leaves `path` as it
    was.
    """
    tmp = path.with_name(f".{path.stem}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
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


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
