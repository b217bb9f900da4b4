"""Write one run's outputs: tables (parquet + CSV), figures and a manifest, atomically.

Layout of an output directory::

    manifest.json             what was run, from which files, with which code, and
                              the run's warnings (`run_warnings`)
    tables/<name>.parquet     every table of the run (and the same as <name>.csv),
                              the household panel (panel) among them if the run kept one
    plots/<figure>.png        figures (and .svg on request), with the plotted numbers in
                              <figure>.csv and the run's details in <figure>.txt
    paired_effects.csv        only for a run against a counterfactual (`Counterfactual`)

Everything is built in a hidden temporary sibling directory and renamed into place at
the end, so an error never leaves a half-written directory; an earlier output directory
at the same place is replaced only once the new one is complete.

A run warns when its policy pays for a workshop form no workshop of which was open (the
instrument did nothing), and when the budget ran out (claims unpaid, by instrument).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import secrets
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.figures.arms import REPLICATE
from experiments.figures.run import plot_run
from experiments.provenance import VERSION_KEY, code_version
from experiments.sweep.store import shown
from model.policy import INSTRUMENT_CLASSES
from model.scenario import Policy, Scenario, extends_chain
from model.simulate import RunResult
from model.workshops import FORM_FIELDS, MONTHS_PER_YEAR

MANIFEST = "manifest.json"  # its `VERSION_KEY` marks a directory as written by write_run
PAIRED_EFFECTS = "paired_effects.csv"  # a run's effects against its counterfactual
ANY_FORM = tuple(FORM_FIELDS.values())
FORMS_PAID: dict[str, tuple[str, ...]] = {  # instrument: the workshop forms it pays for
    name: tuple(FORM_FIELDS[form] for form in cls.forms_paid)
    for name, cls in INSTRUMENT_CLASSES.items()
    if cls.forms_paid is not None
}
PRESENTED_AGAIN = frozenset(name for name, cls in INSTRUMENT_CLASSES.items() if cls.claims_wait)
NOT_CLOSED = ("open", "idle")  # workshop statuses in which the policy pays for a workshop
POLICY_WORLD = (
    "name",
    "description",
    "workshops",
    "policy",
    "choice.flexible_hours",  # whether carers may walk to a workshop: only workshops use it
)  # what a counterfactual may change; a difference elsewhere is not the policy's effect
SHOWN_KEYS = 6  # differing keys a warning names before "and N more"
UNPAID_MIN_YUAN = 0.01  # less unpaid than a fen is rounding


class OutputError(ValueError):
    """An output directory that cannot be used (names the path and what was expected)."""


@dataclass(frozen=True)
class Counterfactual:
    """What a run was compared with (``wsim run --vs``), and the paired effects.

    Attributes:
        scenario: the counterfactual scenario as run (with the run's seed, households and
            months).
        file: the scenario file it is based on.
        replicates: replicates 0..R-1 of the run and of the counterfactual, paired on
            common random numbers.
        effects: the run's effects against it, one row per outcome (written to
            `PAIRED_EFFECTS`).
        notes: the counterfactual's own run values replaced by the run's.
    """

    scenario: Scenario
    file: Path
    replicates: int
    effects: pd.DataFrame
    notes: list[str]

    def manifest(self) -> dict[str, Any]:
        """Its entry in the run's manifest (JSON-ready)."""
        return {
            "scenario_name": self.scenario.name,
            "scenario_file": str(self.file),
            "scenario_files": scenario_files(self.file),
            "replicates": self.replicates,
            "aligned": self.notes,
            "effects": PAIRED_EFFECTS,
            "scenario": self.scenario.model_dump(mode="json"),
        }


@dataclass(frozen=True)
class FigureOptions:
    """How figures are written: PNG always, SVG on request; default or paper style.

    Attributes:
        svg: also write each figure as SVG beside its PNG.
        paper: short titles without run metadata, which goes to each figure's caption.
    """

    svg: bool = False
    paper: bool = False

    @property
    def formats(self) -> tuple[str, ...]:
        """The image formats written, as file suffixes without the dot."""
        return ("png", "svg") if self.svg else ("png",)


PNG_FIGURES = FigureOptions()  # the default: PNG figures in the default style


@dataclass(frozen=True)
class RunOutputs:
    """Where a run's outputs went.

    Attributes:
        directory: the output directory.
        manifest: its manifest.json.
        tables: parquet file of each table, by table name (the CSV is beside it).
        plots: every figure file written (PNG, SVG and CSV of each figure).
    """

    directory: Path
    manifest: Path
    tables: dict[str, Path]
    plots: list[Path]


