"""Compare scenarios on common random numbers: run them, stack their tables, pair them.

Every scenario (an **arm**) runs replicates 0..R-1 with one seed, households and months
(the first scenario's, or the command line's), so at replicate r every arm starts from
the same households and sees the same shocks (`model.streams`), and a difference
between arms is the policy's effect rather than sampling noise. Differences from the
first arm (the reference) are paired by replicate with 95% t CIs; the extra spending per
extra net exit and per poor household-month averted against it gets a 95% Fieller CI,
"undefined" where the gain's own interval contains 0 (`experiments.analysis.effects`).

Layout of a comparison directory::

    manifest.json            scenarios (files as run, extends chains), seed,
                             replicates, code version, files written
    differences.csv          paired differences from the reference, 95% t CIs
    cost_effectiveness.csv   yuan per extra net exit and per poor household-month
                             averted against the reference, 95% Fieller CIs, status
    tables/<name>.parquet    each run table of every arm and replicate, stacked, with
                             ``arm`` and ``replicate`` in front (and the same as CSV)
    plots/<figure>.png/.svg  figures, with the plotted numbers in <figure>.csv

It is written atomically, like a run's output directory (`experiments.outputs`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.analysis import effects as analysis
from experiments.executors import Executor
from experiments.figures.arms import (
    REPLICATE,
    plot_activity_by_arm,
    plot_employment_by_sex_carer,
    plot_flows_by_year,
    plot_jobs_and_quota,
    plot_poor_income_by_arm,
    plot_poverty_by_arm,
    plot_spending_by_arm,
    plot_workshops_by_arm,
)
from experiments.figures.sweep import plot_cost_effectiveness, plot_effects
from experiments.outputs import MANIFEST, check_output_dir, scenario_files, staging
from experiments.provenance import code_version
from experiments.sweep.pairing import pairs
from experiments.sweep.seeding import ARM
from model.scenario import Scenario, scenario_from_dict
from model.simulate import RunResult, simulate

KIND = "compare"  # the manifest's "kind": marks a comparison directory
DIFFERENCES, COST_EFFECTIVENESS = "differences.csv", "cost_effectiveness.csv"
OUTCOMES = analysis.EFFECT_OUTCOMES  # differences.csv, in order
FINAL_MONTH = ("headcount", "income_per_capita")  # outcomes read at the run's final month
ALIGNED = ("seed", "start", "households", "months")  # [run] values every arm shares


class CompareError(ValueError):
    """Scenarios that cannot be compared (names the files and what was expected)."""


@dataclass(frozen=True)
class Arm:
    """One scenario of a comparison.

    Attributes:
        label: its name in tables and figures (the scenario name, or the file stem
            when names repeat).
        scenario: the scenario as run (shared seed, households and months).
        path: the TOML file it was loaded from.
    """

    label: str
    scenario: Scenario
    path: Path


@dataclass(frozen=True)
class Comparison:
    """The runs of a comparison, stacked.

    Attributes:
        arms: the scenarios, the reference first.
        replicates: replicates per arm (0..R-1).
        tables: every run table (monthly, the breakdowns, summary), stacked over arms
            and replicates with ``arm`` and ``replicate`` in front.
        notes: what was changed to share one seed, households and months.
        overrides: ``[run]`` values given on the command line.
    """

    arms: list[Arm]
    replicates: int
    tables: dict[str, pd.DataFrame]
    notes: list[str]
    overrides: dict[str, int]

    @property
    def reference(self) -> str:
        """Label of the arm every other is compared with (the first)."""
        return self.arms[0].label

    @property
    def label(self) -> str:
        """Arms, seed and replicates, for figure titles."""
        names = " vs ".join(a.label for a in self.arms)
        return f"{names} (seed {self.arms[0].scenario.run.seed}, {self.replicates} replicates)"


def without_policy(scenario: Scenario, baseline: Scenario) -> Scenario:
    """The scenario with the baseline's workshops and policy: no workshops, no instruments.

    County, population, incomes, choices, shocks, run size and seed stay, so the two
    runs have the same households and shocks.
    """
    data = scenario.model_dump() | {
        "name": f"{scenario.name} (no policy)",
        "workshops": baseline.workshops.model_dump(),
        "policy": baseline.policy.model_dump(),
    }
    return scenario_from_dict(data, f"{scenario.name} without policy")


def comparison_arms(loaded: list[tuple[Path, Scenario]]) -> tuple[list[Arm], list[str]]:
    """Arms sharing the first scenario's seed, start, households and months, and notes on changes.

    Args:
        loaded: each scenario file with its scenario (command-line overrides applied).

    Returns:
        The arms, and one note per scenario value replaced by the first's.

    Raises:
        CompareError: if neither the scenario names nor the file names tell arms apart.
    """
    first = loaded[0][1].run
    shared = {key: getattr(first, key) for key in ALIGNED}
    notes = [
        f"{path}: run with {key} {shared[key]} of {loaded[0][0]} (its own: "
        f"{getattr(scenario.run, key)}), so every arm has the same households, dates and shocks"
        for path, scenario in loaded[1:]
        for key in ALIGNED
        if getattr(scenario.run, key) != shared[key]
    ]
    labels = [scenario.name for _, scenario in loaded]
    if len(set(labels)) < len(labels):
        labels = [path.stem for path, _ in loaded]
    if len(set(labels)) < len(labels):
        raise CompareError(
            f"{', '.join(str(p) for p, _ in loaded)}: (name): scenarios with "
            "distinct names or file names, to label the arms"
        )
    arms = [
        Arm(label, scenario.with_overrides(**shared), path)
        for label, (path, scenario) in zip(labels, loaded, strict=True)
    ]
    return arms, notes


def simulate_arm(job: tuple[int, int], scenarios: list[Scenario]) -> tuple[int, int, RunResult]:
    """Run replicate ``job[1]`` of arm ``job[0]`` (an executor task)."""
    arm, replicate = job
    return arm, replicate, simulate(scenarios[arm], replicate=replicate)


def run_comparison(
    arms: list[Arm], replicates: int, executor: Executor, on_run: Callable[[], None] | None = None
) -> dict[str, pd.DataFrame]:
    """Run replicates 0..R-1 of every arm on `executor` (entered) and stack the tables.

    Args:
        arms: the scenarios to run.
        replicates: replicates per arm.
        executor: where runs are made (`experiments.executors`).
        on_run: called after each run, e.g. to advance a progress bar.

    Returns:
        Table name -> every run's table with ``arm`` and ``replicate`` in front, arms in
        order, then replicates.
    """
    jobs = [(arm, replicate) for arm in range(len(arms)) for replicate in range(replicates)]
    results: dict[tuple[int, int], RunResult] = {}
    for arm, replicate, result in executor.map(simulate_arm, jobs, [a.scenario for a in arms]):
        results[arm, replicate] = result
        if on_run is not None:
            on_run()
    return {
        name: pd.concat(
            {
                (arms[arm].label, replicate): results[arm, replicate].all_tables()[name]
                for arm, replicate in jobs
            },
            names=[ARM, REPLICATE],
        )
        .reset_index(level=[ARM, REPLICATE])
        .reset_index(drop=True)
        for name in results[0, 0].all_tables()
    }


def arm_values(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per arm and replicate: the run summary and the final month's outcomes."""
    monthly = tables["monthly"]
    final = monthly[monthly["month"] == monthly["month"].max()]
    return tables["summary"].merge(final[[ARM, REPLICATE, *FINAL_MONTH]], on=[ARM, REPLICATE])


