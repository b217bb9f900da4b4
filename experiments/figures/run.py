"""The figures of a run, or of replicates of one scenario: poverty, income, activities, spending.

Each figure takes one `RunResult` or a sequence of the results of replicates of one
scenario. With two or more it draws the mean over replicates by month with its 95% t
interval (`experiments.figures.arms.across_replicates`): poverty as lines over their
bands, stacked areas of the mean series with a band for their total. Bands are clipped
to physical bounds (shares in [0, 1], people and yuan paid >= 0; the CSV keeps each
interval as computed). Months are calendar
months counted from the scenario's ``run.start``. Each figure is saved as PNG by default
(SVG on request) with its data as CSV and a caption file naming the scenario, seed,
replicates and dates (`experiments.figures.style.save_figure`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes

from experiments.figures.arms import (
    HIGH,
    LOW,
    MEAN,
    MEASURE,
    POOR_GROUP,
    POVERTY_PANELS,
    REPLICATE,
    across_replicates,
)
from experiments.figures.style import (
    COUNT_BOUNDS,
    DEFAULT_FORMATS,
    SHARE_BOUNDS,
    UNBOUNDED,
    caption,
    draw_band,
    draw_interval,
    draw_line,
    draw_stack,
    has_data,
    left_out_note,
    month_dates,
    new_figure,
    panel_grid,
    period,
    save_figure,
    say_none,
    series_of,
    set_time_axis,
    styled,
    wide,
)
from experiments.sweep.seeding import ARM
from model.scenario import Scenario
from model.simulate import RunResult

type Runs = RunResult | Sequence[RunResult]
TOTAL = "total"  # the stacked series' sum, whose CI is drawn over a stack of replicates
BAND_NOTE = "Lines: mean over replicates; bands: 95% t interval across replicates."
STACK_BAND_NOTE = "Areas: mean over replicates; band: 95% t interval of their total."


@dataclass(frozen=True)
class Stack:
    """A stacked-area figure of one run table: one area per category, by month.

    Attributes:
        stem: file stem of the figure.
        title: subject of the figure.
        ylabel: y-axis label with the unit.
        table: name of the run table (`RunResult.tables`).
        category: column whose values are the areas.
        value: column summed within each month and category.
        group: keep only rows of this ``group`` (None: every row).
        cumulative: draw the running total since the start, not each month's value.
        bounds: physical bounds of the total (low, high), to clip its band.
    """

    stem: str
    title: str
    ylabel: str
    table: str
    category: str
    value: str
    group: str | None = None
    cumulative: bool = False
    bounds: tuple[float, float] = COUNT_BOUNDS


INCOME = Stack(
    "income_sources",
    "Income of registered-poor households by source",
    "yuan per person per month",
    "income",
    "source",
    "yuan_per_capita",
    group=POOR_GROUP,
    bounds=UNBOUNDED,  # a net income source can be negative
)
ACTIVITY = Stack(
    "activity", "People able to work by activity", "people", "activity", "activity", "people"
)
SPENDING = Stack(
    "spending",
    "Cumulative policy spending by instrument",
    "cumulative spending paid (yuan)",
    "spending",
    "instrument",
    "paid",
    cumulative=True,
)


def as_runs(results: Runs) -> list[RunResult]:
    """One result or the replicates' results, as a list."""
    return [results] if isinstance(results, RunResult) else list(results)


def run_metadata(scenario: Scenario, replicate: int = 0, count: int = 1) -> str:
    """Caption sentence: scenario name, seed, replicates and households."""
    replicates = (
        f"replicate {replicate}"
        if count == 1
        else f"replicates {replicate} to {replicate + count - 1}"
    )
    return (
        f"Scenario {scenario.name}, seed {scenario.run.seed}, {replicates}, "
        f"{scenario.run.households:,} simulated households."
    )


