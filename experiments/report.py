"""One self-contained HTML report of an output directory: a run, a comparison or a sweep.

The kind of directory comes from its manifest.json: a sweep's has a ``spec_hash``, a
comparison's has ``"kind": "compare"``, a search's ``"kind": "optimise"``, a run's has
the scenario name and the code version. The page is rendered from the Jinja2 templates
in ``experiments/templates`` (autoescaped): a table of contents, then sections of
tables, figures and files. Tables have human names and units (`experiments.analysis.
formatting`): counts whole, money with thousands separators, shares as percentages; a
comparison's differences and cost-effectiveness come as one table per kind of unit
(`experiments.compare.difference_tables`). Every figure is embedded as a base64 PNG,
two to a row (a wide one takes the row). Scenario files, with their ``# source:`` and
``# assumption:`` comments, are shown once and collapsed: a comparison's first arm with
the files it extends, each other arm as a table of the keys it changes (value, unit,
source comment) and its own files. The report references nothing outside itself (no
links, stylesheets or scripts), so it opens offline and can be mailed as one file.
Sweep figures are drawn from the store (into ``DIR/plots/``) when the directory has
none yet.
"""

from __future__ import annotations

import base64
import json
import os
import re
import struct
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import jinja2
import pandas as pd

from experiments.analysis.effects import AnalysisError, analyze
from experiments.analysis.formatting import (
    for_reading,
    format_amount,
    format_value,
    labelled,
    measure_name,
    measure_unit,
)
from experiments.compare import (
    COST_EFFECTIVENESS,
    DIFFERENCES,
    KIND,
    arm_values,
    cost_effectiveness_tables,
    difference_tables,
)
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
from model.scenario import defining_comment, field_unit, key_field

REPORT = "report.html"
TEMPLATE = "report.html.j2"
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
WIDE_PNG = 1500  # pixels: a figure at least this wide takes a whole row of the page
LABEL_KEYS = ("name", "description")  # a scenario's labels: not compared as changed keys
CHANGED_COLUMNS = ["Key", "Name", "Value", "Unit", "Source"]
NOT_SET = "(not set)"
NUMBER = re.compile(r"[-+±\[]*\d")  # a cell that starts as a number or an interval does
WORDS_FOR_NONE = re.compile(r"n/a$|undefined")  # a cell of a numeric column without a number


class ReportError(ValueError):
    """A directory no report can be made of (names it and what was expected)."""


@dataclass(frozen=True)
class Table:
    """A table as shown: headings and rows of text (`caption` above it, if any).

    A column of numbers (`numeric`) is aligned right, one of words left.
    """

    kind: ClassVar[str] = "table"
    columns: list[str]
    rows: list[list[str]]
    caption: str = ""

    @property
    def numeric(self) -> list[bool]:
        """Whether each column holds numbers (an interval, n/a or "undefined" besides)."""
        columns = list(zip(*self.rows, strict=True)) or [()] * len(self.columns)
        return [numeric_column(cells) for cells in columns]


def numeric_column(cells: Iterable[str]) -> bool:
    """Whether table cells are numbers: some start as one, the others say there is none."""
    found = [bool(NUMBER.match(c)) for c in cells if not WORDS_FOR_NONE.match(c)]
    return bool(found) and all(found)


@dataclass(frozen=True)
class Figure:
    """An embedded PNG (base64 `png`), its alt text and caption; `wide` takes a row."""

    png: str
    alt: str
    caption: str
    wide: bool


@dataclass(frozen=True)
class Figures:
    """Figures laid out two to a row."""

    kind: ClassVar[str] = "figures"
    figures: list[Figure]


@dataclass(frozen=True)
class Files:
    """Text files (``path``, ``text``) shown preformatted under a collapsed `summary`."""

    kind: ClassVar[str] = "files"
    summary: str
    files: list[dict[str, str]]


@dataclass(frozen=True)
class Text:
    """Lines of text: paragraphs, or a bulleted list if `listed`."""

    kind: ClassVar[str] = "text"
    lines: list[str]
    listed: bool = False


@dataclass(frozen=True)
class Heading:
    """A heading inside a section (`level` 3 or 4)."""

    kind: ClassVar[str] = "heading"
    text: str
    level: int = 3


Block = Table | Figures | Files | Text | Heading


@dataclass(frozen=True)
class Section:
    """A titled part of the report, listed in its table of contents."""

    heading: str
    blocks: list[Block]