def differences(comparison: Comparison) -> pd.DataFrame:
    """Mean paired difference of each arm from the reference on `OUTCOMES`, 95% t CI.

    Columns: ``arm``, ``reference``, ``outcome``, ``n`` (pairs with finite values),
    ``reference_mean``, ``arm_mean``, ``difference`` (arm - reference), ``ci_low``,
    ``ci_high``, ``half_width_unpaired`` (Welch, for comparison), in the outcome's unit.
    A negative difference in ``poor_household_months`` is household-months averted.
    """
    table = analysis.effects(_paired(comparison), list(OUTCOMES)).rename(
        columns={"baseline": "reference_mean"}
    )
    table.insert(1, "reference", comparison.reference)
    return table


def cost_effectiveness(comparison: Comparison) -> pd.DataFrame:
    """Extra spending per extra net exit and per poor household-month averted (Fieller CI).

    Against the reference, one row per arm and gain; columns as
    `experiments.analysis.effects.cost_effectiveness`.
    """
    return analysis.cost_effectiveness(_paired(comparison))


def _paired(comparison: Comparison) -> pd.DataFrame:
    """Each arm's runs beside the reference's run of the same replicate."""
    return pairs(arm_values(comparison.tables), [REPLICATE], comparison.reference)


def quotas(arms: list[Arm]) -> dict[str, float | None]:
    """Each arm's poor-worker quota (share of staff), None where certification is off."""
    return {
        a.label: (
            a.scenario.policy.certification.poor_share_min
            if a.scenario.policy.certification.enabled
            else None
        )
        for a in arms
    }


