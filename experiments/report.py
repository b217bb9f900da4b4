"""One self-contained HTML report of an output directory: a run, a comparison or a sweep.

The kind of directory comes from its manifest.json: a sweep's has a ``spec_hash``, a
comparison's has ``"kind": "compare"``, a run's has the scenario name and the code
version. The report holds the key tables (HTML tables: a run's summary, its warnings
and, for ``wsim run --vs``, its paired effects; a comparison's differences and
cost-effectiveness; a sweep's analysis), every figure (PNG embedded as base64), the
scenario files as run with their ``# source:`` and ``# assumption:`` comments (each
file of the ``extends`` chain), the sweep spec for a sweep, and the manifest. It
references nothing outside itself (no links, stylesheets or scripts), so it opens
offline and can be mailed as one file. Sweep figures are drawn from the store (into
``DIR/plots/``) when the directory has none yet.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.analysis.effects import AnalysisError, analyze
from experiments.analysis.formatting import format_value, readable
from experiments.compare import COST_EFFECTIVENESS, DIFFERENCES, KIND
from experiments.discovery import DISCOVERY_DIR, RESULT_FILE
from experiments.discovery import PLOTS as DISCOVERY_PLOTS
from experiments.figures.arms import REPLICATE
from experiments.figures.sweep import plot_sweep
from experiments.optimisation import KIND as OPTIMISATION_KIND
from experiments.optimisation import OUTPUTS as OPTIMISATION_OUTPUTS
from experiments.optimisation import PLOTS as OPTIMISATION_PLOTS
from experiments.outputs import MANIFEST, PAIRED_EFFECTS, scenario_files, staging
from experiments.provenance import VERSION_KEY
from experiments.sweep.engine import open_sweep
from experiments.sweep.seeding import ARM
from experiments.sweep.spec import SpecError
from experiments.sweep.store import DONE, StoreError

REPORT = "report.html"
OPTIMISATION_TABLES = {  # table of a search: heading
    "chosen": "The chosen split (in sample: its score is biased upwards)",
    "check": "Out of sample: every policy on fresh scenarios and replicates (95% t intervals)",
    "check_difference": "Out of sample: the chosen split less the best hand-designed arm",
    "pareto": "Pareto front: score against spending",
}
PLOTS = "plots"
SWEEP_TABLES = {  # analysis table: heading
    "effects": "Effects against the baseline (paired, 95% t CI)",
    "cost_effectiveness": "Cost-effectiveness against the baseline (95% Fieller CI)",
    "ranking": "Ranking of the arms (share of resamples ranked first)",
    "instruments": "Spending by instrument",
    "rates": "Household rates (95% Wilson CI)",
    "sobol": "Sensitivity: Sobol indices",
    "morris": "Sensitivity: Morris indices",
}
STYLE = """
body { font-family: sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #999; margin-top: 2.5rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #bbb; padding: 0.2rem 0.5rem; text-align: right; }
th { background: #eee; }
figure { margin: 1.5rem 0; } img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.85rem; color: #555; }
pre { background: #f6f6f6; padding: 0.75rem; overflow-x: auto; font-size: 0.8rem; }
"""


class ReportError(ValueError):
    """A directory no report can be made of (names it and what was expected)."""


@dataclass(frozen=True)
class Section:
    """A titled part of the report; `body` is HTML (its text already escaped)."""

    heading: str
    body: str


def write_report(directory: Path, out: Path | None = None) -> Path:
    """Write the HTML report of a run, comparison or sweep directory.

    Args:
        directory: the output directory (`wsim run`, `wsim compare` or a sweep).
        out: the HTML file [default: ``directory/report.html``].

    Returns:
        The file written (replaced atomically if it existed).

    Raises:
        ReportError: if `directory` holds none of these, or a sweep cannot be analysed.
    """
    manifest = read_manifest(directory)
    if manifest.get("kind") == OPTIMISATION_KIND:
        title, sections = optimisation_report(directory, manifest)
    elif "spec_hash" in manifest:
        title, sections = sweep_report(directory)
    elif manifest.get("kind") == KIND:
        title, sections = comparison_report(directory, manifest)
    elif VERSION_KEY in manifest and "scenario_name" in manifest:
        title, sections = run_report(directory, manifest)
    else:
        raise ReportError(
            f"{directory}: {MANIFEST}: the manifest of a wsim run, a wsim "
            "compare or a sweep directory"
        )
    out = out or directory / REPORT
    write_atomically(out, page(title, [*sections, manifest_section(manifest)]))
    return out


def read_manifest(directory: Path) -> dict[str, Any]:
    """The directory's manifest, or ReportError naming what is wrong."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ReportError(
            f"{directory}: {MANIFEST}: a readable JSON manifest of an output directory ({err})"
        ) from err
    if not isinstance(manifest, dict):
        raise ReportError(f"{directory}: {MANIFEST}: a JSON object")
    return manifest


def run_report(directory: Path, manifest: dict[str, Any]) -> tuple[str, list[Section]]:
    """Title and sections of a `wsim run` directory."""
    summary = pd.read_csv(directory / "tables" / "summary.csv").T.reset_index()
    summary.columns = pd.Index(["measure", "value"])
    title = (
        f"{manifest['scenario_name']}: {manifest['households']:,} households, "
        f"{manifest['months']} months, seed {manifest['seed']}, "
        f"replicate {manifest['replicate']}"
    )
    return title, [
        Section("Summary", table_html(summary)),
        *warnings_sections(manifest.get("warnings", [])),
        *paired_effects_sections(directory, manifest.get("counterfactual")),
        Section("Figures", figures_html(directory, manifest["files"])),
        Section(
            "Scenario files",
            overrides_html(manifest["overrides"]) + files_html(manifest["scenario_files"]),
        ),
    ]


def comparison_report(directory: Path, manifest: dict[str, Any]) -> tuple[str, list[Section]]:
    """Title and sections of a `wsim compare` directory."""
    summary = pd.read_parquet(directory / "tables" / "summary.parquet")
    means = summary.drop(columns=REPLICATE).groupby(ARM, sort=False).mean().T
    means.columns.name = None
    arms = " vs ".join(str(a["arm"]) for a in manifest["scenarios"])
    title = (
        f"Comparison {arms}: {manifest['households']:,} households, {manifest['months']} "
        f"months, seed {manifest['seed']}, {manifest['replicates']} replicates"
    )
    notes = "".join(f"<p>{html.escape(note)}</p>" for note in manifest["aligned"])
    scenarios = "".join(
        f"<h3>{html.escape(a['arm'])}</h3>" + files_html(a["scenario_files"])
        for a in manifest["scenarios"]
    )
    return title, [
        Section(
            "Summary by scenario (mean of replicates)",
            table_html(means.rename_axis("measure").reset_index()),
        ),
        Section(
            f"Differences from {manifest['reference']}",
            table_html(readable("differences", pd.read_csv(directory / DIFFERENCES))),
        ),
        Section(
            f"Cost-effectiveness against {manifest['reference']} (95% Fieller CI)",
            table_html(readable("cost_effectiveness", pd.read_csv(directory / COST_EFFECTIVENESS))),
        ),
        Section("Figures", figures_html(directory, manifest["files"])),
        Section("Scenario files", notes + overrides_html(manifest["overrides"]) + scenarios),
    ]


def sweep_report(directory: Path) -> tuple[str, list[Section]]:
    """Title and sections of a sweep directory (figures drawn first if it has none)."""
    try:
        store, spec = open_sweep(directory)
        data = store.load()
        tables = analyze(spec, data)
    except StoreError as err:  # its message names the directory or file already
        raise ReportError(str(err)) from err
    except (SpecError, AnalysisError) as err:
        raise ReportError(f"{directory}: {err}") from err
    plots = directory / PLOTS
    if not any(plots.glob("*.png")):
        with staging(plots) as tmp:
            plot_sweep(spec, data, tables, tmp)
    runs = data.runs["status"].value_counts()
    title = (
        f"Sweep {spec.name} on {spec.base.name}: {spec.file.design.method} design, "
        f"seed {spec.seed}, {int(runs.get(DONE, 0))} runs done"
    )
    base = spec.path.parent / spec.file.base
    reforms = [
        {"path": str(path), "text": path.read_text(encoding="utf-8")}
        for lever in spec.levers
        for path in (lever.reforms or {}).values()
    ]
    spec_file = [{"path": str(spec.path), "text": spec.text}]
    return title, [
        *(
            Section(heading, table_html(readable(name, tables[name])))
            for name, heading in SWEEP_TABLES.items()
            if name in tables
        ),
        Section(
            "Figures",
            figures_html(
                directory, sorted(str(p.relative_to(directory)) for p in plots.glob("*.png"))
            ),
        ),
        *discovery_sections(directory),
        Section(
            "Sweep spec and scenario files",
            files_html([*spec_file, *scenario_files(base), *reforms]),
        ),
    ]


def discovery_sections(directory: Path) -> list[Section]:
    """A "Scenario discovery" section of every ``wsim discover`` folder of a sweep (or none)."""
    found = sorted(p.parent for p in (directory / DISCOVERY_DIR).glob(f"*/{RESULT_FILE}"))
    parts = [discovery_html(directory, folder) for folder in found]
    return [Section("Scenario discovery", "\n".join(parts))] if parts else []


def discovery_html(directory: Path, folder: Path) -> str:
    """One discovery as HTML: what fails, the chosen box and its limits.

    The limits come with their quasi-p values, then the CART leaves that predict
    failure, the feature scores and the figures.
    """
    result = json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))
    limits = pd.read_csv(folder / "box_limits.csv")
    figures = sorted(
        str(p.relative_to(directory)) for p in (folder / DISCOVERY_PLOTS).glob("*.png")
    )
    return (
        f"<h3>{html.escape(result['statement'])} ({html.escape(result['unit'])})</h3>"
        f"<p>{result['failing_points']} of {result['points']} points fail. Chosen box "
        f"{result['chosen_box']}: coverage {result['coverage']:.2f}, density "
        f"{result['density']:.2f}, mass {result['mass']:.2f} (folder "
        f"{html.escape(str(folder.relative_to(directory)))}).</p>"
        "<h4>Box limits (quasi-p values of the restricted limits)</h4>"
        + table_html(limits[limits["restricted"]].drop(columns=["key", "restricted"]))
        + "<h4>CART leaves that predict failure</h4>"
        + table_html(pd.read_csv(folder / "cart_leaves.csv"))
        + "<h4>Feature scores</h4>"
        + table_html(pd.read_csv(folder / "feature_scores.csv").drop(columns="key"))
        + figures_html(directory, figures)
    )


