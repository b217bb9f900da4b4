"""Figures of a scenario discovery: where in the uncertain parameters a policy fails.

`plot_discovery` draws the four figures of `experiments.discovery.Discovery` from its
tables: PRIM's peeling trajectory (coverage against density, by number of restricted
parameters, the chosen box marked), the chosen box's limits within each parameter's
range (with EMA's quasi-p values), the points on the two most important parameters
(failing or not, the box drawn) and the feature scores. Each is saved as PNG by default
(SVG on request) with exactly its plotted numbers as CSV and a caption file holding its
subject and the discovery's description (`experiments.figures.style.save_figure`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from experiments.figures.style import (
    DEFAULT_FORMATS,
    EDGE_COLOUR,
    EDGE_WIDTH,
    LINE_COLOURS,
    MARKERS,
    PANEL_HEIGHT_IN,
    REFERENCE_LINE,
    caption,
    fills,
    new_grid,
    save_figure,
    say_none,
    styled,
)

CHOSEN_MARKER_PT = 16  # ring around the chosen box
BOX_ROW_IN = 0.45  # height per parameter of the box-limits figure (inches)
RANGE_ALPHA = 0.35  # the whole range's bar is faint: the box's bar stands out over it
HOLDS_COLOUR = "0.55"  # points that hold: mid grey rings, behind the failing crosses
LIMIT_FONT_PT = 7  # labels of the box limits: smaller than tick labels, beside the bars
FAILS = "fails"
COVERAGE_LABEL = "coverage (share of all failing points inside the box)"
DENSITY_LABEL = "density (share of the points inside the box that fail)"


def plot_discovery(
    points: pd.DataFrame,
    trajectory: pd.DataFrame,
    box_limits: pd.DataFrame,
    scores: pd.DataFrame,
    value: tuple[str, str],
    title: str,
    out_dir: Path,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Every figure of a discovery into `out_dir`; the paths written.

    Args:
        points: one row per point: a column per parameter, the value and ``fails``.
        trajectory: ``box``, ``coverage``, ``density``, ``restricted_dimensions``,
            ``chosen``.
        box_limits: ``parameter``, ``label``, ``restricted``, ``box_low``, ``box_high``,
            ``range_low``, ``range_high``, ``qp_low``, ``qp_high``.
        scores: ``parameter``, ``label``, ``score``, most important first.
        value: the value's column in `points` and its label (words and unit), the y axis
            of the scatter when there is a single parameter.
        title: what failing means and of how many points, for every caption.
        out_dir: folder for the figures.
        formats: image formats to write (PNG by default; add ``svg`` for SVG).
        paper: the paper style (no titles on the figures; captions carry them).
    """
    return [
        *plot_trajectory(trajectory, title, out_dir, formats=formats, paper=paper),
        *plot_box_limits(box_limits, title, out_dir, formats=formats, paper=paper),
        *plot_failure_scatter(
            points, box_limits, scores, value, title, out_dir, formats=formats, paper=paper
        ),
        *plot_feature_scores(scores, title, out_dir, formats=formats, paper=paper),
    ]


@styled
def plot_trajectory(
    trajectory: pd.DataFrame,
    title: str,
    out_dir: Path,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """PRIM's boxes as coverage against density, by number of restricted parameters.

    The chosen box is ringed and labelled. Saved as ``prim_trajectory``.
    """
    data = trajectory[["box", "coverage", "density", "restricted_dimensions", "chosen"]]
    subject = "PRIM peeling trajectory"
    fig, grid = new_grid(subject, paper=paper)
    ax = grid[0, 0]
    dims = sorted(data["restricted_dimensions"].unique())
    for i, (dim, style) in enumerate(zip(dims, fills(len(dims)), strict=True)):
        rows = data[data["restricted_dimensions"] == dim]
        ax.scatter(
            rows["coverage"],
            rows["density"],
            marker=MARKERS[i % len(MARKERS)],
            color=style["facecolor"],
            edgecolors=EDGE_COLOUR,
            linewidths=EDGE_WIDTH,
            label=f"{dim} restricted",
        )
    chosen = data[data["chosen"]].iloc[0]
    ax.plot(
        chosen["coverage"],
        chosen["density"],
        marker="o",
        markersize=CHOSEN_MARKER_PT,
        fillstyle="none",
        color=LINE_COLOURS[0],
        linestyle="none",
        label=f"chosen box {int(chosen['box'])}",
    )
    ax.annotate(
        f"box {int(chosen['box'])}: coverage {chosen['coverage']:.2f}, "
        f"density {chosen['density']:.2f}",
        (chosen["coverage"], chosen["density"]),
        xytext=(-10, -18),
        textcoords="offset points",
        ha="right",
    )
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(COVERAGE_LABEL)
    ax.set_ylabel(DENSITY_LABEL)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title="parameters")
    note = caption(subject, title)
    return save_figure(fig, data, out_dir / "prim_trajectory", formats=formats, caption=note)


