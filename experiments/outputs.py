"""Write one run's outputs: tables (parquet + CSV), figures and a manifest, atomically.

Layout of an output directory::

    manifest.json             what was run, from which files, with which code
    tables/<name>.parquet     every table of the run (and the same as <name>.csv),
                              the household panel (panel) among them if the run kept one
    plots/<figure>.png/.svg   figures, with the plotted numbers in <figure>.csv

Everything is built in a hidden temporary sibling directory and renamed into place at
the end, so an error never leaves a half-written directory; an earlier output directory
at the same place is replaced only once the new one is complete.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import secrets
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.figures.run import plot_run
from experiments.provenance import VERSION_KEY, code_version
from model.scenario import Scenario, extends_chain
from model.simulate import RunResult

MANIFEST = "manifest.json"  # its `VERSION_KEY` marks a directory as written by write_run


class OutputError(ValueError):
    """An output directory that cannot be used (names the path and what was expected)."""


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
        OutputError: if `out_dir` or one of its parents is a file, or `out_dir` is a
            directory with other contents.
    """
    path = out_dir.absolute()
    existing = next(p for p in (path, *path.parents) if p.exists())
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
) -> RunOutputs:
    """Write a run's tables, figures and manifest into `out_dir`, atomically.

    Args:
        result: the run's tables.
        scenario: the scenario as run (overrides applied).
        scenario_path: the TOML file it was loaded from.
        out_dir: output directory; an earlier output directory there is replaced.
        replicate: replicate index of the run.
        overrides: `[run]` values given on top of the file (e.g. ``{"months": 3}``).

    Returns:
        Where everything went (paths inside `out_dir`).

    Raises:
        OutputError: if `out_dir` is not safe to replace (see `check_output_dir`).
    """
    check_output_dir(out_dir)
    with staging(out_dir) as tmp:
        tables = _write_tables(result, tmp / "tables")
        plots = plot_run(result, scenario, tmp / "plots", replicate)
        manifest = build_manifest(result, scenario, scenario_path, replicate, overrides)
        manifest["files"] = [str(p.relative_to(tmp)) for p in (*_with_csv(tables), *plots)]
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


def _write_tables(result: RunResult, directory: Path) -> dict[str, Path]:
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