def optimisation_report(directory: Path, manifest: dict[str, Any]) -> tuple[str, list[Section]]:
    """Title and sections of a `wsim optimise` directory (its tables and figures)."""
    folder = directory / OPTIMISATION_OUTPUTS
    if not (folder / "trace.csv").exists():
        raise ReportError(
            f"{directory}: a finished search (no {OPTIMISATION_OUTPUTS}/trace.csv yet)"
        )
    trace = pd.read_csv(folder / "trace.csv")
    title = f"Budget search {manifest['experiment']}: {len(trace)} candidates"
    sections = [
        Section(heading, table_html(pd.read_csv(folder / f"{name}.csv")))
        for name, heading in OPTIMISATION_TABLES.items()
        if (folder / f"{name}.csv").exists()
    ]
    plots = folder / OPTIMISATION_PLOTS
    figures = sorted(str(p.relative_to(directory)) for p in plots.glob("*.png"))
    spec = [{"path": manifest["spec_file"], "text": manifest["spec_text"]}]
    return title, [
        *sections,
        Section("Figures", figures_html(directory, figures)),
        Section("Candidates", table_html(trace)),
        Section("Optimisation spec", files_html(spec)),
    ]


def warnings_sections(warnings: list[str]) -> list[Section]:
    """A section listing a run's warnings (none without warnings)."""
    if not warnings:
        return []
    items = "".join(f"<li>{html.escape(warning)}</li>" for warning in warnings)
    return [Section("Warnings", f"<ul>{items}</ul>")]


