"""The figures of a single run: poverty, income sources, activities and spending.

Each is saved as PNG and SVG with its data as CSV beside it (`experiments.figures.style`).
"""

from __future__ import annotations

from pathlib import Path

from experiments.figures.style import (
    LINE_STYLES,
    new_figure,
    save_figure,
    stacked_plot,
    styled,
    wide,
)
from model.scenario import Scenario
from model.simulate import RunResult


def run_label(scenario: Scenario, replicate: int = 0) -> str:
    """Scenario name, seed and (when not 0) replicate, for figure titles."""
    rep = f", replicate {replicate}" if replicate else ""
    return f"{scenario.name} (seed {scenario.run.seed}{rep})"


@styled
def plot_poverty(
    result: RunResult, scenario: Scenario, out_dir: Path, replicate: int = 0
) -> list[Path]:
    """Poverty headcount (FGT0) and poverty gap (FGT1) of all people, month by month.

    Args:
        result: the run's tables.
        scenario: the scenario that was run (for the title).
        out_dir: directory for ``poverty.png/.svg/.csv``.
        replicate: replicate index of the run (for the title).

    Returns:
        The paths written.
    """
    data = result.monthly[["month", "headcount", "poverty_gap"]]
    fig, axes = new_figure(f"Poverty headcount and gap: {run_label(scenario, replicate)}", 2)
    panels = (
        ("headcount", "headcount FGT0\n(share of people)"),
        ("poverty_gap", "poverty gap FGT1\n(share of the line)"),
    )
    for ax, (column, ylabel), linestyle in zip(axes, panels, LINE_STYLES, strict=False):
        ax.plot(data["month"], data[column], linestyle=linestyle)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
    return save_figure(fig, data, out_dir / "poverty")


@styled
def plot_income_sources(
    result: RunResult, scenario: Scenario, out_dir: Path, replicate: int = 0
) -> list[Path]:
    """Income per person of registered-poor households by source (stacked, yuan/month).

    Args:
        result: the run's tables.
        scenario: the scenario that was run (for the title).
        out_dir: directory for ``income_sources.png/.svg/.csv``.
        replicate: replicate index of the run (for the title).

    Returns:
        The paths written.
    """
    income = result.tables["income"]
    data = wide(income[income["group"] == "registered_poor"], "source", "yuan_per_capita")
    title = f"Income of registered-poor households by source: {run_label(scenario, replicate)}"
    return stacked_plot(data, title, "yuan per person per month", out_dir / "income_sources")


@styled
def plot_activity(
    result: RunResult, scenario: Scenario, out_dir: Path, replicate: int = 0
) -> list[Path]:
    """People able to work by activity (both sexes, carers or not; stacked, people).

    Args:
        result: the run's tables.
        scenario: the scenario that was run (for the title).
        out_dir: directory for ``activity.png/.svg/.csv``.
        replicate: replicate index of the run (for the title).

    Returns:
        The paths written.
    """
    data = wide(result.tables["activity"], "activity", "people")
    title = f"People able to work by activity: {run_label(scenario, replicate)}"
    return stacked_plot(data, title, "people", out_dir / "activity")


@styled
def plot_spending(
    result: RunResult, scenario: Scenario, out_dir: Path, replicate: int = 0
) -> list[Path]:
    """Policy spending paid by instrument, cumulative since the start (stacked, yuan).

    Args:
        result: the run's tables.
        scenario: the scenario that was run (for the title).
        out_dir: directory for ``spending.png/.svg/.csv``.
        replicate: replicate index of the run (for the title).

    Returns:
        The paths written.
    """
    paid = wide(result.tables["spending"], "instrument", "paid").set_index("month")
    data = paid.cumsum().reset_index()
    title = f"Cumulative policy spending by instrument: {run_label(scenario, replicate)}"
    return stacked_plot(data, title, "cumulative spending paid (yuan)", out_dir / "spending")


PLOTS = (plot_poverty, plot_income_sources, plot_activity, plot_spending)


def plot_run(
    result: RunResult, scenario: Scenario, out_dir: Path, replicate: int = 0
) -> list[Path]:
    """Draw every single-run figure into `out_dir`; return all paths written."""
    return [path for plot in PLOTS for path in plot(result, scenario, out_dir, replicate)]
