"""Smoke tests of `wsim run`'s stage benchmark and of the national-scale benchmark.

No timing is asserted: each benchmark runs at a small size and must print every stage,
and the national run must write the tables `wsim run` writes.
"""

import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))  # the benchmarks import each other as scripts do

from bench_national import FIXED_STAGES, extrapolated  # noqa: E402
from bench_run import STAGE_ORDER, RunMeasurement, Stage, Stopwatch, run_process  # noqa: E402

EVERY_STAGE = list(STAGE_ORDER)  # every stage happens in a run, even a quick one
NAME_WIDTH = 18  # characters of the stage column of a printed stage table


def bench(script: str, *args: str) -> str:
    """The output of a benchmark script run to its end (it must succeed)."""
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def stage_rows(output: str) -> list[str]:
    """The stage names of the (last) printed stage table, in order."""
    lines = output.splitlines()
    first = max(i for i, line in enumerate(lines) if line.startswith("stage ")) + 1
    last = next(i for i in range(first, len(lines)) if lines[i].startswith("total "))
    return [line[:NAME_WIDTH].strip() for line in lines[first:last]]


def test_the_quick_run_prints_every_stage_its_totals_and_the_end_to_end_run():
    output = bench("bench_run.py", "--quick")
    assert stage_rows(output) == EVERY_STAGE
    assert "bytes per household" in output and "in stage '" in output
    assert "wsim run end to end (subprocess, median of 1)" in output


def test_the_quick_national_run_writes_the_tables_wsim_run_writes(tmp_path):
    national = tmp_path / "national"
    output = bench("bench_national.py", "--quick", "--out", str(national))
    assert "pilot at 4,000 households" in output and "extrapolated to 20,000" in output
    assert stage_rows(output) == EVERY_STAGE
    assert "goal < 120 s:" in output and "goal < 6 GB:" in output
    run = tmp_path / "run"
    subprocess.run(
        [sys.executable, "-m", "experiments.cli", "run", "scenarios/default.toml"]
        + ["--households", "1000", "--months", "3", "--out", str(run)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    written = sorted(p.name for p in (national / "tables").iterdir())
    assert written == sorted(p.name for p in (run / "tables").iterdir())
    for table in (national / "tables").glob("*.parquet"):
        schema = pq.read_schema(table).remove_metadata()
        assert schema == pq.read_schema(run / "tables" / table.name).remove_metadata()
    assert (national / "manifest.json").is_file() and any((national / "plots").glob("*.png"))


def test_a_nested_stage_is_taken_out_of_the_stage_around_it():
    watch = Stopwatch()
    with watch.stage("outer"):
        time.sleep(0.05)
        with watch.stage("inner"):
            time.sleep(0.1)
    stages = watch.stages
    assert stages["outer"].wall_s == pytest.approx(0.05, abs=0.03)
    assert stages["inner"].wall_s == pytest.approx(0.1, abs=0.03)
    assert stages["inner"].peak_bytes > 0


def test_a_subprocess_is_measured_by_its_own_resource_use():
    measured = run_process([sys.executable, "-c", "bytearray(200_000_000)"])
    assert measured.max_rss_bytes > 200_000_000 and measured.wall_s >= measured.cpu_s * 0.5
    with pytest.raises(RuntimeError, match="failed"):
        run_process([sys.executable, "-c", "raise SystemExit(3)"])


def test_the_stages_that_grow_with_households_are_extrapolated_in_proportion():
    pilot = RunMeasurement(
        households=1_000,
        months=60,
        stages=[Stage("imports", 2.0, 2.0, 300), Stage("month 1", 1.0, 1.0, 1_300)],
        rss_before_model=300,
        out="",
    )
    assert "imports" in FIXED_STAGES and "month 1" not in FIXED_STAGES
    assert extrapolated(pilot, 5_000) == (2.0 + 5.0, 300 + 5 * 1_000)
