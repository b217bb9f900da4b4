"""The Python interface for notebooks: run, compare and sweep scenarios, load and analyse results.

Each operation is what a ``wsim`` command does, returned as objects holding data frames
instead of printed: `run_scenario` (``wsim run`` over replicates; with ``vs``, ``wsim run
--vs``: paired effects against a counterfactual, `paired_effects`), `compare_scenarios`
(``wsim compare``), `run_sweep` (``wsim sweep``; a folder holding the same spec's sweep
is continued), `load` (any results folder: a run, a comparison or a sweep, told apart
by its manifest) and `SweepResults.analyze` (``wsim analyze``). Runs are made on any
executor of `experiments.executors` (`Serial` by default); results do not depend on it.

A scenario is named (``"default"``, ``"qingchuan"``, ``"calibrated/qingchuan"``: a file
of the project's ``scenarios/`` folder), given as a path, or built with `arm` from either
with dotted-key changes. Frames keep the column names of the model and of the files the
``wsim`` commands write; ``frame.attrs["units"]`` maps every column to its unit (see
`UNITS`). Tables whose rows hold several outcomes (paired differences and effects,
cost-effectiveness, Sobol and Morris indices) have an ``outcome_unit`` column; a value
column in the unit of its row's outcome has the unit `OUTCOME_UNIT` (``"outcome_unit"``).
"""

from __future__ import annotations

import json
import numbers
import os
import re
import warnings
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, overload

import pandas as pd

from experiments.analysis.effects import AnalysisError, analyze
from experiments.compare import (
    KIND,
    Arm,
    Comparison,
    comparison_arms,
    cost_effectiveness,
    differences,
    run_comparison,
    without_policy,
    write_comparison,
)
from experiments.executors import Executor, Serial
from experiments.figures.arms import REPLICATE
from experiments.intervals import DEFINED
from experiments.outputs import (
    MANIFEST,
    PNG_FIGURES,
    Counterfactual,
    FigureOptions,
    RunOutputs,
    counterfactual_warnings,
    run_warnings,
    write_run,
)
from experiments.provenance import REPO_ROOT, VERSION_KEY
from experiments.sweep import engine
from experiments.sweep.seeding import ARM
from experiments.sweep.spec import Spec, SpecError, load_spec
from experiments.sweep.store import StoreError, SweepData, SweepStore
from model.scenario import (
    Scenario,
    ScenarioError,
    field_unit,
    key_field,
    load_scenario,
    scenario_from_dict,
)
from model.simulate import RunResult

SCENARIO_DIR = REPO_ROOT / "scenarios"  # where scenario names are looked up
RESULTS_DIR = Path("results")  # sweeps go to results/<experiment name>/ by default
MIN_COMPARE_REPLICATES = 2  # a paired t interval needs two replicates
RUN_SIZE = ("households", "months", "seed")  # the [run] values every operation can replace
Kind = Literal["run", "comparison", "sweep"]
KINDS: dict[Kind, str] = {
    "run": "a run folder (written by wsim run or RunResults.save)",
    "comparison": "a comparison folder (written by wsim compare or ComparisonResults.save)",
    "sweep": "a sweep folder (written by wsim sweep or experiments.run_sweep)",
}
OUTCOME_UNIT = "outcome_unit"  # a value column in the unit of its row's outcome
ESTIMATE = "estimate"  # a paired effect or a ratio of them, in the row's outcome_unit
_LABEL = "-"  # the unit of a label: a name, a category, a flag or text