def paired_effects_sections(
    directory: Path, counterfactual: dict[str, Any] | None
) -> list[Section]:
    """A run's paired effects and its counterfactual's scenario files (none without one)."""
    if counterfactual is None:
        return []
    effects = pd.read_csv(directory / PAIRED_EFFECTS)
    heading = (
        f"Paired effects against {counterfactual['scenario_name']} "
        f"({counterfactual['replicates']} replicates, 95% CI)"
    )
    notes = "".join(f"<p>{html.escape(note)}</p>" for note in counterfactual["aligned"])
    return [
        Section(heading, table_html(readable("paired_effects", effects))),
        Section(
            f"Counterfactual scenario files: {counterfactual['scenario_name']}",
            notes + files_html(counterfactual["scenario_files"]),
        ),
    ]


def table_html(frame: pd.DataFrame) -> str:
    """A table as HTML, every value formatted for reading and escaped."""
    return frame.map(format_value).to_html(index=False, border=0, escape=True)


def figures_html(directory: Path, files: Iterable[str]) -> str:
    """Every PNG among `files` (relative to `directory`) embedded, captioned with its data."""
    figures = []
    for name in (f for f in files if f.endswith(".png")):
        payload = base64.b64encode((directory / name).read_bytes()).decode("ascii")
        data = html.escape(str(Path(name).with_suffix(".csv")))
        figures.append(
            f'<figure><img alt="{html.escape(Path(name).stem)}" '
            f'src="data:image/png;base64,{payload}">'
            f"<figcaption>{html.escape(name)}; plotted numbers in {data}"
            "</figcaption></figure>"
        )
    return "\n".join(figures)


def files_html(files: Iterable[dict[str, str]]) -> str:
    """Each file's path as a heading and its text, comments and all, preformatted."""
    return "\n".join(
        f"<h4>{html.escape(f['path'])}</h4><pre>{html.escape(f['text'])}</pre>" for f in files
    )


def overrides_html(overrides: dict[str, Any]) -> str:
    """The ``[run]`` values given on the command line, if any."""
    if not overrides:
        return ""
    given = ", ".join(f"{key} = {value}" for key, value in overrides.items())
    return f"<p>Replacing the files' [run] values: {html.escape(given)}</p>"


def manifest_section(manifest: dict[str, Any]) -> Section:
    """The manifest as indented JSON."""
    text = json.dumps(manifest, indent=2, ensure_ascii=False)
    return Section("Manifest", f"<pre>{html.escape(text)}</pre>")


def page(title: str, sections: list[Section]) -> str:
    """The whole HTML document."""
    body = "\n".join(
        f"<section><h2>{html.escape(s.heading)}</h2>\n{s.body}</section>" for s in sections
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n"
        f"<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )


def write_atomically(path: Path, text: str) -> None:
    """Write `path` under a temporary name beside it and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
