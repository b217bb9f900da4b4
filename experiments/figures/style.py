"""The shared figure style and drawing helpers of every figure, each saved with its data.

Every figure is written as PNG by default (SVG, or any other format matplotlib writes,
on request) with the plotted numbers as CSV beside it (same stem) and a caption file
``<stem>.txt`` holding its title and the run's metadata (scenario, seed, replicates,
dates, panels left out), so a figure can be checked or redrawn without rerunning the
model. Titles name the subject only, never the run; in the ``paper`` style a figure has
no title at all (its caption carries it) and is saved at print resolution.

Figures are drawn on the Agg canvas directly (no pyplot), so plotting never touches
global state or needs a display, with a constrained layout so nothing is clipped. Lines
are told apart in colour (the Okabe-Ito palette, safe for colour-blind readers), in
greyscale (dash pattern, sparse markers, colours of different lightness); confidence
bands are light and hatched, below their lines; filled series (areas, bars) differ in
hatch. Time axes show calendar months. Bands are clipped to the measure's physical
bounds, and panels whose numbers are all zero or missing are left out (`has_data`).
The figures of a run (`experiments.figures.run`), of arms (`experiments.figures.arms`)
and of a sweep (`experiments.figures.sweep`) are built from the helpers here.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import textwrap
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter
from matplotlib.typing import RcKeyType
from numpy.typing import ArrayLike

LINE_STYLES = ("-", "--", ":", "-.")
# Okabe-Ito, ordered so neighbours also differ in lightness (black first, yellow last:
# it is faint on white)
LINE_COLOURS = (
    "#000000",
    "#E69F00",
    "#0072B2",
    "#D55E00",
    "#56B4E9",
    "#009E73",
    "#CC79A7",
    "#F0E442",
)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")  # one per colour: shapes survive greyscale
MARK_EVERY = 6  # a marker every 6th point (half-yearly on monthly lines): sparse, and
# counted in points, which works for lines of any length, empty or all missing included
MARKER_SIZE_PT = 4.5  # smaller than the default 6: markers tag lines, not points
HATCHES = ("", "//", "..", "xx", "\\\\", "oo", "++", "--", "||", "**")
AREA_COLOURS = mpl.colormaps["cividis"]  # lightness rises along it, so greys stay apart
STYLE: dict[RcKeyType, Any] = {
    "figure.figsize": (8.0, 4.8),
    "savefig.dpi": 150,
    "svg.fonttype": "none",
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "0.85",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(
        color=list(LINE_COLOURS),
        linestyle=[LINE_STYLES[i % len(LINE_STYLES)] for i in range(len(LINE_COLOURS))],
    ),
    "lines.linewidth": 1.8,
    "lines.markersize": MARKER_SIZE_PT,
    "hatch.color": "0.15",
    "hatch.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
}
PAPER_STYLE: dict[RcKeyType, Any] = {**STYLE, "savefig.dpi": 300}  # print resolution
MONTH_LABEL = "month of the run (0 = starting state)"
TIME_COLUMNS = ("month", "date")  # columns that place a row in time, not series
PANEL_HEIGHT_IN = 2.4  # inches per row of panels: two rows fill the default height
PANEL_WIDTH_IN = 2.8  # inches per column of panels, once they outgrow the default width
TITLE_CHARS_PER_IN = 11  # characters of an 11-pt title per inch of width, with a margin
LABEL_CHARS_PER_IN = 12  # characters of a 10-pt axis label per inch of axis
LEGEND_COLUMNS = 4  # entries side by side in a legend below the panels
BAND_ALPHA = 0.12  # opacity of a CI band: light, so every line shows through it
BAND_HATCH_ALPHA = 0.3  # opacity of a band's hatch, which tells bands apart in greyscale
BAND_ZORDER = 1.5  # bands above filled areas and the grid ...
LINE_ZORDER = 3.0  # ... and lines above every band
EDGE_COLOUR = "0.2"  # outline of filled areas and bars
EDGE_WIDTH = 0.4  # points; whiskers are twice as wide
WHISKER_CAP_PT = 3  # cap width of CI whiskers (points)
REFERENCE_LINE: dict[str, Any] = {
    "color": "0.25",
    "linestyle": (0, (1, 1.5)),
    "linewidth": 1.0,
}  # zero lines, quotas: finer than data
UNBOUNDED = (-math.inf, math.inf)  # differences, scores: any sign
COUNT_BOUNDS = (0.0, math.inf)  # people, households, workshops, yuan paid: never negative
SHARE_BOUNDS = (0.0, 1.0)  # shares of people, of the line, of jobs
NONE_DRAWN = "none in this run"  # the one panel of a figure with nothing to draw
DEFAULT_FORMATS = ("png",)  # SVG and other formats on request


def styled[**P, R](plot: Callable[P, R]) -> Callable[P, R]:
    """Draw and save inside the shared style, or the paper style when ``paper=True``."""

    @functools.wraps(plot)
    def in_style(*args: P.args, **kwargs: P.kwargs) -> R:
        with mpl.rc_context(PAPER_STYLE if kwargs.get("paper") else STYLE):
            return plot(*args, **kwargs)

    return in_style


def wrapped(text: str, width_in: float, chars_per_in: float = LABEL_CHARS_PER_IN) -> str:
    """`text` broken into lines that fit `width_in` inches (at `chars_per_in`)."""
    return textwrap.fill(text, width=max(1, int(width_in * chars_per_in)))


def fitted(ax: Axes, label: str, vertical: bool = False) -> str:
    """`label` wrapped to the panel's width (or height, for a `vertical` label)."""
    pixels = ax.bbox.height if vertical else ax.bbox.width
    return wrapped(label, pixels / ax.figure.dpi)


