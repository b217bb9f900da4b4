"""Workshop-sim dashboard: pick a scenario, set the policy levers, run it month by month.

Start it with ``make dashboard`` (``solara run app.py``). The page runs the chosen number
of replicates one after another, stepping each month by month, and draws the poverty
headcount, net exits, employment by activity and spending against calendar months: the
mean over the finished replicates with its 95% band. "Compare with baseline" runs the
same county, households, months, seed, replicates and shocks without workshops or
instruments, and shows the paired effect of the policy with its interval. The numbers
shown download as one CSV. Scenario files are read from ``scenarios/`` beside this
file, or from the folder named by ``WSIM_SCENARIO_DIR``. The model side (levers, runs,
figures, numbers) is `experiments.dashboard`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import cast

import solara
import solara.lab

from experiments.compare import without_policy
from experiments.dashboard import (
    BASELINE_FILE,
    CHARTS,
    CONTROLS,
    COUNTY_SCALE_NOTE,
    DEFAULT_HOUSEHOLDS,
    DEFAULT_REPLICATES,
    FIGURE_DPI,
    HOUSEHOLDS_MAX,
    HOUSEHOLDS_MIN,
    MIGRATION_SHOCK,
    MONTHS_MAX,
    REPLICATES_MAX,
    Chart,
    Control,
    Runs,
    Setting,
    Slider,
    band,
    chart_data,
    chart_figure,
    check_replicates,
    configure,
    download_table,
    effect_cells,
    headline_cells,
    paired_outcomes,
    progress,
    replicate_runs,
    replicates_text,
    scenario_files,
    settings_of,
    table_rows,
)
from model.scenario import Scenario, load_scenario

SCENARIO_DIR = Path(os.environ.get("WSIM_SCENARIO_DIR", Path(__file__).parent / "scenarios"))
Shown = tuple[int, Runs]  # run number on the page, what its replicates have collected


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
replicates = solara.reactive(DEFAULT_REPLICATES)
months = solara.reactive(_first.run.months if _first else MONTHS_MAX)
settings = solara.reactive(settings_of(_first) if _first else {})
run_error: solara.Reactive[str | None] = solara.reactive(None)
runs_started = solara.reactive(0)
# the policy scenario the baseline run is the counterfactual of
baseline_of: solara.Reactive[Scenario | None] = solara.reactive(None)


@solara.lab.task
def policy_run(run: Scenario, number: int, replicates: int) -> Iterator[Shown]:
    """Step the policy scenario's replicates, yielding what they have collected as they go."""
    for runs in replicate_runs(run, replicates):
        if not policy_run.is_current():
            return
        yield number, runs


@solara.lab.task
def baseline_run(run: Scenario, replicates: int) -> Iterator[Runs]:
    """Step the no-policy scenario's replicates, yielding what they have collected."""
    for runs in replicate_runs(run, replicates):
        if not baseline_run.is_current():
            return
        yield runs


def latest_policy() -> Shown | None:
    """The policy run's latest yield (solara types a generator task's `latest` as the generator)."""
    return cast("Shown | None", policy_run.latest)


def latest_baseline() -> Runs | None:
    """The baseline run's latest replicates."""
    return cast("Runs | None", baseline_run.latest)


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


def configured() -> tuple[Scenario, int] | None:
    """The scenario and replicates as the page sets them; None (the reason shown) if invalid."""
    try:
        chosen = configure(
            SCENARIO_DIR / scenario_name.value, households.value, months.value, settings.value
        )
        count = check_replicates(replicates.value)
    except (ValueError, OSError) as err:
        run_error.set(str(err))
        return None
    run_error.set(None)
    return chosen, count


def start_run(chosen: Scenario, count: int) -> None:
    """Run `count` replicates of `chosen` as the page's next numbered run."""
    runs_started.set(runs_started.value + 1)
    policy_run(chosen, runs_started.value, count)


def run_clicked() -> None:
    """Run the scenario as the page sets it."""
    setup = configured()
    if setup is not None:
        start_run(*setup)


