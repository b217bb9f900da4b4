"""Figures of a budget search: convergence, the Pareto front and the out-of-sample check.

Each figure is written as PNG by default (SVG on request) with the numbers drawn as CSV
beside it and a caption file naming the search (`save_figure`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.ticker import StrMethodFormatter

from experiments.figures.style import (
    DEFAULT_FORMATS,
    LINE_COLOURS,
    PANEL_HEIGHT_IN,
    REFERENCE_LINE,
    caption,
    draw_line,
    draw_whiskers,
    fitted,
    line_style,
    new_grid,
    save_figure,
    styled,
)

if TYPE_CHECKING:
    from experiments.optimisation.search import OptimisationResult
    from experiments.optimisation.spec import OptimiseSpec

CHECK_ROW_IN = 0.35  # height per policy of the out-of-sample check (inches)
CHOSEN_MARKER_PT = 12  # the chosen candidate's star stands out from the others


def search_label(result: OptimisationResult, spec: OptimiseSpec) -> str:
    """Caption sentence: the search, its base scenario, seed and how scores combine."""
    return (
        f"Search {spec.name} on {spec.base.name} (seed {spec.file.seed}); "
        f"score: {result.robustness}."
    )


def plot_search(
    result: OptimisationResult,
    spec: OptimiseSpec,
    folder: Path,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Every figure of a search that has data, into `folder`; returns the paths written.

    Args:
        result: what the search found.
        spec: the search's spec.
        folder: directory for the figures.
        formats: image formats to write (PNG by default; add ``svg`` for SVG).
        paper: the paper style (no titles on the figures; captions carry them).
    """
    paths = plot_convergence(result, spec, folder / "convergence", formats=formats, paper=paper)
    if len(result.pareto):
        paths += plot_pareto(result, spec, folder / "pareto", formats=formats, paper=paper)
    if len(result.check):
        paths += plot_check(result, spec, folder / "check", formats=formats, paper=paper)
    return paths


@styled
def plot_convergence(
    result: OptimisationResult,
    spec: OptimiseSpec,
    stem: Path,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Each candidate's score in proposal order, and the best score so far."""
    title = "Search convergence"
    fig, grid = new_grid(title, paper=paper)
    ax = grid[0, 0]
    trace = result.trace
    ax.plot(
        trace["candidate"],
        trace["score"],
        linestyle="none",
        marker=line_style(1)["marker"],
        color=line_style(1)["color"],
        label="candidate",
    )
    ax.plot(
        result.convergence["candidate"],
        result.convergence["best_score"],
        drawstyle="steps-post",
        color=LINE_COLOURS[0],
        label="best so far",
    )
    ax.set_xlabel("candidate (in the order proposed)")
    ax.set_ylabel(fitted(ax, f"score: {result.robustness}", vertical=True))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    data = trace[["candidate", "score"]].merge(result.convergence, on="candidate")
    note = caption(title, search_label(result, spec))
    return save_figure(fig, data, stem, formats=formats, caption=note)


@styled
def plot_pareto(
    result: OptimisationResult,
    spec: OptimiseSpec,
    stem: Path,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Score against spending of every candidate, the front joined and the chosen marked."""
    title = "Outcome against spending"
    fig, grid = new_grid(title, paper=paper)
    ax = grid[0, 0]
    trace, front = result.trace, result.pareto
    ax.plot(
        trace["spending_yuan"],
        trace["score"],
        linestyle="none",
        marker=".",
        color=line_style(1)["color"],
        label="candidate",
    )
    draw_line(ax, front["spending_yuan"], front["score"], 0, "Pareto front")
    ax.plot(
        [result.chosen["spending_yuan"]],
        [result.chosen["score"]],
        linestyle="none",
        marker="*",
        markersize=CHOSEN_MARKER_PT,
        color=line_style(2)["color"],
        label="chosen",
    )
    ax.set_xlabel("spending per run (yuan, simulated households)")
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_ylabel(fitted(ax, f"score: {result.robustness}", vertical=True))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    data = trace[["candidate", "spending_yuan", "score"]].assign(
        on_front=trace["candidate"].isin(front["candidate"])
    )
    note = caption(title, search_label(result, spec))
    return save_figure(fig, data, stem, formats=formats, caption=note)


@styled
def plot_check(
    result: OptimisationResult,
    spec: OptimiseSpec,
    stem: Path,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Each policy's gain on fresh runs with its 95% interval (dot and whisker)."""
    check = result.check.iloc[::-1].reset_index(drop=True)
    title = f"Out of sample: {spec.outcome.words} against no workshop policy"
    fig, grid = new_grid(
        title, row_height_in=max(PANEL_HEIGHT_IN, CHECK_ROW_IN * len(check)), paper=paper
    )
    ax = grid[0, 0]
    y = np.arange(len(check))
    draw_whiskers(
        ax, check["gain"], y, (check["ci_low"], check["ci_high"]), horizontal=True, dots=True
    )
    ax.axvline(0.0, **REFERENCE_LINE)
    ax.set_yticks(y, check["policy"])
    ax.set_xlabel(f"{spec.outcome.words} (mean, 95% interval over fresh scenarios)")
    data = pd.DataFrame(check[["policy", "gain", "ci_low", "ci_high"]])
    note = caption(title, search_label(result, spec))
    return save_figure(fig, data, stem, formats=formats, caption=note)