def new_grid(
    title: str,
    rows: int = 1,
    columns: int = 1,
    share_x: bool = True,
    row_height_in: float = PANEL_HEIGHT_IN,
    *,
    paper: bool = False,
) -> tuple[Figure, np.ndarray]:
    """A figure on the Agg canvas with a `rows` x `columns` grid of panels (2-D array).

    The figure grows beyond the default size by `row_height_in` inches per row and
    `PANEL_WIDTH_IN` per column; a long title is wrapped to the width. In the `paper`
    style there is no title (the caption file carries it).
    """
    width, height = STYLE["figure.figsize"]
    size = (max(width, columns * PANEL_WIDTH_IN), max(height, rows * row_height_in))
    fig = Figure(layout="constrained", figsize=size)
    FigureCanvasAgg(fig)
    grid = fig.subplots(rows, columns, sharex=share_x, squeeze=False)
    if not paper:
        fig.suptitle(wrapped(title, size[0], TITLE_CHARS_PER_IN))
    return fig, grid


def new_figure(title: str, rows: int = 1, *, paper: bool = False) -> tuple[Figure, list[Axes]]:
    """A figure on the Agg canvas with `rows` panels sharing the month axis."""
    fig, grid = new_grid(title, rows, paper=paper)
    axes = list(grid[:, 0])
    axes[-1].set_xlabel(MONTH_LABEL)
    return fig, axes


def panel_grid(
    title: str,
    count: int,
    columns: int = 1,
    share_x: bool = True,
    row_height_in: float = PANEL_HEIGHT_IN,
    *,
    paper: bool = False,
) -> tuple[Figure, list[Axes]]:
    """A figure with `count` panels filling a grid of `columns` row by row (at least one).

    Cells left over in the last row are removed; the panel above each of them shows its
    own x tick labels. The last `columns` panels are the bottom of their columns.
    """
    count, columns = max(1, count), max(1, min(columns, count))
    fig, grid = new_grid(
        title, math.ceil(count / columns), columns, share_x, row_height_in, paper=paper
    )
    cells = list(grid.ravel())
    for ax in cells[count:]:
        fig.delaxes(ax)
    for ax in cells[count - columns : count]:
        ax.xaxis.set_tick_params(which="both", labelbottom=True)
    return fig, cells[:count]


def say_none(ax: Axes, words: str = NONE_DRAWN) -> None:
    """Write `words` across an otherwise empty panel and hide its axes' ticks."""
    ax.text(0.5, 0.5, words, transform=ax.transAxes, ha="center", va="center")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


def has_data(values: ArrayLike) -> bool:
    """Whether any of `values` is neither zero nor missing (a panel worth drawing)."""
    return bool(np.any(np.nan_to_num(np.asarray(values, dtype=float)) != 0))


