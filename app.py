"""Workshop-sim dashboard: pick a scenario, set the policy levers, run it month by month.

Start it with ``make dashboard`` (``solara run app.py``). The page steps the model and
redraws the poverty headcount, exits, employment by activity and spending as it goes;
"Compare with baseline" runs the same county, households, months, seed and shocks
without workshops or instruments and draws it dashed. Scenario files are read from
``scenarios/`` beside this file, or from the folder named by ``WSIM_SCENARIO_DIR``.
The model side (levers, runs, figures, numbers) is `experiments.dashboard`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import cast

import solara
import solara.lab
from matplotlib.figure import Figure

from experiments.compare import without_policy
from experiments.dashboard import (
    BASELINE_FILE,
    CONTROLS,
    COUNTY_SCALE_NOTE,
    DEFAULT_HOUSEHOLDS,
    HOUSEHOLDS_MAX,
    HOUSEHOLDS_MIN,
    MIGRATION_SHOCK,
    MONTHS_MAX,
    Control,
    Setting,
    Slider,
    Snapshot,
    activity_figure,
    configure,
    exits_figure,
    headcount_figure,
    headline,
    live_run,
    scenario_files,
    settings_of,
    spending_figure,
)
from model.scenario import Scenario, load_scenario

SCENARIO_DIR = Path(os.environ.get("WSIM_SCENARIO_DIR", Path(__file__).parent / "scenarios"))
FIGURE_DPI = 100
Shown = tuple[int, Snapshot]  # run number on the page, what the run has collected


def load(name: str) -> tuple[Scenario | None, str | None]:
    """The scenario file `name` in `SCENARIO_DIR`, or why it cannot be used."""
    try:
        return load_scenario(SCENARIO_DIR / name), None
    except (ValueError, OSError) as err:
        return None, str(err)


_names = scenario_files(SCENARIO_DIR)
_first, _first_error = load(_names[0]) if _names else (None, f"no *.toml in {SCENARIO_DIR}")
scenario_name = solara.reactive(_names[0] if _names else "")
scenario: solara.Reactive[Scenario | None] = solara.reactive(_first)
load_error: solara.Reactive[str | None] = solara.reactive(_first_error)
households = solara.reactive(DEFAULT_HOUSEHOLDS)
months = solara.reactive(_first.run.months if _first else MONTHS_MAX)
settings = solara.reactive(settings_of(_first) if _first else {})
run_error: solara.Reactive[str | None] = solara.reactive(None)
runs_started = solara.reactive(0)
# the policy scenario the baseline run is the counterfactual of
baseline_of: solara.Reactive[Scenario | None] = solara.reactive(None)


@solara.lab.task
def policy_run(run: Scenario, number: int) -> Iterator[Shown]:
    """Step the policy scenario, yielding what it has collected as it goes."""
    for snapshot in live_run(run):
        if not policy_run.is_current():
            return
        yield number, snapshot


@solara.lab.task
def baseline_run(run: Scenario) -> Iterator[Snapshot]:
    """Step the no-policy scenario, yielding what it has collected as it goes."""
    for snapshot in live_run(run):
        if not baseline_run.is_current():
            return
        yield snapshot


def latest_policy() -> Shown | None:
    """The policy run's latest yield (solara types a generator task's `latest` as the generator)."""
    return cast("Shown | None", policy_run.latest)


def latest_baseline() -> Snapshot | None:
    """The baseline run's latest snapshot."""
    return cast("Snapshot | None", baseline_run.latest)


def choose(name: str) -> None:
    """Select a scenario file: its settings and months replace the page's."""
    scenario_name.set(name)
    loaded, error = load(name)
    scenario.set(loaded)
    load_error.set(error)
    if loaded is not None:
        settings.set(settings_of(loaded))
        months.set(loaded.run.months)


def change(key: str, value: Setting) -> None:
    """Set one switch or slider."""
    settings.set({**settings.value, key: value})


def configured() -> Scenario | None:
    """The scenario as the page sets it; None (and the reason shown) if it is invalid."""
    try:
        chosen = configure(
            SCENARIO_DIR / scenario_name.value, households.value, months.value, settings.value
        )
    except (ValueError, OSError) as err:
        run_error.set(str(err))
        return None
    run_error.set(None)
    return chosen


def start_run(chosen: Scenario) -> None:
    """Run `chosen` as the page's next numbered run."""
    runs_started.set(runs_started.value + 1)
    policy_run(chosen, runs_started.value)


def run_clicked() -> None:
    """Run the scenario as the page sets it."""
    chosen = configured()
    if chosen is not None:
        start_run(chosen)


def compare_clicked() -> None:
    """Run the no-policy counterpart of the page's scenario (and the scenario if not run)."""
    chosen = configured()
    if chosen is None:
        return
    try:
        counterfactual = without_policy(chosen, load_scenario(SCENARIO_DIR / BASELINE_FILE))
    except (ValueError, OSError) as err:
        run_error.set(f"Compare with baseline: {err}")
        return
    shown = latest_policy()
    if shown is None or shown[1].scenario != chosen:
        start_run(chosen)
    baseline_of.set(chosen)
    baseline_run(counterfactual)


