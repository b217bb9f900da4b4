"""Figures of analysis tables (effects, cost-effectiveness, sensitivity) and of a sweep.

The functions take the tables of `experiments.analysis.effects` (a sweep's, or the paired
differences of `wsim compare`, which have the same columns), so comparisons and sweeps
share them. `plot_sweep` draws every figure a sweep's results support. Panels whose
numbers are all zero or missing are left out and named in the caption. Each figure is
saved as PNG by default (SVG on request) with exactly its plotted numbers as CSV and a
caption file holding `label` (arms or sweep, seed, replicates;
`experiments.figures.style.save_figure`).
"""

from __future__ import annotations

from collections.abc import Sequence
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
    DEFAULT_FORMATS,
    EDGE_COLOUR,
    EDGE_WIDTH,
    REFERENCE_LINE,
    caption,
    draw_whiskers,
    fills,
    fitted,
    has_data,
    left_out_note,
    legend_below,
    panel_grid,
    save_figure,
    say_none,
    styled,
)
from experiments.intervals import DEFINED
from experiments.sweep.design import sample
from experiments.sweep.seeding import ARM, BASELINE
from experiments.sweep.spec import COUNTY, NATIONAL, Spec
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
def plot_effects(
    effects: pd.DataFrame,
    reference: str,
    label: str,
    out_dir: Path,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Each arm's mean paired difference from `reference` with its 95% CI, per outcome.

    Dot-and-whisker panels, one per outcome (in its own unit), arms down the side, a
    reference line at no difference. An outcome whose differences and intervals are all
    zero or missing is left out (named in the caption).

    Args:
        effects: ``arm``, ``outcome``, ``difference``, ``ci_low``, ``ci_high``
            (`experiments.analysis.effects.effects`).
        reference: the arm the differences are taken from.
        label: arms or sweep, seed and replicates, for the caption.
        out_dir: directory for ``effects.png/.csv/.txt``.
        formats: image formats to write (``png``, ``svg``...).
        paper: the paper style (no title on the figure).

    Returns:
        The paths written.
    """
    data = effects[[ARM, "outcome", "difference", LOW, HIGH]].reset_index(drop=True)
    every = list(dict.fromkeys(data["outcome"]))
    outcomes = [
        o for o in every if has_data(data.loc[data["outcome"] == o, ["difference", LOW, HIGH]])
    ]
    title = f"Differences from {reference} (paired by replicate), mean and 95% CI"
    fig, axes = panel_grid(
        title,
        len(outcomes),
        share_x=False,
        row_height_in=EFFECT_PANEL_IN + EFFECT_ARM_IN * data[ARM].nunique(),
        paper=paper,
    )
    if not outcomes:
        say_none(axes[0], "no difference in any outcome")
    for ax, outcome in zip(axes, outcomes, strict=False):
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
    data = data[data["outcome"].isin(outcomes)].reset_index(drop=True)
    note = caption(
        title, label, left_out_note((o for o in every if o not in outcomes), "no difference")
    )
    return save_figure(fig, data, out_dir / "effects", formats=formats, caption=note)


@styled
def plot_cost_effectiveness(
    cost: pd.DataFrame,
    reference: str,
    label: str,
    out_dir: Path,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Extra spending per unit of gain of each arm against `reference`, 95% Fieller CI.

    One panel per gain (extra net exit, poor household-month averted): a bar and a
    whisker per arm whose interval is defined; an arm whose ratio is undefined (the
    gain's own interval contains 0) has no bar, the word "undefined" instead.

    Args:
        cost: ``arm``, ``per``, ``yuan_per_unit``, ``ci_low``, ``ci_high``, ``status``
            (`experiments.analysis.effects.cost_effectiveness`).
        reference: the arm the extra spending and gains are counted from.
        label: arms or sweep, seed and replicates, for the caption.
        out_dir: directory for ``cost_effectiveness.png/.csv/.txt``; the CSV holds the
            columns above (NaN numbers and the reason where undefined).
        formats: image formats to write.
        paper: the paper style (no title on the figure).

    Returns:
        The paths written.
    """
    data = cost[[ARM, "per", "yuan_per_unit", LOW, HIGH, "status"]].reset_index(drop=True)
    pers = list(dict.fromkeys(data["per"]))
    title = f"Extra spending per unit of gain against {reference}, estimate and 95% Fieller CI"
    fig, axes = panel_grid(title, len(pers), share_x=False, paper=paper)
    if not pers:
        say_none(axes[0])
    for ax, per in zip(axes, pers, strict=False):
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
        else:  # no number on this panel: a scale would be meaningless
            ax.set_yticks([])
        for x in position[~defined]:
            ax.text(x, 0, UNDEFINED_WORD, ha="center", va="bottom", rotation=90)
        ax.axhline(0, **REFERENCE_LINE)
        ax.set_xticks(position, rows[ARM].astype(str))
        ax.set_ylabel(fitted(ax, f"yuan per {per} against {reference}", vertical=True))
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    axes[-1].set_xlabel("arm")
    note = caption(title, label)
    return save_figure(fig, data, out_dir / "cost_effectiveness", formats=formats, caption=note)


@styled
def plot_sensitivity(
    indices: pd.DataFrame,
    method: str,
    label: str,
    out_dir: Path,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Sobol (S1, ST) or Morris (mu*, sigma) indices of each input, per outcome (bars).

    Args:
        indices: ``outcome``, ``input`` and the method's index columns
            (`experiments.analysis.effects.sensitivity`).
        method: ``sobol`` or ``morris``.
        label: sweep, seed and replicates, for the caption.
        out_dir: directory for ``<method>.png/.csv/.txt``; the CSV holds each bar
            (``index``, ``mean``) and its whisker (``ci_low``, ``ci_high``; empty for
            sigma). Outcomes whose indices are all zero or missing are left out.
        formats: image formats to write.
        paper: the paper style (no title on the figure).

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
    every = list(dict.fromkeys(data["outcome"]))
    outcomes = [o for o in every if has_data(data.loc[data["outcome"] == o, MEAN])]
    data = data[data["outcome"].isin(outcomes)].reset_index(drop=True)
    title = f"{method.capitalize()} sensitivity indices with 95% CI"
    fig, axes = panel_grid(title, len(outcomes), share_x=False, paper=paper)
    if not outcomes:
        say_none(axes[0])
    for ax, outcome in zip(axes, outcomes, strict=False):
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
    legend_below(fig, axes)
    axes[-1].set_xlabel("input (uncertain parameter)")
    note = caption(title, label, left_out_note(o for o in every if o not in outcomes))
    return save_figure(fig, data, out_dir / method, formats=formats, caption=note)


def sweep_label(spec: Spec, data: SweepData) -> str:
    """Sweep name, base scenario (or counties), seed and replicates, for figure captions."""
    replicates = data.runs[REPLICATE].nunique() if len(data.runs) else 0
    where = (
        f"the national sum of {len(spec.counties)} counties" if spec.counties else spec.base.name
    )
    return f"sweep {spec.name} on {where} (seed {spec.seed}, {replicates} replicates)"


def national_rows(spec: Spec, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """A county sweep's analysis tables at the national level (every table of other sweeps).

    A county sweep's tables hold each county's rows and the national sum's
    (`experiments.analysis.national`); its figures draw the national rows.
    """
    if not spec.counties:
        return tables
    return {
        name: table.loc[table[COUNTY] == NATIONAL].drop(columns=COUNTY)
        if COUNTY in table.columns
        else table
        for name, table in tables.items()
    }


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
    spec: Spec,
    data: SweepData,
    tables: dict[str, pd.DataFrame],
    out_dir: Path,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Every figure a sweep's results support, into `out_dir`; the paths written.

    Lever designs without uncertainties get poverty by month and flows per year (if the
    spec kept those monthly columns) and spending by instrument per arm; any design with
    arms gets the effects and the cost per unit of gain against the baseline (a county
    sweep: of the national sum, and no monthly figures, which are per county); Sobol and
    Morris designs get their indices.

    Args:
        spec: the sweep's spec.
        data: its stored results (`experiments.sweep.store.load`).
        tables: its analysis (`experiments.analysis.effects.analyze`).
        out_dir: directory for the figures.
        formats: image formats to write (PNG by default; add ``svg`` for SVG).
        paper: the paper style (no titles on the figures; captions carry them).
    """
    label, paths = sweep_label(spec, data), []
    start = spec.base.run.start
    tables = national_rows(spec, tables)
    if not spec.uncertainties and not spec.counties:  # monthly series are per county
        frames = arm_tables(spec, data)
        monthly, summary = frames["monthly"], frames["summary"]
        if set(POVERTY_PANELS) & set(monthly.columns):
            paths += plot_poverty_by_arm(
                monthly, label, out_dir, start=start, formats=formats, paper=paper
            )
        if set(FLOWS) <= set(monthly.columns):
            paths += plot_flows_by_year(
                monthly, label, out_dir, start=start, formats=formats, paper=paper
            )
        if len(summary):
            paths += plot_spending_by_arm(summary, label, out_dir, formats=formats, paper=paper)
    if "effects" in tables:
        paths += plot_effects(
            tables["effects"], BASELINE, label, out_dir, formats=formats, paper=paper
        )
    if "cost_effectiveness" in tables:
        cost = tables["cost_effectiveness"]
        paths += plot_cost_effectiveness(
            cost, BASELINE, label, out_dir, formats=formats, paper=paper
        )
    for method in INDICES:
        if method in tables:
            paths += plot_sensitivity(
                tables[method], method, label, out_dir, formats=formats, paper=paper
            )
    return paths
