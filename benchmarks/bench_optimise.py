"""Speed of `wsim optimise` on 1 and 2 workers, and each sampler on a planted optimum.

Run with ``python benchmarks/bench_optimise.py`` (``make bench-optimise``). Part 1 runs
the search of `experiments/specs/budget_mix.toml` at `--households` for `--evaluations`
candidates (no check), once in this process and once on 2 worker processes, and prints
candidates (model evaluations) and runs per minute with the speed-up; both searches must find the
same candidates and scores (the table is compared). Part 2 runs optuna's TPE sampler
(the one shipped) and random search on a synthetic score with a known optimum (the
shares and setting of `PLANTED`) over several seeds and prints the median distance left
after each budget of candidates: the measurement behind choosing TPE.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.executors import Executor, Processes, Serial
from experiments.optimisation.run import optimise
from experiments.optimisation.search import Candidate, ask_and_tell
from experiments.optimisation.spec import OptimiseSpec, load_optimise_spec

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "experiments" / "specs" / "budget_mix.toml"
PLANTED = {  # a synthetic optimum: shares of budget_mix.toml's instruments
    "opening_subsidy": 0.05,
    "wage_subsidy": 0.4,
    "training": 0.25,
    "injury_insurance": 0.05,
    "equity": 0.15,
    "free_rent": 0.1,
}
PLANTED_SETTINGS = {
    "policy.wage_subsidy.share_of_poor_wage_bill": (0.3, 0.4),  # optimum, range width
    "policy.training.places_per_month": (30, 75),
}
SAMPLER_BUDGETS = (20, 40, 80)
SAMPLER_SEEDS = 5


def sized(spec: OptimiseSpec, households: int, evaluations: int) -> OptimiseSpec:
    """The spec at `households`, `evaluations` candidates, without its check."""
    search = spec.file.search.model_copy(update={"evaluations": evaluations})
    file = spec.file.model_copy(update={"search": search, "check": None})
    return replace(spec, file=file, base=spec.base.with_overrides(households=households))


def timed_search(spec: OptimiseSpec, executor: Executor) -> tuple[float, int, pd.DataFrame]:
    """Wall seconds of a whole search on `executor`, its runs, and its trace."""
    runs = 0

    def count(n: int) -> None:
        nonlocal runs
        runs += n

    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        result = optimise(spec, Path(folder) / "search", executor, count)
        return time.perf_counter() - began, runs, result.trace


def planted_distance(candidates: list[Candidate]) -> list[list[float]]:
    """Minus the squared distance from `PLANTED` (settings scaled by their range)."""
    scores = []
    for c in candidates:
        distance = sum((c.shares[k] - v) ** 2 for k, v in PLANTED.items())
        distance += sum(
            ((float(c.settings[k]) - best) / width) ** 2
            for k, (best, width) in PLANTED_SETTINGS.items()
        )
        scores.append([-distance])
    return scores


def sampler_distances(spec: OptimiseSpec, sampler: str, evaluations: int) -> float:
    """The median over seeds of the distance left from the planted optimum."""
    left = []
    for seed in range(SAMPLER_SEEDS):
        search = spec.file.search.model_copy(
            update={"evaluations": evaluations, "sampler": sampler}
        )
        file = spec.file.model_copy(update={"search": search, "seed": seed})
        study = ask_and_tell(replace(spec, file=file), planted_distance)
        left.append(float(np.sqrt(-study.best_value)))
    return statistics.median(left)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--evaluations", type=int, default=8)
    args = parser.parse_args()
    spec = sized(load_optimise_spec(SPEC), args.households, args.evaluations)
    print(f"search of {SPEC.name}: {args.evaluations} candidates at {args.households:,} households")
    traces, seconds = {}, {}
    for name, executor in (("1 worker", Serial()), ("2 workers", Processes(2))):
        seconds[name], runs, traces[name] = timed_search(spec, executor)
        print(
            f"  {name:9s}  {seconds[name]:6.1f} s   "
            f"{60 * args.evaluations / seconds[name]:6.1f} candidates/min   "
            f"{60 * runs / seconds[name]:6.1f} runs/min"
        )
    print(f"  speed-up on 2 workers: {seconds['1 worker'] / seconds['2 workers']:.2f}")
    pd.testing.assert_frame_equal(traces["1 worker"], traces["2 workers"])
    print("  same candidates and scores on 1 and 2 workers")
    print(f"distance left from a planted optimum (median of {SAMPLER_SEEDS} seeds)")
    print("  candidates  " + "  ".join(f"{s:>8s}" for s in ("tpe", "random")))
    for budget in SAMPLER_BUDGETS:
        tpe, rand = (sampler_distances(spec, s, budget) for s in ("tpe", "random"))
        print(f"  {budget:10d}  {tpe:8.3f}  {rand:8.3f}")


if __name__ == "__main__":
    main()