@solara.component
def SliderFor(slider: Slider, enabled: bool) -> None:
    """One slider, its top raised to the scenario's value if that is higher."""
    value = settings.value[slider.key]
    top = max(slider.maximum, value)
    if float(slider.step).is_integer():
        solara.SliderInt(
            slider.label,
            value=int(value),
            min=0,
            max=int(top),
            step=int(slider.step),
            on_value=partial(change, slider.key),
            thumb_label="always",
            disabled=not enabled,
        )
    else:
        solara.SliderFloat(
            slider.label,
            value=float(value),
            min=0.0,
            max=float(top),
            step=slider.step,
            on_value=partial(change, slider.key),
            thumb_label="always",
            disabled=not enabled,
        )


@solara.component
def InstrumentControls(control: Control) -> None:
    """An instrument's switch (labelled with its name) and its sliders."""
    enabled = True
    if control.switch is None:
        solara.Text(control.label, style={"font-weight": "bold"})
    else:
        enabled = bool(settings.value[control.switch])
        solara.Switch(label=control.label, value=enabled, on_value=partial(change, control.switch))
    for slider in control.sliders:
        SliderFor(slider, enabled)


@solara.component
def Controls() -> None:
    """Scenario, run size, levers, shock and the run buttons."""
    solara.Select(
        "Scenario", values=scenario_files(SCENARIO_DIR), value=scenario_name.value, on_value=choose
    )
    chosen = scenario.value
    if load_error.value is not None or chosen is None:
        solara.Error(load_error.value or "no scenario")
        return
    solara.Text(f"{chosen.description} (seed {chosen.run.seed}, from {chosen.run.start:%Y-%m})")
    solara.InputInt(f"Households ({HOUSEHOLDS_MIN:,} to {HOUSEHOLDS_MAX:,})", value=households)
    solara.InputInt(f"Months (1 to {MONTHS_MAX})", value=months)
    solara.Text(COUNTY_SCALE_NOTE, style={"font-size": "small"})
    for control in CONTROLS:
        InstrumentControls(control)
    shock = chosen.shocks.migration_stop
    solara.Switch(
        label=f"Migration stop from {shock.start:%Y-%m}, {shock.months} months, "
        f"{shock.share_kept_home:.0%} of migrants kept home",
        value=bool(settings.value[MIGRATION_SHOCK]),
        on_value=partial(change, MIGRATION_SHOCK),
    )
    with solara.Row():
        solara.Button("Run", on_click=run_clicked, color="primary")
        solara.Button("Compare with baseline", on_click=compare_clicked, outlined=True)


@solara.component
def FigureCard(name: str, draw: Callable[[], Figure], snapshots: list[object]) -> None:
    """A figure, redrawn only when the runs it shows have new data."""
    figure = solara.use_memo(draw, snapshots)
    with solara.Card(classes=[f"{name}-figure"]):
        solara.FigureMatplotlib(figure, dependencies=snapshots, format="png", dpi=FIGURE_DPI)


def status(number: int | None, snapshot: Snapshot, running: bool) -> str:
    """One line on a run: what, how big, how far."""
    run = snapshot.scenario.run
    what = f"Run {number}: {snapshot.scenario.name}" if number else snapshot.scenario.name
    state = "done" if snapshot.finished and not running else "running"
    return (
        f"{what}, {run.households:,} households, seed {run.seed}: month "
        f"{snapshot.month} of {run.months} ({snapshot.at(snapshot.month)['date']}), {state}"
    )


@solara.component
def NumbersTable(rows: list[tuple[str, ...]]) -> None:
    """Rows of text, the first the header, as a table (numbers right-aligned)."""
    header, *body = rows
    with solara.v.SimpleTable(dense=True, class_="numbers"):
        with solara.v.Html(tag="thead"), solara.v.Html(tag="tr"):
            for cell in header:
                solara.v.Html(tag="th", children=[cell])
        with solara.v.Html(tag="tbody"):
            for row in body:
                with solara.v.Html(tag="tr"):
                    solara.v.Html(tag="td", children=[row[0]])
                    for cell in row[1:]:
                        solara.v.Html(tag="td", children=[cell], style_="text-align: right")


@solara.component
def Results() -> None:
    """Status, current numbers and the four figures of the latest run."""
    if run_error.value:
        solara.Error(run_error.value)
    if policy_run.error:
        solara.Error(f"The run stopped: {policy_run.exception}")
    if baseline_run.error:
        solara.Error(f"The baseline run stopped: {baseline_run.exception}")
    shown = latest_policy()
    if shown is None:
        solara.Info("Choose a scenario, set the levers and press Run.")
        return
    number, run = shown
    base = latest_baseline() if baseline_of.value == run.scenario else None
    solara.Text(status(number, run, policy_run.pending), classes=["run-status"])
    if policy_run.pending:
        solara.ProgressLinear(value=100 * run.month / run.scenario.run.months)
    if base is not None:
        solara.Text(status(None, base, baseline_run.pending), classes=["baseline-status"])
    NumbersTable(headline(run, base))
    with solara.GridFixed(columns=2):
        FigureCard("headcount", lambda: headcount_figure(run, base), [run, base])
        FigureCard("exits", lambda: exits_figure(run, base), [run, base])
        FigureCard("activity", lambda: activity_figure(run), [run])
        FigureCard("spending", lambda: spending_figure(run), [run])


@solara.component
def Page() -> None:
    """The dashboard: controls in the sidebar, results in the main area."""
    solara.Title("Workshop-sim dashboard")
    with solara.AppBar():
        solara.AppBarTitle("Poverty-alleviation workshops: policy dashboard")
    with solara.Sidebar():
        Controls()
    Results()