def write_report(directory: Path, out: Path | None = None) -> Path:
    """Write the HTML report of a run, comparison, sweep or search directory.

    Args:
        directory: the output directory (`wsim run`, `wsim compare`, a sweep or `wsim
            optimise`).
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
    summary = pd.read_csv(directory / "tables" / "summary.csv").set_axis(["Value"])
    title = (
        f"{manifest['scenario_name']}: {manifest['households']:,} households, "
        f"{manifest['months']} months, seed {manifest['seed']}, "
        f"replicate {manifest['replicate']}"
    )
    return title, [
        Section("Summary", [measures_table(summary)]),
        *warnings_sections(manifest.get("warnings", [])),
        *paired_effects_sections(directory, manifest.get("counterfactual")),
        Section("Figures", [figures(directory, manifest["files"])]),
        Section(
            "Scenario files",
            [
                *overrides_text(manifest["overrides"]),
                chain_files(manifest["scenario_name"], manifest["scenario_files"]),
            ],
        ),
    ]


def comparison_report(directory: Path, manifest: dict[str, Any]) -> tuple[str, list[Section]]:
    """Title and sections of a `wsim compare` directory."""
    tables = {
        name: pd.read_parquet(directory / "tables" / f"{name}.parquet")
        for name in ("summary", "monthly")
    }
    means = arm_values(tables).drop(columns=REPLICATE).groupby(ARM, sort=False).mean()
    arms = " vs ".join(str(a["arm"]) for a in manifest["scenarios"])
    reference = manifest["reference"]
    title = (
        f"Comparison {arms}: {manifest['households']:,} households, {manifest['months']} "
        f"months, seed {manifest['seed']}, {manifest['replicates']} replicates"
    )
    differences = difference_tables(pd.read_csv(directory / DIFFERENCES))
    costs = cost_effectiveness_tables(pd.read_csv(directory / COST_EFFECTIVENESS))
    return title, [
        Section("Summary by scenario (mean of replicates)", [measures_table(means)]),
        Section(f"Differences from {reference}", captioned(differences)),
        Section(f"Cost-effectiveness against {reference} (95% Fieller CI)", captioned(costs)),
        Section("Figures", [figures(directory, manifest["files"])]),
        Section(
            "Scenario files",
            [
                Text(list(manifest["aligned"])),
                *overrides_text(manifest["overrides"]),
                *scenario_blocks(manifest["scenarios"]),
            ],
        ),
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
    where = (
        f"{len(spec.counties)} counties" if spec.counties else spec.base.name
    )  # a county sweep has no one base
    title = (
        f"Sweep {spec.name} on {where}: {spec.file.design.method} design, "
        f"seed {spec.seed}, {int(runs.get(DONE, 0))} runs done"
    )
    bases = (
        [county.path for county in spec.counties]
        if spec.counties
        else [spec.path.parent / str(spec.file.base)]
    )
    reforms = [
        {"path": str(path), "text": path.read_text(encoding="utf-8")}
        for lever in spec.levers
        for path in (lever.reforms or {}).values()
    ]
    spec_file = {"path": str(spec.path), "text": spec.text}
    return title, [
        *(
            Section(heading, [table(for_reading(name, tables[name]))])
            for name, heading in SWEEP_TABLES.items()
            if name in tables
        ),
        Section("Figures", [figures(directory, pngs(directory, plots))]),
        *discovery_sections(directory),
        Section(
            "Sweep spec and scenario files",
            [
                Files(
                    "The sweep spec, its base scenarios and the files they extend, the reforms",
                    [spec_file, *unique_files(bases), *reforms],
                )
            ],
        ),
    ]


def unique_files(bases: list[Path]) -> list[dict[str, str]]:
    """The scenario files of `bases` with the files they extend, each file once."""
    files = {f["path"]: f for base in bases for f in scenario_files(base)}
    return list(files.values())


def discovery_sections(directory: Path) -> list[Section]:
    """A "Scenario discovery" section of every ``wsim discover`` folder of a sweep (or none)."""
    found = sorted(p.parent for p in (directory / DISCOVERY_DIR).glob(f"*/{RESULT_FILE}"))
    blocks = [block for folder in found for block in discovery_blocks(directory, folder)]
    return [Section("Scenario discovery", blocks)] if blocks else []


def discovery_blocks(directory: Path, folder: Path) -> list[Block]:
    """One discovery: what fails, the chosen box and its limits.

    The limits come with their quasi-p values, then the CART leaves that predict
    failure, the feature scores and the figures.
    """
    result = json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))
    limits = pd.read_csv(folder / "box_limits.csv")
    return [
        Heading(f"{result['statement']} ({result['unit']})"),
        Text(
            [
                f"{result['failing_points']} of {result['points']} points fail. Chosen box "
                f"{result['chosen_box']}: coverage {result['coverage']:.2f}, density "
                f"{result['density']:.2f}, mass {result['mass']:.2f} (folder "
                f"{folder.relative_to(directory)})."
            ]
        ),
        Heading("Box limits (quasi-p values of the restricted limits)", 4),
        table(
            for_reading(
                "box_limits", limits[limits["restricted"]].drop(columns=["key", "restricted"])
            )
        ),
        Heading("CART leaves that predict failure", 4),
        table(for_reading("cart_leaves", pd.read_csv(folder / "cart_leaves.csv"))),
        Heading("Feature scores", 4),
        table(
            for_reading(
                "feature_scores", pd.read_csv(folder / "feature_scores.csv").drop(columns="key")
            )
        ),
        figures(directory, pngs(directory, folder / DISCOVERY_PLOTS)),
    ]


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
        Section(heading, [table(for_reading(name, pd.read_csv(folder / f"{name}.csv")))])
        for name, heading in OPTIMISATION_TABLES.items()
        if (folder / f"{name}.csv").exists()
    ]
    spec = {"path": manifest["spec_file"], "text": manifest["spec_text"]}
    return title, [
        *sections,
        Section("Figures", [figures(directory, pngs(directory, folder / OPTIMISATION_PLOTS))]),
        Section("Candidates", [table(for_reading("trace", trace))]),
        Section("Optimisation spec", [Files(spec["path"], [spec])]),
    ]


def warnings_sections(warnings: list[str]) -> list[Section]:
    """A section listing a run's warnings (none without warnings)."""
    return [Section("Warnings", [Text(warnings, listed=True)])] if warnings else []


