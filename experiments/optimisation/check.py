"""The out-of-sample check against the optimiser's curse.

A search picks the candidate whose score was highest on its own scenarios and replicates,
so that score is biased upwards (some of its lead is luck). The check runs the chosen
mix, every hand-designed arm and the counterfactual again on fresh scenarios (a new
Latin hypercube) and fresh replicates that no candidate ran on, and reports each
policy's mean gain with a 95% t interval over the fresh scenarios (each scenario's
replicates averaged first, so the interval's units are independent), and the chosen
mix's paired difference from the best hand-designed arm: "better" or "worse" when the
interval excludes 0, "unclear" when it does not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.optimisation.evaluation import (
    COUNTERFACTUAL,
    Runner,
    check_plan,
    counterfactual_point,
    hand_points,
    mean_with_interval,
    mix_point,
    policy_runs,
    scenario_gains,
)
from experiments.optimisation.search import SHARE
from experiments.optimisation.spec import SPENDING, OptimiseSpec
from model.scenario import KeyValue

MIX = "optimised mix"
HAND = "hand: "  # prefix of a hand-designed arm's label in the check


def mix_of(best: pd.Series, spec: OptimiseSpec) -> dict[str, KeyValue]:
    """The scenario changes of a candidate row of the search trace."""
    shares = {name: float(best[f"{SHARE}{name}"]) for name in spec.file.budget.instruments}
    settings: dict[str, KeyValue] = {
        s.key: int(best[s.key]) if s.integer else float(best[s.key]) for s in spec.settings
    }
    return mix_point(spec, shares, settings)


def out_of_sample(
    spec: OptimiseSpec, runner: Runner, best: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The chosen mix and the hand-designed arms on fresh runs.

    Returns:
        One row per policy (gain: mean, ci_low, ci_high; mean spending per run), and
        one row: the chosen mix less the best hand-designed arm (paired by scenario),
        with its interval and verdict.
    """
    runs = check_plan(spec)
    policies = {MIX: mix_of(best, spec)}
    policies |= {f"{HAND}{label}": point for label, point in hand_points(spec).items()}
    tasks = {label: policy_runs(label, point, runs) for label, point in policies.items()}
    counterfactual = policy_runs(COUNTERFACTUAL, counterfactual_point(), runs)
    runner.run([t for group in [counterfactual, *tasks.values()] for t in group])
    base = runner.summaries(counterfactual)
    gains, rows = {}, []
    for label, group in tasks.items():
        summaries = runner.summaries(group)
        gains[label] = scenario_gains(spec, summaries, base, runs)
        mean, low, high = mean_with_interval(gains[label])
        rows.append(
            {
                "policy": label,
                "gain": mean,
                "ci_low": low,
                "ci_high": high,
                "spending_yuan": float(summaries[SPENDING].mean()),
                "scenarios": len(runs.scenarios),
                "replicates_per_scenario": runs.replicates,
            }
        )
    table = pd.DataFrame(rows)
    return table, _difference(table, gains)


def _difference(table: pd.DataFrame, gains: dict[str, np.ndarray]) -> pd.DataFrame:
    hand = table[table["policy"].str.startswith(HAND)]
    if not len(hand):
        return pd.DataFrame()
    rival = str(hand["policy"].iloc[int(np.argmax(hand["gain"].to_numpy()))])
    mean, low, high = mean_with_interval(gains[MIX] - gains[rival])
    verdict = "better" if low > 0 else "worse" if high < 0 else "unclear"
    return pd.DataFrame(
        [{"versus": rival, "difference": mean, "ci_low": low, "ci_high": high, "verdict": verdict}]
    )