@styled
def plot_box_limits(
    box_limits: pd.DataFrame,
    title: str,
    out_dir: Path,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """The chosen box within each restricted parameter's range (0 = low end, 1 = high end).

    A light bar spans the parameter's whole range, a dark one the box; each end the box
    moved is labelled with its value and quasi-p value. Saved as ``prim_box_limits``.
    """
    data = normalised_limits(box_limits[box_limits["restricted"]])
    subject = "Chosen box: limits within each parameter's range"
    fig, grid = new_grid(
        subject, row_height_in=max(PANEL_HEIGHT_IN, BOX_ROW_IN * (len(data) + 2)), paper=paper
    )
    ax = grid[0, 0]
    note = caption(subject, title)
    if data.empty:
        say_none(ax, "the box restricts no parameter")
        return save_figure(fig, data, out_dir / "prim_box_limits", formats=formats, caption=note)
    full, box = fills(2)
    position = np.arange(len(data))
    ax.barh(position, 1.0, color=full["facecolor"], alpha=RANGE_ALPHA, edgecolor=EDGE_COLOUR)
    ax.barh(
        position,
        data["box_high_share"] - data["box_low_share"],
        left=data["box_low_share"],
        height=0.5,
        color=box["facecolor"],
        hatch="//",
        edgecolor=EDGE_COLOUR,
        linewidth=EDGE_WIDTH,
    )
    for y, row in enumerate(data.to_dict("records")):
        _label_limit(ax, y, row["box_low_share"], row["box_low"], row["qp_low"], "right")
        _label_limit(ax, y, row["box_high_share"], row["box_high"], row["qp_high"], "left")
    ax.set_yticks(position, data["label"])
    ax.set_ylim(len(data) - 0.5, -0.5)
    ax.set_xlim(-0.35, 1.35)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xlabel("position within the parameter's range (0 = low end, 1 = high end)")
    return save_figure(fig, data, out_dir / "prim_box_limits", formats=formats, caption=note)


def normalised_limits(limits: pd.DataFrame) -> pd.DataFrame:
    """Box limits with their positions in the parameter's range (shares, 0 to 1)."""
    span = limits["range_high"] - limits["range_low"]
    columns = ["parameter", "label", "box_low", "box_high", "range_low", "range_high"]
    return limits[[*columns, "qp_low", "qp_high"]].assign(
        box_low_share=((limits["box_low"] - limits["range_low"]) / span).clip(0, 1),
        box_high_share=((limits["box_high"] - limits["range_low"]) / span).clip(0, 1),
    )


def _label_limit(ax: Axes, y: float, x: float, value: float, qp: float, side: str) -> None:
    """Write a moved limit's value and quasi-p beside it; nothing at an unmoved end."""
    if np.isnan(qp):
        return
    gap = -0.02 if side == "right" else 0.02
    ax.text(x + gap, y, f"{value:.3g}\n(qp {qp:.1g})", ha=side, va="center", fontsize=LIMIT_FONT_PT)


@styled
def plot_failure_scatter(
    points: pd.DataFrame,
    box_limits: pd.DataFrame,
    scores: pd.DataFrame,
    value: tuple[str, str],
    title: str,
    out_dir: Path,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """The points on the two most important parameters, failing or not, the box drawn.

    With a single parameter, its value against the point's value instead. Saved as
    ``failures_scatter``.
    """
    top = list(scores["parameter"][:2])
    limits = box_limits.set_index("parameter")
    labels = {**dict(zip(limits.index, limits["label"], strict=True)), value[0]: value[1]}
    x, y = (top + [value[0]])[:2]
    data = points[[x, y, FAILS]]
    subject = "Failing points on the most important parameters"
    fig, grid = new_grid(subject, paper=paper)
    ax = grid[0, 0]
    holds = data[~data[FAILS]]
    failing = data[data[FAILS]]
    ax.scatter(
        holds[x], holds[y], marker="o", facecolors="none", edgecolors=HOLDS_COLOUR, label="holds"
    )
    ax.scatter(failing[x], failing[y], marker="x", color=LINE_COLOURS[0], label="fails")
    (x_low, x_high), (y_low, y_high) = (_box_span(limits, c, data[c]) for c in (x, y))
    ax.add_patch(
        Rectangle(
            (x_low, y_low),
            x_high - x_low,
            y_high - y_low,
            fill=False,
            linewidth=1.5,
            linestyle="--",
            edgecolor=LINE_COLOURS[0],
            label="chosen box",
        )
    )
    ax.set_xlabel(labels[x])
    ax.set_ylabel(labels[y])
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    note = caption(subject, title)
    return save_figure(fig, data, out_dir / "failures_scatter", formats=formats, caption=note)


def _box_span(limits: pd.DataFrame, column: str, values: pd.Series) -> tuple[float, float]:
    """The box's limits on a parameter, or the values' span for the outcome axis."""
    if column in limits.index:
        low, high = limits.loc[column, ["box_low", "box_high"]].to_numpy(dtype=float)
        return float(low), float(high)
    return float(values.min()), float(values.max())


@styled
def plot_feature_scores(
    scores: pd.DataFrame,
    title: str,
    out_dir: Path,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    paper: bool = False,
) -> list[Path]:
    """Extra-trees feature scores, most important parameter at the top.

    Saved as ``feature_scores``.
    """
    data = scores[["parameter", "label", "score"]]
    subject = "Feature scores: which parameters tell failing points apart"
    fig, grid = new_grid(
        subject, row_height_in=max(PANEL_HEIGHT_IN, BOX_ROW_IN * (len(data) + 2)), paper=paper
    )
    ax = grid[0, 0]
    position = np.arange(len(data))
    ax.barh(
        position,
        data["score"],
        edgecolor=EDGE_COLOUR,
        linewidth=EDGE_WIDTH,
        **fills(1)[0],
    )
    ax.axvline(1 / max(len(data), 1), label="equal shares", **REFERENCE_LINE)
    ax.set_yticks(position, data["label"])
    ax.set_ylim(len(data) - 0.5, -0.5)
    ax.set_xlabel("feature score (extra-trees importance; the scores sum to 1)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    note = caption(subject, title)
    return save_figure(fig, data, out_dir / "feature_scores", formats=formats, caption=note)
