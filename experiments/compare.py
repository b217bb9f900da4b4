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
    plots/<figure>.png       figures (and .svg on request), with the plotted numbers in
                             <figure>.csv and the caption in <figure>.txt

It is written atomically, like a run's output directory (`experiments.outputs`). The
CSVs keep one row per arm and outcome at full precision; `difference_tables` and
`cost_effectiveness_tables` give them as read (report, terminal): a table per kind of
unit (shares, counts, money), a row per arm, a column per outcome named with its unit.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.analysis import effects as analysis
from experiments.analysis.formatting import (
    COUNTS,
    HOUSEHOLD_MONTHS,
    HOUSEHOLDS,
    MONEY,
    PERCENTAGE_POINTS,
    SHARES,
    YUAN,
    format_amount,
    format_difference,
    format_estimate,
    labelled,
    measure_unit,
    unit_kind,
)
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
from experiments.intervals import DEFINED
from experiments.outputs import (
    MANIFEST,
    PNG_FIGURES,
    FigureOptions,
    check_output_dir,
    scenario_files,
    staging,
)
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
COUNTED = f"{HOUSEHOLDS}, {HOUSEHOLD_MONTHS}"
TABLE_HEADINGS = {  # kind of unit: heading of its table as read
    SHARES: f"Shares ({PERCENTAGE_POINTS})",
    COUNTS: f"Counts ({COUNTED})",
    MONEY: f"Money ({YUAN})",
}
SCENARIO = "Scenario"  # first column of a table as read


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


