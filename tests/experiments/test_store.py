"""The sweep directory: atomic parts, deduplicated readers, refusal of another spec, and
resume after SIGKILL ending with exactly the rows of an uninterrupted sweep."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from experiment_helpers import ROOT, TINY
from sweep_helpers import FACTORIAL, assert_same_results, spec_of, sweep_serial, write_spec, wsim

from experiments.sweep.design import sample
from experiments.sweep.engine import start
from experiments.sweep.runs import run_batch
from experiments.sweep.seeding import RunSetup, tasks
from experiments.sweep.spec import load_spec
from experiments.sweep.store import SweepStore
from experiments.sweep.store import load as load_results

KILLED = FACTORIAL.replace("[0.2, 0.6]", "[0.2, 0.4, 0.6]").replace("count = 2", "count = 5")
KILLED_RUNS = 3 * 2 * 5
PANEL = FACTORIAL + "panel = true\npanel_every_months = 4\n"  # 6 months: snapshots 0, 4, 6
PANEL_MONTHS, TINY_HOUSEHOLDS = [0, 4, 6], 400


def run_parts(directory: Path) -> int:
    return len(list((directory / "runs").glob("part-*.parquet")))


def wait_for(condition: Callable[[], bool], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def kill_sweep_midway(spec_path: Path, out: Path, parts_before_kill: int) -> None:
    """Start `python -m experiments.cli.sweep sweep` (2 worker processes) and SIGKILL its
    whole process group once `parts_before_kill` runs parts are visible."""
    command = [
        sys.executable,
        "-m",
        "experiments.cli.sweep",
        "sweep",
        str(spec_path),
        "--out",
        str(out),
        "--workers",
        "2",
        "--runs-per-task",
        "1",
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: (
                process.poll() is not None
                or ((out / "manifest.json").exists() and run_parts(out) >= parts_before_kill)
            )
        )
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.parametrize("parts_before_kill", [0, 4])
def test_resume_after_sigkill_has_exactly_the_uninterrupted_rows(
    tmp_path: Path, parts_before_kill: int
) -> None:
    spec_path = write_spec(tmp_path, KILLED)
    out = tmp_path / "killed"
    kill_sweep_midway(spec_path, out, parts_before_kill)
    interrupted = load_results(out)
    assert parts_before_kill <= len(interrupted.runs) < KILLED_RUNS
    status = wsim("status", out)
    assert f"{KILLED_RUNS - len(interrupted.runs)} pending" in status.stdout
    assert "not complete" in status.stdout
    assert ("ETA" in status.stdout) == (len(interrupted.runs) > 0)

    resumed = wsim("resume", out, "--workers", "1")
    assert resumed.exit_code == 0, resumed.output
    whole = sweep_serial(load_spec(spec_path), tmp_path / "whole")
    assert len(whole.runs) == KILLED_RUNS
    assert_same_results(load_results(out), whole)
    assert not list(out.glob("*/.part-*"))
    assert "0 pending" in wsim("status", out).stdout


def test_experiments_package_exports_load(tmp_path: Path) -> None:
    code = (
        "import experiments, experiments.api as api; "
        "assert experiments.load is api.load; print(experiments.__doc__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("The experiment layer: running scenarios")


def test_a_batch_killed_between_its_parts_stays_invisible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = spec_of(tmp_path, FACTORIAL)
    store = SweepStore(tmp_path / "sweep")
    start(spec, store, "serial", 1)
    first, second = (
        run_batch(t, RunSetup.from_spec(spec))
        for t in (tasks(sample(spec, 0), [0]), tasks(sample(spec, 0), [1]))
    )
    store.write(first)
    store.write(first)  # a batch stored twice (e.g. by two resumes) is read once

    def killed_before_runs_part(self: SweepStore, table: str, *args: object) -> None:
        if table == "runs":
            raise KeyboardInterrupt
        original(self, table, *args)

    original = SweepStore._write_part
    monkeypatch.setattr(SweepStore, "_write_part", killed_before_runs_part)
    with pytest.raises(KeyboardInterrupt):
        store.write(second)
    assert len(list((store.directory / "monthly").glob("part-*"))) == 3
    data = store.load()
    assert sorted(data.runs["run_id"]) == sorted(r.run_id for r in first)
    assert len(data.monthly) == 4 * 7 and len(data.summary) == 4
    assert store.finished() == {r.run_id for r in first}


def test_temporary_files_are_not_read_and_are_removed_on_start(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, FACTORIAL)
    data = sweep_serial(spec, tmp_path / "sweep")
    leftover = tmp_path / "sweep" / "runs" / ".part-123-abc.tmp"
    leftover.write_bytes(b"half a parquet file")
    assert_same_results(load_results(tmp_path / "sweep"), data)
    start(spec, SweepStore(tmp_path / "sweep"), "serial", 1)
    assert not leftover.exists()


def test_manifest_records_spec_code_and_times(tmp_path: Path) -> None:
    path = write_spec(tmp_path, FACTORIAL)
    result = wsim("sweep", path, "--out", tmp_path / "out", "--workers", "1")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["spec_text"] == path.read_text()
    assert manifest["spec"]["levers"]["wage"]["values"] == [0.2, 0.6]
    assert len(manifest["spec_hash"]) == 64 and manifest["experiment"] == "spec"
    assert manifest["package_versions"]["numpy"] and manifest["python_version"]
    assert manifest["host"] and "code_version" in manifest
    assert manifest["started_utc"] <= manifest["finished_utc"]
    assert manifest["sessions"][0]["executor"] == "serial"


def test_sweep_into_a_directory_of_another_spec_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = wsim("sweep", write_spec(tmp_path, FACTORIAL), "--out", out, "--workers", "1")
    assert first.exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    other = write_spec(tmp_path, FACTORIAL.replace("seed = 11", "seed = 12"), "other")
    result = wsim("sweep", other, "--out", out, "--workers", "1")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {out}: holds a sweep of a different spec")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_sweep_again_with_the_same_spec_runs_nothing_new(tmp_path: Path) -> None:
    path, out = write_spec(tmp_path, FACTORIAL), tmp_path / "out"
    for _ in range(2):
        assert wsim("sweep", path, "--out", out, "--workers", "1").exit_code == 0
    assert run_parts(out) == len(list((out / "summary").glob("part-*")))
    assert len(load_results(out).runs) == 8
    assert len(json.loads((out / "manifest.json").read_text())["sessions"]) == 2


def test_other_files_in_the_directory_are_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    result = wsim("sweep", write_spec(tmp_path, FACTORIAL), "--out", tmp_path / "out")
    assert result.exit_code == 1 and "expected a new or empty directory" in result.stderr
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["notes.txt"]


def test_resume_refuses_a_changed_base_scenario(tmp_path: Path) -> None:
    base = tmp_path / "county.toml"
    base.write_text(f'extends = "{TINY.as_posix()}"\nname = "county"\n')
    spec = tmp_path / "spec.toml"
    spec.write_text(f'base = "county.toml"\n{FACTORIAL}')
    assert wsim("sweep", spec, "--out", tmp_path / "out", "--workers", "1").exit_code == 0
    base.write_text(base.read_text() + "[policy.training]\nplaces_per_month = 30\n")
    result = wsim("resume", tmp_path / "out")
    assert result.exit_code == 1 and "changed since the sweep started" in result.stderr


def panel_keys(panel: pd.DataFrame) -> list[tuple[str, int, int]]:
    return list(zip(panel["run_id"], panel["month"], panel["household"], strict=True))


def test_panel_has_every_run_snapshot_month_and_household(tmp_path: Path) -> None:
    data = sweep_serial(spec_of(tmp_path, PANEL), tmp_path / "sweep")
    assert len(data.runs) == 8
    expected = product(sorted(data.runs["run_id"]), PANEL_MONTHS, range(TINY_HOUSEHOLDS))
    assert panel_keys(data.panel) == list(expected)
    monthly = data.monthly.set_index(["run_id", "month"])
    people = data.panel.assign(poor_people=data.panel["size"] * data.panel["poor"])
    by_run = people.groupby(["run_id", "month"])[["poor_people", "size"]].sum()
    headcount = by_run["poor_people"] / by_run["size"]
    kept = monthly.loc[[(run, int(month)) for run, month in by_run.index], "headcount"]
    np.testing.assert_allclose(headcount, kept, rtol=1e-12)
    loaded = load_results(tmp_path / "sweep").panel
    pd.testing.assert_frame_equal(loaded, data.panel)
    without = load_results(tmp_path / "sweep", panel=False)
    assert without.panel.empty and len(without.monthly) == len(data.monthly)


def test_resume_does_not_duplicate_panel_rows(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, PANEL)
    out = tmp_path / "sweep"
    whole = sweep_serial(spec, out)
    parts = sorted((out / "panel").glob("part-*"))
    resumed = wsim("resume", out, "--workers", "1")
    assert resumed.exit_code == 0, resumed.output
    assert sorted((out / "panel").glob("part-*")) == parts
    # a batch stored again (a resume after a kill before its runs part was visible)
    SweepStore(out).write(run_batch(tasks(sample(spec, spec.seed), [0]), RunSetup.from_spec(spec)))
    assert len(list((out / "panel").glob("part-*"))) == len(parts) + 1
    again = load_results(out)
    assert len(again.panel) == 8 * len(PANEL_MONTHS) * TINY_HOUSEHOLDS
    pd.testing.assert_frame_equal(again.panel, whole.panel)


def test_sweep_without_panel_stores_none(tmp_path: Path) -> None:
    data = sweep_serial(spec_of(tmp_path, FACTORIAL), tmp_path / "sweep")
    assert not (tmp_path / "sweep" / "panel").exists()
    assert data.panel.empty and list(data.panel.columns) == ["run_id"]