def check_output_dir(out_dir: Path) -> None:
    """Refuse an output directory that writing would damage.

    A new path, an empty directory or an earlier output directory (one holding a
    manifest written by `write_run`) may be used; anything else is left alone.

    Raises:
        OutputError: if `out_dir` or one of its parents is a file, `out_dir` is a
            directory with other contents, or the system refuses the path (too long).
    """
    path = out_dir.absolute()
    try:
        existing = next(p for p in (path, *path.parents) if p.exists())
    except OSError as err:  # e.g. a name longer than the file system allows
        raise OutputError(
            f"{shown(out_dir)}: a path the system accepts ({err.strerror or err})"
        ) from None
    if not existing.is_dir():
        raise OutputError(f"{out_dir}: expected a directory path, but {existing} is a file")
    if existing != path:
        return
    if any(out_dir.iterdir()) and not _is_output_dir(out_dir):
        raise OutputError(
            f"{out_dir}: expected a new or empty directory or an earlier "
            f"wsim output directory (with {MANIFEST}); it holds other files, "
            "which would be replaced"
        )


def write_run(
    result: RunResult,
    scenario: Scenario,
    scenario_path: Path,
    out_dir: Path,
    *,
    replicate: int = 0,
    overrides: Mapping[str, int] | None = None,
    warnings: Sequence[str] | None = None,
    counterfactual: Counterfactual | None = None,
    figures: FigureOptions = PNG_FIGURES,
    replicate_results: Sequence[RunResult] = (),
) -> RunOutputs:
    """Write a run's tables, figures and manifest into `out_dir`, atomically.

    Args:
        result: the run's tables.
        scenario: the scenario as run (overrides applied).
        scenario_path: the TOML file it was loaded from.
        out_dir: output directory; an earlier output directory there is replaced.
        replicate: replicate index of the run.
        overrides: `[run]` values given on top of the file (e.g. ``{"months": 3}``).
        warnings: the manifest's warnings [default: `run_warnings` of this run].
        counterfactual: what the run was compared with; its paired effects are written
            to `PAIRED_EFFECTS`.
        figures: the figures' formats and style.
        replicate_results: every replicate of the scenario run (`result` among them):
            with two or more, the figures show their mean and a 95% band.

    Returns:
        Where everything went (paths inside `out_dir`).

    Raises:
        OutputError: if `out_dir` is not safe to replace (see `check_output_dir`).
    """
    check_output_dir(out_dir)
    if warnings is None:
        warnings = run_warnings(scenario, result.all_tables())
    with staging(out_dir) as tmp:
        tables = write_tables(result, tmp / "tables")
        drawn = list(replicate_results) if len(replicate_results) > 1 else result
        plots = plot_run(
            drawn,
            scenario,
            tmp / "plots",
            replicate,
            formats=figures.formats,
            paper=figures.paper,
        )
        manifest = build_manifest(result, scenario, scenario_path, replicate, overrides)
        manifest["warnings"] = list(warnings)
        effects = []
        if counterfactual is not None:
            effects = [tmp / PAIRED_EFFECTS]
            counterfactual.effects.to_csv(effects[0], index=False)
            manifest["counterfactual"] = counterfactual.manifest()
        written = (*_with_csv(tables), *plots, *effects)
        manifest["files"] = [str(p.relative_to(tmp)) for p in written]
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, allow_nan=False) + "\n")
    return RunOutputs(
        out_dir,
        out_dir / MANIFEST,
        {name: out_dir / p.relative_to(tmp) for name, p in tables.items()},
        [out_dir / p.relative_to(tmp) for p in plots],
    )


