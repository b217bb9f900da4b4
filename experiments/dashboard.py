"""The dashboard's model side: levers, runs stepped month by month, figures and numbers.

`app.py` (Solara) draws the page; what it shows comes from here, so it can be tested
without a browser. A slider sets one dotted scenario key in display units (per cent,
thousand or million yuan); an instrument's switch sets its ``enabled`` key. A run is a
`WorkshopEconomy` stepped a month at a time, yielding a `Snapshot` of what it has
collected so far. The comparison run (`experiments.compare.without_policy`) is the same
county, households, months, seed and shocks with baseline.toml's workshops and policy
(no workshops, no instruments), so both runs draw the same households (common random numbers).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.figures.style import AREA_COLOURS, HATCHES, LINE_STYLES, STYLE, new_figure, wide
from model.economy import WorkshopEconomy
from model.scenario import Scenario, load_scenario

BASELINE_FILE = "baseline.toml"  # the no-policy county every scenario extends
DEFAULT_SCENARIO = "default.toml"
DEFAULT_HOUSEHOLDS = 2_000  # steps a 60-month run in well under a second
HOUSEHOLDS_MIN = 100  # fewer households than this give a headcount of a handful of homes
HOUSEHOLDS_MAX = 200_000  # above the largest county file (Pengxi, 170,000)
MONTHS_MAX = 120  # 2016-2025: the by-year tables (wages, prices) end around 2020-2022
REFRESH_SECONDS = 0.25  # shortest time between two page updates while a run steps
PER_CENT = 0.01  # scenario share per display per cent
THOUSAND, MILLION = 1e3, 1e6  # yuan per display unit
FIGURE_STYLE = {**STYLE, "figure.figsize": (6.4, 3.4), "font.size": 9}  # a grid of four
NO_POLICY = "no policy"
MIGRATION_SHOCK = "shocks.migration_stop.enabled"
Setting = bool | float  # a switch or a slider value in display units


@dataclass(frozen=True)
class Slider:
    """A scenario value set with a slider.

    Attributes:
        label: name on the page, with its display unit.
        key: dotted scenario key.
        maximum: top of the slider (display units; the bottom is 0). A scenario whose
            value is higher raises it to that value.
        step: slider step (display units).
        per_unit: scenario units per display unit (e.g. `PER_CENT`, `THOUSAND`).
        whole: the scenario value is a whole number.
    """

    label: str
    key: str
    maximum: float
    step: float
    per_unit: float = 1.0
    whole: bool = False

    def display(self, value: float) -> float:
        """A scenario value in display units, on the slider's step grid."""
        return round(value / self.per_unit / self.step) * self.step

    def scenario_value(self, shown: float) -> float | int:
        """A display value in scenario units."""
        value = shown * self.per_unit
        return round(value) if self.whole else value


@dataclass(frozen=True)
class Control:
    """A policy instrument on the page: its on/off switch and sliders.

    Attributes:
        label: instrument name on the page.
        switch: dotted key of its ``enabled`` flag (None: always in force).
        sliders: the values set with sliders.
    """

    label: str
    switch: str | None
    sliders: tuple[Slider, ...]


CONTROLS = (
    Control(
        "Budget",
        None,
        (Slider("Million yuan a year", "policy.budget_yuan_per_year", 50.0, 0.5, MILLION),),
    ),
    Control(
        "Certification: poor-worker quota",
        "policy.certification.enabled",
        (Slider("% of staff poor", "policy.certification.poor_share_min", 100.0, 5.0, PER_CENT),),
    ),
    Control(
        "Wage subsidy",
        "policy.wage_subsidy.enabled",
        (
            Slider(
                "% of poor workers' wages",
                "policy.wage_subsidy.share_of_poor_wage_bill",
                100.0,
                5.0,
                PER_CENT,
            ),
        ),
    ),
    Control(
        "Training",
        "policy.training.enabled",
        (
            Slider(
                "Course places a month", "policy.training.places_per_month", 400.0, 10.0, whole=True
            ),
        ),
    ),
    Control(
        "Opening subsidy",
        "policy.opening_subsidy.enabled",
        (
            Slider(
                "Small, thousand yuan", "policy.opening_subsidy.small_yuan", 200.0, 5.0, THOUSAND
            ),
            Slider(
                "Large, thousand yuan", "policy.opening_subsidy.large_yuan", 200.0, 5.0, THOUSAND
            ),
        ),
    ),
    Control(
        "Equity shares from poverty funds",
        "policy.equity.enabled",
        (Slider("Million yuan", "policy.equity.funds_yuan", 20.0, 0.5, MILLION),),
    ),
)
COUNTY_SCALE_NOTE = (
    "Money and course places are the whole county's; a run of fewer households gets its share."
)
SLIDERS = {s.key: s for c in CONTROLS for s in c.sliders}
SWITCHES = tuple(c.switch for c in CONTROLS if c.switch is not None) + (MIGRATION_SHOCK,)


def scenario_files(directory: Path) -> list[str]:
    """Names of the scenario files in `directory` (not its subfolders), default first."""
    names = sorted(p.name for p in directory.glob("*.toml"))
    return sorted(names, key=lambda name: name != DEFAULT_SCENARIO)


