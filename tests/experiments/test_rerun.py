"""`wsim rerun DIR RUN_ID`: one run of a sweep made again from its manifest and compared,
bit for bit, with its stored monthly, summary and panel rows."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sweep_helpers import FACTORIAL, spec_of, sweep_serial, wsim

from experiments.sweep import runs
from experiments.sweep.rerun import rerun
from experiments.sweep.store import SweepData
from model.scenario import Scenario
from model.simulate import RunResult, simulate

PANEL = FACTORIAL + "panel = true\npanel_every_months = 4\n"


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SweepData]:
    """A sweep with a household panel, run once: its directory and results."""
    directory = tmp_path_factory.mktemp("rerun")
    out = directory / "sweep"
    return out, sweep_serial(spec_of(directory, PANEL), out)


def test_rerun_reproduces_every_stored_row_of_the_run(swept: tuple[Path, SweepData]) -> None:
    out, data = swept
    run = data.runs[data.runs["arm"] != "baseline"].iloc[-1]
    result = wsim("rerun", out, run["run_id"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        f"run {run['run_id']} (arm {run['arm']}, replicate "
        f"{run['replicate']}) reproduces its stored rows exactly"
    )
    again = rerun(out, run["run_id"])
    assert again.reproduced and again.differing == ()
    assert again.task.point == {c: run[c] for c in again.task.point}


def test_rerun_names_the_columns_that_differ(swept: tuple[Path, SweepData], tmp_path: Path) -> None:
    out = shutil.copytree(swept[0], tmp_path / "sweep")
    run_id = str(swept[1].runs["run_id"].iloc[0])
    for part in (out / "monthly").glob("part-*.parquet"):
        monthly = pd.read_parquet(part)
        changed = monthly["run_id"] == run_id
        monthly.loc[changed, "headcount"] += 1e-12  # the last bits of one column
        monthly.to_parquet(part, index=False)
    result = wsim("rerun", out, run_id)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {out}: {run_id}: expected the stored rows again, got different values in "
        "monthly.headcount"
    ]


def test_rerun_of_an_unknown_run_id_is_one_error(swept: tuple[Path, SweepData]) -> None:
    out, data = swept
    result = wsim("rerun", out, "0123456789abcdef")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {out}: 0123456789abcdef: expected the run id of a finished run of this sweep "
        f"(the run_id column of its runs table, e.g. {data.runs['run_id'].iloc[0]})"
    ]


def test_rerun_of_a_directory_without_a_sweep_is_one_error(tmp_path: Path) -> None:
    result = wsim("rerun", tmp_path, "0123456789abcdef")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {tmp_path}: not a sweep directory")


def test_rerun_of_a_failed_run_says_there_is_nothing_to_compare(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fragile(params: Scenario, replicate: int = 0, **options: Any) -> RunResult:
        if not params.policy.training.enabled:
            raise RuntimeError("no courses")
        return simulate(params, replicate, **options)

    monkeypatch.setattr(runs, "simulate", fragile)
    data = sweep_serial(spec_of(tmp_path, FACTORIAL), tmp_path / "sweep")
    failed = data.runs.loc[data.runs["status"] == "failed", "run_id"].iloc[0]
    result = wsim("rerun", tmp_path / "sweep", failed)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / 'sweep'}: {failed}: expected a run that was done; it failed when "
        "the sweep made it, so no rows were stored to compare"
    ]
