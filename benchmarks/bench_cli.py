"""Start-up and end-to-end time of the ``wsim`` command.

Run with ``make bench-cli`` or ``python benchmarks/bench_cli.py`` (``--runs N`` for more
runs). Times, as subprocess wall time, ``python -c pass`` (the interpreter's own start),
``wsim --help`` and ``wsim validate scenarios/default.toml``, each the median of N runs
after one warm-up, and prints each command's time beyond the interpreter's start
(target: under 1 s for both). Building the app must not import pandas, numpy, mesa and
the like; each command imports what it runs (tests/experiments/test_cli_startup.py
checks which modules are loaded).

Then ``wsim run`` end to end (synthesis, the months, tables, figures, manifest) of
Qingchuan at 5,000 households over its 43 months (to the July 2020 report), the median
of ``--run-runs`` runs: with PNG
figures (the default) and with ``--svg`` (PNG and SVG, what every run wrote before SVG
became optional), and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 1.0  # most seconds beyond the interpreter's start, for --help and validate
SCENARIO = "scenarios/default.toml"
RUN_SCENARIO = "scenarios/qingchuan.toml"  # the county the start-up issue measured
RUN_SIZE = ("--households", "5000")  # its own 43 months: its tables end in 2020


def wsim() -> list[str]:
    """The ``wsim`` command beside this interpreter, else ``python -m experiments.cli``."""
    script = Path(sys.executable).with_name("wsim")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "experiments.cli"]


def median_seconds(command: list[str], runs: int) -> float:
    """Median wall seconds of `runs` runs of `command` (after one warm-up run) in the repo."""
    times = []
    for run in range(runs + 1):
        began = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        if run:  # the first run warms the file cache and the bytecode
            times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command")
    parser.add_argument("--run-runs", type=int, default=3, help="timed runs of wsim run")
    args = parser.parse_args()
    bare = median_seconds([sys.executable, "-c", "pass"], args.runs)
    print(f"median of {args.runs} runs (subprocess wall time)")
    print(f"python -c pass: {bare:.3f} s")
    for label, command in (
        ("wsim --help", [*wsim(), "--help"]),
        (f"wsim validate {SCENARIO}", [*wsim(), "validate", SCENARIO]),
    ):
        seconds = median_seconds(command, args.runs)
        beyond = seconds - bare
        print(
            f"{label}: {seconds:.3f} s, {beyond:+.3f} s beyond python -c pass, "
            f"{seconds / bare:.1f}x (target < {TARGET_S:g} s beyond: "
            f"{'met' if beyond < TARGET_S else 'not met'})"
        )
    report_run(args.run_runs)


def report_run(runs: int) -> None:
    """Time ``wsim run`` end to end with PNG figures and with PNG and SVG figures."""
    with tempfile.TemporaryDirectory() as out:
        command = [*wsim(), "run", RUN_SCENARIO, *RUN_SIZE, "--out", out]
        png = median_seconds(command, runs)
        both = median_seconds([*command, "--svg"], runs)
    print(
        f"wsim run {RUN_SCENARIO} {' '.join(RUN_SIZE)} (median of {runs}): "
        f"{png:.2f} s with PNG figures (default), {both:.2f} s with --svg (PNG + SVG); "
        f"the default takes {png / both:.2f}x the time"
    )


if __name__ == "__main__":
    main()