def settings_of(scenario: Scenario) -> dict[str, Setting]:
    """Every switch and slider of the page as the scenario sets it (display units)."""
    switches: dict[str, Setting] = {key: bool(scenario.value(key)) for key in SWITCHES}
    return switches | {key: s.display(scenario.number(key)) for key, s in SLIDERS.items()}


def changes(scenario: Scenario, settings: Mapping[str, Setting]) -> dict[str, Any]:
    """The dotted-key changes the page's settings make to `scenario` (scenario units).

    A setting that shows the scenario's own value changes nothing, so untouched sliders
    leave the file's exact values.
    """
    shown = settings_of(scenario)
    diff: dict[str, Any] = {
        key: bool(settings[key])
        for key in SWITCHES
        if key in settings and settings[key] != shown[key]
    }
    return diff | {
        key: SLIDERS[key].scenario_value(float(settings[key]))
        for key in SLIDERS
        if key in settings and settings[key] != shown[key]
    }


def configure(
    path: Path, households: int, months: int, settings: Mapping[str, Setting]
) -> Scenario:
    """The scenario file with the page's run size and settings applied.

    Args:
        path: scenario TOML file.
        households: simulated households (`HOUSEHOLDS_MIN` to `HOUSEHOLDS_MAX`).
        months: simulated months (1 to `MONTHS_MAX`).
        settings: switches and slider values by dotted key (display units).

    Raises:
        ValueError: a run size out of range, or a file or setting the scenario rejects
            (`ScenarioError`, naming the file, the key and what was expected).
        OSError: the file cannot be read.
    """
    if not HOUSEHOLDS_MIN <= households <= HOUSEHOLDS_MAX:
        raise ValueError(
            f"households: expected {HOUSEHOLDS_MIN:,} to {HOUSEHOLDS_MAX:,}, got {households:,}"
        )
    if not 1 <= months <= MONTHS_MAX:
        raise ValueError(f"months: expected 1 to {MONTHS_MAX}, got {months}")
    scenario = load_scenario(path).with_overrides(households=households, months=months)
    return scenario.with_changes(changes(scenario, settings), origin=f"{path.name} (dashboard)")


@dataclass(frozen=True, eq=False)
class Snapshot:
    """What a run has collected up to its current month.

    Attributes:
        scenario: the scenario being run.
        monthly: headline reporters, one row per month so far (month 0 = the start).
        activity: people able to work by activity, one row per month, one column each.
        spending: policy spending paid by instrument, cumulative, one column each (yuan).
    """

    scenario: Scenario
    monthly: pd.DataFrame
    activity: pd.DataFrame
    spending: pd.DataFrame

    @classmethod
    def of(cls, model: WorkshopEconomy) -> Snapshot:
        """The tables a model has collected so far."""
        dc = model.datacollector
        paid = wide(dc.get_table_dataframe("spending"), "instrument", "paid").set_index("month")
        return cls(
            model.params,
            dc.get_model_vars_dataframe().reset_index(drop=True),
            wide(dc.get_table_dataframe("activity"), "activity", "people"),
            paid.cumsum().reset_index(),
        )

    @property
    def month(self) -> int:
        """Months simulated so far."""
        return int(self.monthly["month"].iloc[-1])

    @property
    def finished(self) -> bool:
        """Whether every month of the run has been simulated."""
        return self.month == self.scenario.run.months

    def at(self, month: int) -> pd.Series:
        """The headline row of `month` (the latest one if the run is not there yet)."""
        return self.monthly.iloc[min(month, self.month)]

    def net_exits(self, month: int) -> int:
        """Households poor at the start less households poor at `month`."""
        poor = self.monthly["poor_households"]
        return int(poor.iloc[0] - self.at(month)["poor_households"])

    def spending_yuan(self, month: int) -> float:
        """Policy spending paid up to `month` (yuan)."""
        return float(self.monthly["spending"].iloc[: min(month, self.month) + 1].sum())


def live_run(scenario: Scenario, refresh_seconds: float = REFRESH_SECONDS) -> Iterator[Snapshot]:
    """Step the scenario month by month, yielding what it has collected.

    Yields the starting state, then a snapshot whenever `refresh_seconds` have passed
    since the last one, and the final month. Replicate 0: the scenario's seed fixes
    every random stream.
    """
    model = WorkshopEconomy(scenario)
    yield Snapshot.of(model)
    shown = time.monotonic()
    for _ in range(scenario.run.months):
        model.step()
        if model.month == scenario.run.months or time.monotonic() - shown >= refresh_seconds:
            yield Snapshot.of(model)
            shown = time.monotonic()


HEADCOUNT = "Poverty headcount (% of people)"
NET_EXITS = "Net exits since the start (households)"
SPENDING = "Policy spending so far (yuan)"
HEADLINE = {  # measure on the page: number format
    HEADCOUNT: ".1f",
    "Poor households": ",.0f",
    NET_EXITS: ",.0f",
    SPENDING: ",.0f",
    "Workshops open": ",.0f",
    "Workshop jobs filled": ",.0f",
}