def difference_tables(diffs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The differences (`differences`) as read: one table per kind of unit.

    Args:
        diffs: ``arm``, ``outcome``, ``difference``, ``ci_low``, ``ci_high``.

    Returns:
        Heading (`TABLE_HEADINGS`: shares in percentage points, counts in households
        and household-months, money in yuan) -> a row per arm (``Scenario``) and a
        column per outcome of that kind named with its unit; each cell the mean paired
        difference and its 95% t CI, "+12 [5, 19]" (counts whole). Kinds no outcome
        has are left out.
    """
    kinds = {o: unit_kind(measure_unit(o)) for o in diffs["outcome"].unique()}
    return {
        heading: _by_arm(
            diffs[diffs["outcome"].map(kinds) == kind],
            _difference_heading,
            lambda row: format_estimate(
                row["difference"], row["ci_low"], row["ci_high"], measure_unit(row["outcome"])
            ),
        )
        for kind, heading in TABLE_HEADINGS.items()
        if kind in kinds.values()
    }


def _difference_heading(outcome: str) -> str:
    """An outcome with the unit of its differences ("Net exits (households)"; shares: pp)."""
    shares = unit_kind(measure_unit(outcome)) == SHARES
    return labelled(outcome, PERCENTAGE_POINTS if shares else None)


def cost_effectiveness_tables(costs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The cost-effectiveness (`cost_effectiveness`) as read: gains apart from money.

    Args:
        costs: ``arm``, ``outcome``, ``per``, ``extra_spending_yuan``, ``gain``,
            ``yuan_per_unit``, ``ci_low``, ``ci_high``, ``status``.

    Returns:
        ``Counts (households, household-months)``: each arm's mean gain per outcome
        (extra net exits, poor household-months averted), whole; ``Money (yuan)``: its
        mean extra spending and the yuan per unit of each gain with the 95% Fieller CI,
        or why that ratio is undefined.
    """
    spending = costs.drop_duplicates("arm").assign(outcome="extra_spending_yuan")
    return {
        TABLE_HEADINGS[COUNTS]: _by_arm(
            costs,
            _gain_heading,
            lambda row: format_difference(row["gain"], measure_unit(row["outcome"])),
        ),
        TABLE_HEADINGS[MONEY]: pd.concat(
            [
                _by_arm(spending, lambda _: labelled("extra_spending_yuan"), _extra_yuan),
                _by_arm(costs, _per_unit_heading, _yuan_per_unit).drop(columns=SCENARIO),
            ],
            axis=1,
        ),
    }


def _gain_heading(outcome: str) -> str:
    """Heading of one gain with its unit: "Extra net exits (households)"."""
    return f"{analysis.GAIN_WORDS[outcome].capitalize()} ({measure_unit(outcome)})"


def _extra_yuan(row: Mapping[Hashable, Any]) -> str:
    """An arm's mean extra spending against the reference (yuan, signed)."""
    return format_difference(row["extra_spending_yuan"], YUAN)


def _per_unit_heading(outcome: str) -> str:
    """Heading of the yuan per unit of one gain: "Yuan per extra net exit (yuan, 95% CI)"."""
    per = analysis.GAINS[outcome][1]
    return f"Yuan per {per} ({YUAN}, 95% Fieller CI)"


def _yuan_per_unit(row: Mapping[Hashable, Any]) -> str:
    """Yuan per unit of gain with its interval, or why it is undefined."""
    if row["status"] != DEFINED:
        return str(row["status"])
    bounds = ", ".join(format_amount(row[b], YUAN) for b in ("ci_low", "ci_high"))
    return f"{format_amount(row['yuan_per_unit'], YUAN)} [{bounds}]"


def _by_arm(
    rows: pd.DataFrame,
    heading: Callable[[str], str],
    cell: Callable[[Mapping[Hashable, Any]], str],
) -> pd.DataFrame:
    """A table as read: a row per arm (in order), a column per outcome (`heading`), `cell` each."""
    shown: dict[str, dict[str, str]] = {}
    for row in rows.to_dict("records"):
        shown.setdefault(heading(row["outcome"]), {})[row[ARM]] = cell(row)
    arms = list(dict.fromkeys(rows[ARM]))
    return pd.DataFrame(shown, index=arms).rename_axis(SCENARIO).reset_index()


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


def plot_comparison(
    comparison: Comparison,
    diffs: pd.DataFrame,
    out_dir: Path,
    figures: FigureOptions = PNG_FIGURES,
) -> list[Path]:
    """Every comparison figure into `out_dir`; the paths written (images, CSV, caption).

    Time axes are dated from the first arm's start (every arm shares it).
    """
    tables, label, reference = comparison.tables, comparison.label, comparison.reference
    start, formats, paper = comparison.arms[0].scenario.run.start, figures.formats, figures.paper
    monthly, activity = tables["monthly"], tables["activity"]
    return [
        *plot_poverty_by_arm(monthly, label, out_dir, start=start, formats=formats, paper=paper),
        *plot_flows_by_year(monthly, label, out_dir, start=start, formats=formats, paper=paper),
        *plot_activity_by_arm(activity, label, out_dir, start=start, formats=formats, paper=paper),
        *plot_employment_by_sex_carer(
            activity, label, out_dir, start=start, formats=formats, paper=paper
        ),
        *plot_poor_income_by_arm(
            tables["income"], label, out_dir, start=start, formats=formats, paper=paper
        ),
        *plot_workshops_by_arm(
            tables["workshops"], label, out_dir, start=start, formats=formats, paper=paper
        ),
        *plot_jobs_and_quota(
            monthly,
            quotas(comparison.arms),
            label,
            out_dir,
            start=start,
            formats=formats,
            paper=paper,
        ),
        *plot_spending_by_arm(tables["summary"], label, out_dir, formats=formats, paper=paper),
        *plot_cost_effectiveness(
            cost_effectiveness(comparison), reference, label, out_dir, formats=formats, paper=paper
        ),
        *plot_effects(diffs, reference, label, out_dir, formats=formats, paper=paper),
    ]


def write_comparison(
    comparison: Comparison, out_dir: Path, figures: FigureOptions = PNG_FIGURES
) -> pd.DataFrame:
    """Write a comparison's tables, differences, cost-effectiveness, figures and manifest.

    Written atomically: into a staging directory renamed into place.

    Args:
        comparison: the stacked runs.
        out_dir: output directory; an earlier output directory there is replaced.
        figures: the figures' formats and style.

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
            *plot_comparison(comparison, diffs, tmp / "plots", figures),
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
