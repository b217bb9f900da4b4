"""Figures of a budget search: convergence, the Pareto front and the out-of-sample check.

Each figure is written as PNG and SVG with the numbers drawn as CSV beside it
(`save_figure`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from experiments.figures.style import (
    LINE_COLOURS,
    REFERENCE_LINE,
    draw_whiskers,
    new_grid,
    save_figure,
    styled,
)

if TYPE_CHECKING:
    from experiments.optimisation.search import OptimisationResult
    from experiments.optimisation.spec import OptimiseSpec


def plot_search(result: OptimisationResult, spec: OptimiseSpec, folder: Path) -> list[Path]:
    """Every figure of a search that has data, into `folder`; returns the paths written."""
    paths = plot_convergence(result, spec, folder / "convergence")
    if len(result.pareto):
        paths += plot_pareto(result, spec, folder / "pareto")
    if len(result.check):
        paths += plot_check(result, spec, folder / "check")
    return paths


@styled
def plot_convergence(result: OptimisationResult, spec: OptimiseSpec, stem: Path) -> list[Path]:
    """Each candidate's score in proposal order, and the best score so far."""
    fig, grid = new_grid(f"{spec.name}: search convergence")
    ax = grid[0, 0]
    trace = result.trace
    ax.plot(trace["candidate"], trace["score"], linestyle="none", marker="o", label="candidate")
    ax.plot(
        result.convergence["candidate"],
        result.convergence["best_score"],
        drawstyle="steps-post",
        label="best so far",
    )
    ax.set_xlabel("candidate (in the order proposed)")
    ax.set_ylabel(f"score: {result.robustness}", wrap=True)
    ax.legend()
    data = trace[["candidate", "score"]].merge(result.convergence, on="candidate")
    return save_figure(fig, data, stem)


@styled
def plot_pareto(result: OptimisationResult, spec: OptimiseSpec, stem: Path) -> list[Path]:
    """Score against spending of every candidate, the front joined and the chosen marked."""
    fig, grid = new_grid(f"{spec.name}: outcome against spending")
    ax = grid[0, 0]
    trace, front = result.trace, result.pareto
    ax.plot(trace["spending_yuan"], trace["score"], linestyle="none", marker=".", label="candidate")
    ax.plot(front["spending_yuan"], front["score"], marker="o", label="Pareto front")
    ax.plot(
        [result.chosen["spending_yuan"]],
        [result.chosen["score"]],
        linestyle="none",
        marker="*",
        markersize=12,
        color=LINE_COLOURS[0],
        label="chosen",
    )
    ax.set_xlabel("spending per run (yuan, simulated households)")
    ax.set_ylabel(f"score: {result.robustness}", wrap=True)
    ax.legend()
    data = trace[["candidate", "spending_yuan", "score"]].assign(
        on_front=trace["candidate"].isin(front["candidate"])
    )
    return save_figure(fig, data, stem)


@styled
def plot_check(result: OptimisationResult, spec: OptimiseSpec, stem: Path) -> list[Path]:
    """Each policy's gain on fresh runs with its 95% interval (dot and whisker)."""
    check = result.check.iloc[::-1].reset_index(drop=True)
    fig, grid = new_grid(
        f"{spec.name}: out of sample, {spec.outcome.words} against no workshop policy",
        row_height_in=max(2.4, 0.35 * len(check)),
    )
    ax = grid[0, 0]
    y = np.arange(len(check))
    draw_whiskers(ax, check["gain"], y, (check["ci_low"], check["ci_high"]), horizontal=True)
    ax.plot(check["gain"], y, linestyle="none", marker="o", color=LINE_COLOURS[0])
    ax.axvline(0.0, **REFERENCE_LINE)
    ax.set_yticks(y, check["policy"])
    ax.set_xlabel(f"{spec.outcome.words} (mean, 95% interval over fresh scenarios)")
    data = pd.DataFrame(check[["policy", "gain", "ci_low", "ci_high"]])
    return save_figure(fig, data, stem)