def left_out_note(names: Iterable[str], why: str = "zero or missing throughout") -> str:
    """Caption sentence naming the panels or series left out of a figure ('' if none)."""
    names = list(names)
    return f"Left out ({why}): {'; '.join(names)}." if names else ""


def caption(title: str, *notes: str) -> str:
    """A figure's caption: its title, then each non-empty note on its own line."""
    return "\n".join([f"{title}.", *(n for n in notes if n)])


def month_dates(months: ArrayLike, start: dt.date) -> np.ndarray:
    """First day of each run month (datetime64[D]).

    Month 1 is `start`'s month, month 0 (the starting state) the month before it.
    """
    first = np.datetime64(start.replace(day=1), "M")
    offsets = (np.asarray(months, dtype=int) - 1).astype("timedelta64[M]")
    return np.asarray((first + offsets).astype("datetime64[D]"))


def time_axis(frame: pd.DataFrame, start: dt.date | None = None) -> np.ndarray:
    """The x values of a frame's rows, calendar dates where known.

    Dates of ``month`` counted from `start`, else of the ``date`` column (YYYY-MM), else
    the month index itself.
    """
    if start is not None:
        return month_dates(frame["month"], start)
    if "date" in frame:
        return pd.to_datetime(frame["date"].astype(str), format="%Y-%m").to_numpy()
    return frame["month"].to_numpy()


def is_dated(frame: pd.DataFrame, start: dt.date | None) -> bool:
    """Whether `time_axis` gives calendar dates for `frame`."""
    return start is not None or "date" in frame


def period(frame: pd.DataFrame, start: dt.date | None = None) -> str:
    """Caption sentence on the months a frame covers: calendar months where known."""
    x = time_axis(frame, start)
    if not len(x):
        return ""
    if is_dated(frame, start):
        first, last = (pd.Timestamp(v).strftime("%Y-%m") for v in (x.min(), x.max()))
        return f"Months {first} to {last}."
    return f"Months {x.min()} to {x.max()} of the run (0 = starting state)."


def set_time_axis(axes: Sequence[Axes], dated: bool, columns: int = 1) -> None:
    """Calendar ticks on every panel when `dated`, else the month-index axis label.

    Dated axes get concise year and month labels and no axis label; otherwise the
    bottom panel of each of the `columns` columns gets `MONTH_LABEL`, wrapped to the
    panel's width.
    """
    for ax in axes:
        if dated:
            locator = AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
            ax.set_xlabel("")
    if not dated:
        for ax in axes[-columns:]:
            ax.set_xlabel(fitted(ax, MONTH_LABEL))


