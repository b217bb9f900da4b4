"""Figures comparing arms (scenarios, or the lever settings of a sweep) across replicates.

Every function takes tidy frames: one row per arm x replicate x month (x category), the
columns ``arm`` and ``replicate`` in front of a run's own table columns (the stacked
tables of `wsim compare`, or a sweep's stored tables joined with its runs), so the same
figures serve comparisons and sweeps. Arms keep the order of their first row. A 95% CI
is Student's t across replicates, mean ± t * sd / sqrt(n)
(`experiments.intervals.t_half_width`); with one replicate it is empty. Bands are
clipped to the measure's physical bounds (counts >= 0, shares in [0, 1]; the CSV keeps
each interval as computed, so its width can be checked); panels with
nothing but zeros or missing values are left out and named in the caption. Months are
calendar months, from `start` (the scenario's ``run.start``) or the frame's ``date``
column. Each figure is saved as PNG by default (SVG on request) with exactly its plotted
numbers as CSV and a caption file holding `label` (arms, seed, replicates) and the dates
(`experiments.figures.style.save_figure`).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from experiments.figures.style import (
    COUNT_BOUNDS,
    DEFAULT_FORMATS,
    EDGE_COLOUR,
    EDGE_WIDTH,
    REFERENCE_LINE,
    SHARE_BOUNDS,
    UNBOUNDED,
    caption,
    draw_band,
    draw_stack,
    draw_whiskers,
    fills,
    has_data,
    is_dated,
    left_out_note,
    legend_below,
    new_figure,
    panel_grid,
    period,
    save_figure,
    say_none,
    set_time_axis,
    styled,
    time_axis,
)
from experiments.intervals import t_half_width
from experiments.sweep.seeding import ARM

REPLICATE = "replicate"
MEASURE, MEAN, LOW, HIGH = "measure", "mean", "ci_low", "ci_high"
MONTHS_PER_YEAR = 12
FINAL_MONTHS = MONTHS_PER_YEAR  # income is averaged over the final year: seasons even out
BAR_GROUP_WIDTH = 0.8  # share of the space between categories taken by a group of bars
POVERTY_PANELS = {
    "headcount": "headcount FGT0\n(share of people)",
    "poverty_gap": "poverty gap FGT1\n(share of the line)",
}
FLOWS = {"exits": "gross exits", "entries": "entries", "re_entries": "re-entries"}
JOBS_PANELS = {
    "jobs_filled": "workshop jobs filled\n(people)",
    "poor_share_of_jobs": "registered-poor share\nof workshop jobs",
}
JOBS_BOUNDS = {"jobs_filled": COUNT_BOUNDS, "poor_share_of_jobs": SHARE_BOUNDS}
NOT_OFF_FARM = ("not_working", "farming")  # every other activity is off-farm work
POOR_GROUP = "registered_poor"  # income group of registered-poor households
SPENDING_PREFIX, SPENDING_SUFFIX = "spending_", "_yuan"  # summary spending_<instrument>_yuan


@dataclass(frozen=True, eq=False)
class Panel:
    """One panel of a figure of lines by arm: which rows of the statistics it draws.

    Panels compare by identity (their masks are Series).

    Attributes:
        name: what it shows, for its title and the caption if it is left out.
        rows: boolean mask of its rows in the statistics (`across_replicates`).
        ylabel: y-axis label with the unit.
        bounds: physical bounds of the measure (low, high), to clip its bands.
        titled: whether the panel carries `name` as its title (grids of panels).
    """

    name: str
    rows: pd.Series
    ylabel: str
    bounds: tuple[float, float] = UNBOUNDED
    titled: bool = False


def arm_order(frame: pd.DataFrame) -> list[str]:
    """The arms of a tidy frame in the order of their first row."""
    return list(dict.fromkeys(frame[ARM]))


def time_keys(frame: pd.DataFrame) -> list[str]:
    """The columns that place a row of `frame` in time: ``month`` and ``date`` if present."""
    return [c for c in ("month", "date") if c in frame]


def across_replicates(frame: pd.DataFrame, keys: list[str], measures: list[str]) -> pd.DataFrame:
    """Mean and 95% t CI across replicates of each measure, per arm and `keys`.

    Args:
        frame: tidy frame with ``arm``, ``replicate``, `keys` and `measures`, one row per
            arm, replicate and key.
        keys: columns other than the replicate that identify a row (e.g. ``month``).
        measures: numeric columns to summarise; NaN values are left out.

    Returns:
        One row per arm, measure and key: ``arm``, ``measure``, `keys`, ``mean``,
        ``ci_low``, ``ci_high``.
    """
    long = frame.melt(id_vars=[ARM, REPLICATE, *keys], value_vars=measures, var_name=MEASURE)
    stats = long.groupby([ARM, MEASURE, *keys], sort=False)["value"].agg(["mean", "std", "count"])
    half = t_half_width(stats["std"], stats["count"])
    return (
        stats.assign(**{LOW: stats[MEAN] - half, HIGH: stats[MEAN] + half})
        .drop(columns=["std", "count"])
        .reset_index()
    )


def draw_arms(
    ax: Axes,
    stats: pd.DataFrame,
    arms: list[str],
    *,
    start: dt.date | None = None,
    bounds: tuple[float, float] = UNBOUNDED,
) -> None:
    """One line per arm (the mean by month) over its 95% CI band clipped to `bounds`.

    Styles follow the order of `arms`; months are placed by `time_axis`.
    """
    for arm, rows in stats.groupby(ARM, sort=False):
        draw_band(
            ax,
            time_axis(rows, start),
            rows[MEAN],
            (rows[LOW], rows[HIGH]),
            arms.index(str(arm)),
            str(arm),
            bounds=bounds,
        )


def draw_arm_panels(
    stats: pd.DataFrame,
    panels: Sequence[Panel],
    arms: list[str],
    title: str,
    columns: int = 1,
    *,
    start: dt.date | None = None,
    paper: bool = False,
) -> tuple[Figure, list[Axes], list[Panel]]:
    """A figure of the `panels` with any non-zero mean, lines by arm (legend: the caller's).

    Panels are laid out row by row in `columns`; without any, one panel says so.

    Returns:
        The figure, its panels and the `Panel` each draws (in order).
    """
    kept = [p for p in panels if has_data(stats.loc[p.rows, MEAN])]
    fig, axes = panel_grid(title, len(kept), columns, paper=paper)
    for i, (ax, panel) in enumerate(zip(axes, kept, strict=False)):
        draw_arms(ax, stats[panel.rows], arms, start=start, bounds=panel.bounds)
        ax.set_ylabel(panel.ylabel if i % columns == 0 else "")
        if panel.titled:
            ax.set_title(panel.name)
    if not kept:
        say_none(axes[0])
    set_time_axis(axes, bool(kept) and is_dated(stats, start), min(columns, len(axes)))
    return fig, axes, kept


def dropped(panels: Sequence[Panel], kept: Sequence[Panel]) -> str:
    """Caption sentence naming the panels left out."""
    return left_out_note(p.name for p in panels if p not in kept)


def grouped_bars(ax: Axes, stats: pd.DataFrame, category: str, series: str) -> None:
    """Bars of each `series` side by side at each `category`, with 95% CI whiskers.

    Args:
        ax: the panel.
        stats: ``mean``, ``ci_low``, ``ci_high`` by `category` and `series`.
        category: column of the x-axis groups, in order of first appearance.
        series: column of the bars within a group (e.g. ``arm``), each with its fill.
    """
    categories = list(dict.fromkeys(stats[category]))
    names = list(dict.fromkeys(stats[series]))
    width = BAR_GROUP_WIDTH / len(names)
    for i, (name, style) in enumerate(zip(names, fills(len(names)), strict=True)):
        rows = stats[stats[series] == name]
        x = (
            np.array([categories.index(c) for c in rows[category]])
            - BAR_GROUP_WIDTH / 2
            + (i + 0.5) * width
        )
        ax.bar(
            x,
            rows[MEAN],
            width,
            label=str(name),
            edgecolor=EDGE_COLOUR,
            linewidth=EDGE_WIDTH,
            **style,
        )
        draw_whiskers(ax, x, rows[MEAN], (rows[LOW], rows[HIGH]))
    ax.set_xticks(range(len(categories)), [str(c) for c in categories])


def stacked_bars(ax: Axes, data: pd.DataFrame, ylabel: str) -> None:
    """One bar per row of `data` (indexed by arm), stacked from its columns (series)."""
    bottom = np.zeros(len(data))
    for column, style in zip(data.columns, fills(len(data.columns)), strict=True):
        ax.bar(
            data.index.astype(str),
            data[column],
            bottom=bottom,
            label=str(column),
            edgecolor=EDGE_COLOUR,
            linewidth=EDGE_WIDTH,
            **style,
        )
        bottom += data[column].to_numpy()
    if len(data.columns):
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), reverse=True)
    else:
        say_none(ax, "none in any arm")
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def mean_by_arm(frame: pd.DataFrame, category: str, value: str) -> pd.DataFrame:
    """Mean over replicates of `value` summed within each arm, replicate and category.

    Returns:
        One row per arm (index) and month if `frame` has months, one column per category
        (in order of first appearance) with any non-zero mean.
    """
    keys = [k for k in ("month",) if k in frame]
    per_run = frame.groupby([ARM, REPLICATE, *keys, category], sort=False)[value].sum()
    mean = per_run.groupby([ARM, *keys, category], sort=False).mean().unstack(category)
    mean = mean[[c for c in dict.fromkeys(frame[category]) if (mean[c] != 0).any()]]
    mean.columns = mean.columns.astype(str)
    mean.columns.name = None
    return mean


def left_out_columns(frame: pd.DataFrame, category: str, data: pd.DataFrame) -> str:
    """Caption sentence naming the categories of `frame` that have no column in `data`."""
    return left_out_note(str(c) for c in dict.fromkeys(frame[category]) if str(c) not in data)


def measure_panels(
    stats: pd.DataFrame, ylabels: Mapping[str, str], bounds: Mapping[str, tuple[float, float]]
) -> list[Panel]:
    """One panel per measure of `ylabels` (in order) that `stats` holds."""
    return [
        Panel(measure, stats[MEASURE] == measure, ylabel, bounds[measure])
        for measure, ylabel in ylabels.items()
        if measure in set(stats[MEASURE])
    ]


@styled
def plot_poverty_by_arm(
    monthly: pd.DataFrame,
    label: str,
    out_dir: Path,
    *,
    start: dt.date | None = None,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Poverty headcount (FGT0) and gap (FGT1) of all people by month, per arm with 95% CI.

    Args:
        monthly: arm, replicate, month (optionally date) and ``headcount`` and/or
            ``poverty_gap`` (shares).
        label: arms, seed and replicates, for the caption.
        out_dir: directory for ``poverty.png/.csv/.txt``.
        start: the first simulated month (the scenario's ``run.start``), for dates.
        formats: image formats to write (``png``, ``svg``...).
        paper: the paper style (no title on the figure).

    Returns:
        The paths written.
    """
    measures = [m for m in POVERTY_PANELS if m in monthly]
    stats = across_replicates(monthly, time_keys(monthly), measures)
    panels = measure_panels(stats, POVERTY_PANELS, dict.fromkeys(measures, SHARE_BOUNDS))
    title = "Poverty headcount and gap by arm, mean and 95% CI"
    fig, axes, kept = draw_arm_panels(
        stats, panels, arm_order(monthly), title, start=start, paper=paper
    )
    legend_below(fig, axes)
    note = caption(title, label, period(monthly, start), dropped(panels, kept))
    return save_figure(fig, stats, out_dir / "poverty", formats=formats, caption=note)


def years(monthly: pd.DataFrame, start: dt.date | None = None) -> pd.Series:
    """Calendar year of each month (from `start` or ``date``), else the year of the run."""
    if is_dated(monthly, start):
        dates = pd.DatetimeIndex(time_axis(monthly, start))
        return pd.Series(dates.year.astype(str), index=monthly.index, name="year")
    run_year = (monthly["month"] - 1) // MONTHS_PER_YEAR + 1
    return ("run year " + run_year.astype(str)).rename("year")


@styled
def plot_flows_by_year(
    monthly: pd.DataFrame,
    label: str,
    out_dir: Path,
    *,
    start: dt.date | None = None,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Gross exits, entries and re-entries per year by arm (households; 95% CI whiskers).

    Flows that are zero in every arm and year are left out (named in the caption).

    Args:
        monthly: arm, replicate, month, ``exits``, ``entries``, ``re_entries`` and
            optionally ``date``; month 0 (the starting state) is left out.
        label: arms, seed and replicates, for the caption.
        out_dir: directory for ``flows.png/.csv/.txt``.
        start: the first simulated month (the scenario's ``run.start``), for years.
        formats: image formats to write.
        paper: the paper style (no title on the figure).

    Returns:
        The paths written.
    """
    simulated = monthly[monthly["month"] >= 1]
    yearly = (
        simulated.groupby([ARM, REPLICATE, years(simulated, start)], sort=False)[list(FLOWS)]
        .sum()
        .reset_index()
    )
    stats = across_replicates(yearly, ["year"], list(FLOWS))
    kept = [f for f in FLOWS if has_data(stats.loc[stats[MEASURE] == f, MEAN])]
    title = "Poverty exits, entries and re-entries per year by arm, mean and 95% CI"
    fig, axes = panel_grid(title, len(kept), paper=paper)
    for ax, flow in zip(axes, kept, strict=False):
        grouped_bars(ax, stats[stats[MEASURE] == flow], "year", ARM)
        ax.set_ylabel(f"{FLOWS[flow]}\n(households per year)")
    if kept:
        axes[-1].set_xlabel("calendar year (a year the run covers in part: its months only)")
    else:
        say_none(axes[0])
    legend_below(fig, axes)
    note = caption(
        title,
        label,
        period(simulated, start),
        left_out_note(FLOWS[f] for f in FLOWS if f not in kept),
    )
    return save_figure(fig, stats, out_dir / "flows", formats=formats, caption=note)


@styled
def plot_activity_by_arm(
    activity: pd.DataFrame,
    label: str,
    out_dir: Path,
    *,
    start: dt.date | None = None,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """People able to work by activity, mean over replicates, stacked; one panel per arm.

    Args:
        activity: arm, replicate, month, ``activity``, ``people`` (summed over the other
            columns, e.g. sex and carer).
        label: arms, seed and replicates, for the caption.
        out_dir: directory for ``activity.png/.csv/.txt``.
        start: the first simulated month (the scenario's ``run.start``), for dates.
        formats: image formats to write.
        paper: the paper style (no title on the figure).

    Returns:
        The paths written.
    """
    data = mean_by_arm(activity, "activity", "people")
    arms = arm_order(activity)
    title = "People able to work by activity, mean of replicates"
    fig, axes = new_figure(title, len(arms), paper=paper)
    for i, (ax, arm) in enumerate(zip(axes, arms, strict=True)):
        draw_stack(ax, data.loc[arm].reset_index(), f"{arm}\n(people)", i == 0, start=start)
    set_time_axis(axes, start is not None)
    note = caption(
        title, label, period(activity, start), left_out_columns(activity, "activity", data)
    )
    return save_figure(fig, data.reset_index(), out_dir / "activity", formats=formats, caption=note)


def off_farm_shares(activity: pd.DataFrame) -> pd.DataFrame:
    """Off-farm share of people able to work by arm, replicate, sex, carer and month.

    NaN where the group is empty.
    """
    off_farm = activity["people"].where(~activity["activity"].isin(NOT_OFF_FARM), 0)
    groups = [ARM, REPLICATE, "sex", "carer", "month"]
    counts = (
        activity.assign(off_farm=off_farm).groupby(groups, sort=False)[["off_farm", "people"]].sum()
    )
    share = counts["off_farm"] / counts["people"].where(counts["people"] > 0)
    return share.rename("share").reset_index()


@styled
def plot_employment_by_sex_carer(
    activity: pd.DataFrame,
    label: str,
    out_dir: Path,
    *,
    start: dt.date | None = None,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Share of people able to work who work off the farm, by sex x carer, per arm (95% CI).

    Off-farm work is every activity but not working and farming: home outwork, the
    workshops, community factories and migration. A group with no one in off-farm work
    throughout (or no one at all) is left out and named in the caption.

    Args:
        activity: arm, replicate, month, ``activity``, ``sex``, ``carer``, ``people``.
        label: arms, seed and replicates, for the caption.
        out_dir: directory for ``employment_by_sex_carer.png/.csv/.txt``.
        start: the first simulated month (the scenario's ``run.start``), for dates.
        formats: image formats to write.
        paper: the paper style (no title on the figure).

    Returns:
        The paths written.
    """
    stats = across_replicates(off_farm_shares(activity), ["sex", "carer", "month"], ["share"])
    sexes, carers = (list(dict.fromkeys(activity[c])) for c in ("sex", "carer"))
    panels = [
        Panel(
            f"{sex}, {'carers' if carer else 'not carers'}",
            (stats["sex"] == sex) & (stats["carer"] == carer),
            "share in off-farm work",
            SHARE_BOUNDS,
            titled=True,
        )
        for sex, carer in itertools.product(sexes, carers)
    ]
    title = "Share of people able to work in off-farm work by sex and care, mean and 95% CI"
    fig, axes, kept = draw_arm_panels(
        stats, panels, arm_order(activity), title, len(carers), start=start, paper=paper
    )
    for ax in axes[: len(kept)]:
        ax.set_ylim(*SHARE_BOUNDS)
    legend_below(fig, axes)
    note = caption(title, label, period(activity, start), dropped(panels, kept))
    return save_figure(
        fig, stats, out_dir / "employment_by_sex_carer", formats=formats, caption=note
    )


@styled
def plot_poor_income_by_arm(
    income: pd.DataFrame,
    label: str,
    out_dir: Path,
    *,
    start: dt.date | None = None,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Income per person of registered-poor households by source, final year, by arm.

    Stacked bars of the mean over replicates of each source's yuan per person per month,
    averaged over the run's final `FINAL_MONTHS` simulated months.

    Args:
        income: arm, replicate, month, ``group``, ``source``, ``yuan_per_capita``.
        label: arms, seed and replicates, for the caption.
        out_dir: directory for ``poor_income.png/.csv/.txt``.
        start: the first simulated month (the scenario's ``run.start``), for the dates
            of the final year in the caption.
        formats: image formats to write.
        paper: the paper style (no title on the figure).

    Returns:
        The paths written.
    """
    last = int(income["month"].max())
    first = max(1, last - FINAL_MONTHS + 1)
    final = income[(income["group"] == POOR_GROUP) & income["month"].between(first, last)]
    per_run = final.groupby([ARM, REPLICATE, "source"], sort=False)["yuan_per_capita"].mean()
    data = mean_by_arm(per_run.reset_index(), "source", "yuan_per_capita")
    title = "Income of registered-poor households by source in the final year, by arm"
    fig, (ax,) = new_figure(title, paper=paper)
    stacked_bars(ax, data, "yuan per person per month")
    ax.set_xlabel("arm")
    note = caption(
        title,
        label,
        "Mean over replicates of the mean over the run's final year: "
        + period(final, start).lower(),
        left_out_columns(final, "source", data),
    )
    return save_figure(
        fig,
        data.rename_axis(ARM).reset_index(),
        out_dir / "poor_income",
        formats=formats,
        caption=note,
    )


@styled
def plot_workshops_by_arm(
    workshops: pd.DataFrame,
    label: str,
    out_dir: Path,
    *,
    start: dt.date | None = None,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Workshops by form and status by month, per arm with 95% CI (bands >= 0).

    A form x status with no workshop in any arm and month is left out (named in the
    caption); the rest are laid out with one column per form still shown.

    Args:
        workshops: arm, replicate, month, ``form``, ``status``, ``count``.
        label: arms, seed and replicates, for the caption.
        out_dir: directory for ``workshops.png/.csv/.txt``.
        start: the first simulated month (the scenario's ``run.start``), for dates.
        formats: image formats to write.
        paper: the paper style (no title on the figure).

    Returns:
        The paths written.
    """
    stats = across_replicates(workshops, ["form", "status", "month"], ["count"])
    cells = list(
        itertools.product(dict.fromkeys(workshops["status"]), dict.fromkeys(workshops["form"]))
    )
    panels = [
        Panel(
            f"{form}, {status}",
            (stats["form"] == form) & (stats["status"] == status),
            "workshops",
            COUNT_BOUNDS,
            titled=True,
        )
        for status, form in cells
    ]
    forms = {
        form for (_, form), p in zip(cells, panels, strict=True) if has_data(stats[p.rows][MEAN])
    }
    title = "Workshops by form and status, mean and 95% CI"
    fig, axes, kept = draw_arm_panels(
        stats, panels, arm_order(workshops), title, len(forms), start=start, paper=paper
    )
    legend_below(fig, axes)
    nothing = pd.Series(False, index=stats.index)
    drawn = functools.reduce(operator.or_, (p.rows for p in kept), nothing)
    stats = stats[drawn]
    note = caption(title, label, period(workshops, start), dropped(panels, kept))
    return save_figure(
        fig, stats.reset_index(drop=True), out_dir / "workshops", formats=formats, caption=note
    )


def jobs_by_arm(monthly: pd.DataFrame) -> pd.DataFrame:
    """`monthly` with the poor share of jobs missing (NaN) where no job is filled."""
    share = monthly["poor_share_of_jobs"].where(monthly["jobs_filled"] > 0)
    return monthly.assign(poor_share_of_jobs=share)


@styled
def plot_jobs_and_quota(
    monthly: pd.DataFrame,
    quotas: Mapping[str, float | None],
    label: str,
    out_dir: Path,
    *,
    start: dt.date | None = None,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Workshop jobs filled and their registered-poor share by month, per arm, vs the quota.

    The share of a month without jobs is missing (a gap), not 0.

    Args:
        monthly: arm, replicate, month (optionally date), ``jobs_filled``,
            ``poor_share_of_jobs``.
        quotas: each arm's poor-worker quota (share of staff; None where certification,
            which sets it, is off), drawn as a horizontal reference line.
        label: arms, seed and replicates, for the caption.
        out_dir: directory for ``jobs_quota.png/.csv/.txt``; the CSV's ``quota_share``
            column holds the reference line of each arm on the poor-share rows.
        start: the first simulated month (the scenario's ``run.start``), for dates.
        formats: image formats to write.
        paper: the paper style (no title on the figure).

    Returns:
        The paths written.
    """
    stats = across_replicates(jobs_by_arm(monthly), time_keys(monthly), list(JOBS_PANELS))
    on_share = stats[MEASURE] == "poor_share_of_jobs"
    stats["quota_share"] = stats[ARM].map(quotas).where(on_share).astype(float)
    panels = measure_panels(stats, JOBS_PANELS, JOBS_BOUNDS)
    title = "Workshop jobs and the poor-worker quota by arm, mean and 95% CI"
    fig, axes, kept = draw_arm_panels(
        stats, panels, arm_order(monthly), title, start=start, paper=paper
    )
    for ax, panel in zip(axes, kept, strict=False):
        if panel.name == "poor_share_of_jobs":
            draw_quotas(ax, quotas)
    legend_below(fig, axes)
    note = caption(title, label, period(monthly, start), dropped(panels, kept))
    return save_figure(fig, stats, out_dir / "jobs_quota", formats=formats, caption=note)


def draw_quotas(ax: Axes, quotas: Mapping[str, float | None]) -> None:
    """Each distinct quota as a labelled reference line (naming the arms that hold it)."""
    held_by: dict[float, list[str]] = {}
    for arm, quota in quotas.items():
        if quota is not None:
            held_by.setdefault(quota, []).append(arm)
    for quota, quota_arms in held_by.items():
        ax.axhline(quota, label=f"quota {quota:.0%} ({', '.join(quota_arms)})", **REFERENCE_LINE)
    ax.set_ylim(*SHARE_BOUNDS)


@styled
def plot_spending_by_arm(
    summary: pd.DataFrame,
    label: str,
    out_dir: Path,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Policy spending over the run by instrument, mean over replicates, stacked by arm.

    Args:
        summary: arm, replicate and the run summary's ``spending_<instrument>_yuan``.
        label: arms, seed and replicates, for the caption.
        out_dir: directory for ``spending.png/.csv/.txt`` (yuan).
        formats: image formats to write.
        paper: the paper style (no title on the figure).

    Returns:
        The paths written.
    """
    columns = [
        c
        for c in map(str, summary.columns)
        if c.startswith(SPENDING_PREFIX) and c.endswith(SPENDING_SUFFIX)
    ]
    long = summary.melt(id_vars=[ARM, REPLICATE], value_vars=columns, var_name="instrument")
    long["instrument"] = (
        long["instrument"].str.removeprefix(SPENDING_PREFIX).str.removesuffix(SPENDING_SUFFIX)
    )
    data = mean_by_arm(long, "instrument", "value")
    title = "Policy spending by instrument over the run, mean of replicates"
    fig, (ax,) = new_figure(title, paper=paper)
    stacked_bars(ax, data, "spending paid over the run (yuan)")
    ax.set_xlabel("arm")
    note = caption(title, label, left_out_columns(long, "instrument", data))
    return save_figure(
        fig,
        data.rename_axis(ARM).reset_index(),
        out_dir / "spending",
        formats=formats,
        caption=note,
    )