def plot_comparison(comparison: Comparison, diffs: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Every comparison figure into `out_dir`; the paths written (PNG, SVG, CSV each)."""
    tables, label, reference = comparison.tables, comparison.label, comparison.reference
    return [
        *plot_poverty_by_arm(tables["monthly"], label, out_dir),
        *plot_flows_by_year(tables["monthly"], label, out_dir),
        *plot_activity_by_arm(tables["activity"], label, out_dir),
        *plot_employment_by_sex_carer(tables["activity"], label, out_dir),
        *plot_poor_income_by_arm(tables["income"], label, out_dir),
        *plot_workshops_by_arm(tables["workshops"], label, out_dir),
        *plot_jobs_and_quota(tables["monthly"], quotas(comparison.arms), label, out_dir),
        *plot_spending_by_arm(tables["summary"], label, out_dir),
        *plot_cost_effectiveness(cost_effectiveness(comparison), reference, label, out_dir),
        *plot_effects(diffs, reference, label, out_dir),
    ]


def write_comparison(comparison: Comparison, out_dir: Path) -> pd.DataFrame:
    """Write a comparison's tables, differences, cost-effectiveness, figures and manifest.

    Written atomically: into a staging directory renamed into place.

    Args:
        comparison: the stacked runs.
        out_dir: output directory; an earlier output directory there is replaced.

    Returns:
        The differences table written to ``differences.csv``.

    Raises:
        OutputError: if `out_dir` is not safe to replace (`outputs.check_output_dir`).
    """
    check_output_dir(out_dir)
    with staging(out_dir) as tmp:
        (tmp / "tables").mkdir()
        written = []
        for name, table in comparison.tables.items():
            written += [tmp / "tables" / f"{name}{suffix}" for suffix in (".parquet", ".csv")]
            table.to_parquet(written[-2], index=False)
            table.to_csv(written[-1], index=False)
        diffs = differences(comparison)
        diffs.to_csv(tmp / DIFFERENCES, index=False)
        cost_effectiveness(comparison).to_csv(tmp / COST_EFFECTIVENESS, index=False)
        written += [
            tmp / DIFFERENCES,
            tmp / COST_EFFECTIVENESS,
            *plot_comparison(comparison, diffs, tmp / "plots"),
        ]
        manifest = comparison_manifest(comparison)
        manifest["files"] = [str(p.relative_to(tmp)) for p in written]
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, allow_nan=False) + "\n")
    return diffs


def comparison_manifest(comparison: Comparison) -> dict[str, Any]:
    """What was compared, from which files, with which code and when (JSON-ready)."""
    run = comparison.arms[0].scenario.run
    return {
        "kind": KIND,
        "reference": comparison.reference,
        "scenarios": [
            {
                "arm": a.label,
                "name": a.scenario.name,
                "file": str(a.path),
                "scenario_files": scenario_files(a.path),
                "scenario": a.scenario.model_dump(mode="json"),
            }
            for a in comparison.arms
        ],
        "seed": run.seed,
        "households": run.households,
        "months": run.months,
        "replicates": comparison.replicates,
        "overrides": comparison.overrides,
        "aligned": comparison.notes,
        **code_version(),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
