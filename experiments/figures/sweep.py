"""Figures of analysis tables (effects, cost-effectiveness, sensitivity) and of a sweep.

The functions take the tables of `experiments.analysis.effects` (a sweep's, or the paired
differences of `wsim compare`, which have the same columns), so comparisons and sweeps
share them. `plot_sweep` draws every figure a sweep's results support. Each figure is
saved with exactly its plotted numbers as CSV (`experiments.figures.run.save_figure`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import StrMethodFormatter

from experiments.analysis.formatting import UNDEFINED_WORD
from experiments.figures.arms import (
    FLOWS,
    HIGH,
    LOW,
    MEAN,
    POVERTY_PANELS,
    REPLICATE,
    grouped_bars,
    plot_flows_by_year,
    plot_poverty_by_arm,
    plot_spending_by_arm,
)
from experiments.figures.style import (
    EDGE_COLOUR,
    EDGE_WIDTH,
    REFERENCE_LINE,
    draw_whiskers,
    fills,
    new_grid,
    save_figure,
    styled,
)
from experiments.intervals import DEFINED
from experiments.sweep.design import sample
from experiments.sweep.seeding import ARM, BASELINE
from experiments.sweep.spec import Spec
from experiments.sweep.store import DONE, RUN_ID, SweepData

OUTCOME_UNITS = {
    "headcount": "share of people",
    "poverty_gap": "share of the line",
    "poor_households": "households",
    "net_exits": "households",
    "gross_exits": "households",
    "gross_entries": "households",
    "re_entries": "households",
    "stayed_out_12_months": "households",
    "income_per_capita": "yuan per person per month",
    "total_spending_yuan": "yuan",
    "spending": "yuan per month",
    "poor_household_months": "household-months",
    "poor_households_final_12_mean": "households",
    "poor_households_end": "households",
}
EFFECT_PANEL_IN = 0.9  # height of an effects panel without its arms (inches)
EFFECT_ARM_IN = 0.3  # and per arm it shows
INDICES = {  # method: (index column, its 95% CI half-width column or None, legend label)
    "sobol": (("S1", "S1_conf", "first-order S1"), ("ST", "ST_conf", "total-order ST")),
    "morris": (
        ("mu_star", "mu_star_conf", "mu* (mean absolute effect)"),
        ("sigma", None, "sigma (spread of effects)"),
    ),
}


def outcome_unit(outcome: str) -> str:
    """The unit of an outcome column, for axis labels."""
    return OUTCOME_UNITS.get(outcome, f"units of {outcome}")


@styled
def plot_effects(effects: pd.DataFrame, reference: str, label: str, out_dir: Path) -> list[Path]:
    """Each arm's mean paired difference from `reference` with its 95% CI, per outcome.

    Dot-and-whisker panels, one per outcome (in its own unit), arms down the side, a
    reference line at no difference.

    Args:
        effects: ``arm``, ``outcome``, ``difference``, ``ci_low``, ``ci_high``
            (`experiments.analysis.effects.effects`).
        reference: the arm the differences are taken from.
        label: arms or sweep and seed, for the title.
        out_dir: directory for ``effects.png/.svg/.csv``.

    Returns:
        The paths written.
    """
    data = effects[[ARM, "outcome", "difference", LOW, HIGH]].reset_index(drop=True)
    outcomes = list(dict.fromkeys(data["outcome"]))
    fig, grid = new_grid(
        f"Differences from {reference} (paired by replicate), mean and 95% CI: {label}",
        len(outcomes),
        share_x=False,
        row_height_in=EFFECT_PANEL_IN + EFFECT_ARM_IN * data[ARM].nunique(),
    )
    for ax, outcome in zip(grid[:, 0], outcomes, strict=True):
        rows = data[data["outcome"] == outcome]
        position = np.arange(len(rows))
        ax.axvline(0, **REFERENCE_LINE)
        draw_whiskers(
            ax, rows["difference"], position, (rows[LOW], rows[HIGH]), horizontal=True, dots=True
        )
        ax.set_yticks(position, rows[ARM].astype(str))
        ax.set_ylim(len(rows) - 0.5, -0.5)  # first arm at the top
        ax.set_xlabel(f"{outcome}: difference ({outcome_unit(outcome)})")
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.10g}"))
    return save_figure(fig, data, out_dir / "effects")


@styled
def plot_cost_effectiveness(
    cost: pd.DataFrame, reference: str, label: str, out_dir: Path
) -> list[Path]:
    """Extra spending per unit of gain of each arm against `reference`, 95% Fieller CI.

    One panel per gain (extra net exit, poor household-month averted): a bar and a
    whisker per arm whose interval is defined; an arm whose ratio is undefined (the
    gain's own interval contains 0) has no bar, the word "undefined" instead.

    Args:
        cost: ``arm``, ``per``, ``yuan_per_unit``, ``ci_low``, ``ci_high``, ``status``
            (`experiments.analysis.effects.cost_effectiveness`).
        reference: the arm the extra spending and gains are counted from.
        label: arms or sweep and seed, for the title.
        out_dir: directory for ``cost_effectiveness.png/.svg/.csv``; the CSV holds the
            columns above (NaN numbers and the reason where undefined).

    Returns:
        The paths written.
    """
    data = cost[[ARM, "per", "yuan_per_unit", LOW, HIGH, "status"]].reset_index(drop=True)
    pers = list(dict.fromkeys(data["per"]))
    fig, grid = new_grid(
        f"Extra spending per unit of gain against {reference}, estimate and 95% Fieller "
        f"CI: {label}",
        len(pers),
        share_x=False,
    )
    for ax, per in zip(grid[:, 0], pers, strict=True):
        rows = data[data["per"] == per].reset_index(drop=True)
        position = np.arange(len(rows))
        defined = rows["status"] == DEFINED
        ax.bar(
            position[defined],
            rows.loc[defined, "yuan_per_unit"],
            edgecolor=EDGE_COLOUR,
            linewidth=EDGE_WIDTH,
            **fills(1)[0],
        )
        if defined.any():
            draw_whiskers(
                ax,
                position[defined],
                rows.loc[defined, "yuan_per_unit"],
                (rows.loc[defined, LOW], rows.loc[defined, HIGH]),
            )
        for x in position[~defined]:
            ax.text(x, 0, UNDEFINED_WORD, ha="center", va="bottom", rotation=90)
        ax.axhline(0, **REFERENCE_LINE)
        ax.set_xticks(position, rows[ARM].astype(str))
        ax.set_ylabel(f"yuan per {per}\nagainst {reference}")
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    grid[-1, 0].set_xlabel("arm")
    return save_figure(fig, data, out_dir / "cost_effectiveness")


@styled
def plot_sensitivity(indices: pd.DataFrame, method: str, label: str, out_dir: Path) -> list[Path]:
    """Sobol (S1, ST) or Morris (mu*, sigma) indices of each input, per outcome (bars).

    Args:
        indices: ``outcome``, ``input`` and the method's index columns
            (`experiments.analysis.effects.sensitivity`).
        method: ``sobol`` or ``morris``.
        label: sweep and seed, for the title.
        out_dir: directory for ``<method>.png/.svg/.csv``; the CSV holds each bar
            (``index``, ``mean``) and its whisker (``ci_low``, ``ci_high``; empty for
            sigma).

    Returns:
        The paths written.
    """
    frames = []
    for column, conf, name in INDICES[method]:
        half = indices[conf] if conf else np.nan
        frames.append(
            pd.DataFrame(
                {
                    "outcome": indices["outcome"],
                    "input": indices["input"],
                    "index": name,
                    MEAN: indices[column],
                    LOW: indices[column] - half,
                    HIGH: indices[column] + half,
                }
            )
        )
    data = pd.concat(frames, ignore_index=True)
    outcomes = list(dict.fromkeys(data["outcome"]))
    fig, grid = new_grid(
        f"{method.capitalize()} sensitivity indices with 95% CI: {label}",
        len(outcomes),
        share_x=False,
    )
    for ax, outcome in zip(grid[:, 0], outcomes, strict=True):
        grouped_bars(ax, data[data["outcome"] == outcome], "input", "index")
        ax.axhline(0, **REFERENCE_LINE)
        ax.set_ylabel(
            f"{outcome}\n"
            + (
                "share of variance"
                if method == "sobol"
                else f"{outcome_unit(outcome)}\nper full range"
            )
        )
    grid[0, 0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    grid[-1, 0].set_xlabel("input (uncertain parameter)")
    return save_figure(fig, data, out_dir / method)


def sweep_label(spec: Spec, data: SweepData) -> str:
    """Sweep name, base scenario, seed and replicates, for figure titles."""
    replicates = data.runs[REPLICATE].nunique() if len(data.runs) else 0
    return f"sweep {spec.name} on {spec.base.name} (seed {spec.seed}, {replicates} replicates)"


def arm_tables(spec: Spec, data: SweepData) -> dict[str, pd.DataFrame]:
    """The sweep's monthly and summary tables with arm and replicate, arms in design order."""
    order = {arm: i for i, arm in enumerate(dict.fromkeys(sample(spec, spec.seed)[ARM]))}
    runs = data.runs.loc[data.runs["status"] == DONE, [RUN_ID, ARM, REPLICATE]]
    runs = runs.sort_values(
        [ARM, REPLICATE], key=lambda c: c.map(order) if c.name == ARM else c, kind="stable"
    )
    return {
        name: runs.merge(getattr(data, name), on=RUN_ID).drop(columns=RUN_ID)
        for name in ("monthly", "summary")
    }


def plot_sweep(
    spec: Spec, data: SweepData, tables: dict[str, pd.DataFrame], out_dir: Path
) -> list[Path]:
    """Every figure a sweep's results support, into `out_dir`; the paths written.

    Lever designs without uncertainties get poverty by month and flows per year (if the
    spec kept those monthly columns) and spending by instrument per arm; any design with
    arms gets the effects and the cost per unit of gain against the baseline; Sobol and
    Morris designs get their indices.

    Args:
        spec: the sweep's spec.
        data: its stored results (`experiments.sweep.store.load`).
        tables: its analysis (`experiments.analysis.effects.analyze`).
        out_dir: directory for the figures.
    """
    label, paths = sweep_label(spec, data), []
    if not spec.uncertainties:
        frames = arm_tables(spec, data)
        monthly, summary = frames["monthly"], frames["summary"]
        if set(POVERTY_PANELS) & set(monthly.columns):
            paths += plot_poverty_by_arm(monthly, label, out_dir)
        if set(FLOWS) <= set(monthly.columns):
            paths += plot_flows_by_year(monthly, label, out_dir)
        if len(summary):
            paths += plot_spending_by_arm(summary, label, out_dir)
    if "effects" in tables:
        paths += plot_effects(tables["effects"], BASELINE, label, out_dir)
    if "cost_effectiveness" in tables:
        paths += plot_cost_effectiveness(tables["cost_effectiveness"], BASELINE, label, out_dir)
    for method in INDICES:
        if method in tables:
            paths += plot_sensitivity(tables[method], method, label, out_dir)
    return paths