def numbers(run: Snapshot, month: int) -> dict[str, float]:
    """The `HEADLINE` measures of a run at `month` (its latest month if not there yet)."""
    row = run.at(month)
    values = (
        100 * row["headcount"],
        row["poor_households"],
        run.net_exits(month),
        run.spending_yuan(month),
        row["workshops_open"],
        row["jobs_filled"],
    )
    return dict(zip(HEADLINE, map(float, values), strict=True))


def headline(run: Snapshot, baseline: Snapshot | None = None) -> list[tuple[str, ...]]:
    """Current numbers of the run, and of the no-policy run at the same month.

    No yuan per exit: the run's spending over its own exits has no counterfactual, and
    one replicate against the no-policy run has no interval (``wsim run --vs`` gives
    both).

    Returns:
        Rows of text, the first the header: measure, this run[, no policy, difference].
        Money in yuan, headcount in per cent of people.
    """
    month = run.month
    ours = numbers(run, month)
    if baseline is None:
        return [
            ("Measure", "This run"),
            *((m, format(ours[m], fmt)) for m, fmt in HEADLINE.items()),
        ]
    theirs = numbers(baseline, month)
    rows = [
        (m, format(ours[m], fmt), format(theirs[m], fmt), format(ours[m] - theirs[m], "+" + fmt))
        for m, fmt in HEADLINE.items()
    ]
    return [("Measure", "This run", NO_POLICY.capitalize(), "Difference"), *rows]


def headcount_figure(run: Snapshot, baseline: Snapshot | None = None) -> Figure:
    """Poverty headcount (per cent of people) month by month, the no-policy run dashed."""
    with mpl.rc_context(FIGURE_STYLE):
        fig, (ax,) = new_figure("Poverty headcount")
        for snap, style in _with_baseline(run, baseline):
            ax.plot(
                snap.monthly["month"],
                100 * snap.monthly["headcount"],
                linestyle=style,
                label=_label(snap, baseline),
            )
        ax.set_ylabel("% of people in poor households")
        ax.set_ylim(bottom=0)
        _finish(ax, run)
    return fig


def exits_figure(run: Snapshot, baseline: Snapshot | None = None) -> Figure:
    """Net exits since the start (line) and exits each month (bars), in households."""
    with mpl.rc_context(FIGURE_STYLE):
        fig, (ax,) = new_figure("Poverty exits")
        ax.bar(run.monthly["month"], run.monthly["exits"], color="0.8", label="exits this month")
        for snap, style in _with_baseline(run, baseline):
            ax.plot(
                snap.monthly["month"],
                net_exits_by_month(snap),
                linestyle=style,
                label=f"net exits since the start: {_label(snap, baseline)}",
            )
        ax.set_ylabel("households")
        _finish(ax, run)
    return fig


def net_exits_by_month(snap: Snapshot) -> pd.Series:
    """Net exits since the start at each month so far (households)."""
    poor = snap.monthly["poor_households"]
    return poor.iloc[0] - poor


def activity_figure(run: Snapshot) -> Figure:
    """People able to work by activity, stacked."""
    return _stacked(run, run.activity, "Employment by activity", "people able to work")


def spending_figure(run: Snapshot) -> Figure:
    """Policy spending paid by instrument, cumulative, stacked (yuan)."""
    return _stacked(run, run.spending, "Spending by instrument (cumulative)", "yuan")


def _stacked(run: Snapshot, data: pd.DataFrame, title: str, ylabel: str) -> Figure:
    with mpl.rc_context(FIGURE_STYLE):
        fig, (ax,) = new_figure(title)
        series = [c for c in data.columns if c != "month"]
        if series:
            colours = AREA_COLOURS(np.linspace(0.35, 1.0, len(series)))
            areas = ax.stackplot(
                data["month"],
                *(data[c] for c in series),
                labels=[c.replace("_", " ") for c in series],
                colors=colours,
                edgecolor="0.2",
                linewidth=0.4,
            )
            for area, hatch in zip(areas, HATCHES, strict=False):
                area.set_hatch(hatch)
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), reverse=True)
        else:
            ax.text(0.5, 0.5, "none so far", transform=ax.transAxes, ha="center")
        ax.set_ylabel(ylabel)
        ax.set_xlim(0, run.scenario.run.months)
        ax.yaxis.set_major_formatter(mpl.ticker.StrMethodFormatter("{x:,.0f}"))
    return fig


def _with_baseline(run: Snapshot, baseline: Snapshot | None) -> list[tuple[Snapshot, str]]:
    """The run (solid) and the no-policy run if any (dashed)."""
    return [(run, LINE_STYLES[0])] + ([(baseline, LINE_STYLES[1])] if baseline else [])


def _label(snap: Snapshot, baseline: Snapshot | None) -> str:
    return NO_POLICY if snap is baseline else snap.scenario.name


def _finish(ax: Any, run: Snapshot) -> None:
    ax.set_xlim(0, run.scenario.run.months)
    ax.legend(loc="best")
