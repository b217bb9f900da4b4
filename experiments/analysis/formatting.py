"""Analysis tables for reading: numbers formatted, CIs joined, detail columns left out.

The terminal (`wsim analyze`, `wsim compare`) and the HTML report show the same
readable tables; the CSVs keep every column at full precision.
"""

from __future__ import annotations

import math

import pandas as pd

HIDDEN = {
    "effects": ["n", "arm_mean"],
    "differences": ["reference", "half_width_unpaired"],
    "rates": ["households", "of"],
    "cost_per_exit": ["bootstrap_valid"],
    "morris": ["mu"],
}  # shown in the CSVs only


def readable(title: str, frame: pd.DataFrame) -> pd.DataFrame:
    """An analysis table for reading (the CSV keeps every column).

    CIs are joined into one text column, detail columns and instruments nobody spent on
    are left out.
    """
    shown = frame.drop(columns=HIDDEN.get(title, []))
    if title == "instruments":
        shown = shown[(frame["spending_yuan"] != 0) | (frame["extra_yuan"].fillna(0) != 0)]
    if {"ci_low", "ci_high"} <= set(shown.columns):
        ci = [
            f"[{format_value(lo)}, {format_value(hi)}]"
            for lo, hi in zip(shown["ci_low"], shown["ci_high"], strict=True)
        ]
        shown = shown.drop(columns=["ci_low", "ci_high"]).assign(**{"95% CI": ci})
    for conf in [c for c in shown.columns if c.endswith("_conf")]:
        shown[conf.removesuffix("_conf")] = [
            f"{format_value(v)} ± {format_value(c)}"
            for v, c in zip(shown[conf.removesuffix("_conf")], shown[conf], strict=True)
        ]
        shown = shown.drop(columns=conf)
    return shown


def format_value(value: object) -> str:
    """A value for reading: n/a for NaN, thousands separated from 1,000, else 4 digits."""
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value + 0.0:.4g}"  # no "-0"
    return f"{value:,}" if isinstance(value, int) else str(value)
