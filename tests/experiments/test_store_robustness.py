"""A sweep folder nothing can silently corrupt: malformed manifests, folders of another
kind, parts that do not read, orphan parts, a second writer, temporary names, worker
processes of a killed sweep, Ctrl-C and paths the system refuses.

Each ends in one ``error:`` line (exit code 1) or is repaired by ``wsim resume``, which
then ends with exactly the rows of an uninterrupted sweep.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
from experiment_helpers import ROOT, TINY, Wsim, write_reform
from sweep_helpers import (
    FACTORIAL,
    assert_same_results,
    descendants,
    running,
    sweep_serial,
    write_spec,
)
from typer.testing import Result

import experiments
from experiments.compare import KIND as COMPARISON_KIND
from experiments.optimisation import KIND as OPTIMISATION_KIND
from experiments.sweep import store
from experiments.sweep.engine import open_sweep
from experiments.sweep.spec import load_spec
from experiments.sweep.store import (
    CORRUPT,
    MANIFEST,
    WRITER,
    StoreError,
    SweepData,
    SweepStore,
    shown,
)
from experiments.sweep.store import load as load_results

SMALL = FACTORIAL.replace("months = 6", "months = 6\nhouseholds = 200")  # 8 runs, 8 batches
RUNS = 8
LONGER = SMALL.replace("count = 2", "count = 6")  # 24 runs: still running when stopped
LONGER_RUNS = 24
SWEEP_COMMANDS = ("status", "analyze", "analyze-rules", "resume", "rerun")
GONE_WITHIN_S = 10  # worker processes of a killed sweep are gone by then
STARTED_WITHIN_S = 120  # a sweep in a subprocess stores its first batch by then


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_spec(tmp_path_factory.mktemp("spec"), SMALL)


@pytest.fixture(scope="module")
def finished(spec_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished sweep of `SMALL` (one run per batch)."""
    folder = tmp_path_factory.mktemp("finished") / "sweep"
    assert len(sweep_serial(load_spec(spec_path), folder).runs) == RUNS
    return folder


@pytest.fixture(scope="module")
def whole(finished: Path) -> SweepData:
    return load_results(finished)


def copy_of(folder: Path, tmp_path: Path) -> Path:
    """A copy of a sweep folder to change."""
    return Path(shutil.copytree(folder, tmp_path / "sweep"))


