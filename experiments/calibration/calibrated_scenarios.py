"""Calibrated scenario files: write a fit, read shared values, check every county.

A calibrated scenario lives in ``<scenarios>/calibrated/<county>.toml``. It extends the
county file and sets only the fitted keys (and shared keys fitted in another county),
each with a comment saying how it was obtained; a header records the fit. It is written
to a temporary file, loaded back with `load_scenario`, and only then renamed into place.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from rich.console import JustifyMethod
from rich.table import Table

from experiments.calibration.fit import Fit, Values, evaluate
from experiments.calibration.replicates import replicate_executor
from experiments.calibration.targets import CountyCalibration, TargetsError, TargetsFile
from model.scenario import load_scenario

CALIBRATED_DIR = "calibrated"
FIT_REPLICATES = re.compile(r"^# runs: .*replicates (\d+)-(\d+)", re.MULTILINE)


def calibrated_path(scenario: Path) -> Path:
    """Where the calibrated version of a county scenario file goes."""
    return scenario.parent / CALIBRATED_DIR / scenario.name


def inherited_values(county: CountyCalibration) -> Values:
    """Values of the shared parameters the county reuses, from their counties' fits.

    Raises:
        TargetsError: if the county that fits a shared parameter has no calibrated file.
    """
    values: Values = {}
    for p in county.inherited:
        path = calibrated_path(county.scenario.parent / f"{p.fitted_in}.toml")
        if not path.is_file():
            raise TargetsError(
                path,
                f'shared."{p.key}"',
                f"a calibrated scenario of "
                f"{p.fitted_in}, which fits this shared key: calibrate "
                f"{p.fitted_in} first",
            )
        values[p.key] = load_scenario(path).number(p.key)
    return values


def _toml(value: float | int) -> str:
    return str(value) if isinstance(value, int) else repr(float(value))


def render(fit: Fit, inherited: Mapping[str, float | int], out: Path) -> str:
    """The text of the calibrated scenario file of `fit`, to be written at `out`."""
    county, today = fit.county, dt.date.today().isoformat()
    base = county.scenario.resolve()
    scenario = load_scenario(base)
    scale = fit.households / scenario.county.households
    used = len(county.used_targets)
    lines = [
        f"# {scenario.county.name} calibrated to its published figures ({today}).",
        "# Written by `wsim calibrate`: re-run it rather than editing by hand.",
        f"# targets: {len(county.targets)} in the targets file, {used} used; unused ones "
        "carry a note there.",
        f"# optimiser: {fit.method}.",
        f"# evaluations: {fit.evaluations}; final loss {fit.loss:.4g} (sum over used targets "
        "of ((mean - published) / tolerance band)^2).",
        f"# runs: households {fit.households} (scale {scale:.3g}), replicates "
        f"0-{fit.replicates - 1} (common random numbers), seed {fit.seed}.",
        f'extends = "{Path(os.path.relpath(base, out.resolve().parent)).as_posix()}"',
        f'name = "{county.name}_calibrated"',
        f'description = "{scenario.description} (calibrated)"',
    ]
    comments = {
        p.key: (
            f"# fitted: {_toml(fit.values[p.key])}, bounds [{p.lower:g}, "
            f"{p.upper:g}], loss {fit.loss:.4g}, {today}, replicates "
            f"{fit.replicates}, households {fit.households}"
        )
        for p in county.free
    }
    comments |= {
        p.key: f"# shared: fitted in {p.fitted_in}, bounds [{p.lower:g}, {p.upper:g}]"
        for p in county.inherited
    }
    values = {**fit.values, **inherited}
    tables: dict[str, list[str]] = {}
    for key in values:
        table, _, name = key.rpartition(".")
        tables.setdefault(table, []).append(f"{name} = {_toml(values[key])}  {comments[key]}")
    for table, assignments in tables.items():
        lines += ["", f"[{table}]", *assignments]
    return "\n".join(lines) + "\n"


def write_calibrated(fit: Fit, inherited: Mapping[str, float | int], out: Path) -> Path:
    """Write the calibrated scenario at `out` once it loads; nothing is left on failure.

    Raises:
        ScenarioError: if the rendered file does not load (nothing is written).
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{secrets.token_hex(4)}.toml"
    try:
        tmp.write_text(render(fit, inherited, out), encoding="utf-8")
        load_scenario(tmp)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def fitted_replicates(path: Path) -> range | None:
    """The replicates a calibrated file's fit used (from its header; None if it has none)."""
    if not path.is_file():
        return None
    found = FIT_REPLICATES.search(path.read_text(encoding="utf-8"))
    return range(int(found[1]), int(found[2]) + 1) if found else None


def check_calibration(targets: TargetsFile, share: float, replicates: range) -> pd.DataFrame:
    """Every target of every county against its calibrated scenario.

    Each county runs ``calibrated/<county>.toml`` if present (else the county file) at
    `share` of its real households, on `replicates` (out of sample when they are disjoint
    from those its fit used: see `fitted_replicates`).

    Returns:
        The `evaluate` rows of all counties, with a ``scenario`` column (file run).
    """
    tables = []
    with replicate_executor(len(replicates)) as executor:
        for county in targets.counties.values():
            path = calibrated_path(county.scenario)
            path = path if path.is_file() else county.scenario
            scenario = load_scenario(path)
            households = max(1, round(share * scenario.county.households))
            table = evaluate(
                scenario.with_overrides(households=households), county.targets, replicates, executor
            )
            tables.append(table.assign(scenario=str(path)))
    return pd.concat(tables, ignore_index=True)


def sample_note(fitted: range | None, checked: range) -> str:
    """Whether a check's replicates are out of the fit's sample, in words."""
    if fitted is None:
        return "no fit recorded for this file: the check is not against a fit's sample"
    span = f"fit on replicates {fitted.start}-{fitted.stop - 1}, checked on"
    span += f" {checked.start}-{checked.stop - 1}"
    if set(fitted) & set(checked):
        return f"IN SAMPLE: {span}, which overlap (pass --first-replicate {fitted.stop})"
    return f"out of sample: {span}"


def _number(x: float) -> str:
    if pd.isna(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"


def results_table(table: pd.DataFrame, title: str) -> Table:
    """Rich table: target | unit | published | simulated mean ± 95% CI | tolerance | within?"""
    out = Table(title=title)
    columns: list[tuple[str, JustifyMethod]] = [
        ("target", "left"),
        ("unit", "left"),
        ("published", "right"),
        ("simulated mean ± 95% CI", "right"),
        ("tolerance", "right"),
        ("within?", "left"),
    ]
    for name, justify in columns:
        out.add_column(name, justify=justify)
    for row in table.to_dict(orient="records"):
        verdict = ("yes" if row["within"] else "NO") if row["used"] else "(unused)"
        out.add_row(
            str(row["target"]),
            str(row["unit"]),
            _number(row["published"]),
            f"{_number(row['mean'])} ± {_number(row['ci95'])}",
            str(row["tolerance"]),
            verdict,
            style=None if row["used"] else "dim",
        )
    return out