def paired_effects_sections(
    directory: Path, counterfactual: dict[str, Any] | None
) -> list[Section]:
    """A run's paired effects and its counterfactual's scenario files (none without one)."""
    if counterfactual is None:
        return []
    effects = pd.read_csv(directory / PAIRED_EFFECTS)
    name = counterfactual["scenario_name"]
    heading = f"Paired effects against {name} ({counterfactual['replicates']} replicates, 95% CI)"
    return [
        Section(heading, [table(for_reading("paired_effects", effects))]),
        Section(
            f"Counterfactual scenario files: {name}",
            [Text(counterfactual["aligned"]), chain_files(name, counterfactual["scenario_files"])],
        ),
    ]


def table(frame: pd.DataFrame, caption: str = "") -> Table:
    """A table as shown: every value formatted for reading (`format_value`)."""
    rows = [[format_value(v) for v in row] for row in frame.itertuples(index=False)]
    return Table([str(c) for c in frame.columns], rows, caption)


def captioned(tables: Mapping[str, pd.DataFrame]) -> list[Block]:
    """Tables as shown, each under its heading."""
    return [table(frame, caption) for caption, frame in tables.items()]


def measures_table(values: pd.DataFrame) -> Table:
    """Measures down the side (named with their units), a column per row of `values`.

    Counts read whole, money with thousands separators, shares as percentages
    (`format_amount`); spending on an instrument nobody spent on is left out.
    """
    unused = [
        c
        for c in values.columns
        if measure_name(str(c)).startswith("Spending on") and (values[c] == 0).all()
    ]
    shown = values.drop(columns=unused)
    rows = [
        [labelled(str(m)), *(format_amount(v, measure_unit(str(m))) for v in shown[m])]
        for m in shown.columns
    ]
    return Table(["Measure (unit)", *map(str, shown.index)], rows)


def figures(directory: Path, files: Iterable[str]) -> Figures:
    """Every PNG among `files` (relative to `directory`) embedded, captioned with its data."""
    shown = []
    for name in (f for f in files if f.endswith(".png")):
        png = (directory / name).read_bytes()
        width = struct.unpack(">I", png[16:20])[0]  # the IHDR chunk's width (pixels)
        caption = f"{name}; plotted numbers in {Path(name).with_suffix('.csv')}"
        shown.append(
            Figure(
                base64.b64encode(png).decode("ascii"), Path(name).stem, caption, width >= WIDE_PNG
            )
        )
    return Figures(shown)


def pngs(directory: Path, folder: Path) -> list[str]:
    """The PNG files in `folder`, relative to `directory`, sorted."""
    return sorted(str(p.relative_to(directory)) for p in folder.glob("*.png"))


def chain_files(name: str, files: list[dict[str, str]]) -> Files:
    """A scenario's file and every file it extends, collapsed under one line."""
    extended = f" and the {plural(len(files) - 1, 'file')} it extends" if len(files) > 1 else ""
    summary = f"{name}: {Path(files[0]['path']).name}{extended}, with the source comments"
    return Files(summary, files)