def one_error(result: Result, expected_start: str) -> str:
    """The single stderr line of a command that exited 1; it starts as expected."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {expected_start}"), lines[0]
    return str(lines[0])


def sweep_command(command: str, folder: Path) -> tuple[str | Path, ...]:
    """Arguments of a sweep command on `folder` (rerun with some run id)."""
    return (command, folder, "0123456789abcdef") if command == "rerun" else (command, folder)


def files(folder: Path) -> dict[Path, bytes]:
    """Every file under `folder` with its bytes."""
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --------------------------------------------------------------- malformed manifests


def remove_key(key: str) -> Callable[[dict[str, object]], object]:
    return lambda manifest: {k: v for k, v in manifest.items() if k != key}


def set_key(key: str, value: object) -> Callable[[dict[str, object]], object]:
    return lambda manifest: manifest | {key: value}


MALFORMED: dict[str, tuple[Callable[[dict[str, object]], object] | str, str]] = {
    "array": (lambda _: [], "expected a sweep's manifest (a JSON object), got an empty JSON array"),
    "number": (lambda _: 42, "expected a sweep's manifest (a JSON object), got the number 42"),
    "not json": ('{"spec_hash": ', "expected a sweep's manifest in JSON, got text that does not"),
    "empty file": ("", "expected a sweep's manifest in JSON, got text that does not parse"),
    "no spec_text": (remove_key("spec_text"), "spec_text: missing; expected the spec file's text"),
    "spec_text a number": (
        set_key("spec_text", 7),
        "spec_text: expected the spec file's text (a string), got the number 7",
    ),
    "no sessions": (set_key("sessions", []), "sessions: expected at least one session"),
    "bad session": (set_key("sessions", ["x"]), "sessions.0: expected a session (a JSON object"),
    "finished true": (set_key("finished_utc", True), "finished_utc: expected the finish time"),
}


@pytest.mark.parametrize("shape", list(MALFORMED))
def test_a_malformed_manifest_is_one_error_naming_the_file_and_key(
    wsim: Wsim, finished: Path, spec_path: Path, tmp_path: Path, shape: str
) -> None:
    out = copy_of(finished, tmp_path)
    path = out / MANIFEST
    change, expected = MALFORMED[shape]
    manifest = json.loads(path.read_text())
    path.write_text(change if isinstance(change, str) else json.dumps(change(manifest)))
    before = files(out)
    for command in SWEEP_COMMANDS:
        one_error(wsim(*sweep_command(command, out)), f"{path}: {expected}")
    one_error(wsim("sweep", spec_path, "--out", out, "--workers", "1"), f"{path}: {expected}")
    for read in (load_results, open_sweep):
        with pytest.raises(StoreError, match=re.escape(f"{path}: {expected}")):
            read(out)
    assert files(out) == before


def test_report_on_a_sweep_with_a_malformed_manifest_is_one_error(
    wsim: Wsim, finished: Path, tmp_path: Path
) -> None:
    out = copy_of(finished, tmp_path)
    manifest = json.loads((out / MANIFEST).read_text())
    (out / MANIFEST).write_text(json.dumps(remove_key("spec_text")(manifest)))
    line = one_error(wsim("report", out), "")
    assert f"{out / MANIFEST}: spec_text: missing" in line


# --------------------------------------------------------------------- folder kinds


@pytest.fixture(scope="module")
def other_folders(wsim: Wsim, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Folders that are not sweeps: a wsim run output, a wsim compare output, a budget
    search (its manifest as `experiments.optimisation.run` writes it), an empty folder, no
    folder and a file."""
    root = tmp_path_factory.mktemp("others")
    size = ("--households", "100", "--months", "2")
    ran = wsim("run", TINY, *size, "--out", root / "run")
    assert ran.exit_code == 0, ran.output
    reform = write_reform(root)
    compared = wsim(
        "compare", TINY, reform, *size, "--replicates", "2", "--workers", "1", "--out", root / "cmp"
    )
    assert compared.exit_code == 0, compared.output
    search = root / "search"
    search.mkdir()
    (search / MANIFEST).write_text(
        json.dumps(
            {
                "kind": OPTIMISATION_KIND,
                "experiment": "budget",
                "spec_file": str(root / "budget.toml"),
                "spec_text": "name = 'budget'\n",
                "spec_hash": "0" * 64,
                "code_version": None,
                "python_version": "3.13.0",
            }
        )
    )
    (root / "empty").mkdir()
    (root / "file").write_text("not a folder")
    assert json.loads((root / "cmp" / MANIFEST).read_text())["kind"] == COMPARISON_KIND
    return {
        "run": root / "run",
        "compare": root / "cmp",
        "optimisation": search,
        "empty": root / "empty",
        "missing": root / "missing",
        "file": root / "file",
    }


KIND_ERRORS = {
    "run": "holds a wsim run output, not a sweep",
    "compare": "holds a wsim compare output, not a sweep",
    "optimisation": "holds a wsim optimise search, not a sweep",
    "empty": f"not a sweep directory (no {MANIFEST})",
    "missing": "not a sweep directory (no such directory)",
    "file": "not a sweep directory (a file, not a directory)",
}


@pytest.mark.parametrize("kind", list(KIND_ERRORS))
def test_a_folder_that_is_not_a_sweep_says_what_it_holds(
    wsim: Wsim, other_folders: dict[str, Path], spec_path: Path, kind: str
) -> None:
    folder = other_folders[kind]
    before = files(folder) if folder.is_dir() else {}
    for command in SWEEP_COMMANDS:
        one_error(wsim(*sweep_command(command, folder)), f"{folder}: {KIND_ERRORS[kind]}")
    with pytest.raises(StoreError, match=re.escape(f"{folder}: {KIND_ERRORS[kind]}")):
        open_sweep(folder)
    if kind in ("run", "compare", "optimisation"):
        swept = wsim("sweep", spec_path, "--out", folder, "--workers", "1")
        one_error(swept, f"{folder}: {KIND_ERRORS[kind]}")
    assert (files(folder) if folder.is_dir() else {}) == before
    assert folder.exists() == (kind != "missing")


# ------------------------------------------------------------------ corrupt parts


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda data: data[: len(data) // 2],
    "zero bytes": lambda data: b"",
    "garbage": lambda data: os.urandom(len(data)),
}


def damage(part: Path, how: str) -> None:
    part.write_bytes(DAMAGE[how](part.read_bytes()))


def batch_names(folder: Path) -> list[str]:
    """File names of the sweep's batches (each batch's parts share one)."""
    return sorted(p.name for p in (folder / "runs").glob("part-*.parquet"))