# Unit of every column of the run tables (`model.collection`, `model.simulate`,
# `model.panel`), of the stacked and stored frames and of the analysis tables. Monthly
# counts and money are those of the row's month; summary ones are over the whole run.
UNITS: dict[str, str] = {
    # which run, month and category a row is of
    ARM: _LABEL,
    REPLICATE: "index",
    "run_id": _LABEL,
    "month": "months since the start (0 = starting state)",
    "date": "YYYY-MM",
    "group": _LABEL,
    "source": _LABEL,
    "activity": _LABEL,
    "sex": _LABEL,
    "carer": _LABEL,
    "form": _LABEL,
    "status": _LABEL,
    "instrument": _LABEL,
    "household": "index",
    "village": "index",
    "registered_poor": _LABEL,
    "poor": _LABEL,
    # monthly
    "headcount": "share of people",
    "poverty_gap": "share of the poverty line",
    "severity": "squared share of the poverty line",
    "poor_households": "households",
    "exits": "households",
    "entries": "households",
    "re_entries": "households",
    "income_per_capita": "yuan per person per month",
    "poverty_line": "yuan per person per year",
    "spending": "yuan",
    "budget_remaining": "yuan",
    "workshops_open": "workshops",
    "jobs_filled": "people",
    "poor_workers": "people",
    "poor_share_of_jobs": "share of jobs filled",
    "workshop_applicants": "people",
    "workshop_refused": "people",
    "trainees": "people",
    "insured_workers": "people",
    "loans_issued_yuan": "yuan (cumulative)",
    # breakdowns
    "fgt0": "share of people",
    "fgt1": "share of the poverty line",
    "fgt2": "squared share of the poverty line",
    "people": "people",
    "yuan_per_capita": "yuan per person per month",
    "count": "workshops",
    "capacity": "workers",
    "certified": "workshops",
    "due": "yuan",
    "paid": "yuan",
    "earnings_yuan_per_month": "yuan per worker per month",
    "poor_gain_yuan_per_year": "yuan per worker per year",
    # summary
    "households": "households",
    "months": "months",
    "poor_households_start": "households",
    "poor_households_end": "households",
    "gross_exits": "households",
    "gross_entries": "households",
    "net_exits": "households",
    "stayed_out_12_months": "households",
    "mean_spell_months": "months",
    "poor_household_months": "household-months",
    "poor_households_final_12_mean": "households",
    "total_spending_yuan": "yuan",
    "income_gain_workshop_yuan": "yuan per person per year",
    "income_gain_other_yuan": "yuan per person per year",
    "income_gain_difference_yuan": "yuan per person per year",
    # household panel
    "size": "people",
    "income_per_capita_yuan": "yuan per person per year",
    "equity_yuan": "yuan",
    # sweep runs and failures
    "seconds": "s",
    "error": _LABEL,
    "traceback": _LABEL,
    # analysis tables
    "reference": _LABEL,
    "outcome": _LABEL,
    OUTCOME_UNIT: _LABEL,
    "rate": _LABEL,
    "input": _LABEL,
    "measure": _LABEL,
}
_PAIRED = {
    "n": "pairs",
    "baseline": OUTCOME_UNIT,
    "reference_mean": OUTCOME_UNIT,
    "arm_mean": OUTCOME_UNIT,
    "difference": OUTCOME_UNIT,
    "ci_low": OUTCOME_UNIT,
    "ci_high": OUTCOME_UNIT,
    "half_width_unpaired": OUTCOME_UNIT,
}
_PER_UNIT = "yuan per unit of gain (per, criterion)"
TABLE_UNITS: dict[str, dict[str, str]] = {  # analysis tables: their own columns' units
    "differences": _PAIRED,
    "paired_effects": _PAIRED | {ESTIMATE: OUTCOME_UNIT},
    "effects": _PAIRED,
    "rates": {
        "households": "households",
        "of": "households",
        "share": "share of households",
        "ci_low": "share of households",
        "ci_high": "share of households",
    },
    "cost_effectiveness": {
        "per": _LABEL,
        "n": "pairs",
        "extra_spending_yuan": "yuan",
        "gain": OUTCOME_UNIT,
        "yuan_per_unit": _PER_UNIT,
        "ci_low": _PER_UNIT,
        "ci_high": _PER_UNIT,
    },
    "instruments": {
        "spending_yuan": "yuan",
        "share": "share of the arm's spending",
        "extra_yuan": "yuan",
    },
    "ranking": {
        "crossed_level": _LABEL,
        "by": _LABEL,
        "criterion": _LABEL,
        "estimate": f"{OUTCOME_UNIT} (by effect) or {_PER_UNIT} (by cost)",
        "rank": "rank (1 = first, 0 = unranked)",
        "share_first": "share of bootstrap resamples",
        "unranked_because": _LABEL,
    },
    "adaptive": {
        "output": _LABEL,
        "target": "unit of the output",
        "max": "replicates",
        "replicates": "replicates",
        "widest": "unit of the output",
        "reached": _LABEL,
        "note": _LABEL,
    },
    "sobol": dict.fromkeys(("S1", "S1_conf", "ST", "ST_conf"), "share of the outcome's variance"),
    "morris": dict.fromkeys(
        ("mu", "mu_star", "mu_star_conf", "sigma"), f"{OUTCOME_UNIT} per full range of the input"
    ),
}
_PATTERN_UNITS = (
    (re.compile(r"spending_\w+_yuan"), "yuan"),
    (re.compile(r"workers_\w+"), "people"),
)
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class ResultsError(ValueError):
    """A folder that holds no results of the kind asked for: names it and what it holds."""


# ---------------------------------------------------------------------------- units


def scenario_key_unit(key: str) -> str | None:
    """The unit of a dotted scenario key (``policy.training.enabled``), None if no such key.

    A key inside a table of the scenario (``choice.option_constants.farming``) has the
    table's unit.
    """
    return field_unit(key_field(key))


def column_unit(column: str) -> str | None:
    """The unit of a column of a run table, a stored sweep or an analysis (None: unknown)."""
    if column in UNITS:
        return UNITS[column]
    for pattern, unit in _PATTERN_UNITS:
        if pattern.fullmatch(column):
            return unit
    return scenario_key_unit(column)


