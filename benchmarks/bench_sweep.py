"""Speed-up of a sweep on 2 worker processes over 1, with identical results.

Run with ``python benchmarks/bench_sweep.py`` (``--replicates N`` for a longer sweep,
``--households N`` for larger runs). Sweeps the default scenario (60 months; by default at
20,000 households, the size of the decision-rules sweep: runs of a few tenths of a second,
so the pool's start-up of under a second weighs as in a real sweep) over a 2 x 2 factorial
of levers, once in this process (`Serial`) and once on `Processes(2)`, wall time including
the pool's start-up; checks the stored runs, monthly and summary rows are identical and
prints the speed-up (target >= 1.7). It also prints the speed-up of two bare processes
running the same model runs, the most any executor can reach on this machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from experiments.executors import Executor, Processes, Serial
from experiments.sweep.engine import run_sweep, start
from experiments.sweep.spec import Spec, load_spec
from experiments.sweep.store import SweepData, SweepStore
from model.scenario import Scenario
from model.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.7
CAPACITY_RUNS = 16
SWEEP_HOUSEHOLDS = 20_000  # as experiments/specs/decision_rules.toml
SPEC = """
name = "bench_sweep"
base = "{base}"
seed = 1
[run]
households = {households}
[levers.wage]
key = "policy.wage_subsidy.share_of_poor_wage_bill"
values = [0.2, 0.4]
[levers.training]
key = "policy.training.enabled"
values = [true, false]
[design]
method = "factorial"
[replicates]
count = {replicates}
"""


def timed_sweep(spec: Spec, directory: Path, executor: Executor) -> tuple[float, SweepData]:
    """Wall seconds of a whole sweep on `executor` (entering it included), and its data."""
    store = SweepStore(directory)
    began = time.perf_counter()
    with executor:
        start(spec, store, type(executor).__name__.lower(), executor.workers)
        run_sweep(spec, store, executor)
    return time.perf_counter() - began, store.load()


def simulate_replicates(scenario: Scenario, replicates: range) -> int:
    """Run the scenario for each replicate (no sweep machinery); returns the count."""
    for replicate in replicates:
        simulate(scenario, replicate=replicate)
    return len(replicates)


def machine_capacity(scenario: Scenario, runs: int = CAPACITY_RUNS) -> float:
    """Speed-up of two bare processes over one on the same model runs.

    The most any executor can reach on this machine for this model (2.0 on two free cores).
    """
    halves = [range(0, runs // 2), range(runs // 2, runs)]
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(simulate_replicates, [scenario] * 2, [range(1), range(1)]))  # warm up
        began = time.perf_counter()
        list(pool.map(simulate_replicates, [scenario] * 2, halves))
        parallel = time.perf_counter() - began
    began = time.perf_counter()
    simulate_replicates(scenario, range(runs))
    return (time.perf_counter() - began) / parallel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=32, help="replicates per arm (x4 runs)")
    parser.add_argument(
        "--households", type=int, default=SWEEP_HOUSEHOLDS, help="simulated households per run"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_sweep.toml"
        path.write_text(
            SPEC.format(
                base=(ROOT / "scenarios" / "default.toml").as_posix(),
                replicates=args.replicates,
                households=args.households,
            )
        )
        spec = load_spec(path)
        serial_s, serial = timed_sweep(spec, Path(tmp) / "serial", Serial())
        parallel_s, parallel = timed_sweep(spec, Path(tmp) / "processes", Processes(2))
    for name in ("monthly", "summary"):
        pd.testing.assert_frame_equal(getattr(serial, name), getattr(parallel, name))
    pd.testing.assert_frame_equal(
        serial.runs.drop(columns="seconds"), parallel.runs.drop(columns="seconds")
    )
    speedup = serial_s / parallel_s
    print(
        f"{len(serial.runs)} runs: 1 worker {serial_s:.1f} s, 2 workers {parallel_s:.1f} s; "
        f"results identical"
    )
    print(
        f"2-worker speed-up: {speedup:.2f}x (target >= {TARGET}x: "
        f"{'met' if speedup >= TARGET else 'not met'})"
    )
    capacity = machine_capacity(spec.base)
    print(
        f"2 bare processes on the same model runs (no sweep machinery): {capacity:.2f}x; "
        f"the sweep reaches {speedup / capacity:.0%} of it"
    )


if __name__ == "__main__":
    main()
