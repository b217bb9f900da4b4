"""Checks of drawn figures (nothing off the canvas, no empty panel) and small frames
shaped like the stacked tables of `wsim compare` (arm, replicate, month, ...)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from experiments.figures import arms, discovery, optimisation, run, style, sweep

TOLERANCE_PX = 1.0  # an artist may overhang the canvas by this much (anti-aliasing)
MODULES = (arms, discovery, optimisation, run, style, sweep)  # each imports save_figure
Drawn = dict[str, Figure]
ARMS = ("baseline", "reform")


def visible_text(artist: Artist) -> bool:
    return artist.get_visible() and bool(getattr(artist, "get_text", lambda: "x")())


def checked_artists(fig: Figure) -> Iterator[tuple[str, Artist]]:
    """Every artist the canvas check covers: figure texts and legends, and per panel the
    panel, its texts, legend, title, axis labels and drawn tick labels."""
    yield from (("figure text", t) for t in fig.texts if visible_text(t))
    yield from (("figure legend", legend) for legend in fig.legends)
    for i, ax in enumerate(fig.axes):
        yield f"panel {i}", ax
        yield from ((f"panel {i} text", t) for t in ax.texts if visible_text(t))
        for name in ("title", "_left_title", "_right_title"):
            if visible_text(getattr(ax, name)):
                yield f"panel {i} title", getattr(ax, name)
        for axis in (ax.xaxis, ax.yaxis):
            if visible_text(axis.label):
                yield f"panel {i} axis label", axis.label
            yield f"panel {i} tick labels", axis
        if ax.get_legend() is not None:
            yield f"panel {i} legend", ax.get_legend()


def outside_canvas(fig: Figure) -> list[str]:
    """The artists of `fig` that reach beyond its canvas by more than `TOLERANCE_PX`."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    width, height = fig.canvas.get_width_height()
    outside = []
    for name, artist in checked_artists(fig):
        if isinstance(artist, Axes):
            box = artist.get_window_extent(renderer)
        elif hasattr(artist, "get_tightbbox") and not hasattr(artist, "get_text"):
            box = artist.get_tightbbox(renderer)
        else:
            box = artist.get_window_extent(renderer)
        if box is None or not (box.width or box.height):
            continue
        if (
            box.x0 < -TOLERANCE_PX
            or box.y0 < -TOLERANCE_PX
            or box.x1 > width + TOLERANCE_PX
            or box.y1 > height + TOLERANCE_PX
        ):
            outside.append(f"{name}: {box.extents.round(1)} on {width}x{height}")
    return outside


def empty_panels(fig: Figure) -> list[int]:
    """Panels with no line, collection, patch, image or text."""
    return [
        i
        for i, ax in enumerate(fig.axes)
        if not (ax.lines or ax.collections or ax.patches or ax.images or ax.texts)
    ]


@contextmanager
def recording(keep_files: bool = False) -> Iterator[Drawn]:
    """Record every figure the figure modules save, by stem (and the run's folder name
    when two figures share a stem); files are written only with `keep_files`."""
    drawn: Drawn = {}
    save = style.save_figure

    def record(fig: Figure, data: pd.DataFrame, stem: Path, **kwargs: Any) -> list[Path]:
        drawn[f"{stem.parent.name}/{stem.name}"] = fig
        return save(fig, data, stem, **kwargs) if keep_files else []

    with pytest.MonkeyPatch.context() as patch:
        for module in MODULES:
            patch.setattr(module, "save_figure", record)
        yield drawn


def tidy(
    values: Callable[..., dict[str, float]],
    arm_names: Sequence[str] = ARMS,
    replicates: int = 3,
    months: int = 12,
    **categories: Sequence[Any],
) -> pd.DataFrame:
    """One row per arm, replicate, month (0..`months`) and combination of `categories`.

    ``values(arm=..., replicate=..., month=..., <category>=...)`` gives the row's numbers.
    """
    keys: dict[str, Sequence[Any]] = {
        "arm": arm_names,
        "replicate": range(replicates),
        "month": range(months + 1),
        **categories,
    }
    rows = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*keys.values())]
    return pd.DataFrame([{**row, **values(**row)} for row in rows])


def with_dates(frame: pd.DataFrame, first: str = "2015-12") -> pd.DataFrame:
    """`frame` with the ``date`` column (YYYY-MM) of its months, month 0 at `first`."""
    dates = pd.period_range(first, periods=int(frame["month"].max()) + 1, freq="M")
    return frame.assign(date=dates[frame["month"]].strftime("%Y-%m"))
