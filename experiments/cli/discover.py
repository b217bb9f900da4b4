"""``wsim discover``: where in the uncertain parameters of a sweep the policy fails.

`register(app)` adds the command to a typer app (the ``wsim`` command).

Exit codes as ``wsim``: 1 invalid input (a folder that is not a sweep with uncertainties,
an unknown outcome or arm, no or two thresholds, a threshold that is not finite, a box
off the trajectory, a threshold no point crosses: one ``error: ...`` line on stderr,
nothing written); 2 usage error.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from experiments.cli.errors import fail, needs
from experiments.cli.options import BASELINE, MIN_DENSITY

if TYPE_CHECKING:  # the command imports what it runs: building the app stays fast
    from experiments.discovery import Discovery, DiscoveryError

PLOTS_NOTE = "plots/ (PNG + SVG + CSV)"
OPTIONS = {  # argument of `experiments.discovery` -> its option
    "outcome": "--outcome",
    "arm": "--arm",
    "effect_vs": "--effect-vs",
    "below": "--below",
    "above": "--above",
    "below/above": "--below/--above",
    "min_density": "--min-density",
    "box": "--box",
}


def register(app: typer.Typer) -> None:
    """Add the ``discover`` command to `app`."""
    app.command("discover")(discover_command)


def discover_command(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Sweep directory with uncertainties.", show_default=False, metavar="DIR"
        ),
    ],
    outcome: Annotated[
        str,
        typer.Option(
            help="Outcome that defines failure: one of the spec's outcomes.",
            show_default=False,
            metavar="OUTCOME",
        ),
    ],
    below: Annotated[
        float | None,
        typer.Option(
            help="A point fails when its outcome (mean over replicates) is below this.",
            show_default=False,
            metavar="X",
        ),
    ] = None,
    above: Annotated[
        float | None,
        typer.Option(help="Or when it is above this.", show_default=False, metavar="X"),
    ] = None,
    effect_vs: Annotated[
        str | None,
        typer.Option(
            help="An arm: the outcome is then the paired effect ARM minus this arm, run by "
            "run on the same replicates, averaged [default: ARM's own level].",
            show_default=False,
            metavar="ARM",
        ),
    ] = None,
    arm: Annotated[
        str,
        typer.Option(
            help="The arm whose outcome is read (baseline: the spec's base).", metavar="ARM"
        ),
    ] = BASELINE,
    min_density: Annotated[
        float,
        typer.Option(
            help="The chosen box is the first on PRIM's trajectory (the most coverage) with "
            "at least this share of its points failing, else the densest.",
            metavar="SHARE",
        ),
    ] = MIN_DENSITY,
    box: Annotated[
        int | None,
        typer.Option(
            help="Choose this box of the peeling trajectory instead (0 = all points).",
            show_default=False,
            metavar="N",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output folder [default: DIRECTORY/discovery/OUTCOME_below-or-above_"
            "VALUE, with _effect_vs_ARM for --effect-vs]; an earlier discovery folder "
            "there is replaced.",
            show_default=False,
            metavar="DIR",
        ),
    ] = None,
) -> None:
    """Find where in the uncertain parameters of the sweep in DIRECTORY the policy fails.

    One row per uncertainty point: its parameters and OUTCOME of ARM (or its paired
    effect against --effect-vs), averaged over the replicates; the point fails when
    that is --below (or --above) the threshold. Writes PRIM's peeling trajectory, the
    chosen box's limits with their quasi-p values, a shallow CART tree's rules and
    failing leaves, feature scores (CSV), discovery.json and the figures (PNG + SVG +
    CSV) into the output folder, then prints the chosen box.
    """
    needs("decision")
    from experiments.api import ResultsError
    from experiments.discovery import DISCOVERY_DIR, DiscoveryError, discover, failure_of
    from experiments.sweep.spec import SpecError
    from experiments.sweep.store import StoreError

    try:
        failure = failure_of(outcome, below, above, arm, effect_vs)
        found = discover(
            directory,
            outcome,
            below=below,
            above=above,
            effect_vs=effect_vs,
            arm=arm,
            min_density=min_density,
            box=box,
        )
    except DiscoveryError as err:
        fail(message(err))
    except (ResultsError, StoreError, SpecError) as err:
        fail(str(err))
    folder = out or directory / DISCOVERY_DIR / failure.folder_name()
    try:
        found.save(folder)
    except DiscoveryError as err:
        fail(f"--out {message(err)}")
    except OSError as err:
        fail(f"{folder}: could not write the discovery ({err.strerror or err})")
    report(found, folder)


def message(err: DiscoveryError) -> str:
    """The error's message, its argument named as the option (``effect_vs``: ``--effect-vs``)."""
    key = OPTIONS.get(err.key, err.key)
    return ": ".join(part for part in (err.where, key, err.expected) if part)


def report(found: Discovery, folder: Path) -> None:
    """Print where the discovery was written and its chosen box."""
    summary = found.summary()
    typer.echo(f"discovery written to {folder}/: tables (CSV), {PLOTS_NOTE}, discovery.json")
    typer.echo(
        f"{summary['failing_points']} of {summary['points']} points fail: "
        f"{found.failure.statement()} ({found.unit})"
    )
    typer.echo(
        f"chosen box {found.chosen_box} of {len(found.trajectory)}: coverage "
        f"{found.coverage:.2f}, density {found.density:.2f}, mass {found.mass:.2f}"
    )
    Console().print(limits_table(found))
    if not found.cart_leaves.empty:
        typer.echo("CART leaves that predict failure:")
        for leaf in found.cart_leaves.to_dict("records"):
            typer.echo(
                f"  {leaf['rule']}: coverage {leaf['coverage']:.2f}, density {leaf['density']:.2f}"
            )


def limits_table(found: Discovery) -> Table:
    """The chosen box's limits on the parameters it restricts, with quasi-p values."""
    from experiments.analysis.formatting import format_value

    table = Table(title=f"box {found.chosen_box}: limits (quasi-p values)")
    for column in ("parameter", "box", "range", "qp low", "qp high"):
        table.add_column(column, justify="left" if column == "parameter" else "right")
    for row in found.restricted.to_dict("records"):
        table.add_row(
            str(row["label"]),
            f"{format_value(row['box_low'])} to {format_value(row['box_high'])}",
            f"{format_value(row['range_low'])} to {format_value(row['range_high'])}",
            _qp(row["qp_low"]),
            _qp(row["qp_high"]),
        )
    if not found.restricted.size:
        table.add_row("(no parameter restricted)", "", "", "", "")
    return table


def _qp(value: float) -> str:
    """A quasi-p value for reading; "-" where the limit is not restricted."""
    return "-" if math.isnan(value) else f"{value:.2g}"
