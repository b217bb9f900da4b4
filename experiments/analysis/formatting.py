"""Analysis tables for reading: numbers formatted, CIs joined, detail columns left out.

The terminal (`wsim analyze`, `wsim compare`) and the HTML report show the same
readable tables; the CSVs keep every column at full precision. A ratio whose interval
is undefined (`experiments.intervals.fieller_interval`) reads "undefined", never a
number.

`MEASURES` is the one table of human names and units of the measures shown (run
summary, outcomes, gains): `labelled` names a measure with its unit ("Net exits
(households)"), `format_amount` and `format_difference` show a number the way its unit
reads (counts whole, money with thousands separators, shares as percentages and their
differences in percentage points) and `for_reading` gives an analysis table human
column names with every value so formatted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Mapping

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

HOUSEHOLDS, HOUSEHOLD_MONTHS, YUAN = "households", "household-months", "yuan"
PERCENTAGE_POINTS = "percentage points"  # the unit of a difference of two shares
COUNT_UNITS = frozenset(
    {HOUSEHOLDS, HOUSEHOLD_MONTHS, "people", "workshops", "workers", "villages", "sites", "pairs"}
)  # units of whole things: shown as whole numbers
SHARES, COUNTS, MONEY, OTHER = "shares", "counts", "money", "other"  # kinds of unit
MEASURES: dict[str, tuple[str, str]] = {  # measure: (human name, unit)
    # run summary (whole run)
    "households": ("Households simulated", HOUSEHOLDS),
    "people": ("People simulated", "people"),
    "months": ("Months simulated", "months"),
    "poor_households_start": ("Poor households at the start", HOUSEHOLDS),
    "poor_households_end": ("Poor households at the end", HOUSEHOLDS),
    "gross_exits": ("Exits from poverty", HOUSEHOLDS),
    "gross_entries": ("Entries into poverty", HOUSEHOLDS),
    "re_entries": ("Re-entries into poverty", HOUSEHOLDS),
    "net_exits": ("Net exits", HOUSEHOLDS),
    "stayed_out_12_months": ("Out of poverty for 12 months or more", HOUSEHOLDS),
    "mean_spell_months": ("Mean spell in poverty", "months"),
    "poor_household_months": ("Poor household-months", HOUSEHOLD_MONTHS),
    "poor_households_final_12_mean": ("Poor households, mean of the final year", HOUSEHOLDS),
    "total_spending_yuan": ("Spending", YUAN),
    "income_gain_workshop_yuan": ("Income gain, workshop households", "yuan per person per year"),
    "income_gain_other_yuan": ("Income gain, other households", "yuan per person per year"),
    "income_gain_difference_yuan": (
        "Income gain, workshop less other households",
        "yuan per person per year",
    ),
    # read at the final month
    "headcount": ("Poverty headcount, final month", "share of people"),
    "income_per_capita": ("Income per person, final month", "yuan per person per month"),
    # analysis columns
    "n": ("Pairs", "pairs"),
    "spending_yuan": ("Spending", YUAN),
    "extra_yuan": ("Extra spending", YUAN),
    "extra_spending_yuan": ("Extra spending", YUAN),
    "yuan_per_unit": ("Yuan per unit of gain", YUAN),
    "share": ("Share", "share"),
}
_SPENDING_ON = re.compile(r"spending_(\w+)_yuan")  # summary spending on one instrument
# values in the unit of the row's outcome: a level, a difference, a half-width of one
OUTCOME_LEVEL, OUTCOME_DIFFERENCE, OUTCOME_HALF_WIDTH = "<level>", "<difference>", "<half>"
CELL_UNITS: dict[str, dict[str, str]] = {  # analysis table: column -> unit of its values
    "effects": {
        "baseline": OUTCOME_LEVEL,
        "arm_mean": OUTCOME_LEVEL,
        **dict.fromkeys(("difference", "ci_low", "ci_high"), OUTCOME_DIFFERENCE),
        "half_width_unpaired": OUTCOME_HALF_WIDTH,
    },
    "paired_effects": dict.fromkeys(("estimate", "ci_low", "ci_high"), OUTCOME_DIFFERENCE),
    "cost_effectiveness": {
        "gain": OUTCOME_LEVEL,
        **dict.fromkeys(("yuan_per_unit", "ci_low", "ci_high"), YUAN),
    },
    "rates": {"households": HOUSEHOLDS, "of": HOUSEHOLDS, "ci_low": "share", "ci_high": "share"},
}
COLUMN_NAMES = {  # analysis column: its heading (with the unit where the column has one)
    "arm": "Scenario",
    "n": "Pairs",
    "outcome": "Outcome (unit)",
    "outcome_unit": "Unit",
    "measure": "Measure",
    "baseline": "Baseline mean (outcome's unit)",
    "reference_mean": "Reference mean (outcome's unit)",
    "arm_mean": "Scenario mean (outcome's unit)",
    "difference": "Difference (outcome's unit)",
    "half_width_unpaired": "Unpaired half-width (outcome's unit)",
    "estimate": "Estimate (unit)",
    "gain": "Gain (outcome's unit)",
    "per": "Per",
    "of": "Of (households)",
    "share_first": "Ranked first (share of resamples)",
    "S1": "First-order S1 (share of variance)",
    "ST": "Total-order ST (share of variance)",
}


def measure_name(measure: str) -> str:
    """A measure's human name ("Net exits"); an unknown one in words ("Mu star")."""
    if measure in MEASURES:
        return MEASURES[measure][0]
    spent = _SPENDING_ON.fullmatch(measure)
    if spent:
        return f"Spending on {spent.group(1).replace('_', ' ')}"
    words = measure.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def measure_unit(measure: str) -> str | None:
    """A measure's unit ("households"), None if it has no known one."""
    if measure in MEASURES:
        return MEASURES[measure][1]
    return YUAN if _SPENDING_ON.fullmatch(measure) else None


