"""Faults during a sweep: the sweep process SIGKILLed at chosen points (mid-write, between
a part's temporary file and its rename, mid-batch, before the manifest is finished), a
worker process killed mid-run, a full disk and a read-only results directory (each
simulated here; test_real_disk_faults.py runs them on a real full and read-only tmpfs).

After each, `experiments.load` reads what was stored, and `wsim resume` ends with exactly
the rows of an uninterrupted sweep.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from experiment_helpers import ROOT
from fault_injection import KillingBatch
from sweep_helpers import FACTORIAL, assert_same_results, sweep_serial, write_spec, wsim

from experiments.executors import WORKER_RETRIES, Dask, LostTasks, Processes
from experiments.sweep import runs, store
from experiments.sweep.engine import run_sweep, start
from experiments.sweep.spec import load_spec
from experiments.sweep.store import (
    HOUSEKEEPING,
    MANIFEST,
    TEMPORARY_GLOB,
    TEMPORARY_WRITER,
    SweepData,
    SweepStore,
)
from experiments.sweep.store import load as load_results

RUNS = 8  # FACTORIAL: 2 x 2 arms x 2 replicates
DRIVER = Path(__file__).with_name("fault_injection.py")
KILL_TIMEOUT_S = 120
# fsyncs of a sweep's first manifest (file, directory) and of each batch of one run
# (monthly, summary and runs parts; file and directory each)
MANIFEST_FSYNCS, BATCH_FSYNCS = 2, 6


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_spec(tmp_path_factory.mktemp("spec"), FACTORIAL)


@pytest.fixture(scope="module")
def whole(spec_path: Path, tmp_path_factory: pytest.TempPathFactory) -> SweepData:
    """The sweep run once without interruption."""
    data = sweep_serial(load_spec(spec_path), tmp_path_factory.mktemp("whole") / "sweep")
    assert len(data.runs) == RUNS
    return data


def temporary_files(directory: Path) -> list[Path]:
    return [*directory.glob(TEMPORARY_GLOB), *directory.glob(f"*/{TEMPORARY_GLOB}")]


def sweep_killed_at(point: str, nth: int, spec_path: Path, out: Path, workers: int) -> None:
    """Run `wsim sweep` in a process that SIGKILLs itself at `point`; check it did."""
    command = [
        sys.executable,
        str(DRIVER),
        point,
        str(nth),
        "sweep",
        str(spec_path),
        "--out",
        str(out),
        "--workers",
        str(workers),
        "--runs-per-task",
        "1",
    ]
    log = out.with_name("stderr.txt")  # a file: orphaned workers would hold a pipe open
    with open(log, "wb") as stderr:
        process = subprocess.Popen(
            command, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=stderr
        )
    try:
        process.wait(timeout=KILL_TIMEOUT_S)
    finally:
        with contextlib.suppress(ProcessLookupError):  # its worker processes, if any
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == -signal.SIGKILL, log.read_text()


def error_lines(stderr: str) -> list[str]:
    """The lines of `stderr` that report an error; the last line must be one of them."""
    lines = stderr.splitlines()
    assert lines and lines[-1].startswith("error: "), stderr
    return [line for line in lines if "error" in line.lower()]


def assert_resumes_to(out: Path, whole: SweepData) -> None:
    resumed = wsim("resume", out, "--workers", "1")
    assert resumed.exit_code == 0, resumed.output
    assert_same_results(load_results(out), whole)
    assert not temporary_files(out)
    status = wsim("status", out).stdout
    assert f"{RUNS} done, 0 failed, 0 pending" in status and "complete (" in status


@pytest.mark.parametrize(
    ("point", "nth", "workers", "done", "temporary"),
    [
        ("part_write", 5, 1, 1, True),  # halfway through the 2nd batch's summary part
        ("before_rename", 3, 1, 0, True),  # the 1st batch's runs part written, not renamed
        ("after_rename", 6, 1, 2, False),  # the 2nd batch's runs part renamed, not fsynced
        ("before_runs_part", 3, 1, 2, False),  # the 3rd batch's monthly + summary parts only
        ("before_runs_part", 2, 2, 1, False),  # the same with two worker processes running
        ("before_finish", 1, 1, RUNS, False),  # every run stored, the sweep not marked finished
    ],
)
def test_sweep_killed_at_a_point_resumes_to_the_uninterrupted_rows(
    tmp_path: Path,
    spec_path: Path,
    whole: SweepData,
    point: str,
    nth: int,
    workers: int,
    done: int,
    temporary: bool,
) -> None:
    out = tmp_path / "sweep"
    sweep_killed_at(point, nth, spec_path, out, workers)
    interrupted = load_results(out)
    assert len(interrupted.runs) == done
    for name, frame in {"monthly": interrupted.monthly, "summary": interrupted.summary}.items():
        stored = getattr(whole, name)
        expected = stored[stored["run_id"].isin(interrupted.runs["run_id"])]
        pd.testing.assert_frame_equal(frame, expected.reset_index(drop=True), check_exact=True)
    assert bool(temporary_files(out)) is temporary
    assert json.loads((out / MANIFEST).read_text())["finished_utc"] is None
    assert "not complete" in wsim("status", out).stdout
    assert_resumes_to(out, whole)


def test_sweep_killed_writing_its_first_manifest_starts_again(
    tmp_path: Path, spec_path: Path, whole: SweepData
) -> None:
    out = tmp_path / "sweep"
    sweep_killed_at("first_manifest", 1, spec_path, out, 1)
    left = [p.name for p in out.iterdir() if p.name not in HOUSEKEEPING]  # the lock's files
    assert len(left) == 1 and TEMPORARY_WRITER.search(left[0])
    assert left[0].startswith(f".{Path(MANIFEST).stem}.")
    resumed = wsim("resume", out)
    assert resumed.exit_code == 1 and "not a sweep directory" in resumed.stderr
    again = wsim("sweep", spec_path, "--out", out, "--workers", "1")
    assert again.exit_code == 0, again.output
    assert_same_results(load_results(out), whole)
    assert not temporary_files(out)


@pytest.mark.parametrize("deaths", [1, 1 + WORKER_RETRIES])
def test_a_worker_killed_mid_run_is_retried_then_recorded_as_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec_path: Path, whole: SweepData, deaths: int
) -> None:
    spec = load_spec(spec_path)
    victim = str(whole.runs["run_id"].iloc[3])
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setattr(runs, "run_batch", KillingBatch(victim, marks, deaths))
    store_ = SweepStore(tmp_path / "sweep")
    with Processes(2) as executor:
        start(spec, store_, "processes", 2)
        run_sweep(spec, store_, executor, runs_per_task=1)
    assert len(list(marks.iterdir())) == deaths
    data = store_.load()
    if deaths <= WORKER_RETRIES:  # retried on a fresh worker: as if nothing happened
        assert_same_results(data, whole)
        return
    failed = data.runs[data.runs["status"] == "failed"]
    assert failed["run_id"].tolist() == [victim]
    assert data.failures["error"].tolist() == [
        f"LostTasks: the worker process running it died on each of {deaths} attempts "
        "(killed, or out of memory)"
    ]
    others = whole.runs["run_id"] != victim
    pd.testing.assert_frame_equal(
        data.summary, whole.summary[others].reset_index(drop=True), check_exact=True
    )
    assert "7 done, 1 failed, 0 pending" in wsim("status", tmp_path / "sweep").stdout


def test_a_full_disk_stops_the_sweep_with_one_error_and_keeps_what_was_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec_path: Path, whole: SweepData
) -> None:
    out, fsyncs = tmp_path / "sweep", [0]
    real_fsync = os.fsync

    def fsync_until_full(fd: int) -> None:  # the disk fills up during the third batch
        fsyncs[0] += 1
        if fsyncs[0] > MANIFEST_FSYNCS + 2 * BATCH_FSYNCS:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(store.os, "fsync", fsync_until_full)
    result = wsim("sweep", spec_path, "--out", out, "--workers", "1", "--runs-per-task", "1")
    monkeypatch.undo()
    assert result.exit_code == 1
    assert error_lines(result.stderr) == [
        f"error: {out}: could not write a monthly part (No space left on device); the runs "
        f"stored before are kept: free space or make the directory writable, then "
        f"`wsim resume {out}`"
    ]
    assert not temporary_files(out)
    stored = load_results(out)
    assert len(stored.runs) == 2
    expected = whole.summary[whole.summary["run_id"].isin(stored.runs["run_id"])]
    pd.testing.assert_frame_equal(stored.summary, expected.reset_index(drop=True), check_exact=True)
    assert_resumes_to(out, whole)


def test_a_read_only_results_directory_is_one_error_and_stays_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec_path: Path, whole: SweepData
) -> None:
    out = tmp_path / "sweep"
    assert wsim("sweep", spec_path, "--out", out, "--workers", "1").exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def read_only(path: Path, *args: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(store, "_atomic_write", read_only)
    result = wsim("resume", out, "--workers", "1")
    monkeypatch.undo()
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {out}: could not write {MANIFEST} (Read-only file system); the runs stored "
        f"before are kept: free space or make the directory writable, then "
        f"`wsim resume {out}`"
    ]
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert_same_results(load_results(out), whole)


def square_or_lost(x: int) -> int:
    """x squared, except that x = 3 ends as the scheduler ends a task whose worker died on
    each of its allowed attempts (a real death also loses results still on the worker,
    which Dask recomputes; the executor's part is what it does with `KilledWorker`)."""
    from types import SimpleNamespace

    from distributed import KilledWorker

    if x == 3:
        raise KilledWorker("square_or_lost-3", SimpleNamespace(address="tcp://127.0.0.1:1"), 3)
    return x * x


def test_a_dask_task_whose_worker_keeps_dying_is_reported_lost_after_the_others() -> None:
    import dask

    with Dask("local", 1) as executor:
        results: list[int] = []
        with pytest.raises(LostTasks) as lost:
            results.extend(executor.map(square_or_lost, range(6)))
    assert sorted(results) == [0, 1, 4, 16, 25]
    allowed = dask.config.get("distributed.scheduler.allowed-failures")
    assert lost.value.items == [3] and lost.value.attempts == 1 + allowed