def scenario_blocks(scenarios: list[dict[str, Any]]) -> list[Block]:
    """A comparison's scenarios, each file once.

    The first arm's files (its ``extends`` chain) collapsed; each other arm as a table
    of the keys it changes from the first arm (`changed_keys`) and, collapsed, its files
    that the first arm does not have.
    """
    first, ref = scenarios[0], scenarios[0]["arm"]
    shared = {(f["path"], f["text"]) for f in first["scenario_files"]}
    blocks: list[Block] = [
        Heading(first["arm"]),
        chain_files(first["arm"], first["scenario_files"]),
    ]
    for arm in scenarios[1:]:
        changed = changed_keys(first, arm)
        own = [f for f in arm["scenario_files"] if (f["path"], f["text"]) not in shared]
        blocks += [
            Heading(f"{arm['arm']}: {plural(len(changed.rows), 'key')} changed from {ref}"),
            changed,
            *([Files(f"{arm['arm']}: its own files", own)] if own else []),
        ]
    return blocks


def changed_keys(first: dict[str, Any], arm: dict[str, Any]) -> Table:
    """The keys of `arm`'s scenario whose values differ from `first`'s, one row each.

    Columns: the dotted key, its name (the scenario field's description), the arm's
    value, the key's unit and the comment on the line that sets it in `arm`'s files
    (its ``# source:`` or ``# assumption:``; empty if none or if the file has changed
    since the run).
    """
    old, new = flat(first["scenario"]), flat(arm["scenario"])
    keys = [k for k in dict.fromkeys([*new, *old]) if old.get(k, NOT_SET) != new.get(k, NOT_SET)]
    rows = []
    for key in (k for k in keys if k not in LABEL_KEYS):
        name, unit = scenario_field(key)
        value = new.get(key, NOT_SET)
        rows.append([key, name, setting(value), unit, key_source(arm, key)])
    return Table(CHANGED_COLUMNS, rows)


def plural(count: int, noun: str) -> str:
    """A count of a noun in words: 1 key, 2 keys."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def flat(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested mapping as dotted keys -> values (a list or an empty table is one value)."""
    found: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping) and value:
            found |= flat(value, f"{prefix}{key}.")
        else:
            found[f"{prefix}{key}"] = value
    return found


def setting(value: object) -> str:
    """A scenario value as read: TOML's true/false, lists joined, numbers `format_value`."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ", ".join(setting(v) for v in value)
    return "none" if value is None else format_value(value)


def scenario_field(key: str) -> tuple[str, str]:
    """The description and unit of a dotted scenario key (a table's, for a key inside one).

    Both empty for a key the scenario schema does not know; a unit of "-" (a label or
    flag) reads empty.
    """
    field = key_field(key)
    if field is None:
        return "", ""
    unit = field_unit(field) or ""
    return field.description or "", "" if unit == "-" else unit


def key_source(arm: Mapping[str, Any], key: str) -> str:
    """The comment on the line of `arm`'s files that sets `key` (`defining_comment`).

    Empty if no file sets it, if the files cannot be read now, or if the file setting
    it differs from its text as run (kept in the manifest).
    """
    texts = {f["path"]: f["text"] for f in arm["scenario_files"]}
    try:
        file, comment = defining_comment(Path(arm["scenario_files"][0]["path"]), key)
        as_run = texts.get(str(file)) == file.read_text(encoding="utf-8")
    except (KeyError, OSError, tomllib.TOMLDecodeError):
        return ""
    return comment.strip() if as_run else ""


def overrides_text(overrides: dict[str, Any]) -> list[Text]:
    """The ``[run]`` values given on the command line, if any."""
    if not overrides:
        return []
    given = ", ".join(f"{key} = {value}" for key, value in overrides.items())
    return [Text([f"Replacing the files' [run] values: {given}"])]


def manifest_section(manifest: dict[str, Any]) -> Section:
    """The manifest as indented JSON, collapsed."""
    text = json.dumps(manifest, indent=2, ensure_ascii=False)
    return Section("Manifest", [Files(MANIFEST, [{"path": MANIFEST, "text": text}])])


def page(title: str, sections: list[Section]) -> str:
    """The whole HTML document (`TEMPLATE`), a table of contents linking every section."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("experiments", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    anchored = [
        {"anchor": f"section-{i}", "heading": s.heading, "blocks": s.blocks}
        for i, s in enumerate(sections, start=1)
    ]
    return environment.get_template(TEMPLATE).render(title=title, sections=anchored) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Write `path` under a temporary name beside it and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
