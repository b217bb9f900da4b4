"""The dashboard's model side: levers, runs stepped month by month, figures and numbers.

`app.py` (Solara) draws the page; what it shows comes from here, so it can be tested
without a browser. A slider sets one dotted scenario key in display units (per cent,
thousand or million yuan); an instrument's switch sets its ``enabled`` key. A run is
one or more replicates of a `WorkshopEconomy`, run one after another and each stepped a
month at a time, yielding `Runs`: a `Snapshot` of what each replicate has collected so
far. The comparison run (`experiments.compare.without_policy`) is the same county,
households, months, seed and shocks with baseline.toml's workshops and policy (no
workshops, no instruments); replicate r of both shares the seed and r, so both draw the
same households (common random numbers) and their difference is paired. Figures show
the mean over finished replicates by calendar month with a 95% t band clipped to the
measure's physical range; the paired effects reuse `experiments.analysis.effects`
(t intervals, Fieller's for yuan per extra net exit). `download_table` holds every
number the page shows.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter
from matplotlib.typing import RcKeyType

from experiments.analysis.effects import EXITS, POOR_MONTHS, cost_effectiveness, effects
from experiments.analysis.effects import SPENDING as SPENDING_YUAN
from experiments.figures.style import draw_band, line_style, new_grid, say_none, styled
from experiments.intervals import UNDEFINED, t_half_width
from experiments.sweep.pairing import REPLICATE, pairs
from experiments.sweep.seeding import ARM
from model.economy import WorkshopEconomy
from model.scenario import Scenario, load_scenario
from model.simulate import run_summary

BASELINE_FILE = "baseline.toml"  # the no-policy county every scenario extends
DEFAULT_SCENARIO = "default.toml"
DEFAULT_HOUSEHOLDS = 2_000  # steps a 60-month run in well under a second
HOUSEHOLDS_MIN = 100  # fewer households than this give a headcount of a handful of homes
HOUSEHOLDS_MAX = 200_000  # above the largest county file (Pengxi, 170,000)
MONTHS_MAX = 120  # 2016-2025: the by-year tables (wages, prices) end around 2020-2022
REFRESH_SECONDS = 0.25  # shortest time between two page updates while a run steps
PER_CENT = 0.01  # scenario share per display per cent
THOUSAND, MILLION = 1e3, 1e6  # yuan per display unit
DEFAULT_REPLICATES = 3  # enough for a first interval; a tiny run takes well under a second each
REPLICATES_MAX = 20  # the t interval is then within 5% of its limit; more only waits longer
FIGURE_SIZE_IN = (5.0, 4.0)  # shown about 420 px wide in a grid of two at 1366 px: 11 pt is 12.8 px
FIGURE_DPI = 100  # pixels per inch of the figures' PNG (sharp at the size shown)
FONT_PT = 11.0  # every text of a figure, in points
FIGURE_FONTS: dict[RcKeyType, Any] = {
    key: FONT_PT
    for key in (
        "font.size",
        "axes.titlesize",
        "axes.labelsize",
        "xtick.labelsize",
        "ytick.labelsize",
        "legend.fontsize",
        "legend.title_fontsize",
        "figure.titlesize",
    )
} | {"legend.handlelength": 1.5, "legend.columnspacing": 1.0}  # in font sizes: legend fits
LEGEND_COLUMNS = 2  # entries per legend row below a figure: the longest names fit two a row
NONE_DRAWN = "none so far: zero in every replicate"  # a chart with nothing to draw
MAX_DATE_TICKS = 6  # "YYYY-MM" labels that fit side by side at FONT_PT
DATE_FORMAT = "%Y-%m"  # the monthly table's date column
PAIRED_OUTCOMES = (EXITS, POOR_MONTHS, SPENDING_YUAN)  # run summary columns paired
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
    """What one replicate of a run has collected up to its current month.

    Attributes:
        scenario: the scenario being run.
        replicate: replicate index (with the scenario's seed it fixes every random stream).
        monthly: headline reporters, one row per month so far (month 0 = the start).
        activity: people able to work by activity, one row per month, one column each.
        spending: policy spending paid by instrument, cumulative, one column each (yuan).
        summary: the `PAIRED_OUTCOMES` of the run summary (`model.simulate.run_summary`:
            net exits in households, poor household-months, spending in yuan) once every
            month is simulated, else None.
    """

    scenario: Scenario
    replicate: int
    monthly: pd.DataFrame
    activity: pd.DataFrame
    spending: pd.DataFrame
    summary: dict[str, float] | None

    @classmethod
    def of(cls, model: WorkshopEconomy) -> Snapshot:
        """The tables a model has collected so far."""
        dc = model.datacollector
        done = model.month == model.params.run.months
        return cls(
            model.params,
            model.replicate,
            dc.get_model_vars_dataframe().reset_index(drop=True),
            _by_month(dc.get_table_dataframe("activity"), "activity", "people"),
            _by_month(dc.get_table_dataframe("spending"), "instrument", "paid").cumsum(),
            _outcomes(run_summary(model)) if done else None,
        )

    @property
    def month(self) -> int:
        """Months simulated so far."""
        return int(self.monthly["month"].iloc[-1])

    @property
    def finished(self) -> bool:
        """Whether every month of the run has been simulated."""
        return self.summary is not None

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


def _outcomes(summary: pd.DataFrame) -> dict[str, float]:
    """The `PAIRED_OUTCOMES` of a one-row run summary."""
    return {o: float(summary[o].iloc[0]) for o in PAIRED_OUTCOMES}


def _by_month(table: pd.DataFrame, category: str, value: str) -> pd.DataFrame:
    """One row per month (the index), one column per category, summed over the rest."""
    frame = table.pivot_table(
        index="month", columns=category, values=value, aggfunc="sum", fill_value=0
    )
    frame.columns = frame.columns.astype(str)
    frame.columns.name = None
    return frame


def live_run(
    scenario: Scenario, replicate: int = 0, refresh_seconds: float = REFRESH_SECONDS
) -> Iterator[Snapshot]:
    """Step one replicate of the scenario month by month, yielding what it has collected.

    Yields the starting state, then a snapshot whenever `refresh_seconds` have passed
    since the last one, and the final month.
    """
    model = WorkshopEconomy(scenario, replicate=replicate)
    yield Snapshot.of(model)
    shown = time.monotonic()
    for _ in range(scenario.run.months):
        model.step()
        if model.month == scenario.run.months or time.monotonic() - shown >= refresh_seconds:
            yield Snapshot.of(model)
            shown = time.monotonic()


def check_replicates(replicates: int) -> int:
    """`replicates` if it is in range, else ValueError naming the range."""
    if not 1 <= replicates <= REPLICATES_MAX:
        raise ValueError(f"replicates: expected 1 to {REPLICATES_MAX}, got {replicates}")
    return replicates


@dataclass(frozen=True, eq=False)
class Runs:
    """The replicates of one scenario run so far, one after another.

    Attributes:
        scenario: the scenario being run.
        replicates: replicates asked for (0 to replicates - 1).
        snapshots: one per replicate started, in order; all but the last are finished.
    """

    scenario: Scenario
    replicates: int
    snapshots: tuple[Snapshot, ...]

    @property
    def current(self) -> Snapshot:
        """The replicate being run (the last one once all are done)."""
        return self.snapshots[-1]

    @property
    def finished(self) -> tuple[Snapshot, ...]:
        """The replicates that have simulated every month."""
        return tuple(s for s in self.snapshots if s.finished)

    @property
    def done(self) -> bool:
        """Whether every replicate asked for has finished."""
        return len(self.finished) == self.replicates

    @property
    def shown(self) -> tuple[Snapshot, ...]:
        """What the page draws: the finished replicates, or the first one as it runs."""
        return self.finished or (self.current,)

    @property
    def month(self) -> int:
        """The month the shown replicates have reached."""
        return self.shown[0].month


def replicate_runs(
    scenario: Scenario, replicates: int, refresh_seconds: float = REFRESH_SECONDS
) -> Iterator[Runs]:
    """Run replicates 0..`replicates` - 1 one after another, yielding all of them so far.

    Replicate r of a scenario and of its no-policy counterpart share the seed and r, so
    they draw the same households and shocks (common random numbers).
    """
    done: tuple[Snapshot, ...] = ()
    for replicate in range(replicates):
        for snapshot in live_run(scenario, replicate, refresh_seconds):
            yield Runs(scenario, replicates, (*done, snapshot))
        done = (*done, snapshot)


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
THIS_RUN, DIFFERENCE = "This run", "Difference"
EFFECT_MEAN, EFFECT_LOW, EFFECT_HIGH = "Mean", "95% CI low", "95% CI high"
EXTRA_EXITS = "Extra net exits (households)"
MONTHS_AVERTED = "Poor household-months averted"
YUAN_PER_EXIT = "Extra yuan per extra net exit"
UNCLEAR = "unclear"  # the extra net exits' interval contains 0: no ratio
NO_INTERVAL = "needs 2 replicates"  # one pair has no spread to judge by


@dataclass(frozen=True)
class Cell:
    """One number of a table on the page, as a number and as shown.

    Attributes:
        table: the table's name (`HEADLINE_TABLE` or `EFFECT_TABLE`).
        measure: the row.
        column: the column.
        value: the number (in the measure's unit; NaN where there is none).
        text: the number as the page shows it (or why there is none).
    """

    table: str
    measure: str
    column: str
    value: float
    text: str


HEADLINE_TABLE, EFFECT_TABLE = "headline", "paired effect"


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


def mean_numbers(runs: Runs, month: int) -> dict[str, float]:
    """The `HEADLINE` measures at `month`, averaged over the shown replicates."""
    each = pd.DataFrame([numbers(s, month) for s in runs.shown])
    return {str(m): float(v) for m, v in each.mean().items()}


def headline_cells(run: Runs, baseline: Runs | None = None) -> list[Cell]:
    """The run's numbers at its month, and the no-policy run's and the difference if given.

    Each column is the mean over the shown replicates; the interval of the difference
    is in `effect_cells`. Money in yuan, headcount in per cent of people.
    """
    ours = mean_numbers(run, run.month)
    columns = {THIS_RUN: ours}
    if baseline is not None:
        theirs = mean_numbers(baseline, run.month)
        columns |= {NO_POLICY.capitalize(): theirs, DIFFERENCE: _minus(ours, theirs)}
    return [
        Cell(
            HEADLINE_TABLE,
            m,
            column,
            values[m],
            format(values[m], ("+" if column == DIFFERENCE else "") + fmt),
        )
        for m, fmt in HEADLINE.items()
        for column, values in columns.items()
    ]


def _minus(ours: dict[str, float], theirs: dict[str, float]) -> dict[str, float]:
    """Each measure of `ours` less the same of `theirs` (the measure's unit)."""
    return {m: ours[m] - theirs[m] for m in ours}


def paired_outcomes(run: Runs, baseline: Runs) -> pd.DataFrame:
    """Each replicate finished in both runs beside its no-policy twin (`pairs` layout)."""
    values = pd.DataFrame(
        [
            {ARM: arm, REPLICATE: s.replicate, **{o: s.summary[o] for o in PAIRED_OUTCOMES}}
            for arm, runs in ((THIS_RUN, run), (NO_POLICY, baseline))
            for s in runs.finished
            if s.summary is not None
        ],
        columns=[ARM, REPLICATE, *PAIRED_OUTCOMES],
    )
    return pairs(values, [REPLICATE], NO_POLICY)


def effect_cells(run: Runs, baseline: Runs) -> list[Cell]:
    """The paired effect (policy minus no policy, per replicate) with 95% t intervals.

    Extra net exits and poor household-months averted (households and household-months,
    `experiments.analysis.effects.effects`), and extra yuan per extra net exit
    (Fieller, `experiments.analysis.effects.cost_effectiveness`) only where the
    exits' interval excludes 0, else `UNCLEAR`. Nothing until a pair has finished.
    """
    paired = paired_outcomes(run, baseline)
    if paired.empty:
        return []
    found = effects(paired, [EXITS, POOR_MONTHS]).set_index("outcome")
    exits, months = found.loc[EXITS], found.loc[POOR_MONTHS]
    averted = (-months["difference"], -months["ci_high"], -months["ci_low"])
    ratio = cost_effectiveness(paired, outcomes=(EXITS,)).iloc[0]
    return [
        *_effect_row(EXTRA_EXITS, (exits["difference"], exits["ci_low"], exits["ci_high"])),
        *_effect_row(MONTHS_AVERTED, averted),
        *_effect_row(
            YUAN_PER_EXIT,
            (ratio["yuan_per_unit"], ratio["ci_low"], ratio["ci_high"]),
            ",.0f",
            UNCLEAR if ratio["status"] == UNDEFINED else NO_INTERVAL,
        ),
    ]


def _effect_row(
    measure: str, values: tuple[Any, Any, Any], fmt: str = "+,.0f", missing: str = NO_INTERVAL
) -> list[Cell]:
    """Mean, low and high of one effect as `fmt`, or `missing` where a value is NaN."""
    return [
        Cell(
            EFFECT_TABLE,
            measure,
            column,
            float(value),
            format(value, fmt) if np.isfinite(value) else missing,
        )
        for column, value in zip((EFFECT_MEAN, EFFECT_LOW, EFFECT_HIGH), values, strict=True)
    ]


def table_rows(cells: list[Cell], corner: str) -> list[tuple[str, ...]]:
    """Cells as rows of text, the first the header (`corner`, then the columns)."""
    columns = list(dict.fromkeys(c.column for c in cells))
    text = {(c.measure, c.column): c.text for c in cells}
    measures = list(dict.fromkeys(c.measure for c in cells))
    return [(corner, *columns), *((m, *(text[m, c] for c in columns)) for m in measures)]


@dataclass(frozen=True)
class Chart:
    """A figure of the page: one line per series, the mean over replicates with its band.

    Attributes:
        name: CSS class of its card and its name in the CSV download.
        title: figure title.
        ylabel: y-axis label, with the unit.
        data: the series of one replicate, month as the index, one column each.
        bounds: the physical range of every series (a band is clipped to it).
        compared: the no-policy run is drawn too.
        tick_format: format of the y-axis tick labels.
    """

    name: str
    title: str
    ylabel: str
    data: Callable[[Snapshot], pd.DataFrame]
    bounds: tuple[float, float]
    compared: bool
    tick_format: str = "{x:,.0f}"


def _headcount(snap: Snapshot) -> pd.DataFrame:
    """Poverty headcount by month (per cent of people)."""
    return pd.DataFrame(
        {"headcount": 100 * snap.monthly["headcount"].to_numpy()}, index=snap.monthly["month"]
    )


def _net_exits(snap: Snapshot) -> pd.DataFrame:
    """Households poor at the start less households poor, by month."""
    poor = snap.monthly.set_index("month")["poor_households"]
    return pd.DataFrame({"net exits": poor.iloc[0] - poor})


COUNT = (0.0, math.inf)  # people, households or yuan: never negative
CHARTS = (
    Chart(
        "headcount",
        "Poverty headcount",
        "% of people in poor households",
        _headcount,
        (0.0, 100.0),
        True,
        "{x:g}",
    ),
    # net exits are households poor at the start less those poor now: negative when
    # more fall into poverty than leave it, so only the infinite bounds apply
    Chart(
        "exits", "Net exits since the start", "households", _net_exits, (-math.inf, math.inf), True
    ),
    Chart(
        "activity",
        "Employment by activity",
        "people able to work",
        lambda snap: snap.activity,
        COUNT,
        False,
    ),
    Chart(
        "spending",
        "Spending by instrument (cumulative)",
        "yuan",
        lambda snap: snap.spending,
        COUNT,
        False,
    ),
)
SERIES, STATISTIC, VALUE = "series", "statistic", "value"
MEAN, LOW, HIGH, ONE = "mean", "ci_low", "ci_high", "replicate"


def chart_replicates(chart: Chart, runs: Runs, arm: str) -> pd.DataFrame:
    """The chart's series of every shown replicate, tidy.

    Returns:
        Columns ``arm``, ``series``, ``replicate``, ``month``, ``date`` (YYYY-MM) and
        ``value`` (the chart's unit). A category absent from a replicate counts 0 there;
        a series 0 in every replicate and month is left out.
    """
    frames = [chart.data(s).assign(**{REPLICATE: s.replicate}) for s in runs.shown]
    wide = pd.concat(frames).fillna(0.0).rename_axis("month").reset_index()
    long = wide.melt(id_vars=["month", REPLICATE], var_name=SERIES, value_name=VALUE)
    long = long[long.groupby(SERIES)[VALUE].transform(lambda v: (v != 0).any())]
    dates = runs.shown[0].monthly.set_index("month")["date"]
    long = long.copy()
    long[ARM], long["date"] = arm, long["month"].map(dates)
    return long[[ARM, SERIES, REPLICATE, "month", "date", VALUE]]


def band(tidy: pd.DataFrame, bounds: tuple[float, float]) -> pd.DataFrame:
    """Mean over replicates and its 95% t interval (NaN with one), clipped to `bounds`.

    Returns:
        One row per arm, series and month: ``arm``, ``series``, ``month``, ``date``,
        ``n`` (replicates), ``mean``, ``ci_low``, ``ci_high`` (the series' unit).
    """
    keys = [ARM, SERIES, "month", "date"]
    stats = tidy.groupby(keys, sort=False)[VALUE].agg(["mean", "std", "count"]).reset_index()
    half = t_half_width(stats["std"], stats["count"])
    return (
        stats.assign(
            **{
                LOW: (stats["mean"] - half).clip(*bounds),
                HIGH: (stats["mean"] + half).clip(*bounds),
            }
        )
        .drop(columns="std")
        .rename(columns={"count": "n"})
    )


def chart_data(chart: Chart, run: Runs, baseline: Runs | None) -> pd.DataFrame:
    """Every shown replicate's series of the chart, tidy (`chart_replicates`).

    The no-policy run's too, if the chart compares and it is given.
    """
    arms = [(run.scenario.name, run)] + (
        [(NO_POLICY, baseline)] if chart.compared and baseline is not None else []
    )
    return pd.concat([chart_replicates(chart, runs, arm) for arm, runs in arms])


@styled
def chart_figure(chart: Chart, stats: pd.DataFrame) -> Figure:
    """The chart: each arm's and series' mean by calendar month, its band where n >= 2."""
    with mpl.rc_context(FIGURE_FONTS):
        fig, grid = new_grid(chart.title)
        fig.set_size_inches(*FIGURE_SIZE_IN)
        ax = grid[0, 0]
        for index, ((arm, series), rows) in enumerate(stats.groupby([ARM, SERIES], sort=False)):
            label = str(arm) if chart.compared else str(series).replace("_", " ")
            x = pd.to_datetime(rows["date"], format=DATE_FORMAT)
            if rows["n"].min() >= 2:
                draw_band(ax, x, rows[MEAN], (rows[LOW], rows[HIGH]), index, label)
            else:
                ax.plot(x, rows[MEAN], label=label, **line_style(index))
        ax.set_ylabel(chart.ylabel)
        if stats.empty:
            say_none(ax, NONE_DRAWN)
        else:
            _date_axis(ax)
            ax.yaxis.set_major_formatter(StrMethodFormatter(chart.tick_format))
            fig.legend(loc="outside lower center", ncols=LEGEND_COLUMNS)
    return fig


def _date_axis(ax: Axes) -> None:
    """Calendar months (YYYY-MM) on the x-axis."""
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=MAX_DATE_TICKS))
    ax.xaxis.set_major_formatter(mdates.DateFormatter(DATE_FORMAT))
    ax.set_xlabel("month")


TABLE, MEASURE, COLUMN, TEXT = "table", "measure", "column", "text"
DOWNLOAD_COLUMNS = [TABLE, MEASURE, COLUMN, STATISTIC, REPLICATE, "month", "date", VALUE, TEXT]


def chart_rows(chart: Chart, tidy: pd.DataFrame, stats: pd.DataFrame) -> pd.DataFrame:
    """A chart's numbers in the download's layout (`DOWNLOAD_COLUMNS`).

    Each replicate's value (statistic ``replicate``) and the mean and band drawn
    (``mean``, ``ci_low``, ``ci_high``) by series (measure), arm (column) and month.
    """
    drawn = stats.melt(
        id_vars=[ARM, SERIES, "month", "date"],
        value_vars=[MEAN, LOW, HIGH],
        var_name=STATISTIC,
        value_name=VALUE,
    )
    rows = pd.concat([tidy.assign(**{STATISTIC: ONE}), drawn], ignore_index=True)
    rows[TABLE] = chart.name
    return rows.rename(columns={SERIES: MEASURE, ARM: COLUMN}).reindex(columns=DOWNLOAD_COLUMNS)


def download_table(run: Runs, baseline: Runs | None = None) -> pd.DataFrame:
    """Every number the page shows, one per row (`DOWNLOAD_COLUMNS`).

    The headline table's cells (at the month shown), the paired effects' cells (whole
    runs) with their text as shown, then each figure's series (`chart_rows`). Units as
    on the page: per cent of people, households, household-months, people, yuan.
    """
    cells = headline_cells(run, baseline) + (effect_cells(run, baseline) if baseline else [])
    tables = pd.DataFrame([vars(c) for c in cells])
    at = tables[TABLE] == HEADLINE_TABLE
    tables.loc[at, "month"] = run.month
    tables.loc[at, "date"] = run.shown[0].at(run.month)["date"]
    charts = []
    for chart in CHARTS:
        tidy = chart_data(chart, run, baseline)
        charts.append(chart_rows(chart, tidy, band(tidy, chart.bounds)))
    return pd.concat([tables.reindex(columns=DOWNLOAD_COLUMNS), *charts], ignore_index=True)


def replicates_text(count: int, what: str = "replicate") -> str:
    """E.g. "1 replicate", "3 replicates"."""
    return f"{count} {what}{'' if count == 1 else 's'}"


def progress(runs: Runs) -> float:
    """Share of all the replicates' months simulated so far (0 to 1)."""
    months = runs.scenario.run.months
    done = len(runs.finished) * months
    running = 0 if runs.current.finished else runs.current.month
    return (done + running) / (runs.replicates * months)