def with_units(
    frame: pd.DataFrame, table: str = "", extra: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """`frame` with ``attrs["units"]``: column -> unit, for every column whose unit is known.

    Args:
        frame: a table (left unchanged; a shallow copy is returned).
        table: its name, for the analysis tables whose columns have their own units
            (`TABLE_UNITS`).
        extra: units of columns known only to the caller (e.g. reform levers).
    """
    own = {**TABLE_UNITS.get(table, {}), **(extra or {})}
    units = {str(c): own.get(str(c)) or column_unit(str(c)) for c in frame.columns}
    shown = frame.copy(deep=False)
    shown.attrs["units"] = {c: u for c, u in units.items() if u is not None}
    return shown


def _with_outcome_unit(frame: pd.DataFrame) -> pd.DataFrame:
    """A table with an ``outcome`` column gets the unit of each row's outcome beside it."""
    if "outcome" not in frame.columns or OUTCOME_UNIT in frame.columns:
        return frame
    shown = frame.copy()
    shown.insert(
        list(shown.columns).index("outcome") + 1,
        OUTCOME_UNIT,
        [column_unit(str(o)) or "" for o in shown["outcome"]],
    )
    return shown


# ------------------------------------------------------------------------ scenarios


def scenario_file(source: str | Path) -> Path:
    """The scenario file a name or a path stands for.

    A `Path`, a string ending in ``.toml`` or naming an existing file is a path; any
    other string is a name in the project's ``scenarios/`` folder (``"default"``,
    ``"calibrated/qingchuan"``).

    Raises:
        ScenarioError: a name no scenario file has (the known names are listed).
    """
    if isinstance(source, Path) or source.endswith(".toml") or Path(source).is_file():
        return Path(source)
    path = SCENARIO_DIR / f"{source}.toml"
    if not path.is_file():
        names = sorted(
            p.relative_to(SCENARIO_DIR).with_suffix("").as_posix()
            for p in SCENARIO_DIR.rglob("*.toml")
            if "reforms" not in p.parts
        )
        raise ScenarioError(
            source, "(name)", f"a scenario name ({', '.join(names)}) or the path of a scenario file"
        )
    return path


def arm(
    source: str | Path | Arm, changes: Mapping[str, Any] | None = None, *, name: str | None = None
) -> Arm:
    """A scenario with changes, ready to `run_scenario` or to `compare_scenarios`.

    Args:
        source: a scenario name (``"default"``), the path of a scenario file, or an arm
            to change further.
        changes: dotted keys and their new values, each in the key's unit (see
            docs/ODD.md), e.g. ``{"policy.wage_subsidy.share_of_poor_wage_bill": 0.4}``
            (a share of poor workers' wages).
        name: the scenario's name: its label in comparison tables and figures
            [default: the file's ``name``].

    Returns:
        The arm: its label (the scenario's name), the scenario and the file it is based on.

    Raises:
        ScenarioError: an unknown name, an invalid file, or a change to a key the
            scenario does not have or to a value it does not accept (names the key).
    """
    if isinstance(source, Arm):
        scenario, path = source.scenario, source.path
    else:
        path = scenario_file(source)
        scenario = load_scenario(path)
    given = {**(changes or {}), **({"name": name} if name is not None else {})}
    if given:
        scenario = scenario.with_changes(given, origin=f"changes to {path.name}")
    return Arm(scenario.name, scenario, path)


def _sized(chosen: Arm, overrides: Mapping[str, int]) -> Arm:
    """The arm with its ``[run]`` households, months and seed replaced."""
    if not overrides:
        return chosen
    scenario = chosen.scenario.with_changes(
        {f"run.{k}": v for k, v in overrides.items()}, origin="run size"
    )
    return Arm(chosen.label, scenario, chosen.path)


def _run_overrides(households: int | None, months: int | None, seed: int | None) -> dict[str, int]:
    """The ``[run]`` values given (those left out are not included)."""
    given = dict(zip(RUN_SIZE, (households, months, seed), strict=True))
    return {key: value for key, value in given.items() if value is not None}


# ----------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class RunResults:
    """Replicates of one scenario: what `run_scenario` returns and `load` reads.

    Attributes:
        scenario: the scenario as run (changes and run size applied).
        file: the scenario file it is based on.
        replicates: the replicate indices run, in order.
        tables: every run table by name (monthly, the breakdowns poverty, activity,
            income, workshops, spending and jobs, summary, and the household panel when
            kept), the replicates stacked with ``replicate`` in front; units in
            ``attrs["units"]``.
        overrides: the ``[run]`` values given on top of the file (households, months,
            seed).
        warnings: what a reader of the results must know, over every replicate: a
            counterfactual that differs in more than workshops and policy
            (`experiments.outputs.counterfactual_warnings`), then for the scenario and its
            counterfactual instruments with no workshop of a form they pay for and claims
            the budget left unpaid (`experiments.outputs.run_warnings`).
        counterfactual: the scenario the runs were compared with (``vs``), with the
            paired effects; None without one.
    """

    scenario: Scenario
    file: Path
    replicates: tuple[int, ...]
    tables: dict[str, pd.DataFrame]
    overrides: dict[str, int]
    warnings: tuple[str, ...] = ()
    counterfactual: Counterfactual | None = None

    @property
    def monthly(self) -> pd.DataFrame:
        """One row per replicate and month: poverty, flows, income, spending, jobs."""
        return self.tables["monthly"]

    @property
    def summary(self) -> pd.DataFrame:
        """One row per replicate: exits, poor household-months, spells, spending (yuan)."""
        return self.tables["summary"]

    @property
    def effects(self) -> pd.DataFrame | None:
        """Paired effects against the counterfactual with 95% intervals (`paired_effects`).

        None for runs without a counterfactual.
        """
        return None if self.counterfactual is None else self.counterfactual.effects

    def result(self, replicate: int) -> RunResult:
        """One replicate's tables, as `model.simulate.simulate` returns them.

        Raises:
            KeyError: a replicate that was not run.
        """
        if replicate not in self.replicates:
            raise KeyError(f"replicate {replicate}: expected one of {list(self.replicates)}")
        rows = {
            name: table[table[REPLICATE] == replicate]
            .drop(columns=REPLICATE)
            .reset_index(drop=True)
            for name, table in self.tables.items()
        }
        monthly, summary, panel = (rows.pop(n, None) for n in ("monthly", "summary", "panel"))
        assert monthly is not None and summary is not None  # every run has both
        return RunResult(monthly, rows, summary, panel)

    def save(self, out: str | Path, replicate: int | None = None) -> Path:
        """Write one replicate as a run folder (as ``wsim run`` does); returns the folder.

        The manifest holds `warnings`; with a counterfactual, the folder holds the paired
        effects too (``paired_effects.csv``, as ``wsim run --vs`` writes it).

        Args:
            out: the folder; an earlier run folder there is replaced.
            replicate: the replicate written [default: the first].

        Raises:
            OutputError: `out` holds other files, or a parent of it is a file.
        """
        return save_run(self, Path(out), replicate).directory


def save_run(
    results: RunResults,
    out: Path,
    replicate: int | None = None,
    figures: FigureOptions = PNG_FIGURES,
) -> RunOutputs:
    """`RunResults.save`, returning where each table and figure went.

    The tables are those of `replicate` (the first run by default); the figures show
    every replicate run (their mean and a 95% band) when there are several.
    """
    chosen = results.replicates[0] if replicate is None else replicate
    return write_run(
        results.result(chosen),
        results.scenario,
        results.file,
        out,
        replicate=chosen,
        overrides=results.overrides,
        warnings=results.warnings,
        counterfactual=results.counterfactual,
        figures=figures,
        replicate_results=[results.result(r) for r in results.replicates],
    )


def run_scenario(
    scenario: str | Path | Arm,
    changes: Mapping[str, Any] | None = None,
    *,
    replicates: int = 1,
    households: int | None = None,
    months: int | None = None,
    seed: int | None = None,
    vs: str | Path | Arm | None = None,
    executor: Executor | None = None,
) -> RunResults:
    """Run replicates 0..R-1 of a scenario, alone or against a counterfactual.

    Args:
        scenario: a scenario name (``"default"``), the path of a scenario file, or an `arm`.
        changes: dotted keys and their new values, in each key's unit.
        replicates: replicates to run; with the seed, each fixes every random stream.
            At least 2 with `vs` (for the paired intervals).
        households: simulated households [default: the scenario's].
        months: simulated months from the scenario's start [default: the scenario's].
        seed: root seed of the random streams [default: the scenario's].
        vs: the counterfactual: ``"no-policy"`` (`NO_POLICY`: the same county without
            workshops or instruments), or a scenario name, path or `arm`; run on the same
            replicates with the scenario's seed, start, households and months (common
            random numbers); the result then holds the paired effects (`paired_effects`).
        executor: where runs are made, not yet entered [default: `Serial`, this process].

    Returns:
        The replicates' tables, stacked, with the warnings on them and, with `vs`, the
        counterfactual and the paired effects.

    Raises:
        ScenarioError: as `arm`, or a run size the scenario does not accept.
        CompareError: a scenario and counterfactual that neither names nor file names
            tell apart (give one a name with `arm`).
        ValueError: fewer than one replicate, or fewer than 2 with `vs`.
    """
    least = 1 if vs is None else MIN_COMPARE_REPLICATES
    if replicates < least:
        with_vs = "" if vs is None else " with vs"
        raise ValueError(
            f"replicates: expected a whole number >= {least}{with_vs}, got {replicates}"
        )
    overrides = _run_overrides(households, months, seed)
    chosen = _sized(arm(scenario, changes), overrides)
    arms, notes = (
        ([chosen], [])
        if vs is None
        else counterfactual_arms(chosen, counterfactual_arm(vs, chosen))
    )
    with executor or Serial() as entered:
        stacked = run_comparison(arms, replicates, entered)
    return run_results(Comparison(arms, replicates, stacked, notes, overrides))


NO_POLICY = "no-policy"  # the counterfactual: the same county without workshops or instruments
BASELINE = "baseline"  # the scenario whose workshops and policy `NO_POLICY` takes


def counterfactual_arm(source: str | Path | Arm, scenario: Arm) -> Arm:
    """The counterfactual `source` of `scenario`: `NO_POLICY`, a scenario name or file, or an arm.

    `NO_POLICY` is the scenario itself with the baseline's workshops and policy (none):
    the same county, households, dates and shocks, so the paired difference is what its
    policy and workshops did.
    """
    if source != NO_POLICY:
        return arm(source)
    own = without_policy(scenario.scenario, load_scenario(scenario_file(BASELINE)))
    return Arm(own.name, own, scenario.path)


def counterfactual_arms(scenario: Arm, vs: Arm) -> tuple[list[Arm], list[str]]:
    """A scenario and its counterfactual as arms of a comparison, the counterfactual first.

    The counterfactual is the reference; both run with the scenario's seed, households
    and months.

    Returns:
        The two arms, and one note per value of the counterfactual's ``[run]`` replaced.

    Raises:
        CompareError: neither their names nor their file names tell them apart.
    """
    arms, notes = comparison_arms([(scenario.path, scenario.scenario), (vs.path, vs.scenario)])
    return arms[::-1], notes


def run_results(comparison: Comparison) -> RunResults:
    """The runs of a comparison's last arm, against the first when there are two.

    Args:
        comparison: one arm (a scenario alone), or a counterfactual and a scenario
            (`counterfactual_arms`), run on replicates 0..R-1.
    """
    *others, own = comparison.arms
    tables = {
        one.label: {name: _rows_of(table, one.label) for name, table in comparison.tables.items()}
        for one in comparison.arms
    }
    warnings = [
        *(
            line
            for other in others
            for line in counterfactual_warnings(own.scenario, other.scenario)
        ),
        *(
            line
            for one in reversed(comparison.arms)
            for line in run_warnings(one.scenario, tables[one.label], one.label)
        ),
    ]
    counterfactual = (
        Counterfactual(
            others[0].scenario,
            others[0].path,
            comparison.replicates,
            with_units(paired_effects(comparison), "paired_effects"),
            comparison.notes,
        )
        if others
        else None
    )
    return RunResults(
        own.scenario,
        own.path,
        tuple(range(comparison.replicates)),
        tables[own.label],
        comparison.overrides,
        tuple(warnings),
        counterfactual,
    )


@dataclass(frozen=True)
class PairedMeasure:
    """A row of `paired_effects`: where its numbers come from and how it reads.

    Attributes:
        source: the outcome in `differences` (a summary column), or for a ratio the gain
            it divides spending by (a costed outcome of `cost_effectiveness`).
        measure: the row in words, with its unit where the words do not say it.
        unit: the unit of its estimate and interval.
        sign: 1 for scenario - counterfactual, -1 for counterfactual - scenario.
    """

    source: str
    measure: str
    unit: str
    sign: int = 1


PAIRED_DIFFERENCES = {  # outcome of a `paired_effects` row: its measure (t interval)
    "net_exits": PairedMeasure("net_exits", "net exits (households)", "households"),
    "poor_household_months_averted": PairedMeasure(
        "poor_household_months", "poor household-months averted", "household-months", -1
    ),
    "poor_households_final_12_mean": PairedMeasure(
        "poor_households_final_12_mean", "mean poor households, final year", "households"
    ),
    "poor_households_end": PairedMeasure(
        "poor_households_end", "poor households at the end", "households"
    ),
    "total_spending_yuan": PairedMeasure("total_spending_yuan", "total spending (yuan)", "yuan"),
}
PAIRED_RATIOS = {  # outcome of a `paired_effects` row: its measure (Fieller interval)
    "yuan_per_extra_net_exit": PairedMeasure(
        "net_exits", "yuan per extra net exit", "yuan per net exit"
    ),
    "yuan_per_poor_household_month_averted": PairedMeasure(
        "poor_household_months", "yuan per household-month averted", "yuan per household-month"
    ),
}


def paired_effects(comparison: Comparison) -> pd.DataFrame:
    """A scenario's effects against its counterfactual, paired by replicate, 95% intervals.

    The comparison's last arm against its first (`counterfactual_arms`); each replicate
    of one is paired with the same replicate of the other (common random numbers).
    Differences (`PAIRED_DIFFERENCES`, t intervals of `experiments.compare.differences`):
    net exits, poor household-months averted (months 1..T spent poor by the households
    poor at month 0: the counterfactual's less the scenario's), poor households (mean of
    the final 12 months, and at the end) and total spending. Ratios (`PAIRED_RATIOS`,
    Fieller intervals): extra spending per extra net exit and per poor household-month
    averted, "undefined" (no estimate) where the effect divided by has an interval
    containing 0.

    Returns:
        One row per measure: ``outcome``, ``measure`` (in words), ``outcome_unit``,
        ``n`` (pairs), ``estimate``, ``ci_low``, ``ci_high`` (in ``outcome_unit``) and
        ``status`` (``defined``, or why a ratio is undefined).
    """
    scenario = comparison.arms[-1].label
    found = differences(comparison).rename(columns={"difference": ESTIMATE})
    costs = cost_effectiveness(comparison).rename(columns={"yuan_per_unit": ESTIMATE})
    sources = (
        (found.assign(status=DEFINED), PAIRED_DIFFERENCES),
        (costs, PAIRED_RATIOS),
    )
    return pd.DataFrame(
        [
            _paired_row(outcome, measure, rows[measure.source])
            for table, measures in sources
            for rows in [table[table[ARM] == scenario].set_index("outcome").to_dict("index")]
            for outcome, measure in measures.items()
        ]
    )


def _paired_row(
    outcome: str, measure: PairedMeasure, row: Mapping[Hashable, Any]
) -> dict[str, Any]:
    """A row of `paired_effects` from a row of differences or of cost-effectiveness."""
    low, high = row["ci_low"], row["ci_high"]
    if measure.sign < 0:
        low, high = -high, -low
    return {
        "outcome": outcome,
        "measure": measure.measure,
        OUTCOME_UNIT: measure.unit,
        "n": int(row["n"]),
        ESTIMATE: measure.sign * row[ESTIMATE],
        "ci_low": low,
        "ci_high": high,
        "status": row["status"],
    }


def _rows_of(table: pd.DataFrame, label: str) -> pd.DataFrame:
    """One arm's rows of a stacked comparison table, without ``arm``; units in attrs."""
    rows = table[table[ARM] == label].drop(columns=ARM).reset_index(drop=True)
    return with_units(rows)


# ---------------------------------------------------------------------- comparisons


@dataclass(frozen=True)
class ComparisonResults:
    """Scenarios run on common random numbers: what `compare_scenarios` returns and `load` reads.

    Attributes:
        comparison: the arms (the reference first), replicates, stacked tables, notes on
            the run values aligned to the reference's, and the ``[run]`` values given.
    """

    comparison: Comparison

    @property
    def reference(self) -> str:
        """Label of the arm every other is compared with."""
        return self.comparison.reference

    @property
    def arms(self) -> list[str]:
        """Labels of the arms, the reference first."""
        return [a.label for a in self.comparison.arms]

    @property
    def notes(self) -> list[str]:
        """Run values of an arm replaced by the reference's, so all share one seed and size."""
        return self.comparison.notes

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every run table, stacked with ``arm`` and ``replicate`` in front; units in attrs."""
        return self.comparison.tables

    @property
    def monthly(self) -> pd.DataFrame:
        """One row per arm, replicate and month."""
        return self.tables["monthly"]

    @property
    def summary(self) -> pd.DataFrame:
        """One row per arm and replicate."""
        return self.tables["summary"]

    @cached_property
    def differences(self) -> pd.DataFrame:
        """Mean paired difference of each arm from the reference, with its 95% t CI.

        One row per arm and outcome (final headcount, net exits, poor household-months,
        poor households over the final 12 months and at the end, gross exits, final
        income per capita, total spending), as ``differences.csv``, with the outcome's
        unit in ``outcome_unit``.
        """
        return with_units(_with_outcome_unit(differences(self.comparison)), "differences")

    @cached_property
    def cost_effectiveness(self) -> pd.DataFrame:
        """Extra spending per unit of gain of each arm against the reference (yuan).

        One row per arm and gain (extra net exits, poor household-months averted), as
        ``cost_effectiveness.csv``: ``yuan_per_unit`` with its 95% Fieller interval
        (``ci_low``, ``ci_high``), empty where ``status`` says the ratio is undefined
        (the gain's own interval contains 0).
        """
        return with_units(
            _with_outcome_unit(cost_effectiveness(self.comparison)), "cost_effectiveness"
        )

    def save(self, out: str | Path) -> Path:
        """Write the comparison folder (as ``wsim compare`` does); returns the folder.

        Raises:
            OutputError: `out` holds other files, or a parent of it is a file.
        """
        write_comparison(self.comparison, Path(out))
        return Path(out)


def compare_scenarios(
    reference: str | Path | Arm,
    *arms: str | Path | Arm,
    replicates: int,
    households: int | None = None,
    months: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
) -> ComparisonResults:
    """Run scenarios on the same replicates and compare each with the reference.

    Every arm runs replicates 0..R-1 with the reference's seed, households and months
    (or the ones given), so at replicate r all start from the same households and see
    the same shocks: a difference is the policy's effect, not chance.

    Args:
        reference: the scenario the others are compared with (name, path or `arm`).
        *arms: the scenarios compared with it; labels are their names (file names when
            names repeat).
        replicates: replicates per arm, at least 2 (for the paired t interval).
        households: simulated households of every arm [default: the reference's].
        months: simulated months of every arm [default: the reference's].
        seed: root seed of every arm [default: the reference's].
        executor: where runs are made, not yet entered [default: `Serial`].

    Raises:
        ScenarioError: as `arm`, or a run size a scenario does not accept.
        CompareError: arms that neither names nor file names tell apart.
        ValueError: no arm besides the reference, or fewer than 2 replicates.
    """
    if not arms:
        raise ValueError("arms: expected at least one scenario to compare with the reference")
    if replicates < MIN_COMPARE_REPLICATES:
        raise ValueError(
            f"replicates: expected a whole number >= {MIN_COMPARE_REPLICATES}, got {replicates}"
        )
    overrides = _run_overrides(households, months, seed)
    chosen = [_sized(arm(a), overrides) for a in (reference, *arms)]
    aligned, notes = comparison_arms([(a.path, a.scenario) for a in chosen])
    with executor or Serial() as entered:
        stacked = run_comparison(aligned, replicates, entered)
    tables = {name: with_units(table) for name, table in stacked.items()}
    return ComparisonResults(Comparison(aligned, replicates, tables, notes, overrides))


# --------------------------------------------------------------------------- sweeps


@dataclass
class SweepResults(SweepData):
    """A sweep folder, as `run_sweep` returns and `load` reads: its stored runs and manifest.

    The frames of `SweepData` (``runs``, ``monthly``, ``summary``, ``failures``,
    ``panel``), each with ``attrs["units"]``, so the analysis functions of
    `experiments.analysis.effects` take it as they take the store's frames.

    Attributes:
        folder: the sweep folder.
        manifest: what the sweep is: the spec (text, parsed form, hash), code and
            package versions, its sessions.
    """

    folder: Path
    manifest: dict[str, Any]

    @cached_property
    def spec(self) -> Spec:
        """The sweep's spec, re-read from the manifest's copy of its text.

        Raises:
            StoreError: the base scenario or a reform file changed since the sweep started.
            SpecError: the stored spec no longer validates.
        """
        return engine.open_sweep(self.folder)[1]

    def analyze(self) -> dict[str, pd.DataFrame]:
        """The analysis ``wsim analyze`` prints, by table name.

        ``effects`` (paired differences from each arm's reference, 95% t CI),
        ``rates`` (shares of households, Wilson 95% CI), ``cost_effectiveness`` (yuan per
        extra net exit and per poor household-month averted, 95% Fieller CI, "undefined"
        where the gain's interval contains 0), ``ranking`` (arms by gain and by cost, with
        the share of resamples in which each ranks first), ``instruments`` (spending by
        instrument, yuan), ``adaptive`` (where adaptive replicates stopped), and ``sobol``
        or ``morris`` indices for those designs; each table that the design supports.

        Raises:
            AnalysisError: the results cannot give the analysis (names the folder).
            StoreError, SpecError: as `spec`.
        """
        try:
            tables = analyze(self.spec, self)
        except AnalysisError as err:
            raise AnalysisError(f"{self.folder}: {err}") from err
        return {name: with_units(_with_outcome_unit(table), name) for name, table in tables.items()}


def spec_from_dict(data: Mapping[str, Any], directory: str | Path = ".") -> Spec:
    """A sweep spec given as a dictionary, validated like a spec file of the same content.

    The dictionary has the tables and keys of a spec file (docs/sweeps.md), and a
    ``name``; the spec is the one a file ``<directory>/<name>.toml`` holding them would
    give, with the same hash: a sweep started from either resumes from the other.

    Args:
        data: the spec: name, base, seed, run, levers, uncertainties, design,
            replicates, outputs.
        directory: the folder the ``base`` scenario and reform files are relative to.

    Raises:
        SpecError: naming the first offending key and what was expected.
    """
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise SpecError(
            Path(directory) / "<dict>",
            "name",
            "an experiment name (it names the results folder) for a spec given as a dictionary",
        )
    path = Path(directory) / f"{name}.toml"
    return load_spec(path, "\n".join(_toml_lines(data, path)) + "\n")


def run_sweep(
    spec: Spec | str | Path | Mapping[str, Any],
    out: str | Path | None = None,
    *,
    executor: Executor | None = None,
    runs_per_task: int | None = None,
) -> SweepResults:
    """Run every run of a sweep into a resumable folder, and read it back.

    A folder holding this spec's sweep is continued (runs done or failed are not run
    again), so calling `run_sweep` again after an interruption finishes the sweep.

    Args:
        spec: a spec file (path), a dictionary (`spec_from_dict`, relative paths from the
            working directory) or a loaded `Spec`.
        out: the sweep folder [default: ``results/<experiment name>``].
        executor: where runs are made, not yet entered [default: `Serial`].
        runs_per_task: runs per executor task [default: about 16 tasks per worker, at
            most 8 runs].

    Raises:
        SpecError: an invalid spec (names the file or dictionary key).
        StoreError: `out` holds another spec's sweep or other files, or cannot be written.
        ExecutorError: the executor cannot start (e.g. an unreachable Dask scheduler).
    """
    if isinstance(spec, Mapping):
        spec = spec_from_dict(spec)
    elif not isinstance(spec, Spec):
        spec = load_spec(spec)
    store = SweepStore(Path(out) if out is not None else RESULTS_DIR / spec.name)
    store.check_usable(engine.spec_hash(spec))
    with executor or Serial() as entered, store.writer():
        repair = engine.start(spec, store, type(entered).__name__.lower(), entered.workers)
        for note in repair.notes():
            warnings.warn(note, stacklevel=2)
        engine.run_sweep(spec, store, entered, runs_per_task=runs_per_task)
    return load(store.directory, "sweep")


def _toml_lines(table: Mapping[str, Any], origin: Path, header: str = "") -> list[str]:
    """A table of a spec as TOML lines: its values, then each sub-table under its header."""
    keys = {str(k): f"{header}.{_toml_key(str(k))}" if header else _toml_key(str(k)) for k in table}
    values = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
    lines = [f"[{header}]"] if header and (values or not table) else []
    lines += [
        f"{_toml_key(str(k))} = {_toml_value(v, origin, keys[str(k)])}"
        for k, v in values.items()
        if v is not None
    ]  # TOML has no null: a key left out takes its default
    for key, sub in table.items():
        if isinstance(sub, Mapping):
            lines += _toml_lines(sub, origin, keys[str(key)])
    return lines


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def _toml_value(value: Any, origin: Path, key: str) -> str:
    """A TOML value: text, a whole number, a number, true/false or a list of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))  # TOML writes floats as Python does, inf and nan too
    if isinstance(value, os.PathLike):
        return _toml_string(Path(value).as_posix())
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v, origin, key) for v in value) + "]"
    raise SpecError(
        origin,
        key,
        f"text, a number, true or false, a list or a table, got {type(value).__name__} {value!r}",
    )


# ---------------------------------------------------------------------------- loading


@overload
def load(folder: str | Path, kind: Literal["run"], *, panel: bool = True) -> RunResults: ...


@overload
def load(
    folder: str | Path, kind: Literal["comparison"], *, panel: bool = True
) -> ComparisonResults: ...


@overload
def load(folder: str | Path, kind: Literal["sweep"], *, panel: bool = True) -> SweepResults: ...


@overload
def load(
    folder: str | Path, kind: None = None, *, panel: bool = True
) -> RunResults | ComparisonResults | SweepResults: ...


def load(
    folder: str | Path, kind: Kind | None = None, *, panel: bool = True
) -> RunResults | ComparisonResults | SweepResults:
    """Read a results folder: a run, a comparison or a sweep, told apart by its manifest.

    Args:
        folder: the results folder.
        kind: the kind expected (``"run"``, ``"comparison"`` or ``"sweep"``) [default: any].
        panel: read the household panel too, if the folder holds one (large).

    Raises:
        ResultsError: `folder` holds no results folder, or one of another kind than
            `kind`; the message names the folder and what it holds.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind: expected one of {', '.join(KINDS)} or None, got {kind!r}")
    folder = Path(folder)
    manifest = _manifest(folder)
    found = folder_kind(manifest)
    if found is None:
        raise ResultsError(
            f"{folder}: expected {kind and KINDS[kind] or 'a results folder'}, "
            f"found a {MANIFEST} of none of these (its keys: "
            f"{', '.join(list(manifest)[:8])})"
        )
    if kind is not None and found != kind:
        raise ResultsError(f"{folder}: expected {KINDS[kind]}, found {KINDS[found]}")
    if found == "run":
        return _load_run(folder, manifest, panel)
    if found == "comparison":
        return _load_comparison(folder, manifest)
    return _load_sweep(folder, manifest, panel)


def folder_kind(manifest: Mapping[str, Any]) -> Kind | None:
    """The kind of results folder a manifest describes (None: none of them).

    A sweep's manifest has a ``spec_hash``, a comparison's ``"kind": "compare"``, a
    run's the scenario name and the code version.
    """
    if "spec_hash" in manifest:
        return "sweep"
    if manifest.get("kind") == KIND:
        return "comparison"
    if VERSION_KEY in manifest and "scenario_name" in manifest:
        return "run"
    return None


def _manifest(folder: Path) -> dict[str, Any]:
    """A folder's manifest, or ResultsError naming the folder and what it holds."""
    expected = "expected a results folder (of a run, a comparison or a sweep)"
    if not folder.is_dir():
        found = "a file" if folder.exists() else "nothing there"
        raise ResultsError(f"{folder}: {expected}, found {found}")
    path = folder / MANIFEST
    if not path.is_file():
        held = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())
        found = (
            f"no {MANIFEST} among its {len(held)} entries ({', '.join(held[:6])}"
            f"{', ...' if len(held) > 6 else ''})"
            if held
            else "an empty folder"
        )
        raise ResultsError(f"{folder}: {expected}, found {found}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ResultsError(
            f"{folder}: {expected}, found a {MANIFEST} that is not readable JSON ({err})"
        ) from err
    if not isinstance(manifest, dict):
        raise ResultsError(f"{folder}: {expected}, found a {MANIFEST} that is not a JSON object")
    return manifest