def compare_clicked() -> None:
    """Run the no-policy counterpart of the page's scenario (and the scenario if not run)."""
    setup = configured()
    if setup is None:
        return
    chosen, count = setup
    try:
        counterfactual = without_policy(chosen, load_scenario(SCENARIO_DIR / BASELINE_FILE))
    except (ValueError, OSError) as err:
        run_error.set(f"Compare with baseline: {err}")
        return
    shown = latest_policy()
    if shown is None or shown[1].scenario != chosen or shown[1].replicates != count:
        start_run(chosen, count)
    baseline_of.set(chosen)
    baseline_run(counterfactual, count)


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
    """The run buttons first (in view on a laptop screen), then scenario, run size, levers."""
    with solara.Row():
        solara.Button("Run", on_click=run_clicked, color="primary")
        solara.Button("Compare with baseline", on_click=compare_clicked, outlined=True)
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
    solara.InputInt(f"Replicates (1 to {REPLICATES_MAX})", value=replicates)
    solara.Text(COUNTY_SCALE_NOTE)
    for control in CONTROLS:
        InstrumentControls(control)
    shock = chosen.shocks.migration_stop
    solara.Switch(
        label=f"Migration stop from {shock.start:%Y-%m}, {shock.months} months, "
        f"{shock.share_kept_home:.0%} of migrants kept home",
        value=bool(settings.value[MIGRATION_SHOCK]),
        on_value=partial(change, MIGRATION_SHOCK),
    )


@solara.component
def FigureCard(chart: Chart, run: Runs, base: Runs | None) -> None:
    """A chart, redrawn only when the replicates it shows change."""
    shown = [run.shown, base.shown if base is not None and chart.compared else None]
    figure = solara.use_memo(
        lambda: chart_figure(chart, band(chart_data(chart, run, base), chart.bounds)), shown
    )
    with solara.Card(classes=[f"{chart.name}-figure"]):
        solara.FigureMatplotlib(figure, dependencies=shown, format="png", dpi=FIGURE_DPI)


def status(number: int | None, runs: Runs, running: bool) -> str:
    """One line on a run: what, how big, which replicate, how far."""
    run, current = runs.scenario.run, runs.current
    what = f"Run {number}: {runs.scenario.name}" if number else runs.scenario.name
    state = "done" if runs.done and not running else "running"
    return (
        f"{what}, {run.households:,} households, seed {run.seed}: replicate "
        f"{current.replicate + 1} of {runs.replicates}, month {current.month} of {run.months} "
        f"({current.at(current.month)['date']}), {state}"
    )


@solara.component
def NumbersTable(rows: list[tuple[str, ...]], name: str) -> None:
    """Rows of text, the first the header, as a table (numbers right-aligned)."""
    header, *body = rows
    with solara.v.SimpleTable(dense=True, class_=name):
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
def Errors() -> None:
    """Why the page's settings cannot run, or why a run stopped."""
    if run_error.value:
        solara.Error(run_error.value)
    if policy_run.error:
        solara.Error(f"The run stopped: {policy_run.exception}")
    if baseline_run.error:
        solara.Error(f"The baseline run stopped: {baseline_run.exception}")


@solara.component
def Numbers(run: Runs, base: Runs | None) -> None:
    """The headline table, the paired effects once a pair has finished, and the download."""
    mean_of = f"Measure (mean of {replicates_text(len(run.shown))})"
    NumbersTable(table_rows(headline_cells(run, base), mean_of), "numbers")
    if base is not None and (effect := effect_cells(run, base)):
        pairs = replicates_text(len(paired_outcomes(run, base)), "replicate pair")
        NumbersTable(table_rows(effect, f"Paired effect of the policy ({pairs})"), "effects")
    solara.FileDownload(
        lambda: download_table(run, base).to_csv(index=False),
        filename=f"{run.scenario.name}-dashboard.csv",
        label="Download the numbers shown (CSV)",
        mime_type="text/csv",
    )


@solara.component
def Results() -> None:
    """Status, current numbers and the four figures of the latest run."""
    Errors()
    shown = latest_policy()
    if shown is None:
        solara.Info("Choose a scenario, set the levers and press Run.")
        return
    number, run = shown
    base = latest_baseline()
    if base is not None and (
        baseline_of.value != run.scenario or base.replicates != run.replicates
    ):
        base = None
    solara.Text(status(number, run, policy_run.pending), classes=["run-status"])
    if policy_run.pending:
        solara.ProgressLinear(value=100 * progress(run))
    if base is not None:
        solara.Text(status(None, base, baseline_run.pending), classes=["baseline-status"])
    Numbers(run, base)
    with solara.GridFixed(columns=2):
        for chart in CHARTS:
            FigureCard(chart, run, base)


@solara.component
def Page() -> None:
    """The dashboard: controls in the sidebar, results in the main area."""
    solara.Title("Workshop-sim dashboard")
    with solara.AppBar():
        solara.AppBarTitle("Poverty-alleviation workshops: policy dashboard")
    with solara.Sidebar():
        Controls()
    Results()