def replicate_means(frames: Sequence[pd.DataFrame], measures: list[str]) -> pd.DataFrame:
    """Month and each measure of one frame, or of several: the mean and its 95% t CI.

    Args:
        frames: one per replicate, each with ``month`` and `measures`.
        measures: numeric columns.

    Returns:
        ``month`` and `measures` (the values, or their means over the frames); with two
        or more frames also ``<measure>_ci_low`` and ``<measure>_ci_high`` per measure.
    """
    if len(frames) == 1:
        return frames[0][["month", *measures]].reset_index(drop=True)
    stacked = pd.concat(frames, keys=range(len(frames)), names=[REPLICATE, None])
    stats = across_replicates(
        stacked.reset_index(REPLICATE).assign(**{ARM: ""}), ["month"], measures
    )
    by_month = stats.pivot(index="month", columns=MEASURE, values=[MEAN, LOW, HIGH])
    columns = {
        name: by_month[(stat, measure)]
        for measure in measures
        for stat, name in ((MEAN, measure), (LOW, f"{measure}_{LOW}"), (HIGH, f"{measure}_{HIGH}"))
    }
    return pd.DataFrame(columns).rename_axis("month").reset_index()


def interval_of(data: pd.DataFrame, measure: str) -> tuple[pd.Series, pd.Series] | None:
    """The CI columns (low, high) of `measure` in `data`, if it has them."""
    low, high = f"{measure}_{LOW}", f"{measure}_{HIGH}"
    return (data[low], data[high]) if {low, high} <= set(data.columns) else None


def draw_measure(ax: Axes, data: pd.DataFrame, measure: str, scenario: Scenario) -> None:
    """`measure` by calendar month: a line, over its CI band when `data` has one."""
    x = month_dates(data["month"], scenario.run.start)
    ci = interval_of(data, measure)
    if ci is None:
        draw_line(ax, x, data[measure], 0)
    else:
        draw_band(ax, x, data[measure], ci, 0, "mean, 95% CI", bounds=SHARE_BOUNDS)