def labelled(measure: str, unit: str | None = None) -> str:
    """A measure's name with its unit: "Net exits (households)" (`unit` replaces its own)."""
    unit = unit or measure_unit(measure)
    return f"{measure_name(measure)} ({unit})" if unit else measure_name(measure)


def column_name(column: str, title: str = "") -> str:
    """The heading of an analysis column: `COLUMN_NAMES`, else the measure with its unit."""
    if title == "rates" and column == "households":
        return "Households counted (households)"
    return COLUMN_NAMES.get(column) or labelled(column)


def unit_kind(unit: str | None) -> str:
    """What a unit measures: `SHARES`, `COUNTS` (whole things), `MONEY` (yuan) or `OTHER`."""
    if unit is None:
        return OTHER
    if unit.startswith("share") or unit == PERCENTAGE_POINTS:
        return SHARES
    if unit in COUNT_UNITS:
        return COUNTS
    return MONEY if unit.startswith(YUAN) else OTHER


def format_amount(value: object, unit: str | None) -> str:
    """A value in `unit` for reading.

    Counts read whole (1,234), money with thousands separators (whole yuan from 100 up,
    else to 0.1 yuan), shares as percentages (4.9%), a missing number n/a; text and
    other units as `format_value`.
    """
    if not isinstance(value, int | float) or isinstance(value, bool):
        return str(value)
    if math.isnan(value):
        return "n/a"
    kind = unit_kind(unit)
    if kind == SHARES:
        return f"{_half_up(value * 100, 1):.1f}%"
    if kind == COUNTS:
        return f"{int(_half_up(value, 0)):,}"
    if kind == MONEY:
        return f"{_money(value):,.{0 if abs(value) >= 100 else 1}f}"
    return format_value(value)


def format_difference(value: object, unit: str | None) -> str:
    """A difference in `unit` for reading.

    As `format_amount`, with + in front of a gain, and a difference of shares in
    percentage points ("+1.2 pp").
    """
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        return format_amount(value, unit)
    if unit_kind(unit) == SHARES:
        points = _half_up(value * 100, 1)
        return f"{points:+.1f} pp" if points else "0.0 pp"
    shown = format_amount(value, unit)
    return f"+{shown}" if value > 0 and shown.strip("0.,") else shown


def format_estimate(value: float, low: float, high: float, unit: str | None) -> str:
    """A difference with its 95% interval: "+12 [5, 19]", "+1.2 [0.4, 2.0] pp".

    Each number as `format_difference`; the unit of a difference of shares once, at the end.
    """
    parts = [format_difference(v, unit).removesuffix(" pp") for v in (value, low, high)]
    points = " pp" if unit_kind(unit) == SHARES else ""
    return f"{parts[0]} [{parts[1]}, {parts[2]}]{points}"