def build_manifest(
    result: RunResult,
    scenario: Scenario,
    scenario_path: Path,
    replicate: int,
    overrides: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """What was run, from which files, with which code and when (JSON-ready)."""
    return {
        "scenario_name": scenario.name,
        "scenario_file": str(scenario_path),
        "scenario_files": scenario_files(scenario_path),
        "overrides": dict(overrides or {}),
        "seed": scenario.run.seed,
        "months": scenario.run.months,
        "households": scenario.run.households,
        "replicate": replicate,
        "start": scenario.run.start.isoformat(),
        **code_version(),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "summary": {
            k: _finite_or_none(v) for k, v in result.summary.to_dict(orient="records")[0].items()
        },
        "tables": {
            name: {"rows": len(df), "columns": list(df.columns)}
            for name, df in result.all_tables().items()
        },
        "scenario": scenario.model_dump(mode="json"),
    }


def scenario_files(path: Path) -> list[dict[str, str]]:
    """Path and text of a scenario file and of every file it extends, nearest first."""
    return [{"path": str(p), "text": p.read_text(encoding="utf-8")} for p in extends_chain(path)]


def run_warnings(
    scenario: Scenario, tables: Mapping[str, pd.DataFrame], label: str | None = None
) -> list[str]:
    """Warnings on a run: instruments idle for want of a workshop form, unpaid claims.

    Args:
        scenario: the scenario as run.
        tables: its ``workshops`` and ``spending`` tables: one run, or replicates stacked
            with ``replicate`` in front.
        label: what each warning starts with [default: the scenario's name].

    Returns:
        One line per warning (`shock_warnings`, `absent_form_warnings`, then
        `budget_warnings`).
    """
    found = [
        *shock_warnings(scenario),
        *absent_form_warnings(scenario.policy, tables["workshops"]),
        *budget_warnings(tables["spending"]),
    ]
    return [f"{label or scenario.name}: {warning}" for warning in found]


def shock_warnings(scenario: Scenario) -> list[str]:
    """Warnings on shocks switched on that fall wholly outside the run (they never happen)."""
    run = scenario.run
    first = run.start.year * MONTHS_PER_YEAR + run.start.month - 1
    last = first + run.months - 1
    warnings = []
    for name in ("order_collapse", "migration_stop"):
        shock = getattr(scenario.shocks, name)
        start = shock.start.year * MONTHS_PER_YEAR + shock.start.month - 1
        if shock.enabled and (start > last or start + shock.months - 1 < first):
            warnings.append(
                f"shocks.{name} is switched on for {shock.months} months from {shock.start}, "
                f"outside the run ({run.start} for {run.months} months): it never happens"
            )
    return warnings


def absent_form_warnings(policy: Policy, workshops: pd.DataFrame) -> list[str]:
    """Warnings on instruments in force that had no workshop of a form they pay for.

    One line per set of forms (`FORMS_PAID`) of which no workshop was open or idle in any
    month from 1 on (when the policy acts), naming the instruments that paid nothing.

    Args:
        policy: the scenario's policy.
        workshops: the ``workshops`` table (workshops by month, form and status), one run
            or replicates stacked with ``replicate`` in front.
    """
    rows = _with_replicate(workshops)
    active = rows[(rows["month"] >= 1) & rows["status"].isin(NOT_CLOSED) & (rows["count"] > 0)]
    replicates = rows[REPLICATE].unique()
    forms_open = active.groupby(REPLICATE)["form"].agg(set)
    paying: dict[tuple[str, ...], list[str]] = {}
    for instrument, forms in FORMS_PAID.items():
        if getattr(policy, instrument).enabled:
            paying.setdefault(forms, []).append(instrument)
    warnings = []
    for forms, instruments in paying.items():
        without = sum(not forms_open.get(r, set()) & set(forms) for r in replicates)
        if without:
            kind = "workshop" if forms == ANY_FORM else f"{_or(forms)} workshop"
            many = len(replicates) > 1
            warnings.append(
                f"no {kind} was open in any month{_of_replicates(without, len(replicates))}: "
                f"{', '.join(instruments)}, which {'pays' if len(instruments) == 1 else 'pay'} "
                f"only for {kind}s, did nothing{' in those replicates' if many else ''}"
            )
    return warnings


def budget_warnings(spending: pd.DataFrame) -> list[str]:
    """A warning when the budget left claims unpaid, with the yuan unpaid by instrument.

    An instrument paid every month (wage subsidy, premiums, rent, interest, cash support,
    course places) loses what is unpaid: its yuan unpaid over the run are given. A one-off
    claim (`PRESENTED_AGAIN`) waits and is presented again each month: the yuan still
    unpaid in the final month are given. Months and yuan are means over replicates.

    Args:
        spending: the ``spending`` table (``due`` and ``paid`` yuan by month and
            instrument), one run or replicates stacked with ``replicate`` in front.

    Returns:
        No line, or one.
    """
    rows = _with_replicate(spending)
    rows = rows.assign(unpaid=(rows["due"] - rows["paid"]).clip(lower=0))
    short = rows[rows["unpaid"] >= UNPAID_MIN_YUAN]
    if short.empty:
        return []
    runs, months = rows[REPLICATE].nunique(), int(rows["month"].max())
    final = rows[rows["month"] == months]
    lost = rows[~rows["instrument"].isin(PRESENTED_AGAIN)]
    waiting = final[final["instrument"].isin(PRESENTED_AGAIN)]
    parts = [
        f"{title}: {', '.join(f'{name} {yuan / runs:,.0f}' for name, yuan in by.items())}"
        for title, by in (
            ("yuan unpaid", _unpaid_by_instrument(lost)),
            ("yuan of one-off claims still unpaid at the end", _unpaid_by_instrument(waiting)),
        )
        if by
    ] or ["one-off claims only, all paid by the end"]
    month_count = len(short[[REPLICATE, "month"]].drop_duplicates()) / runs
    mean = "" if runs == 1 else f" (means of {runs} replicates)"
    return [
        f"the budget ran out: claims went unpaid in {month_count:.3g} of {months} months; "
        f"{'; '.join(parts)}{mean}"
    ]


def _unpaid_by_instrument(rows: pd.DataFrame) -> dict[str, float]:
    """Yuan unpaid by instrument (in the table's order), instruments with none left out."""
    unpaid = rows.groupby("instrument", sort=False)["unpaid"].sum()
    return {str(k): float(v) for k, v in unpaid.items() if v >= UNPAID_MIN_YUAN}


def counterfactual_warnings(scenario: Scenario, counterfactual: Scenario) -> list[str]:
    """A warning when a counterfactual differs from its scenario outside `POLICY_WORLD`.

    Its effects then include those differences (another county, population, start date,
    shocks...), not the policy's alone. Both scenarios as run (seed, households and
    months aligned).

    Returns:
        No line, or one naming the first `SHOWN_KEYS` differing dotted keys.
    """
    differing = [
        key
        for key in _differing_keys(
            scenario.model_dump(mode="json"), counterfactual.model_dump(mode="json")
        )
        if not any(key == k or key.startswith(f"{k}.") for k in POLICY_WORLD)
    ]
    if not differing:
        return []
    more = len(differing) - SHOWN_KEYS
    shown = ", ".join(differing[:SHOWN_KEYS]) + (f" and {more} more" if more > 0 else "")
    return [
        f"{counterfactual.name} differs from {scenario.name} outside workshops and policy "
        f"({shown}): the paired effects include these differences, not the policy's alone"
    ]


def _differing_keys(a: Mapping[str, Any], b: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested tables, in `a`'s order."""
    found = []
    for key in dict.fromkeys([*a, *b]):
        left, right = a.get(key), b.get(key)
        if isinstance(left, Mapping) and isinstance(right, Mapping):
            found += _differing_keys(left, right, f"{prefix}{key}.")
        elif left != right:
            found.append(f"{prefix}{key}")
    return found


def _with_replicate(table: pd.DataFrame) -> pd.DataFrame:
    """A run table with a ``replicate`` column (0 for a table of one run)."""
    return table if REPLICATE in table.columns else table.assign(**{REPLICATE: 0})


def _or(names: tuple[str, ...]) -> str:
    """``a, b or c``."""
    return " or ".join(filter(None, (", ".join(names[:-1]), names[-1])))


def _of_replicates(count: int, replicates: int) -> str:
    """`` of <count> of the <replicates> replicates`` ("" for a single run)."""
    return "" if replicates == 1 else f" of {count} of the {replicates} replicates"


@contextmanager
def staging(out_dir: Path) -> Iterator[Path]:
    """A temporary sibling of `out_dir`, renamed to `out_dir` if the block succeeds."""
    target = out_dir.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{secrets.token_hex(4)}"
    tmp.mkdir()  # unlike mkdtemp, honours the umask: the renamed directory is not 0700
    try:
        yield tmp
        _replace_dir(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _replace_dir(new: Path, target: Path) -> None:
    """Rename `new` to `target`; an existing `target` is removed only once `new` is there."""
    if not target.exists():
        new.rename(target)
        return
    old = new.with_name(new.name.replace(".tmp-", ".old-", 1))
    target.rename(old)
    try:
        new.rename(target)
    except OSError:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_tables(result: RunResult, directory: Path) -> dict[str, Path]:
    """Write every table of a run into the new folder `directory`, as parquet and CSV.

    Returns:
        The parquet file of each table, by table name (its CSV is beside it).
    """
    directory.mkdir()
    paths = {}
    for name, table in result.all_tables().items():
        paths[name] = directory / f"{name}.parquet"
        table.to_parquet(paths[name], index=False)
        table.to_csv(paths[name].with_suffix(".csv"), index=False)
    return paths


def _with_csv(tables: Mapping[str, Path]) -> Iterator[Path]:
    for path in tables.values():
        yield from (path, path.with_suffix(".csv"))


def _is_output_dir(path: Path) -> bool:
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and VERSION_KEY in manifest


def _finite_or_none(value: Any) -> Any:
    """NaN and infinity (not valid JSON) as None; anything else unchanged."""
    return None if isinstance(value, float) and not math.isfinite(value) else value