@styled
def plot_poverty(
    result: Runs,
    scenario: Scenario,
    out_dir: Path,
    replicate: int = 0,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Poverty headcount (FGT0) and poverty gap (FGT1) of all people, month by month.

    Args:
        result: the run's tables, or those of each replicate (mean and 95% CI drawn).
        scenario: the scenario that was run (dates and caption).
        out_dir: directory for ``poverty.png/.csv/.txt``.
        replicate: replicate index of the (first) run, for the caption.
        formats: image formats to write (``png``, ``svg``...).
        paper: the paper style (no title on the figure).

    Returns:
        The paths written.
    """
    runs = as_runs(result)
    data = replicate_means([r.monthly for r in runs], list(POVERTY_PANELS))
    kept = [m for m in POVERTY_PANELS if has_data(data[m])]
    title = "Poverty headcount and gap"
    fig, axes = panel_grid(title, len(kept), paper=paper)
    for ax, measure in zip(axes, kept, strict=False):
        draw_measure(ax, data, measure, scenario)
        ax.set_ylabel(POVERTY_PANELS[measure])
        ax.set_ylim(bottom=0)
    if not kept:
        say_none(axes[0])
    set_time_axis(axes, bool(kept))
    note = caption(
        title,
        run_metadata(scenario, replicate, len(runs)),
        period(data, scenario.run.start),
        BAND_NOTE if len(runs) > 1 else "",
        left_out_note(m for m in POVERTY_PANELS if m not in kept),
    )
    return save_figure(fig, data, out_dir / "poverty", formats=formats, caption=note)


def stack_frame(result: RunResult, stack: Stack) -> pd.DataFrame:
    """One run's numbers of `stack`: month and one column per non-zero category."""
    table = result.tables[stack.table]
    if stack.group is not None:
        table = table[table["group"] == stack.group]
    data = wide(table, stack.category, stack.value)
    return data.set_index("month").cumsum().reset_index() if stack.cumulative else data


def stack_data(runs: Sequence[RunResult], stack: Stack) -> pd.DataFrame:
    """The numbers of `stack` over the runs: one run's, or the means and a CI.

    Over several runs: the mean of each category (a category missing from a run is 0
    there) and the 95% t CI of their total (``total_ci_low``, ``total_ci_high``).
    """
    frames = [stack_frame(r, stack) for r in runs]
    if len(frames) == 1:
        return frames[0]
    series = list(dict.fromkeys(c for f in frames for c in series_of(f)))
    aligned = [f.reindex(columns=["month", *series], fill_value=0.0) for f in frames]
    aligned = [f.assign(**{TOTAL: f[series].sum(axis=1)}) for f in aligned]
    data = replicate_means(aligned, [*series, TOTAL])
    return data[["month", *series, f"{TOTAL}_{LOW}", f"{TOTAL}_{HIGH}"]]


def plot_stack(
    stack: Stack,
    result: Runs,
    scenario: Scenario,
    out_dir: Path,
    replicate: int,
    formats: Sequence[str],
    paper: bool,
) -> list[Path]:
    """Draw and save the stacked-area figure `stack` of one run or of replicates."""
    runs = as_runs(result)
    data = stack_data(runs, stack)
    series = [c for c in series_of(data) if c not in (f"{TOTAL}_{LOW}", f"{TOTAL}_{HIGH}")]
    fig, axes = new_figure(stack.title, paper=paper)
    draw_stack(axes[0], data[["month", *series]], stack.ylabel, start=scenario.run.start)
    ci = interval_of(data, TOTAL)
    if ci is not None and series:
        x = month_dates(data["month"], scenario.run.start)
        draw_interval(axes[0], x, ci, 0, stack.bounds)
    set_time_axis(axes, bool(series))
    categories = [r.tables[stack.table][stack.category] for r in runs]
    every = dict.fromkeys(str(c) for column in categories for c in column)
    note = caption(
        stack.title,
        run_metadata(scenario, replicate, len(runs)),
        period(data, scenario.run.start),
        STACK_BAND_NOTE if ci is not None else "",
        left_out_note(c for c in every if c not in series),
    )
    return save_figure(fig, data, out_dir / stack.stem, formats=formats, caption=note)


@styled
def plot_income_sources(
    result: Runs,
    scenario: Scenario,
    out_dir: Path,
    replicate: int = 0,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Income per person of registered-poor households by source (stacked, yuan/month).

    Args:
        result: the run's tables, or those of each replicate (means stacked, 95% CI of
            the total drawn).
        scenario: the scenario that was run (dates and caption).
        out_dir: directory for ``income_sources.png/.csv/.txt``.
        replicate: replicate index of the (first) run, for the caption.
        formats: image formats to write.
        paper: the paper style (no title on the figure).

    Returns:
        The paths written.
    """
    return plot_stack(INCOME, result, scenario, out_dir, replicate, formats, paper)


@styled
def plot_activity(
    result: Runs,
    scenario: Scenario,
    out_dir: Path,
    replicate: int = 0,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """People able to work by activity (both sexes, carers or not; stacked, people).

    Args:
        result: the run's tables, or those of each replicate (means stacked, 95% CI of
            the total drawn).
        scenario: the scenario that was run (dates and caption).
        out_dir: directory for ``activity.png/.csv/.txt``.
        replicate: replicate index of the (first) run, for the caption.
        formats: image formats to write.
        paper: the paper style (no title on the figure).

    Returns:
        The paths written.
    """
    return plot_stack(ACTIVITY, result, scenario, out_dir, replicate, formats, paper)


@styled
def plot_spending(
    result: Runs,
    scenario: Scenario,
    out_dir: Path,
    replicate: int = 0,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Policy spending paid by instrument, cumulative since the start (stacked, yuan).

    Args:
        result: the run's tables, or those of each replicate (means stacked, 95% CI of
            the total drawn).
        scenario: the scenario that was run (dates and caption).
        out_dir: directory for ``spending.png/.csv/.txt``.
        replicate: replicate index of the (first) run, for the caption.
        formats: image formats to write.
        paper: the paper style (no title on the figure).

    Returns:
        The paths written.
    """
    return plot_stack(SPENDING, result, scenario, out_dir, replicate, formats, paper)


PLOTS = (plot_poverty, plot_income_sources, plot_activity, plot_spending)


def plot_run(
    result: Runs,
    scenario: Scenario,
    out_dir: Path,
    replicate: int = 0,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Draw every figure of a run (or of replicates) into `out_dir`; return all paths.

    Args:
        result: the run's tables, or those of each replicate of `scenario`.
        scenario: the scenario that was run.
        out_dir: directory for the figures.
        replicate: replicate index of the (first) run, for the captions.
        formats: image formats to write (PNG by default; add ``svg`` for SVG).
        paper: the paper style (no titles on the figures; captions carry them).
    """
    return [
        path
        for plot in PLOTS
        for path in plot(result, scenario, out_dir, replicate, formats=formats, paper=paper)
    ]
