"""Analysis tables for reading: numbers formatted, CIs joined, detail columns left out.

The terminal (`wsim analyze`, `wsim compare`) and the HTML report show the same
readable tables; the CSVs keep every column at full precision. A ratio whose interval
is undefined (`experiments.intervals.fieller_interval`) reads "undefined", never a
number.
"""

from __future__ import annotations

import math

import pandas as pd

from experiments.intervals import DEFINED

HIDDEN = {
    "effects": ["n", "arm_mean"],
    "differences": ["reference", "half_width_unpaired"],
    "rates": ["households", "of"],
    "cost_effectiveness": ["outcome"],
    "ranking": ["outcome", "by"],
    "morris": ["mu"],
    "paired_effects": ["outcome"],
}  # shown in the CSVs only
RATIO_ESTIMATES = {
    "cost_effectiveness": "yuan_per_unit",
    "ranking": "estimate",
    "paired_effects": "estimate",
}
UNDEFINED_WORD = "undefined"


def readable(title: str, frame: pd.DataFrame) -> pd.DataFrame:
    """An analysis table for reading (the CSV keeps every column).

    CIs are joined into one text column, shares ranked first read as percentages,
    detail columns, instruments nobody spent on and a ranking's empty crossed levels are
    left out. In a table of ratios (`RATIO_ESTIMATES`) a row whose interval is
    undefined shows "undefined" as its estimate and the reason as its CI.
    """
    shown = frame.drop(columns=HIDDEN.get(title, []))
    if title == "instruments":
        shown = shown[(frame["spending_yuan"] != 0) | (frame["extra_yuan"].fillna(0) != 0)]
    if title == "ranking" and (frame["crossed_level"] == "").all():
        shown = shown.drop(columns="crossed_level")
    if {"ci_low", "ci_high"} <= set(shown.columns):
        ci = [
            f"[{format_value(lo)}, {format_value(hi)}]"
            for lo, hi in zip(shown["ci_low"], shown["ci_high"], strict=True)
        ]
        shown = shown.drop(columns=["ci_low", "ci_high"]).assign(**{"95% CI": ci})
    if title in RATIO_ESTIMATES and "status" in shown.columns:
        shown = _undefined_in_words(shown, RATIO_ESTIMATES[title])
    if "share_first" in shown.columns:
        shown = shown.assign(share_first=[_percent(v) for v in shown["share_first"]])
    for conf in [c for c in shown.columns if c.endswith("_conf")]:
        shown[conf.removesuffix("_conf")] = [
            f"{format_value(v)} ± {format_value(c)}"
            for v, c in zip(shown[conf.removesuffix("_conf")], shown[conf], strict=True)
        ]
        shown = shown.drop(columns=conf)
    return shown


def _undefined_in_words(shown: pd.DataFrame, estimate: str) -> pd.DataFrame:
    """Rows with an undefined ratio read "undefined", and why in the CI column if any."""
    undefined = ~shown["status"].isin([DEFINED, ""])
    words = shown.astype({estimate: object})
    words.loc[undefined, estimate] = UNDEFINED_WORD
    if "95% CI" in words.columns:
        words.loc[undefined, "95% CI"] = words.loc[undefined, "status"]
    return words.drop(columns="status")


def _percent(share: float) -> str:
    """A share (0 to 1) as a whole percentage, n/a for NaN."""
    return "n/a" if math.isnan(share) else f"{share:.0%}"


def format_value(value: object) -> str:
    """A value for reading: n/a for NaN, thousands separated from 1,000, else 4 digits."""
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value + 0.0:.4g}"  # no "-0"
    return f"{value:,}" if isinstance(value, int) else str(value)
