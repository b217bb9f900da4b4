"""``wsim sweep | resume | status | analyze | analyze-rules | rerun``: sweeps and their analysis.

`register(app)` adds the commands to a typer app (the ``wsim`` command);
``python -m experiments.cli.sweep COMMAND ...`` runs them on their own.

Exit codes as ``wsim``: 1 invalid input (a spec, option value or directory that cannot
be used: one ``error: ...`` line on stderr, nothing written), a results directory that
cannot be written (what was stored before stays readable), one that another process is
writing, or a rerun that does not reproduce its stored rows; 2 usage error; 130 a sweep
interrupted by Ctrl-C (one line says how many runs are stored and how to continue).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, Self

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from experiments.cli.errors import fail, needs
from experiments.cli.options import RESULTS_DIR

if TYPE_CHECKING:  # each command imports what it runs: building the app stays fast
    import pandas as pd

    from experiments.executors import Executor
    from experiments.sweep.spec import Spec
    from experiments.sweep.store import RunRecord, SweepStore

ANALYSIS_DIR = "analysis"
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C
WRITTEN_ONLY = ("national",)  # analysis tables too long to print: one row per arm and replicate

SpecArg = Annotated[
    Path, typer.Argument(help="Sweep spec TOML file.", show_default=False, metavar="SPEC.toml")
]
DirArg = Annotated[Path, typer.Argument(help="Sweep directory.", show_default=False, metavar="DIR")]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="Sweep directory [default: results/NAME, NAME the experiment's name]; a "
        "directory of the same spec is resumed, any other non-empty one refused.",
        show_default=False,
        metavar="DIR",
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        "-w",
        help="Worker processes [default: all cores]; 1 runs in this process.",
        metavar="N",
        show_default=False,
    ),
]
DaskOpt = Annotated[
    str | None,
    typer.Option(
        help="Run on a Dask cluster: its scheduler address, or 'local' for a LocalCluster of "
        "--workers processes on 127.0.0.1.",
        show_default=False,
        metavar="ADDRESS",
    ),
]
RunsPerTaskOpt = Annotated[
    int | None,
    typer.Option(
        help="Runs per executor task [default: about 16 tasks per worker, at most 8 runs].",
        show_default=False,
        metavar="N",
    ),
]


RunIdArg = Annotated[
    str,
    typer.Argument(
        help="Run id: the run_id column of the sweep's runs table.",
        show_default=False,
        metavar="RUN_ID",
    ),
]


def register(app: typer.Typer) -> None:
    """Add the sweep commands (sweep, resume, status, analyze, analyze-rules, rerun) to `app`."""
    app.command("sweep")(sweep)
    app.command("resume")(resume)
    app.command("status")(status_command)
    app.command("analyze")(analyze_command)
    app.command("analyze-rules")(analyze_rules_command)
    app.command("rerun")(rerun_command)


def sweep(
    spec: SpecArg,
    out: OutOpt = None,
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    runs_per_task: RunsPerTaskOpt = None,
) -> None:
    """Run every run of the sweep SPEC and store the results.

    Writes manifest.json and parquet parts (runs, monthly, summary, failures) into the
    sweep directory as runs finish; a killed sweep continues with `wsim resume DIR`.
    """
    from experiments.sweep.engine import spec_hash
    from experiments.sweep.spec import SpecError, load_spec
    from experiments.sweep.store import StoreError, SweepStore

    try:
        loaded = load_spec(spec)
    except SpecError as err:
        fail(str(err))
    store = SweepStore(out or RESULTS_DIR / loaded.name)
    try:
        store.check_usable(spec_hash(loaded))
    except StoreError as err:
        fail(str(err))
    execute(loaded, store, make_executor(workers, dask), runs_per_task)


def resume(
    directory: DirArg,
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    runs_per_task: RunsPerTaskOpt = None,
) -> None:
    """Continue the sweep in DIRECTORY: run what is not done or failed yet."""
    store, spec = open_or_fail(directory)
    execute(spec, store, make_executor(workers, dask), runs_per_task)


def status_command(directory: DirArg) -> None:
    """Show how many runs of the sweep in DIRECTORY are done, failed and pending, and an ETA."""
    from experiments.sweep.engine import status
    from experiments.sweep.store import StoreError

    open_or_fail(directory)
    try:
        state = status(directory)
    except StoreError as err:
        fail(str(err))
    typer.echo(f"{directory}: {state.done} done, {state.failed} failed, {state.pending} pending")
    if not math.isnan(state.mean_seconds):
        eta = dt.timedelta(seconds=round(state.eta_seconds))
        typer.echo(
            f"mean run time {state.mean_seconds:.2f} s; ETA {eta} at {state.workers} worker(s)"
        )
    typer.echo(
        f"complete ({state.finished_utc})"
        if state.finished_utc and not state.pending
        else f"not complete: continue with `wsim resume {directory}`"
    )
    if state.adaptive is not None:
        typer.echo(f"adaptive replicates: {state.adaptive.note}")


def analyze_command(
    directory: DirArg,
    outcome: Annotated[
        list[str] | None,
        typer.Option(
            help="An outcome to report effects on (repeatable) [default: the standard "
            "outcomes and the spec's]; a summary column or a kept monthly column.",
            show_default=False,
            metavar="OUTCOME",
        ),
    ] = None,
    arm: Annotated[
        list[str] | None,
        typer.Option(
            help="An arm to report on and rank (repeatable) [default: every arm].",
            show_default=False,
            metavar="ARM",
        ),
    ] = None,
) -> None:
    """Analyse the sweep in DIRECTORY: print tables and write them to DIRECTORY/analysis/.

    Effects of each arm against the baseline (paired, 95% t CIs), household rates
    (Wilson), yuan per extra net exit and per poor household-month averted (95% Fieller
    CIs, "undefined" where the gain's interval contains 0), rankings with the share of
    bootstrap resamples in which each arm ranks first, spending by instrument, where
    adaptive replicates stopped, and Sobol or Morris indices of the uncertainties. A
    county sweep's tables are by county and national (the counties' runs added up; each
    arm's and replicate's sums in national.csv).
    """
    from experiments.analysis.effects import (
        AnalysisError,
        analyze,
        arm_names,
        check_names,
        outcome_names,
    )
    from experiments.sweep.store import StoreError

    store, spec = open_or_fail(directory)
    try:
        data = store.load(panel=False)
    except StoreError as err:
        fail(str(err))
    try:
        check_names("--outcome", outcome or [], outcome_names(data))
        check_names("--arm", arm or [], arm_names(spec))
        tables = analyze(spec, data, outcome, arm)
    except AnalysisError as err:
        fail(f"{directory}: {err}")
    folder = directory / ANALYSIS_DIR
    try:
        folder.mkdir(exist_ok=True)
        for name, table in tables.items():
            table.to_csv(folder / f"{name}.csv", index=False)
    except OSError as err:
        fail(f"{folder}: could not write the analysis tables ({err.strerror or err})")
    console = Console()
    for name, table in tables.items():
        if name not in WRITTEN_ONLY:
            console.print(rich_table(name, table))
    for name in WRITTEN_ONLY:
        if name in tables:
            typer.echo(f"{name} sums of each arm and replicate: {folder / name}.csv")
    if "adaptive" in tables:
        typer.echo(f"adaptive replicates: {tables['adaptive']['note'].iloc[0]}")
    typer.echo(f"tables written to {folder}/")


def analyze_rules_command(
    directory: DirArg,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for summary.md and ranking.csv [default: DIRECTORY/analysis].",
            show_default=False,
            metavar="DIR",
        ),
    ] = None,
) -> None:
    """Rank the arms of the decision-rule sweep in DIRECTORY under each rule.

    The sweep crosses one lever, the decision rule, with the others (as
    experiments/specs/decision_rules.toml does). Writes ranking.csv (each arm's extra net
    exits and cost per net exit under each rule, with 95% CIs, and its rank) and
    summary.md (which conclusions hold under every rule and which depend on it).
    """
    from experiments.analysis.decision_rules import SummaryError, write_summary
    from experiments.sweep.spec import SpecError
    from experiments.sweep.store import StoreError

    try:
        paths = write_summary(directory, out)
    except (StoreError, SpecError, SummaryError) as err:
        fail(str(err))
    typer.echo("written: " + ", ".join(map(str, paths)))


def rerun_command(directory: DirArg, run_id: RunIdArg) -> None:
    """Redo one run of the sweep in DIRECTORY and check it reproduces its stored rows.

    The run is rebuilt from the manifest (spec, parameter point, replicate). Exits 0 when
    its monthly and summary rows (and household panel, if kept) are identical to the
    stored ones, 1 naming the differing columns otherwise.
    """
    from experiments.sweep.rerun import RerunError, rerun
    from experiments.sweep.spec import SpecError
    from experiments.sweep.store import StoreError

    try:
        result = rerun(directory, run_id)
    except (RerunError, StoreError, SpecError) as err:
        fail(str(err))
    if result.error is not None:
        fail(
            f"{directory}: {run_id}: expected the stored rows again, the run raised {result.error}"
        )
    if not result.reproduced:
        fail(
            f"{directory}: {run_id}: expected the stored rows again, got different values "
            f"in {', '.join(result.differing)}"
        )
    typer.echo(
        f"run {run_id} (arm {result.task.arm}, replicate {result.task.replicate}) "
        "reproduces its stored rows exactly"
    )


def make_executor(workers: int | None, dask: str | None) -> Executor:
    """The executor the options ask for: Dask, Serial (one worker) or Processes."""
    from experiments.executors import Dask, serial_or_processes

    if workers is not None and workers < 1:
        fail(f"--workers: expected a whole number >= 1, got {workers}")
    count = workers or os.cpu_count() or 1
    if dask is not None:
        needs("cluster")
        return Dask(dask, count)
    return serial_or_processes(count)


def execute(spec: Spec, store: SweepStore, executor: Executor, runs_per_task: int | None) -> None:
    """Start (or continue) the sweep on `executor` with a progress bar, then report.

    The directory's lock is held throughout (a second writer is refused at once). Notes
    on stderr say which corrupt parts were set aside and how many orphan parts removed.
    Ctrl-C ends it with one line saying how to continue, exit code `EXIT_INTERRUPTED`; so
    does a Dask scheduler lost midway (exit code 1).
    """
    from experiments.executors import ExecutorError, LostScheduler
    from experiments.sweep.engine import run_sweep, start, status
    from experiments.sweep.store import StoreError

    if runs_per_task is not None and runs_per_task < 1:
        fail(f"--runs-per-task: expected a whole number >= 1, got {runs_per_task}")
    try:
        with executor, store.writer():
            repair = start(spec, store, type(executor).__name__.lower(), executor.workers)
            for note in repair.notes():
                typer.echo(f"note: {note}", err=True)
            with SweepProgress() as progress:
                run_sweep(
                    spec, store, executor, progress.add_round, progress.advance, runs_per_task
                )
        state = status(store.directory)
    except LostScheduler as err:
        fail(
            f"{err}; the runs stored before are kept: with a scheduler there again, "
            f"continue with: wsim resume {store.directory} --dask {err.address}"
        )
    except (ExecutorError, StoreError) as err:
        fail(str(err))
    except KeyboardInterrupt:
        interrupted(spec, store)
    typer.echo(
        f"sweep {spec.name} written to {store.directory}/: {state.done} done, "
        f"{state.failed} failed"
        + (f" (tracebacks in {store.directory}/failures/)" if state.failed else "")
    )
    if state.adaptive is not None:
        typer.echo(f"adaptive replicates: {state.adaptive.note}")


def interrupted(spec: Spec, store: SweepStore) -> NoReturn:
    """Say how many runs an interrupted sweep stored and how to continue; exit 130."""
    from experiments.sweep.engine import status
    from experiments.sweep.spec import SpecError
    from experiments.sweep.store import MANIFEST, StoreError

    if not (store.directory / MANIFEST).exists():
        typer.echo(
            f"interrupted before the sweep started: nothing stored; start again with: "
            f"wsim sweep {spec.path} --out {store.directory}",
            err=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED)
    try:
        state = status(store.directory)
        stored = state.done + state.failed
        counted = f"{stored} of {stored + state.pending} runs stored"
    except (StoreError, SpecError):
        counted = "the runs finished so far are stored"
    typer.echo(f"interrupted: {counted}; continue with: wsim resume {store.directory}", err=True)
    raise typer.Exit(EXIT_INTERRUPTED)


def open_or_fail(directory: Path) -> tuple[SweepStore, Spec]:
    """The sweep in `directory` and its spec, or fail naming what is wrong."""
    from experiments.sweep.engine import open_sweep
    from experiments.sweep.spec import SpecError
    from experiments.sweep.store import StoreError

    try:
        return open_sweep(directory)
    except (StoreError, SpecError) as err:
        fail(str(err))


class SweepProgress:
    """A progress bar over the runs of a sweep (on stderr), grown round by round."""

    def __enter__(self) -> Self:
        self.failed = 0
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self.task = self.progress.add_task("sweeping", total=0)
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def add_round(self, runs: int) -> None:
        """Add a round of `runs` runs to the bar's total."""
        total = self.progress.tasks[0].total or 0
        self.progress.update(self.task, total=total + runs)

    def advance(self, records: list[RunRecord]) -> None:
        """Count a stored batch (and its failures)."""
        self.failed += sum(r.error is not None for r in records)
        self.progress.update(
            self.task,
            advance=len(records),
            description=f"sweeping ({self.failed} failed)" if self.failed else "sweeping",
        )


def rich_table(title: str, frame: pd.DataFrame) -> Table:
    """An analysis table for reading in a terminal (`readable`); text wraps, never truncates."""
    import pandas as pd

    from experiments.analysis.formatting import format_value, readable

    shown = readable(title, frame)
    table = Table(title=title)
    for column in shown.columns:
        numeric = pd.api.types.is_numeric_dtype(shown[column])
        table.add_column(str(column), justify="right" if numeric else "left", overflow="fold")
    for row in shown.itertuples(index=False):
        table.add_row(*(format_value(value) for value in row))
    return table


def main() -> None:
    """Run the sweep commands on their own (``python -m experiments.cli.sweep``)."""
    app = typer.Typer(
        name="wsim",
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
        pretty_exceptions_show_locals=False,
    )
    register(app)
    app()


if __name__ == "__main__":
    main()
