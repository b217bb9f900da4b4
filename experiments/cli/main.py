"""The ``wsim`` command: run, validate, calibrate and compare scenarios, and write reports.

User errors (an invalid scenario, a missing file, a bad option value, an output path
that cannot be used) end with one ``error: ...`` line on stderr and exit code 1, before
anything is written. Usage errors (unknown option, missing argument) exit with code 2.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Self

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from experiments.cli import discover as discover_cli
from experiments.cli import optimise as optimise_cli
from experiments.cli.errors import EXIT_INVALID, UsageInErrorStyle, fail
from experiments.cli.options import DEFAULT_SCENARIOS, DEFAULT_TARGETS, RESULTS_DIR
from experiments.cli.sweep import WorkersOpt, make_executor, register, rich_table

if TYPE_CHECKING:  # each command imports what it runs: building the app stays fast
    import pandas as pd

    from experiments.calibration.targets import CountyCalibration, TargetsFile
    from experiments.compare import Arm
    from experiments.outputs import FigureOptions, RunOutputs
    from model.economy import WorkshopEconomy
    from model.scenario import Scenario, ScenarioError
    from model.simulate import RunResult

PROGRESS_DELAY_S = 1.0
COMPARE_REPLICATES = 8  # default replicates per compared scenario
MIN_COMPARE_REPLICATES = 2  # a paired t interval needs two replicates
CHECK_REPLICATES = 32  # replicates a calibration check runs: a noisy count's mean within its band
CHECK_FIRST_REPLICATE = 100  # a check starts here: disjoint from any fit on fewer than 100

app = typer.Typer(
    name="wsim",
    help="Simulate household income under poverty-alleviation workshop policies.",
    epilog="Exit codes: 0 ok; 1 invalid input (scenario or spec file, option value or "
    "output directory; one 'error:' line on stderr, nothing written), a results "
    "directory that cannot be written (what was stored stays readable; a sweep goes "
    "on with 'wsim resume') or a rerun that does not reproduce its stored rows; 2 "
    "usage error (unknown command or option, missing argument).",
    no_args_is_help=True,
    cls=UsageInErrorStyle,
    rich_markup_mode="markdown",
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
register(app)
optimise_cli.register(app)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"wsim (workshop-sim) {version('workshop-sim')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_print_version,
            is_eager=True,
            help="Print the version of workshop-sim and exit.",
        ),
    ] = False,
) -> None:
    """Simulate household income under poverty-alleviation workshop policies."""


discover_cli.register(app)

RUN_SIZE = "Run size"  # help panels: what is simulated, what is written, against what
OUTPUT = "Output"
COUNTERFACTUAL = "Counterfactual"

ScenarioArg = Annotated[
    Path, typer.Argument(help="Scenario TOML file.", metavar="SCENARIO.toml", show_default=False)
]
MonthsOpt = Annotated[
    int | None,
    typer.Option(
        "--months",
        "-m",
        help="Simulated months (replaces [run] months).",
        metavar="MONTHS",
        rich_help_panel=RUN_SIZE,
    ),
]
SeedOpt = Annotated[
    int | None,
    typer.Option(
        "--seed",
        "-s",
        help="Root seed (replaces [run] seed).",
        metavar="SEED",
        rich_help_panel=RUN_SIZE,
    ),
]
HouseholdsOpt = Annotated[
    int | None,
    typer.Option(
        "--households",
        "-n",
        help="Simulated households (replaces [run] households).",
        metavar="N",
        rich_help_panel=RUN_SIZE,
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="Output directory [default: results/NAME, NAME the scenario's name]; an "
        "earlier output directory there is replaced.",
        metavar="DIR",
        show_default=False,
        rich_help_panel=OUTPUT,
    ),
]
ReplicateOpt = Annotated[
    int,
    typer.Option(
        help="Replicate index; with the seed it fixes every random stream.",
        metavar="R",
        rich_help_panel=RUN_SIZE,
    ),
]
ReformOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--reform",
        "-f",
        help="Reform file to overlay on SCENARIO (repeat to compose, in order).",
        metavar="REFORM.toml",
        show_default=False,
    ),
]
ReplicatesOpt = Annotated[
    int,
    typer.Option(
        "--replicates",
        "-r",
        help="Replicates per parameter set: 0..R-1, the same for every set "
        "(common random numbers).",
        metavar="R",
        rich_help_panel=RUN_SIZE,
    ),
]
TargetsOpt = Annotated[Path, typer.Option(help="Calibration targets file.", metavar="TARGETS.toml")]
PanelOpt = Annotated[
    int | None,
    typer.Option(
        "--panel-every",
        help="Months between household panel snapshots: also write "
        "tables/panel.parquet (and .csv), one row per household at month 0, every this many "
        "months and the final month [default: no panel].",
        metavar="MONTHS",
        show_default=False,
        rich_help_panel=OUTPUT,
    ),
]
SvgOpt = Annotated[
    bool,
    typer.Option(
        "--svg",
        help="Also write each figure as SVG (vector, for papers) beside its PNG.",
        rich_help_panel=OUTPUT,
    ),
]
PaperOpt = Annotated[
    bool,
    typer.Option(
        "--paper",
        help="Figures in the paper style: short titles without run metadata (scenario, "
        "seed and dates go to each figure's caption file, FIGURE.txt).",
        rich_help_panel=OUTPUT,
    ),
]
VsOpt = Annotated[
    str | None,
    typer.Option(
        "--vs",
        help="Counterfactual: no-policy (SCENARIO's county without workshops or instruments), "
        "or a scenario name in scenarios/ or a file. Runs it and SCENARIO on replicates 0..R-1 "
        "with SCENARIO's seed, start, households and months "
        "(common random numbers), and prints and writes (paired_effects.csv) the paired "
        "effects with 95% intervals.",
        metavar="NAME|FILE",
        show_default=False,
        rich_help_panel=COUNTERFACTUAL,
    ),
]
RunReplicatesOpt = Annotated[
    int,
    typer.Option(
        "--replicates",
        "-r",
        help="Replicates 0..R-1 of SCENARIO and of the --vs scenario: at least 2 with --vs; "
        "1 without it (one run, chosen with --replicate).",
        metavar="R",
        rich_help_panel=COUNTERFACTUAL,
    ),
]


@app.command()
def run(
    scenario: ScenarioArg,
    months: MonthsOpt = None,
    seed: SeedOpt = None,
    households: HouseholdsOpt = None,
    out: OutOpt = None,
    replicate: ReplicateOpt = 0,
    reform: ReformOpt = None,
    panel_every: PanelOpt = None,
    vs: VsOpt = None,
    replicates: RunReplicatesOpt = 1,
    workers: WorkersOpt = None,
    svg: SvgOpt = False,
    paper: PaperOpt = False,
) -> None:
    """Run SCENARIO and write its outputs; with --vs, against a counterfactual.

    Writes tables (parquet + CSV), plots (PNG + CSV, and SVG with --svg) and manifest.json into the
    output directory, then prints where they are, a summary of the run and its warnings
    (an instrument with no workshop of a form it pays for, claims the budget left
    unpaid; the manifest has them too). With --panel-every the tables include the
    household panel (panel.parquet).

    With --vs NAME --replicates R (R >= 2; --workers sets the processes) the folder holds
    replicate 0's tables and paired_effects.csv, and the paired effects are printed with
    95% intervals: net exits, poor household-months averted, poor households (final 12
    months, end), spending, and yuan per extra net exit and per poor household-month
    averted ("undefined" where the effect's interval contains 0). The warnings then
    cover both scenarios, and say when the --vs scenario differs from SCENARIO in more
    than workshops and policy (e.g. another county).
    """
    from experiments.compare import Arm
    from experiments.outputs import (
        FigureOptions,
        OutputError,
        check_output_dir,
        run_warnings,
        write_run,
    )
    from model.simulate import NonFiniteResultError, simulate

    overrides = given_overrides(months, seed, households)
    check_run_options(replicate, panel_every, vs, replicates)
    params = with_overrides(with_reforms(load(scenario), reform or []), overrides)
    out_dir = out or RESULTS_DIR / safe_name(params.name)
    try:
        check_output_dir(out_dir)
    except OutputError as err:
        fail(f"--out {err}")
    if vs is not None:
        chosen = Arm(params.name, params, scenario)
        run_against(
            chosen,
            counterfactual(vs, chosen),
            replicates,
            Options(out_dir, overrides, workers, FigureOptions(svg, paper)),
        )
        return
    try:
        with DelayedProgress(params.run.months) as progress:
            result = simulate(params, replicate, on_month=progress, panel_every_months=panel_every)
    except NonFiniteResultError as err:
        fail(str(err))
    warnings = run_warnings(params, result.all_tables())
    try:
        outputs = write_run(
            result,
            params,
            scenario,
            out_dir,
            replicate=replicate,
            overrides=overrides,
            warnings=warnings,
            figures=FigureOptions(svg, paper),
        )
    except (OSError, OutputError) as err:
        fail(f"{out_dir}: could not write the outputs: {err}")
    report(outputs, result, params, replicate)
    print_warnings(warnings)


def check_run_options(
    replicate: int, panel_every: int | None, vs: str | None, replicates: int
) -> None:
    """Fail on option values of ``wsim run`` out of range or that do not go together."""
    if replicate < 0:
        fail(f"--replicate: expected a whole number >= 0, got {replicate}")
    if panel_every is not None and panel_every < 1:
        fail(f"--panel-every: expected a whole number of months >= 1, got {panel_every}")
    if vs is None:
        if replicates != 1:
            fail(
                f"--replicates: expected 1 without --vs (one run; --replicate chooses it), "
                f"got {replicates}"
            )
        return
    if replicates < MIN_COMPARE_REPLICATES:
        fail(
            f"--replicates: expected a whole number >= {MIN_COMPARE_REPLICATES} with --vs "
            f"(a paired interval needs two pairs), got {replicates}"
        )
    if replicate != 0:
        fail(f"--replicate: expected none with --vs, which runs replicates 0..R-1, got {replicate}")
    if panel_every is not None:
        fail("--panel-every: expected none with --vs (runs without --vs keep the panel)")


def counterfactual(source: str, chosen: Arm) -> Arm:
    """The --vs scenario (no-policy, a name in scenarios/ or a file), or fail saying why."""
    from experiments.api import NO_POLICY, counterfactual_arm, scenario_file
    from experiments.compare import Arm
    from model.scenario import ScenarioError

    if source == NO_POLICY:
        return counterfactual_arm(source, chosen)
    try:
        path = scenario_file(source)
    except ScenarioError as err:
        fail(f"--vs {err}")
    loaded = load(path)
    return Arm(loaded.name, loaded, path)


@dataclass(frozen=True)
class Options:
    """Where and how ``wsim run --vs`` runs: output directory, [run] overrides, workers."""

    out_dir: Path
    overrides: dict[str, int]
    workers: int | None
    figures: FigureOptions


def run_against(chosen: Arm, vs: Arm, replicates: int, options: Options) -> None:
    """Run `chosen` and its counterfactual `vs` on common random numbers; write and print.

    Writes replicate 0 of `chosen` as a run folder with the paired effects, then prints
    where the outputs are, the paired effects and the warnings on both scenarios.
    """
    from experiments.api import counterfactual_arms, run_results, save_run
    from experiments.compare import CompareError, Comparison
    from experiments.outputs import PAIRED_EFFECTS, OutputError

    try:
        arms, notes = counterfactual_arms(chosen, vs)
    except CompareError as err:
        fail(f"--vs {err}")
    for note in notes:
        typer.echo(f"note: {note}")
    tables = run_arms(arms, replicates, options.workers)
    results = run_results(Comparison(arms, replicates, tables, notes, options.overrides))
    try:
        outputs = save_run(results, options.out_dir, 0, options.figures)
    except (OSError, OutputError) as err:
        fail(f"{options.out_dir}: could not write the outputs: {err}")
    print_outputs(outputs)
    typer.echo(f"  effects:  {outputs.directory / PAIRED_EFFECTS}")
    run = results.scenario.run
    typer.echo(
        f"\n{arms[1].label} against {arms[0].label}: {run.households:,} households, "
        f"{run.months} months, seed {run.seed}, replicates 0..{replicates - 1} paired "
        "(the folder's tables are replicate 0's)"
    )
    assert results.effects is not None  # a run against a counterfactual has effects
    Console().print(effects_table(results.effects))
    print_warnings(results.warnings)


@app.command()
def validate(
    scenarios: Annotated[
        list[Path],
        typer.Argument(help="Scenario TOML files.", show_default=False, metavar="SCENARIO.toml"),
    ],
) -> None:
    """Check scenario files; write nothing.

    Prints one OK line per valid file and one error line (file: key: expected) per
    invalid one; the files each one extends are checked too.
    """
    from model.scenario import ScenarioError

    failed = 0
    for path in scenarios:
        try:
            params = load_scenario(path)
        except (ScenarioError, OSError) as err:
            typer.echo(f"error: {load_error(path, err)}", err=True)
            failed += 1
            continue
        typer.echo(
            f"OK {path}: {params.name}, {params.run.households:,} households, "
            f"{params.run.months} months"
        )
    if failed:
        raise typer.Exit(EXIT_INVALID)


@app.command("calibrate")
def calibrate_command(
    scenario: ScenarioArg,
    households: Annotated[
        int | None,
        typer.Option(
            help="Simulated households per run [default: the scenario's]; shares are kept.",
            show_default=False,
            metavar="N",
        ),
    ] = None,
    replicates: ReplicatesOpt = 8,
    max_evaluations: Annotated[
        int, typer.Option(help="Most parameter sets to simulate.", metavar="N")
    ] = 150,
    targets: TargetsOpt = DEFAULT_TARGETS,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Calibrated scenario file [default: calibrated/FILE beside SCENARIO].",
            show_default=False,
            metavar="FILE.toml",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Root seed of the runs [default: the scenario's].",
            show_default=False,
            metavar="SEED",
        ),
    ] = None,
    refine: Annotated[
        bool,
        typer.Option(
            "--refine",
            help="Search locally (Powell) from the values in the --out file, an "
            "earlier fit, instead of searching the whole box first.",
        ),
    ] = False,
) -> None:
    """Fit the free parameters of the county SCENARIO to its published figures.

    The county is the file's stem; its targets and free parameters come from the targets
    file. Writes a scenario that extends SCENARIO and sets the fitted keys, and prints
    each target against the fitted model.
    """
    from experiments.calibration.calibrated_scenarios import (
        calibrated_path,
        inherited_values,
        results_table,
        write_calibrated,
    )
    from experiments.calibration.fit import fit, fit_summary
    from experiments.calibration.targets import TargetsError
    from model.scenario import ScenarioError

    for option, value, least in (
        ("--households", households, 1),
        ("--replicates", replicates, 1),
        ("--max-evaluations", max_evaluations, 1),
        ("--seed", seed, 0),
    ):
        if value is not None and value < least:
            fail(f"{option}: expected a whole number >= {least}, got {value}")
    county = _county(targets, scenario)
    out = out or calibrated_path(scenario)
    if out.is_dir() or any(p.exists() and not p.is_dir() for p in out.parents):
        fail(f"--out {out}: expected a file path whose parent is a directory")
    if out.resolve() == scenario.resolve():
        fail(f"--out {out}: expected a file other than SCENARIO, which it extends")
    try:
        shared = inherited_values(county)
        base = load(scenario).with_changes(shared, str(scenario))
    except (TargetsError, ScenarioError) as err:
        fail(str(err))
    start = _earlier_fit(county, out) if refine else None
    size = with_overrides(base, {"households": households or base.run.households}).run.households
    typer.echo(
        f"calibrating {county.name}: {len(county.free)} free parameters, "
        f"{len(county.used_targets)} used targets, up to {max_evaluations} evaluations "
        f"x {replicates} replicates of {size:,} households"
    )
    with Console(stderr=True).status(
        "fitting (Powell)" if refine else "fitting (DIRECT, then Powell)"
    ):
        result = fit(county, base, size, replicates, max_evaluations, seed, start)
    written = write_calibrated(result, shared, out)
    Console().print(results_table(result.table, f"{county.name} (fitted)"))
    typer.echo(fit_summary(result))
    typer.echo(f"calibrated scenario written to {written}")


@app.command("check-calibration")
def check_calibration_command(
    households_share: Annotated[
        float,
        typer.Option(
            help="Simulated households as a share of each county's real households.",
            metavar="SHARE",
        ),
    ] = 1.0,
    replicates: Annotated[
        int,
        typer.Option(
            help="Replicates checked: FIRST..FIRST+R-1 (common random numbers).", metavar="R"
        ),
    ] = CHECK_REPLICATES,
    first_replicate: Annotated[
        int,
        typer.Option(
            help="First replicate checked; the default keeps the check out of sample, "
            "disjoint from the replicates 0..R-1 a fit uses.",
            metavar="R",
        ),
    ] = CHECK_FIRST_REPLICATE,
    targets: TargetsOpt = DEFAULT_TARGETS,
    scenarios: Annotated[
        Path, typer.Option(help="Directory of the county scenario files.", metavar="DIR")
    ] = DEFAULT_SCENARIOS,
) -> None:
    """Run each county's calibrated scenario and compare every target with its figure.

    Runs SCENARIOS/calibrated/COUNTY.toml where present, else the county file, on
    replicates the fit never used (by default). Exits with code 1 when a used target is
    outside its tolerance.
    """
    from experiments.calibration.calibrated_scenarios import (
        check_calibration,
        fitted_replicates,
        results_table,
        sample_note,
    )

    if not 0 < households_share <= 1:
        fail(f"--households-share: expected a share in (0, 1], got {households_share}")
    if replicates < 1:
        fail(f"--replicates: expected a whole number >= 1, got {replicates}")
    if first_replicate < 0:
        fail(f"--first-replicate: expected a whole number >= 0, got {first_replicate}")
    checked = range(first_replicate, first_replicate + replicates)
    table = check_calibration(_targets(targets, scenarios), households_share, checked)
    for county, rows in table.groupby("county", sort=False):
        path = Path(rows["scenario"].iloc[0])
        Console().print(results_table(rows, f"{county}: {path}"))
        typer.echo(sample_note(fitted_replicates(path), checked))
    used = table[table["used"]]
    typer.echo(
        f"{int(used['within'].sum())} of {len(used)} used targets within tolerance "
        f"({households_share:g} of each county's households, replicates "
        f"{checked.start}-{checked.stop - 1})"
    )
    if not used["within"].all():
        raise typer.Exit(EXIT_INVALID)


@app.command()
def compare(
    scenarios: Annotated[
        list[Path],
        typer.Argument(
            help="Scenario TOML files, two or more (or one with --reform); the first is the "
            "reference.",
            show_default=False,
            metavar="SCENARIO.toml",
        ),
    ],
    reform: Annotated[
        list[Path] | None,
        typer.Option(
            "--reform",
            "-f",
            help="Reform file: adds an arm, the first SCENARIO with this reform overlaid "
            "(repeat for more arms, one per reform).",
            metavar="REFORM.toml",
            show_default=False,
        ),
    ] = None,
    replicates: ReplicatesOpt = COMPARE_REPLICATES,
    households: HouseholdsOpt = None,
    months: MonthsOpt = None,
    seed: SeedOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output directory [default: results/compare-NAMES]; an earlier output "
            "directory there is replaced.",
            show_default=False,
            metavar="DIR",
        ),
    ] = None,
    workers: WorkersOpt = None,
    svg: SvgOpt = False,
    paper: PaperOpt = False,
) -> None:
    """Run SCENARIOS on the same seed and replicates and compare each with the first.

    Every scenario runs replicates 0..R-1 with the first one's seed, households and
    months (common random numbers: the same households and shocks in every scenario).
    Each --reform adds an arm: the first scenario with that reform overlaid.
    Writes the stacked tables, figures (PNG + CSV), differences.csv (paired
    differences from the first scenario, 95% t CIs) and manifest.json, then prints the
    differences.
    """
    from experiments.compare import (
        DIFFERENCES,
        CompareError,
        Comparison,
        comparison_arms,
        difference_tables,
        write_comparison,
    )
    from experiments.outputs import FigureOptions, OutputError, check_output_dir

    reforms = reform or []
    if len(scenarios) + len(reforms) < 2:
        fail(
            "SCENARIOS: expected at least two scenario files, or one with --reform, "
            f"got {len(scenarios)}"
        )
    if replicates < MIN_COMPARE_REPLICATES:
        fail(f"--replicates: expected a whole number >= {MIN_COMPARE_REPLICATES}, got {replicates}")
    overrides = given_overrides(months, seed, households)
    loaded = [(path, with_overrides(load(path), overrides)) for path in scenarios]
    first = loaded[0][1]
    loaded += [(path, with_reforms(first, [path])) for path in reforms]
    try:
        arms, notes = comparison_arms(loaded)
    except CompareError as err:
        fail(str(err))
    out_dir = out or RESULTS_DIR / safe_name("compare-" + "-".join(a.label for a in arms))
    try:
        check_output_dir(out_dir)
    except OutputError as err:
        fail(f"--out {err}")
    for note in notes:
        typer.echo(f"note: {note}")
    tables = run_arms(arms, replicates, workers)
    comparison = Comparison(arms, replicates, tables, notes, overrides)
    try:
        differences = write_comparison(comparison, out_dir, FigureOptions(svg, paper))
    except (OSError, OutputError) as err:
        fail(f"{out_dir}: could not write the outputs: {err}")
    typer.echo(
        f"comparison written to {out_dir}/: tables/, plots/ (PNG + CSV), "
        f"{DIFFERENCES}, manifest.json"
    )
    for heading, table in difference_tables(differences).items():
        Console().print(rich_table(f"differences: {heading}", table))


def run_arms(arms: list[Arm], replicates: int, workers: int | None) -> dict[str, pd.DataFrame]:
    """Replicates 0..R-1 of every arm on `workers` processes, with a progress bar (stderr).

    Returns:
        The stacked tables (`experiments.compare.run_comparison`); fails, writing
        nothing, when a run's worker process died on every attempt.
    """
    from experiments.compare import run_comparison
    from experiments.executors import LostTasks
    from model.simulate import NonFiniteResultError

    with (
        make_executor(workers, None) as executor,
        Progress(
            TextColumn("simulating"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar,
    ):
        task = bar.add_task("runs", total=len(arms) * replicates)
        try:
            return run_comparison(arms, replicates, executor, lambda: bar.advance(task))
        except LostTasks as err:
            fail(f"{len(err.items)} run(s) lost, nothing written: {err}")
        except NonFiniteResultError as err:
            fail(str(err))


@app.command("report")
def report_command(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Output directory of wsim run, wsim compare or a sweep.",
            show_default=False,
            metavar="DIR",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            help="HTML file [default: DIRECTORY/report.html].",
            show_default=False,
            metavar="FILE.html",
        ),
    ] = None,
) -> None:
    """Write one self-contained HTML report of DIRECTORY.

    The report holds the key tables, every figure, the scenario files as run (with their
    source comments) and the manifest; it links to nothing, so it opens offline. Sweep
    figures are drawn into DIRECTORY/plots/ first if there are none.
    """
    from experiments.report import ReportError, write_report

    if out is not None and out.is_dir():
        fail(f"--out {out}: expected a file path, got a directory")
    try:
        written = write_report(directory, out)
    except ReportError as err:
        fail(str(err))
    except OSError as err:
        fail(f"{directory}: could not make the report: {err}")
    typer.echo(f"report written to {written}")


def _earlier_fit(county: CountyCalibration, out: Path) -> dict[str, float | int]:
    """The free parameters' values in the calibrated file `out` (to refine them)."""
    if not out.is_file():
        fail(f"--refine: expected an earlier fit at {out}; run without --refine first")
    earlier = load(out)
    return {p.key: earlier.number(p.key) for p in county.free}


def _targets(path: Path, scenarios: Path) -> TargetsFile:
    """Load a targets file or fail with its file, key and what was expected."""
    from experiments.calibration.targets import TargetsError, load_targets
    from model.scenario import ScenarioError

    try:
        return load_targets(path, scenarios)
    except (TargetsError, ScenarioError) as err:
        fail(str(err))


def _county(targets: Path, scenario: Path) -> CountyCalibration:
    """The county of a scenario file (its stem) in a targets file, or fail."""
    from experiments.calibration.targets import TargetsError

    try:
        return _targets(targets, scenario.parent).county(scenario.stem)
    except TargetsError as err:
        fail(str(err))


def load_scenario(path: Path) -> Scenario:
    """`model.scenario.load_scenario`, imported on first use (the CLI starts fast)."""
    from model import scenario

    return scenario.load_scenario(path)


def load(path: Path) -> Scenario:
    """Load a scenario file or fail with its file, key and what was expected."""
    from model.scenario import ScenarioError

    try:
        return load_scenario(path)
    except (ScenarioError, OSError) as err:
        fail(load_error(path, err))


def with_reforms(params: Scenario, reforms: list[Path]) -> Scenario:
    """Overlay reform files in order, or fail naming the reform file and key."""
    from model.scenario import ScenarioError, apply_reforms

    for reform in reforms:
        try:
            params = apply_reforms(params, [reform])
        except (ScenarioError, OSError) as err:
            fail(load_error(reform, err))
    return params


def load_error(path: Path, err: ScenarioError | OSError) -> str:
    """``<file>: <key>: <expected>`` for a scenario that could not be loaded."""
    from model.scenario import ScenarioError

    if isinstance(err, ScenarioError):
        return str(err)
    return f"{path}: (file): a readable file ({err.strerror or err})"


def given_overrides(months: int | None, seed: int | None, households: int | None) -> dict[str, int]:
    """The `[run]` values given on the command line (options left out are not included)."""
    return {
        k: v
        for k, v in (("months", months), ("seed", seed), ("households", households))
        if v is not None
    }


def with_overrides(params: Scenario, overrides: dict[str, int]) -> Scenario:
    """Apply command-line `[run]` overrides or fail naming the option and what was expected."""
    from pydantic import ValidationError

    try:
        return params.with_overrides(**overrides)
    except ValidationError as err:
        first = err.errors()[0]
        named = [k for k in overrides if k in first["loc"]]
        message = first["msg"].removeprefix("Value error, ")
        expected = message.replace("Input should be", "expected a value", 1)
        got = f", got {overrides[named[0]]}" if named else ""
        options = "/".join(f"--{k}" for k in named or overrides)
        fail(f"{options}: {expected}{got}")


def safe_name(name: str) -> str:
    """A scenario name made safe as one directory name (no separators, no leading dot)."""
    return re.sub(r"[^\w.-]+", "_", name).lstrip(".") or "scenario"


class DelayedProgress:
    """A transient progress bar over simulated months, shown only for slow runs.

    Use as a context manager and pass it as `on_month`; the bar (on stderr) appears once
    `delay_s` seconds have passed, so short runs print nothing.

    Args:
        months: months the run will simulate.
        delay_s: seconds before the bar appears.
        console: where to draw (default: stderr).
    """

    def __init__(
        self, months: int, delay_s: float = PROGRESS_DELAY_S, console: Console | None = None
    ) -> None:
        self.months, self.delay_s = months, delay_s
        self.console = console or Console(stderr=True)
        self.progress: Progress | None = None
        self.started = time.monotonic()

    def __enter__(self) -> Self:
        self.started = time.monotonic()
        return self

    def __call__(self, model: WorkshopEconomy) -> None:
        if self.progress is None:
            if time.monotonic() - self.started < self.delay_s:
                return
            self.progress = Progress(
                TextColumn("simulating"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("months"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.add_task("months", total=self.months, completed=model.month)
            self.progress.start()
        self.progress.update(self.progress.task_ids[0], completed=model.month)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.progress is not None:
            self.progress.stop()


def report(outputs: RunOutputs, result: RunResult, params: Scenario, replicate: int) -> None:
    """Print where the outputs went and a short summary of the run."""
    print_outputs(outputs)
    typer.echo(
        f"\n{params.name}: {params.run.households:,} households, {params.run.months} "
        f"months, seed {params.run.seed}, replicate {replicate}"
    )
    Console().print(summary_table(result))


def print_outputs(outputs: RunOutputs) -> None:
    """Print where a run folder's tables, figures and manifest are."""
    root = outputs.directory
    typer.echo(f"outputs written to {root}/")
    typer.echo(f"  tables:   {root / 'tables'}/ ({len(outputs.tables)} tables, parquet + CSV)")
    typer.echo(
        f"  plots:    {root / 'plots'}/ ({len(outputs.plots) // 3} figures, "
        "PNG + SVG + CSV of the plotted data)"
    )
    typer.echo(f"  manifest: {outputs.manifest}")


def summary_table(result: RunResult) -> Table:
    """Headline results of a run: poverty at start and end, exits, poor months, spending.

    No cost per exit: without a counterfactual, spending over the run's own exits says
    nothing about what the policy bought (``wsim run --vs`` gives it).
    """
    first, last = result.monthly.iloc[0], result.monthly.iloc[-1]
    s = result.summary.to_dict(orient="records")[0]
    table = Table()
    table.add_column("result")
    table.add_column("value", justify="right")
    rows = [
        (
            "poverty headcount (share of people)",
            f"{first['headcount']:.1%} → {last['headcount']:.1%}",
        ),
        ("poor households", f"{first['poor_households']:,} → {last['poor_households']:,}"),
        (
            "poor households, mean of the final 12 months",
            f"{s['poor_households_final_12_mean']:,.1f}",
        ),
        ("gross exits (households)", f"{s['gross_exits']:,}"),
        ("net exits (households)", f"{s['net_exits']:,}"),
        ("months poor of the households poor at the start", f"{s['poor_household_months']:,}"),
        ("total spending (yuan)", f"{s['total_spending_yuan']:,.0f}"),
    ]
    for row in rows:
        table.add_row(*row)
    return table


def effects_table(effects: pd.DataFrame) -> Table:
    """Paired effects (`experiments.api.paired_effects`) for reading: estimate and CI.

    A ratio whose effect's interval contains 0 reads "undefined", with the reason.
    """
    from experiments.intervals import DEFINED

    table = Table(title="paired effects, 95% intervals")
    table.add_column("effect")
    table.add_column("estimate", justify="right")
    table.add_column("95% interval", justify="right")
    for row in effects.to_dict("records"):
        if row["status"] == DEFINED:
            low, high = signed(row["ci_low"]), signed(row["ci_high"])
            shown = (signed(row["estimate"]), f"[{low}, {high}]")
        else:
            shown = ("undefined", str(row["status"]).removeprefix("undefined: "))
        table.add_row(str(row["measure"]), *shown)
    return table


def signed(value: float) -> str:
    """A number for reading (`format_value`), with + in front of a positive one."""
    from experiments.analysis.formatting import format_value

    return ("+" if value > 0 else "") + format_value(float(value))


def print_warnings(warnings: Sequence[str]) -> None:
    """Print each warning on a run as one ``warning:`` line on stderr."""
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
