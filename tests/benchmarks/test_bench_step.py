"""Smoke test of the speed benchmark's per-size measurement (no timing is asserted)."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_step.py"


def test_a_size_is_measured_in_its_own_process():
    out = subprocess.run(
        [sys.executable, str(BENCH), "--measure", "300", "--months", "2", "--repeats", "2"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    run = json.loads(out.splitlines()[-1])
    assert run["households"] == 300 and run["months"] == 2
    assert len(run["seconds"]) == len(run["cpu_seconds"]) == 2
    assert all(s > 0 for s in run["seconds"]) and run["setup_seconds"] > 0
    # the people, household and tracker arrays: at least the 12-month income window
    assert run["state_bytes"] >= 300 * 12 * 8
    assert run["memory_bytes"] > 0
