"""``wsim optimise SPEC``: the split of a yearly budget across instruments that helps most.

`register(app)` adds the command to a typer app (the ``wsim`` command). Exit codes as
``wsim``: 1 for an invalid spec or option, a directory holding something else, or a
run that failed (one ``error: ...`` line); 2 usage error.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from experiments.cli.errors import fail, needs
from experiments.cli.sweep import RESULTS_DIR, DaskOpt, WorkersOpt, make_executor

if TYPE_CHECKING:  # the command imports what it runs: building the app stays fast
    import pandas as pd

SpecArg = Annotated[
    Path,
    typer.Argument(help="Optimisation spec TOML file.", show_default=False, metavar="SPEC.toml"),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="Results directory [default: results/NAME, NAME the experiment's name]; a "
        "directory of the same spec is resumed (its stored runs are replayed), any other refused.",
        show_default=False,
        metavar="DIR",
    ),
]


def register(app: typer.Typer) -> None:
    """Add the ``optimise`` command to `app`."""
    app.command("optimise")(optimise_command)


def optimise_command(
    spec: SpecArg, out: OutOpt = None, workers: WorkersOpt = None, dask: DaskOpt = None
) -> None:
    """Search the split of SPEC's yearly budget (and settings) that raises its outcome most.

    Every candidate runs on the same uncertainty scenarios and replicates as the county
    without a workshop policy; the chosen split and the hand-designed arms are then run
    on fresh scenarios and replicates (out of sample). Writes the trace, convergence,
    Pareto front (with spending as an objective), the check and figures to
    DIR/optimisation/. A killed search continues when the command is run again.
    """
    needs("decision")
    from experiments.executors import ExecutorError
    from experiments.optimisation.evaluation import OptimiseError
    from experiments.optimisation.run import optimise
    from experiments.optimisation.spec import load_optimise_spec
    from experiments.sweep.spec import SpecError
    from experiments.sweep.store import StoreError

    try:
        loaded = load_optimise_spec(spec)
    except SpecError as err:
        fail(str(err))
    directory = out or RESULTS_DIR / loaded.name
    executor = make_executor(workers, dask)
    try:
        with _progress() as progress:
            task = progress.add_task("runs stored", total=None)
            result = optimise(loaded, directory, executor, lambda n: progress.advance(task, n))
    except (StoreError, OptimiseError, ExecutorError) as err:
        fail(str(err))
    console = Console()
    console.print(f"score: {result.robustness}")
    console.print(_chosen_table(result.chosen))
    if len(result.check):
        console.print(_frame_table(result.check, "Out of sample (fresh scenarios and replicates)"))
    if len(result.difference):
        console.print(_frame_table(result.difference, "Chosen mix less the best hand arm"))
    typer.echo(f"written to {result.directory}/")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    )


def _chosen_table(chosen: pd.Series) -> Table:
    from experiments.analysis.formatting import format_value

    table = Table("chosen mix", "value", title="The chosen candidate (in sample)")
    for key, value in chosen.items():
        if not str(key).startswith("gain_scenario_"):
            table.add_row(str(key), format_value(value))
    return table


def _frame_table(frame: pd.DataFrame, title: str) -> Table:
    from experiments.analysis.formatting import format_value

    table = Table(*[str(c) for c in frame.columns], title=title)
    for row in frame.itertuples(index=False):
        table.add_row(*[format_value(v) for v in row])
    return table