def _stored_scenario(folder: Path, dumped: dict[str, Any]) -> Scenario:
    """A scenario as a manifest stores it (its resolved form)."""
    return scenario_from_dict(dumped, folder / MANIFEST)


def _load_run(folder: Path, manifest: dict[str, Any], panel: bool) -> RunResults:
    replicate = int(manifest["replicate"])
    tables = {}
    for name in manifest["tables"]:
        if name == "panel" and not panel:
            continue
        table = pd.read_parquet(folder / "tables" / f"{name}.parquet")
        table.insert(0, REPLICATE, replicate)
        tables[name] = with_units(table)
    return RunResults(
        _stored_scenario(folder, manifest["scenario"]),
        Path(manifest["scenario_file"]),
        (replicate,),
        tables,
        dict(manifest["overrides"]),
        tuple(manifest.get("warnings", ())),  # folders written before warnings have none
        _stored_counterfactual(folder, manifest.get("counterfactual")),
    )


def _stored_counterfactual(folder: Path, stored: dict[str, Any] | None) -> Counterfactual | None:
    """The counterfactual a run folder's manifest records, with its paired effects."""
    if stored is None:
        return None
    return Counterfactual(
        _stored_scenario(folder, stored["scenario"]),
        Path(stored["scenario_file"]),
        int(stored["replicates"]),
        with_units(pd.read_csv(folder / stored["effects"]), "paired_effects"),
        list(stored["aligned"]),
    )