@pytest.mark.parametrize("table", ["runs", "summary"])
@pytest.mark.parametrize("how", list(DAMAGE))
def test_a_part_that_does_not_read_is_one_error_naming_it(
    wsim: Wsim, finished: Path, tmp_path: Path, table: str, how: str
) -> None:
    out = copy_of(finished, tmp_path)
    part = out / table / batch_names(out)[2]
    damage(part, how)
    expected = f"{part}: expected a parquet part of the sweep, got one that does not read ("
    for command in ("status", "analyze"):
        line = one_error(wsim(command, out), expected)
        assert line.endswith(f"`wsim resume {out}` sets it aside and makes its runs again")
    with pytest.raises(StoreError, match=re.escape(expected)):
        load_results(out)


def test_resume_sets_corrupt_batches_aside_and_ends_with_the_uninterrupted_rows(
    wsim: Wsim, finished: Path, whole: SweepData, tmp_path: Path
) -> None:
    out = copy_of(finished, tmp_path)
    names = batch_names(out)
    damaged = {
        out / "runs" / names[0]: "truncated",
        out / "summary" / names[3]: "zero bytes",
        out / "monthly" / names[5]: "garbage",
    }
    for part, how in damaged.items():
        damage(part, how)
    resumed = wsim("resume", out, "--workers", "1")
    assert resumed.exit_code == 0, resumed.output
    notes = [line for line in resumed.stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == len(damaged), resumed.stderr
    for part in damaged:
        assert any(note.startswith(f"note: {part}: does not read (") for note in notes), notes
    for part in damaged:
        for table in ("runs", "monthly", "summary"):  # the whole batch is set aside
            assert (out / CORRUPT / table / part.name).is_file()
            assert not (out / table / part.name).exists()
    assert_same_results(load_results(out), whole)
    assert f"{RUNS} done, 0 failed, 0 pending" in wsim("status", out).stdout


def test_resume_removes_orphan_parts_of_batches_without_their_runs_part(
    wsim: Wsim, finished: Path, whole: SweepData, tmp_path: Path
) -> None:
    out = copy_of(finished, tmp_path)
    orphaned = batch_names(out)[4]
    (out / "runs" / orphaned).unlink()  # the process died before the batch's runs part
    orphans = [out / "monthly" / orphaned, out / "summary" / orphaned]
    assert all(part.is_file() for part in orphans)
    assert len(load_results(out).runs) == RUNS - 1
    resumed = wsim("resume", out, "--workers", "1")
    assert resumed.exit_code == 0, resumed.output
    assert f"note: {out}: removed 2 part(s) of batches that stopped" in resumed.stderr
    assert not any(part.exists() for part in orphans)
    assert_same_results(load_results(out), whole)


# -------------------------------------------------------------- one writer at a time


HOLD_LOCK = """
import sys, time
from pathlib import Path
from experiments.sweep.store import SweepStore
with SweepStore(Path(sys.argv[1])).writer():
    print("held", flush=True)
    time.sleep(120)
"""


def test_a_second_writer_is_refused_at_once_and_changes_nothing(
    wsim: Wsim, finished: Path, spec_path: Path, tmp_path: Path
) -> None:
    out = copy_of(finished, tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(out)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        before, began = files(out), time.monotonic()
        refused = f"{out}: another process (pid {holder.pid} on "
        for args in (("resume", out), ("sweep", spec_path, "--out", out)):
            line = one_error(wsim(*args, "--workers", "1"), refused)
            assert "is writing this sweep directory; nothing was changed" in line
        with pytest.raises(StoreError, match=re.escape(refused)):
            experiments.run_sweep(spec_path, out)
        assert time.monotonic() - began < 10
        assert files(out) == before
    finally:
        holder.kill()  # a killed holder leaves no stale lock: the system releases it
        holder.wait()
    resumed = wsim("resume", out, "--workers", "1")
    assert resumed.exit_code == 0, resumed.output
    assert not (out / WRITER).exists()


def test_the_lock_is_held_once_per_store_and_refuses_another_store_of_the_folder(
    tmp_path: Path,
) -> None:
    first, second = SweepStore(tmp_path / "sweep"), SweepStore(tmp_path / "sweep")
    with first.writer(), first.writer():  # nested blocks of one store hold it once
        record = json.loads((tmp_path / "sweep" / WRITER).read_text())
        assert record["pid"] == os.getpid()
        with pytest.raises(StoreError, match="another process"), second.writer():
            pass
    with second.writer():  # free again once the outermost block ended
        pass
    assert not (tmp_path / "sweep" / WRITER).exists()


def test_temporary_names_are_per_process_and_clean_up_spares_running_writers(
    tmp_path: Path,
) -> None:
    names: list[str] = []

    def record(file: IO[bytes]) -> None:
        names.append(Path(file.name).name)
        file.write(b"x")

    for _ in range(2):
        store._atomic_write(tmp_path / "part-1.parquet", record)
    assert names[0] != names[1]
    assert all(re.fullmatch(rf"\.part-1\.{os.getpid()}-[0-9a-f]+\.tmp", n) for n in names)
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    folder = tmp_path / "sweep" / "runs"
    folder.mkdir(parents=True)
    alive = folder / f".part-2.{os.getpid()}-0123abcd.tmp"
    dead = folder / f".part-3.{int(ended.stdout)}-0123abcd.tmp"
    unnamed = tmp_path / "sweep" / ".manifest.tmp"  # written before names held a pid
    for path in (alive, dead, unnamed):
        path.write_bytes(b"half")
    assert sorted(SweepStore(tmp_path / "sweep").remove_temporary()) == sorted([dead, unnamed])
    assert alive.exists()


# ------------------------------------------------------- processes, signals, paths


def start_sweep(spec: Path, out: Path) -> subprocess.Popen[bytes]:
    """`wsim sweep` on two worker processes in a session of its own, once it stored a batch."""
    process = subprocess.Popen(
        [sys.executable, "-m", "experiments.cli.sweep", "sweep", str(spec), "--out", str(out)]
        + ["--workers", "2", "--runs-per-task", "1"],
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + STARTED_WITHIN_S
    while not list((out / "runs").glob("part-*.parquet")):
        assert process.poll() is None, "the sweep ended before storing a batch"
        assert time.monotonic() < deadline, "the sweep stored no batch in time"
        time.sleep(0.05)
    return process


def wait_until_gone(pids: list[int]) -> list[int]:
    """The processes of `pids` still running after `GONE_WITHIN_S` seconds (or none)."""
    deadline = time.monotonic() + GONE_WITHIN_S
    while (left := [pid for pid in pids if running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL whatever is left of the process group a test started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_worker_processes_exit_when_the_sweep_is_killed(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    process = start_sweep(write_spec(tmp_path, LONGER), out)
    try:
        workers = descendants(process.pid)
        assert len(workers) >= 3  # the fork server and two workers (and a resource tracker)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert wait_until_gone(workers) == []
    finally:
        stop_group(process)


def test_ctrl_c_says_how_to_continue_and_exits_130(wsim: Wsim, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    process = start_sweep(write_spec(tmp_path, LONGER), out)
    try:
        workers = descendants(process.pid)
        os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the whole group
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 130, stderr
        text = stderr.decode()
        assert "Traceback" not in text, text
        last = text.strip().splitlines()[-1]
        found = re.fullmatch(
            rf"interrupted: (\d+) of {LONGER_RUNS} runs stored; continue with: wsim resume {out}",
            last,
        )
        assert found, last
        assert int(found.group(1)) == len(load_results(out).runs) < LONGER_RUNS
        assert wait_until_gone(workers) == []
        assert "not complete: continue with" in wsim("status", out).stdout
    finally:
        stop_group(process)


def test_an_out_path_too_long_is_one_error_and_writes_nothing(
    wsim: Wsim, spec_path: Path, tmp_path: Path
) -> None:
    out = tmp_path.joinpath(*["d" * 200] * 25)  # 5,000 characters and more
    for args in (("sweep", spec_path, "--out", out, "--workers", "1"), ("status", out)):
        line = one_error(wsim(*args), f"{shown(out)}: ")
        assert line.endswith("(File name too long)") and len(line) < 400
    assert list(tmp_path.iterdir()) == []


def test_an_out_path_through_a_file_is_one_error(
    wsim: Wsim, spec_path: Path, tmp_path: Path
) -> None:
    (tmp_path / "notes").write_text("a file")
    out = tmp_path / "notes" / "sweep"
    one_error(
        wsim("sweep", spec_path, "--out", out, "--workers", "1"),
        f"{out}: could not be made a sweep directory (Not a directory)",
    )
    assert [p.name for p in tmp_path.iterdir()] == ["notes"]


def test_a_read_only_place_for_out_is_one_error_and_leaves_no_folder_made(
    wsim: Wsim, spec_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "new" / "deeper" / "sweep"
    real_mkdir = os.mkdir

    def mkdir_read_only_below_new(path: str | Path, *args: object) -> None:
        if Path(path).parent.name == "new":
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        real_mkdir(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(store.os, "mkdir", mkdir_read_only_below_new)
    result = wsim("sweep", spec_path, "--out", out, "--workers", "1")
    monkeypatch.undo()
    one_error(result, f"{out}: could not be made a sweep directory (Read-only file system)")
    assert list(tmp_path.iterdir()) == []  # "new" was made, then removed again
