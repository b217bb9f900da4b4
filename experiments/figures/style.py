"""The shared figure style and drawing helpers of every figure, each saved with its data.

Every figure is written as PNG and SVG with the plotted numbers as CSV beside it (same
stem), so a figure can be checked or redrawn without rerunning the model. Figures are
drawn on the Agg canvas directly (no pyplot), so plotting never touches global state
or needs a display. The style is readable in greyscale: lines differ in dash pattern,
confidence bands and filled series (areas, bars) in hatch, with colours that also
differ in lightness. The helpers here (`new_grid`, `draw_band`, `draw_stack`, `fills`,
`draw_whiskers`) are the only styling code; the figures of a run
(`experiments.figures.run`), of arms (`experiments.figures.arms`) and of a sweep
(`experiments.figures.sweep`) are built from them.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter
from matplotlib.typing import RcKeyType
from numpy.typing import ArrayLike

LINE_STYLES = ("-", "--", ":", "-.")
LINE_COLOURS = ("0.0", "0.35", "0.55", "0.7")
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
    "axes.prop_cycle": cycler(color=list(LINE_COLOURS), linestyle=LINE_STYLES),
    "lines.linewidth": 1.8,
    "hatch.color": "0.15",
    "hatch.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
}
MONTH_LABEL = "month of the run (0 = starting state)"
PANEL_HEIGHT_IN = 2.4  # inches per row of panels: two rows fill the default height
PANEL_WIDTH_IN = 2.8  # inches per column of panels, once they outgrow the default width
BAND_ALPHA = 0.18  # opacity of a CI band: the lines of other arms show through it
BAND_HATCH_ALPHA = 0.5  # opacity of a band's hatch, which tells bands apart in greyscale
EDGE_COLOUR = "0.2"  # outline of filled areas and bars
EDGE_WIDTH = 0.4  # points; whiskers are twice as wide
WHISKER_CAP_PT = 3  # cap width of CI whiskers (points)
REFERENCE_LINE: dict[str, Any] = {
    "color": "0.25",
    "linestyle": (0, (1, 1.5)),
    "linewidth": 1.0,
}  # zero lines, quotas: finer than data


def styled[**P, R](plot: Callable[P, R]) -> Callable[P, R]:
    """Draw and save inside the shared style (the one place the style is applied)."""

    @functools.wraps(plot)
    def in_style(*args: P.args, **kwargs: P.kwargs) -> R:
        with mpl.rc_context(STYLE):
            return plot(*args, **kwargs)

    return in_style


def new_grid(
    title: str,
    rows: int = 1,
    columns: int = 1,
    share_x: bool = True,
    row_height_in: float = PANEL_HEIGHT_IN,
) -> tuple[Figure, np.ndarray]:
    """A figure on the Agg canvas with a `rows` x `columns` grid of panels (2-D array).

    The figure grows beyond the default size by `row_height_in` inches per row and
    `PANEL_WIDTH_IN` per column; a long title wraps.
    """
    width, height = STYLE["figure.figsize"]
    fig = Figure(
        layout="constrained",
        figsize=(max(width, columns * PANEL_WIDTH_IN), max(height, rows * row_height_in)),
    )
    FigureCanvasAgg(fig)
    grid = fig.subplots(rows, columns, sharex=share_x, squeeze=False)
    fig.suptitle(title, wrap=True)
    return fig, grid


def new_figure(title: str, rows: int = 1) -> tuple[Figure, list[Axes]]:
    """A figure on the Agg canvas with `rows` panels sharing the month axis."""
    fig, grid = new_grid(title, rows)
    axes = list(grid[:, 0])
    axes[-1].set_xlabel(MONTH_LABEL)
    return fig, axes


def line_style(index: int) -> dict[str, Any]:
    """Colour and dash of the `index`-th line; the first 16 pairs are all distinct."""
    dash = LINE_STYLES[(index + index // len(LINE_COLOURS)) % len(LINE_STYLES)]
    return {"color": LINE_COLOURS[index % len(LINE_COLOURS)], "linestyle": dash}


def fills(count: int) -> list[dict[str, Any]]:
    """Face colour and hatch of `count` filled series (areas, bars), distinct in greyscale."""
    colours = AREA_COLOURS(np.linspace(0.35, 1.0, count))
    return [
        {"facecolor": colour, "hatch": hatch}
        for colour, hatch in zip(colours, itertools.cycle(HATCHES), strict=False)
    ]


def draw_band(
    ax: Axes, x: ArrayLike, mean: ArrayLike, ci: tuple[ArrayLike, ArrayLike], index: int, label: str
) -> None:
    """The `index`-th series: its mean as a line, its CI (low, high) as a hatched band."""
    style = line_style(index)
    ax.plot(x, mean, label=label, **style)
    ax.fill_between(
        x,
        *ci,
        facecolor=to_rgba(style["color"], BAND_ALPHA),
        edgecolor=to_rgba(style["color"], BAND_HATCH_ALPHA),
        linewidth=0,
        hatch=HATCHES[1 + index % (len(HATCHES) - 1)],
    )


def draw_whiskers(
    ax: Axes,
    x: ArrayLike,
    y: ArrayLike,
    ci: tuple[ArrayLike, ArrayLike],
    horizontal: bool = False,
    dots: bool = False,
) -> None:
    """CI whiskers from low to high at each point (x, y), vertical unless `horizontal`.

    A whisker spans its interval whether or not the point lies inside it (a bootstrap
    interval need not contain the estimate). With `dots` the points are drawn too (a
    dot-and-whisker plot).
    """
    low, high = (np.asarray(c, dtype=float) for c in ci)
    middle, half = (low + high) / 2, (high - low) / 2
    whisker: dict[str, Any] = {
        "fmt": "none",
        "ecolor": LINE_COLOURS[0],
        "capsize": WHISKER_CAP_PT,
        "elinewidth": EDGE_WIDTH * 2,
    }
    if horizontal:
        ax.errorbar(middle, y, xerr=half, **whisker)
    else:
        ax.errorbar(x, middle, yerr=half, **whisker)
    if dots:
        ax.plot(x, y, linestyle="none", marker="o", color=LINE_COLOURS[0])


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
    frame = table.pivot_table(
        index="month", columns=category, values=value, aggfunc="sum", sort=False
    )
    frame = frame.loc[:, (frame != 0).any()]
    frame.columns = frame.columns.astype(str)
    frame.columns.name = None
    return frame.reset_index()


def draw_stack(ax: Axes, data: pd.DataFrame, ylabel: str, legend: bool = True) -> None:
    """Stacked areas of every column of `data` but `month`, each with its own fill."""
    series = [c for c in data.columns if c != "month"]
    if series:
        styles = fills(len(series))
        areas = ax.stackplot(
            data["month"],
            *(data[c] for c in series),
            labels=series,
            colors=[s["facecolor"] for s in styles],
            edgecolor=EDGE_COLOUR,
            linewidth=EDGE_WIDTH,
        )
        for area, style in zip(areas, styles, strict=True):
            area.set_hatch(style["hatch"])
        if legend:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), reverse=True)
    else:
        ax.text(0.5, 0.5, "all zero in this run", transform=ax.transAxes, ha="center")
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def stacked_plot(data: pd.DataFrame, title: str, ylabel: str, stem: Path) -> list[Path]:
    """Stacked areas of every column but `month`, each with its own hatch; saved with data."""
    fig, (ax,) = new_figure(title)
    draw_stack(ax, data, ylabel)
    return save_figure(fig, data, stem)
