"""Figures of a single run: one shared style, four plots, each saved with its data.

Every figure is written as PNG and SVG with the plotted numbers as CSV beside it (same
stem), so a figure can be checked or redrawn without rerunning the model. Figures are
drawn on the Agg canvas directly (no pyplot), so plotting never touches global state
or needs a display. The style is readable in greyscale: lines differ in dash pattern
and stacked areas in hatch, with colours that also differ in lightness.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter
from matplotlib.typing import RcKeyType

from model.scenario import Scenario
from model.simulate import RunResult

LINE_STYLES = ("-", "--", ":", "-.")
HATCHES = ("", "//", "..", "xx", "\\\\", "oo", "++", "--", "||", "**")
AREA_COLOURS = mpl.colormaps["cividis"]  # lightness rises along it, so greys stay apart
STYLE: dict[RcKeyType, Any] = {
    "figure.figsize": (8.0, 4.8),
    "savefig.dpi": 150,
    "svg.fonttype": "none",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "0.85",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=["0.0", "0.35", "0.55", "0.7"], linestyle=LINE_STYLES),
    "lines.linewidth": 1.8,
    "hatch.color": "0.15",
    "hatch.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
}
MONTH_LABEL = "month of the run (0 = starting state)"


def styled[**P, R](plot: Callable[P, R]) -> Callable[P, R]:
    """Draw and save inside the shared style (the one place the style is applied)."""

    @functools.wraps(plot)
    def in_style(*args: P.args, **kwargs: P.kwargs) -> R:
        with mpl.rc_context(STYLE):
            return plot(*args, **kwargs)

    return in_style


def run_label(scenario: Scenario, replicate: int = 0) -> str:
    """Scenario name, seed and (when not 0) replicate, for figure titles."""
    rep = f", replicate {replicate}" if replicate else ""
    return f"{scenario.name} (seed {scenario.run.seed}{rep})"


def new_figure(title: str, rows: int = 1) -> tuple[Figure, list[Axes]]:
    """A figure on the Agg canvas with `rows` panels sharing the month axis."""
    fig = Figure(layout="constrained")
    FigureCanvasAgg(fig)
    axes = list(fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0])
    fig.suptitle(title)
    axes[-1].set_xlabel(MONTH_LABEL)
    return fig, axes


def save_figure(fig: Figure, data: pd.DataFrame, stem: Path) -> list[Path]:
    """Write `fig` as PNG and SVG and `data` (the plotted numbers) as CSV.

    Args:
        fig: the finished figure.
        data: exactly the numbers drawn, one column per series.
        stem: output path without suffix; its directory is created if needed.

    Returns:
        The paths written (PNG, SVG, CSV).
    """
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(s) for s in (".png", ".svg", ".csv")]
    fig.savefig(paths[0])
    fig.savefig(paths[1])
    data.to_csv(paths[2], index=False)
    return paths


def wide(table: pd.DataFrame, category: str, value: str) -> pd.DataFrame:
    """One row per month, one column per category with any non-zero value."""
    frame = table.pivot_table(index="month", columns=category, values=value, aggfunc="sum",
                              sort=False)
    frame = frame.loc[:, (frame != 0).any()]
    frame.columns = frame.columns.astype(str)
    frame.columns.name = None
    return frame.reset_index()


def stacked_plot(data: pd.DataFrame, title: str, ylabel: str, stem: Path) -> list[Path]:
    """Stacked areas of every column but `month`, each with its own hatch; saved with data."""
    fig, (ax,) = new_figure(title)
    series = [c for c in data.columns if c != "month"]
    if series:
        colours = AREA_COLOURS(np.linspace(0.35, 1.0, len(series)))
        areas = ax.stackplot(data["month"], *(data[c] for c in series), labels=series,
                             colors=colours, edgecolor="0.2", linewidth=0.4)
        for area, hatch in zip(areas, HATCHES, strict=False):
            area.set_hatch(hatch)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), reverse=True)
    else:
        ax.text(0.5, 0.5, "all zero in this run", transform=ax.transAxes, ha="center")
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    return save_figure(fig, data, stem)


@styled
def plot_poverty(result: RunResult, scenario: Scenario, out_dir: Path,
                 replicate: int = 0) -> list[Path]:
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
    panels = (("headcount", "headcount FGT0\n(share of people)"),
              ("poverty_gap", "poverty gap FGT1\n(share of the line)"))
    for ax, (column, ylabel), linestyle in zip(axes, panels, LINE_STYLES, strict=False):
        ax.plot(data["month"], data[column], linestyle=linestyle)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
    return save_figure(fig, data, out_dir / "poverty")


@styled
def plot_income_sources(result: RunResult, scenario: Scenario, out_dir: Path,
                        replicate: int = 0) -> list[Path]:
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
def plot_activity(result: RunResult, scenario: Scenario, out_dir: Path,
                  replicate: int = 0) -> list[Path]:
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
def plot_spending(result: RunResult, scenario: Scenario, out_dir: Path,
                  replicate: int = 0) -> list[Path]:
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


def plot_run(result: RunResult, scenario: Scenario, out_dir: Path,
             replicate: int = 0) -> list[Path]:
    """Draw every single-run figure into `out_dir`; return all paths written."""
    return [path for plot in PLOTS for path in plot(result, scenario, out_dir, replicate)]
