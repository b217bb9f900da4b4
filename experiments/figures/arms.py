"""Figures comparing arms (scenarios, or the lever settings of a sweep) across replicates.

Every function takes tidy frames: one row per arm x replicate x month (x category), the
columns ``arm`` and ``replicate`` in front of a run's own table columns (the stacked
tables of `wsim compare`, or a sweep's stored tables joined with its runs), so the same
figures serve comparisons and sweeps. Arms keep the order of their first row. A 95% CI
is Student's t across replicates, mean ± t * sd / sqrt(n)
(`experiments.intervals.t_half_width`); with one replicate it is empty. Each figure is
saved with exactly its plotted numbers as CSV (`experiments.figures.run.save_figure`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import StrMethodFormatter

from experiments.figures.style import (
    EDGE_COLOUR,
    EDGE_WIDTH,
    MONTH_LABEL,
    REFERENCE_LINE,
    draw_band,
    draw_stack,
    draw_whiskers,
    fills,
    new_figure,
    new_grid,
    save_figure,
    styled,
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
NOT_OFF_FARM = ("not_working", "farming")  # every other activity is off-farm work
POOR_GROUP = "registered_poor"  # income group of registered-poor households
SPENDING_PREFIX, SPENDING_SUFFIX = "spending_", "_yuan"  # summary spending_<instrument>_yuan


def arm_order(frame: pd.DataFrame) -> list[str]:
    """The arms of a tidy frame in the order of their first row."""
    return list(dict.fromkeys(frame[ARM]))


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


def draw_arms(ax: Axes, stats: pd.DataFrame, arms: list[str]) -> None:
    """One line per arm (the mean by month) with its 95% CI band; styles by arm order."""
    for arm, rows in stats.groupby(ARM, sort=False):
        draw_band(
            ax, rows["month"], rows[MEAN], (rows[LOW], rows[HIGH]), arms.index(str(arm)), str(arm)
        )


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
        ax.text(0.5, 0.5, "all zero in every arm", transform=ax.transAxes, ha="center")
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


@styled
def plot_poverty_by_arm(monthly: pd.DataFrame, label: str, out_dir: Path) -> list[Path]:
    """Poverty headcount (FGT0) and gap (FGT1) of all people by month, per arm with 95% CI.

    Args:
        monthly: arm, replicate, month and ``headcount`` and/or ``poverty_gap`` (shares).
        label: arms and seed, for the title.
        out_dir: directory for ``poverty.png/.svg/.csv``.

    Returns:
        The paths written.
    """
    measures = [m for m in POVERTY_PANELS if m in monthly]
    stats = across_replicates(monthly, ["month"], measures)
    fig, axes = new_figure(f"Poverty headcount and gap, mean and 95% CI: {label}", len(measures))
    for ax, measure in zip(axes, measures, strict=True):
        draw_arms(ax, stats[stats[MEASURE] == measure], arm_order(monthly))
        ax.set_ylabel(POVERTY_PANELS[measure])
    axes[0].legend()
    return save_figure(fig, stats, out_dir / "poverty")


def years(monthly: pd.DataFrame) -> pd.Series:
    """Calendar year of each month (from ``date``, YYYY-MM), else the year of the run."""
    if "date" in monthly:
        return monthly["date"].astype(str).str[:4].rename("year")
    run_year = (monthly["month"] - 1) // MONTHS_PER_YEAR + 1
    return ("run year " + run_year.astype(str)).rename("year")


@styled
def plot_flows_by_year(monthly: pd.DataFrame, label: str, out_dir: Path) -> list[Path]:
    """Gross exits, entries and re-entries per year by arm (households; 95% CI whiskers).

    Args:
        monthly: arm, replicate, month, ``exits``, ``entries``, ``re_entries`` and
            optionally ``date``; month 0 (the starting state) is left out.
        label: arms and seed, for the title.
        out_dir: directory for ``flows.png/.svg/.csv``.

    Returns:
        The paths written.
    """
    simulated = monthly[monthly["month"] >= 1]
    yearly = (
        simulated.groupby([ARM, REPLICATE, years(simulated)], sort=False)[list(FLOWS)]
        .sum()
        .reset_index()
    )
    stats = across_replicates(yearly, ["year"], list(FLOWS))
    fig, grid = new_grid(
        f"Poverty exits, entries and re-entries per year, mean and 95% CI: {label}", len(FLOWS)
    )
    for ax, (flow, name) in zip(grid[:, 0], FLOWS.items(), strict=True):
        grouped_bars(ax, stats[stats[MEASURE] == flow], "year", ARM)
        ax.set_ylabel(f"{name}\n(households per year)")
    grid[0, 0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    grid[-1, 0].set_xlabel("calendar year (a year the run covers in part: its months only)")
    return save_figure(fig, stats, out_dir / "flows")


@styled
def plot_activity_by_arm(activity: pd.DataFrame, label: str, out_dir: Path) -> list[Path]:
    """People able to work by activity, mean over replicates, stacked; one panel per arm.

    Args:
        activity: arm, replicate, month, ``activity``, ``people`` (summed over the other
            columns, e.g. sex and carer).
        label: arms and seed, for the title.
        out_dir: directory for ``activity.png/.svg/.csv``.

    Returns:
        The paths written.
    """
    data = mean_by_arm(activity, "activity", "people")
    arms = arm_order(activity)
    fig, axes = new_figure(
        f"People able to work by activity, mean of replicates: {label}", len(arms)
    )
    for i, (ax, arm) in enumerate(zip(axes, arms, strict=True)):
        draw_stack(ax, data.loc[arm].reset_index(), f"{arm}\n(people)", legend=i == 0)
    return save_figure(fig, data.reset_index(), out_dir / "activity")


@styled
def plot_employment_by_sex_carer(activity: pd.DataFrame, label: str, out_dir: Path) -> list[Path]:
    """Share of people able to work who work off the farm, by sex x carer, per arm (95% CI).

    Off-farm work is every activity but not working and farming: home outwork, the
    workshops, community factories and migration.

    Args:
        activity: arm, replicate, month, ``activity``, ``sex``, ``carer``, ``people``.
        label: arms and seed, for the title.
        out_dir: directory for ``employment_by_sex_carer.png/.svg/.csv``.

    Returns:
        The paths written.
    """
    off_farm = activity["people"].where(~activity["activity"].isin(NOT_OFF_FARM), 0)
    groups = [ARM, REPLICATE, "sex", "carer", "month"]
    counts = (
        activity.assign(off_farm=off_farm).groupby(groups, sort=False)[["off_farm", "people"]].sum()
    )
    share = (counts["off_farm"] / counts["people"].where(counts["people"] > 0)).rename("share")
    stats = across_replicates(share.reset_index(), ["sex", "carer", "month"], ["share"])
    sexes, carers = (list(dict.fromkeys(activity[c])) for c in ("sex", "carer"))
    fig, grid = new_grid(
        f"Share of people able to work in off-farm work, by sex and care, mean and 95% CI: {label}",
        len(sexes),
        len(carers),
    )
    for (row, sex), (column, carer) in itertools.product(enumerate(sexes), enumerate(carers)):
        ax = grid[row, column]
        cell = stats[(stats["sex"] == sex) & (stats["carer"] == carer)]
        draw_arms(ax, cell, arm_order(activity))
        ax.set_title(f"{sex}, {'carers' if carer else 'not carers'}")
        ax.set_ylim(0, 1)
        ax.set_ylabel("share in off-farm work" if column == 0 else "")
    for ax in grid[-1, :]:
        ax.set_xlabel(MONTH_LABEL)
    grid[0, 0].legend()
    return save_figure(fig, stats, out_dir / "employment_by_sex_carer")


@styled
def plot_poor_income_by_arm(income: pd.DataFrame, label: str, out_dir: Path) -> list[Path]:
    """Income per person of registered-poor households by source, final year, by arm.

    Stacked bars of the mean over replicates of each source's yuan per person per month,
    averaged over the run's final `FINAL_MONTHS` simulated months.

    Args:
        income: arm, replicate, month, ``group``, ``source``, ``yuan_per_capita``.
        label: arms and seed, for the title.
        out_dir: directory for ``poor_income.png/.svg/.csv``.

    Returns:
        The paths written.
    """
    last = int(income["month"].max())
    first = max(1, last - FINAL_MONTHS + 1)
    final = income[(income["group"] == POOR_GROUP) & income["month"].between(first, last)]
    per_run = final.groupby([ARM, REPLICATE, "source"], sort=False)["yuan_per_capita"].mean()
    data = mean_by_arm(per_run.reset_index(), "source", "yuan_per_capita")
    fig, (ax,) = new_figure(
        f"Income of registered-poor households by source, months "
        f"{first}-{last}, mean of replicates: {label}"
    )
    stacked_bars(ax, data, "yuan per person per month")
    ax.set_xlabel("arm")
    return save_figure(fig, data.rename_axis(ARM).reset_index(), out_dir / "poor_income")


@styled
def plot_workshops_by_arm(workshops: pd.DataFrame, label: str, out_dir: Path) -> list[Path]:
    """Workshops by form (columns) and status (rows) by month, per arm with 95% CI.

    Forms with no workshop in any arm are left out.

    Args:
        workshops: arm, replicate, month, ``form``, ``status``, ``count``.
        label: arms and seed, for the title.
        out_dir: directory for ``workshops.png/.svg/.csv``.

    Returns:
        The paths written.
    """
    stats = across_replicates(workshops, ["form", "status", "month"], ["count"])
    forms = [
        f for f in dict.fromkeys(stats["form"]) if (stats.loc[stats["form"] == f, MEAN] != 0).any()
    ]
    stats = stats[stats["form"].isin(forms)].reset_index(drop=True)
    statuses = list(dict.fromkeys(workshops["status"]))
    fig, grid = new_grid(
        f"Workshops by form and status, mean and 95% CI: {label}", len(statuses), max(1, len(forms))
    )
    for (row, status), (column, form) in itertools.product(enumerate(statuses), enumerate(forms)):
        ax = grid[row, column]
        draw_arms(
            ax, stats[(stats["form"] == form) & (stats["status"] == status)], arm_order(workshops)
        )
        ax.set_title(f"{form}, {status}")
        ax.set_ylabel("workshops" if column == 0 else "")
    if not forms:
        grid[0, 0].text(
            0.5, 0.5, "no workshop in any arm", transform=grid[0, 0].transAxes, ha="center"
        )
    for ax in grid[-1, :]:
        ax.set_xlabel(MONTH_LABEL)
    if forms:  # without workshops there is no line to label
        grid[0, 0].legend()
    return save_figure(fig, stats, out_dir / "workshops")


@styled
def plot_jobs_and_quota(
    monthly: pd.DataFrame, quotas: Mapping[str, float | None], label: str, out_dir: Path
) -> list[Path]:
    """Workshop jobs filled and their registered-poor share by month, per arm, vs the quota.

    Args:
        monthly: arm, replicate, month, ``jobs_filled``, ``poor_share_of_jobs``.
        quotas: each arm's poor-worker quota (share of staff; None where certification,
            which sets it, is off), drawn as a horizontal reference line.
        label: arms and seed, for the title.
        out_dir: directory for ``jobs_quota.png/.svg/.csv``; the CSV's ``quota_share``
            column holds the reference line of each arm on the poor-share rows.

    Returns:
        The paths written.
    """
    stats = across_replicates(monthly, ["month"], list(JOBS_PANELS))
    on_share = stats[MEASURE] == "poor_share_of_jobs"
    stats["quota_share"] = stats[ARM].map(quotas).where(on_share).astype(float)
    fig, axes = new_figure(
        f"Workshop jobs and the poor-worker quota, mean and 95% CI: {label}", len(JOBS_PANELS)
    )
    arms = arm_order(monthly)
    for ax, (measure, ylabel) in zip(axes, JOBS_PANELS.items(), strict=True):
        draw_arms(ax, stats[stats[MEASURE] == measure], arms)
        ax.set_ylabel(ylabel)
    held_by: dict[float, list[str]] = {}
    for arm, quota in quotas.items():
        if quota is not None:
            held_by.setdefault(quota, []).append(arm)
    for quota, quota_arms in held_by.items():
        axes[1].axhline(
            quota, label=f"quota {quota:.0%} ({', '.join(quota_arms)})", **REFERENCE_LINE
        )
    axes[1].set_ylim(0, 1)
    axes[1].legend()
    return save_figure(fig, stats, out_dir / "jobs_quota")


@styled
def plot_spending_by_arm(summary: pd.DataFrame, label: str, out_dir: Path) -> list[Path]:
    """Policy spending over the run by instrument, mean over replicates, stacked by arm.

    Args:
        summary: arm, replicate and the run summary's ``spending_<instrument>_yuan``.
        label: arms and seed, for the title.
        out_dir: directory for ``spending.png/.svg/.csv`` (yuan).

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
    fig, (ax,) = new_figure(
        f"Policy spending by instrument over the run, mean of replicates: {label}"
    )
    stacked_bars(ax, data, "spending paid over the run (yuan)")
    ax.set_xlabel("arm")
    return save_figure(fig, data.rename_axis(ARM).reset_index(), out_dir / "spending")
