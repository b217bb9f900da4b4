"""How much common random numbers sharpen a paired comparison: the variance-reduction factor.

Run with ``make bench-crn`` (or ``python benchmarks/bench_crn.py --households N --months M
--replicates R``). Runs the default scenario and two arms that change one instrument
(wage subsidy off; wage-subsidy share 0.4), each over replicates 0..R-1, and the default
again over replicates R..2R-1. For net exits and poor household-months it prints the sd
of the paired differences (arm minus default of the same replicate) and of the
independent ones (arm minus default of another replicate), and their variance ratio,
the variance-reduction factor (by default over 20 replicates: a variance ratio from fewer
is itself noisy). Goals at 10,000 households x 48 months x >= 10
replicates: factor >= 20 on net exits, >= 100 on poor household-months, paired sd of
net exits <= 10.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.executors import Executor, Processes
from model.scenario import Scenario, load_scenario
from model.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = "default"
ARMS: dict[str, dict[str, Any]] = {
    "wage subsidy off": {"policy.wage_subsidy.enabled": False},
    "wage-subsidy share 0.4": {"policy.wage_subsidy.share_of_poor_wage_bill": 0.4},
}
OUTCOMES = ("net_exits", "poor_household_months")
GOALS = {"net_exits": 20.0, "poor_household_months": 100.0}  # variance-reduction factors
PAIRED_SD_GOAL = 10.0  # households: paired sd of net exits


def scenarios(households: int, months: int) -> dict[str, Scenario]:
    """The default scenario and each arm at the given size."""
    size = {"run.households": households, "run.months": months}
    base = load_scenario(ROOT / "scenarios" / "default.toml").with_changes(size)
    return {DEFAULT: base, **{name: base.with_changes(c) for name, c in ARMS.items()}}


def summary_row(job: tuple[str, int], arms: dict[str, Scenario]) -> dict[str, Any]:
    """Outcomes of one arm's replicate (a task for an executor)."""
    arm, replicate = job
    summary = simulate(arms[arm], replicate=replicate).summary
    return {"arm": arm, "replicate": replicate, **{o: summary[o].item() for o in OUTCOMES}}


def runs(arms: dict[str, Scenario], replicates: int, executor: Executor) -> pd.DataFrame:
    """Every arm over replicates 0..R-1 and the default again over R..2R-1."""
    jobs = [(arm, r) for arm in arms for r in range(replicates)]
    jobs += [(DEFAULT, replicates + r) for r in range(replicates)]
    with executor:
        return pd.DataFrame(list(executor.map(summary_row, jobs, arms)))


def reduction(table: pd.DataFrame, replicates: int) -> pd.DataFrame:
    """Paired and independent sd of each arm's difference from the default, and their ratio.

    Paired: arm minus default of the same replicate; independent: arm minus the default
    of replicate r + R (another population and other draws).
    """
    rows = []
    for outcome in OUTCOMES:
        wide = table.pivot(index="replicate", columns="arm", values=outcome).sort_index()
        same = wide[DEFAULT].to_numpy()[:replicates]
        other = wide[DEFAULT].to_numpy()[replicates : 2 * replicates]
        for arm in ARMS:
            values = wide[arm].to_numpy()[:replicates]
            paired = float(np.std(values - same, ddof=1))
            independent = float(np.std(values - other, ddof=1))
            rows.append(
                {
                    "arm": arm,
                    "outcome": outcome,
                    "mean_difference": float(np.mean(values - same)),
                    "paired_sd": paired,
                    "independent_sd": independent,
                    "factor": (independent / paired) ** 2 if paired > 0 else np.inf,
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    """Print the variance-reduction table and whether the goals are met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=48)
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    table = runs(scenarios(args.households, args.months), args.replicates, Processes(args.workers))
    result = reduction(table, args.replicates)
    print(
        f"default vs one instrument changed: {args.households:,} households x "
        f"{args.months} months x {args.replicates} replicates"
    )
    print(result.to_string(index=False, float_format=lambda x: f"{x:,.2f}"))
    for outcome, goal in GOALS.items():
        worst = result.loc[result["outcome"] == outcome, "factor"].min()
        print(f"{outcome}: smallest factor {worst:,.1f} (goal >= {goal:g})")
    worst_sd = result.loc[result["outcome"] == "net_exits", "paired_sd"].max()
    print(f"net_exits: largest paired sd {worst_sd:,.1f} households (goal <= {PAIRED_SD_GOAL:g})")


if __name__ == "__main__":
    main()