def _load_sweep(folder: Path, manifest: dict[str, Any], panel: bool) -> SweepResults:
    store = SweepStore(folder)
    try:
        store.sweep_manifest()
    except StoreError as err:
        raise ResultsError(str(err)) from err
    data = store.load(panel)
    levers = manifest.get("spec", {}).get("levers", {})
    reforms = {name: _LABEL for name, lever in levers.items() if lever.get("reforms")}
    frames = {f.name: with_units(getattr(data, f.name), extra=reforms) for f in fields(data)}
    return SweepResults(**frames, folder=folder, manifest=manifest)


def _load_comparison(folder: Path, manifest: dict[str, Any]) -> ComparisonResults:
    arms = [
        Arm(s["arm"], _stored_scenario(folder, s["scenario"]), Path(s["file"]))
        for s in manifest["scenarios"]
    ]
    stored = [
        Path(f) for f in manifest["files"] if f.startswith("tables/") and f.endswith(".parquet")
    ]
    tables = {path.stem: with_units(pd.read_parquet(folder / path)) for path in stored}
    return ComparisonResults(
        Comparison(
            arms,
            int(manifest["replicates"]),
            tables,
            list(manifest["aligned"]),
            dict(manifest["overrides"]),
        )
    )


__all__ = [
    "ComparisonResults",
    "ResultsError",
    "RunResults",
    "SweepResults",
    "arm",
    "compare_scenarios",
    "load",
    "run_scenario",
    "run_sweep",
    "spec_from_dict",
]