def line_style(index: int) -> dict[str, Any]:
    """Colour, dash and marker of the `index`-th line; the first 16 are all distinct."""
    dash = LINE_STYLES[(index + index // len(LINE_COLOURS)) % len(LINE_STYLES)]
    return {
        "color": LINE_COLOURS[index % len(LINE_COLOURS)],
        "linestyle": dash,
        "marker": MARKERS[index % len(MARKERS)],
        "markevery": (index % MARK_EVERY, MARK_EVERY),  # staggered: markers of lines apart
    }


def fills(count: int) -> list[dict[str, Any]]:
    """Face colour and hatch of `count` filled series (areas, bars), distinct in greyscale."""
    colours = AREA_COLOURS(np.linspace(0.35, 1.0, count))
    return [
        {"facecolor": colour, "hatch": hatch}
        for colour, hatch in zip(colours, itertools.cycle(HATCHES), strict=False)
    ]


def clipped(
    ci: tuple[ArrayLike, ArrayLike], bounds: tuple[float, float] = UNBOUNDED
) -> tuple[np.ndarray, np.ndarray]:
    """A CI (low, high) clipped to a measure's physical `bounds` (low, high); NaN stays."""
    low, high = (np.clip(np.asarray(c, dtype=float), *bounds) for c in ci)
    return low, high


def draw_line(ax: Axes, x: ArrayLike, y: ArrayLike, index: int, label: str | None = None) -> None:
    """The `index`-th series as a line (`line_style`) above every band; NaN is a gap."""
    ax.plot(x, y, label=label, zorder=LINE_ZORDER, **line_style(index))


def draw_interval(
    ax: Axes,
    x: ArrayLike,
    ci: tuple[ArrayLike, ArrayLike],
    index: int,
    bounds: tuple[float, float] = UNBOUNDED,
) -> None:
    """The `index`-th series' CI (low, high) as a light hatched band within `bounds`."""
    colour = line_style(index)["color"]
    ax.fill_between(
        x,
        *clipped(ci, bounds),
        facecolor=to_rgba(colour, BAND_ALPHA),
        edgecolor=to_rgba(colour, BAND_HATCH_ALPHA),
        linewidth=0,
        hatch=HATCHES[1 + index % (len(HATCHES) - 1)],
        zorder=BAND_ZORDER,
    )


def draw_band(
    ax: Axes,
    x: ArrayLike,
    mean: ArrayLike,
    ci: tuple[ArrayLike, ArrayLike],
    index: int,
    label: str,
    *,
    bounds: tuple[float, float] = UNBOUNDED,
) -> None:
    """The `index`-th series: its mean as a line over its CI (low, high) as a band.

    The band is clipped to the measure's physical `bounds` (e.g. `COUNT_BOUNDS`).
    """
    draw_interval(ax, x, ci, index, bounds)
    draw_line(ax, x, mean, index, label)


def legend_below(fig: Figure, axes: Sequence[Axes]) -> None:
    """One legend of every labelled artist of `axes`, below the panels, off the data."""
    entries: dict[str, Any] = {}
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        entries |= {label: handle for label, handle in zip(labels, handles, strict=True)}
    if entries:
        fig.legend(
            list(entries.values()),
            list(entries),
            loc="outside lower center",
            ncols=min(len(entries), LEGEND_COLUMNS),
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


def save_figure(
    fig: Figure,
    data: pd.DataFrame,
    stem: Path,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    caption: str | None = None,
) -> list[Path]:
    """Write `fig` in each of `formats`, `data` (the plotted numbers) as CSV and the caption.

    Args:
        fig: the finished figure.
        data: exactly the numbers drawn, one column per series.
        stem: output path without suffix; its directory is created if needed.
        formats: image formats by suffix (``png``, ``svg``, ``pdf``...), in this order.
        caption: the figure's title and run metadata, written to ``<stem>.txt``.

    Returns:
        The paths written: the images in `formats` order, the CSV, then the caption.

    Raises:
        ValueError: if matplotlib cannot write one of `formats`.
    """
    unknown = sorted(set(formats) - set(fig.canvas.get_supported_filetypes()))
    if unknown:
        raise ValueError(f"cannot write figures as {', '.join(unknown)}")
    stem.parent.mkdir(parents=True, exist_ok=True)
    images = [stem.with_suffix(f".{f}") for f in dict.fromkeys(formats)]
    for path in images:
        fig.savefig(path)
    paths = [*images, stem.with_suffix(".csv")]
    data.to_csv(paths[-1], index=False)
    if caption is not None:
        paths.append(stem.with_suffix(".txt"))
        paths[-1].write_text(caption + "\n", encoding="utf-8")
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


def series_of(data: pd.DataFrame) -> list[str]:
    """The columns of `data` that are series, not time (`TIME_COLUMNS`)."""
    return [str(c) for c in data.columns if c not in TIME_COLUMNS]


def draw_stack(
    ax: Axes,
    data: pd.DataFrame,
    ylabel: str,
    legend: bool = True,
    *,
    start: dt.date | None = None,
) -> None:
    """Stacked areas of every series column of `data` (not ``month``/``date``).

    Each area has its own fill; months are placed by `time_axis`. Without any series
    the panel says "none in this run".
    """
    series = series_of(data)
    if series:
        styles = fills(len(series))
        areas = ax.stackplot(
            time_axis(data, start),
            *(data[c] for c in series),
            labels=[name.replace("_", " ") for name in series],  # words, as in the tables
            colors=[s["facecolor"] for s in styles],
            edgecolor=EDGE_COLOUR,
            linewidth=EDGE_WIDTH,
        )
        for area, style in zip(areas, styles, strict=True):
            area.set_hatch(style["hatch"])
        if legend:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), reverse=True)
    else:
        say_none(ax)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