def format_half_width(value: object, unit: str | None) -> str:
    """The half-width of an interval of differences in `unit`: "±9", "±1.0 pp"."""
    shown = format_difference(value, unit)
    number = isinstance(value, float | int) and shown != "n/a"
    return f"±{shown.lstrip('+')}" if number else shown


OUTCOME_FORMATS = {
    OUTCOME_LEVEL: format_amount,
    OUTCOME_DIFFERENCE: format_difference,
    OUTCOME_HALF_WIDTH: format_half_width,
}


def _money(value: float) -> float:
    """Yuan rounded as shown: whole from 100 up, else to 0.1."""
    return _half_up(value, 0 if abs(value) >= 100 else 1)


def _half_up(value: float, digits: int) -> float:
    """`value` rounded to `digits` decimals, halves away from zero (20.5 -> 21, -0.5 -> -1)."""
    scale = 10.0**digits
    return math.copysign(math.floor(abs(value) * scale + 0.5) / scale, value) + 0.0


def readable(title: str, frame: pd.DataFrame) -> pd.DataFrame:
    """An analysis table for reading (the CSV keeps every column).

    CIs are joined into one text column, shares ranked first read as percentages,
    detail columns, instruments nobody spent on and a ranking's empty crossed levels are
    left out. In a table of ratios (`RATIO_ESTIMATES`) a row whose interval is
    undefined shows "undefined" as its estimate and the reason as its CI.
    """
    return _joined(title, _selected(title, frame))


def for_reading(title: str, frame: pd.DataFrame) -> pd.DataFrame:
    """An analysis table as the report shows it: `readable`, in human words and units.

    Values whose unit is known (`MEASURES`, `CELL_UNITS`: a fixed unit per column, or
    the unit of the row's ``outcome``) are formatted for it (`format_amount`,
    `format_difference`); columns get human names (`column_name`), outcomes their names
    with units (`labelled`) and instruments theirs in words.
    """
    row_units = pd.Series([_row_unit(row) for row in frame.to_dict("records")], frame.index)
    selected = _selected(title, frame)
    shown = _joined(title, _in_units(title, selected, list(row_units[selected.index])))
    if "outcome" in shown.columns:
        shown = shown.assign(outcome=[labelled(str(o)) for o in shown["outcome"]])
    if "instrument" in shown.columns:
        shown = shown.assign(instrument=[measure_name(str(i)) for i in shown["instrument"]])
    return shown.rename(columns=lambda c: column_name(str(c), title))


def _selected(title: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows and columns of an analysis table worth reading (`readable`)."""
    shown = frame.drop(columns=HIDDEN.get(title, []))
    if title == "instruments":
        shown = shown[(frame["spending_yuan"] != 0) | (frame["extra_yuan"].fillna(0) != 0)]
    if title == "ranking" and (frame["crossed_level"] == "").all():
        shown = shown.drop(columns="crossed_level")
    return shown


def _joined(title: str, shown: pd.DataFrame) -> pd.DataFrame:
    """CIs and ± half-widths joined to their values, undefined ratios in words."""
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


def _in_units(title: str, shown: pd.DataFrame, row_units: list[str | None]) -> pd.DataFrame:
    """Every value whose unit is known as text in that unit; other values as they were.

    `row_units` holds the unit of each row's outcome (`_row_unit`), for the columns in it.
    """
    cells = CELL_UNITS.get(title, {})
    formatted = shown.astype(object)
    for column in shown.columns:
        unit = cells.get(column) or measure_unit(str(column))
        if unit in OUTCOME_FORMATS:
            show = OUTCOME_FORMATS[unit]
            formatted[column] = [
                show(v, u) if u else v for v, u in zip(shown[column], row_units, strict=True)
            ]
        elif unit is not None:
            formatted[column] = [format_amount(v, unit) for v in shown[column]]
    return formatted


def _row_unit(row: Mapping[Hashable, object]) -> str | None:
    """The unit of a row's outcome: its ``outcome_unit``, else its outcome's (`MEASURES`)."""
    given = row.get("outcome_unit")
    return str(given) if given else measure_unit(str(row.get("outcome", "")))


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
