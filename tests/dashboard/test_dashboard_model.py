"""The dashboard's model side: levers, replicate runs, paired effects, bands, figures, download."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text
from scipy import stats

from experiments.analysis.effects import EXITS, POOR_MONTHS
from experiments.analysis.effects import SPENDING as SPENDING_YUAN
from experiments.compare import without_policy
from experiments.dashboard import (
    CHARTS,
    CONTROLS,
    DIFFERENCE,
    DOWNLOAD_COLUMNS,
    EFFECT_HIGH,
    EFFECT_LOW,
    EFFECT_MEAN,
    EXTRA_EXITS,
    FIGURE_SIZE_IN,
    FONT_PT,
    HEADCOUNT,
    MIGRATION_SHOCK,
    MONTHS_AVERTED,
    NO_INTERVAL,
    NO_POLICY,
    NONE_DRAWN,
    REPLICATES_MAX,
    SLIDERS,
    THIS_RUN,
    UNCLEAR,
    YUAN_PER_EXIT,
    Runs,
    band,
    changes,
    chart_data,
    chart_figure,
    check_replicates,
    configure,
    download_table,
    effect_cells,
    headline_cells,
    live_run,
    progress,
    replicate_runs,
    scenario_files,
    settings_of,
    table_rows,
)
from model.scenario import Scenario, ScenarioError, load_scenario
from model.simulate import simulate

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "fixtures" / "tiny.toml"
BASELINE = ROOT / "scenarios" / "baseline.toml"
HOUSEHOLDS, MONTHS, REPLICATES = 400, 12, 3
QUOTA = "policy.certification.poor_share_min"
PLACES = "policy.training.places_per_month"


@pytest.fixture(scope="module")
def configured() -> Scenario:
    return configure(TINY, HOUSEHOLDS, MONTHS, settings_of(load_scenario(TINY)))


@pytest.fixture(scope="module")
def runs(configured: Scenario) -> Runs:
    """Three finished replicates of the tiny county."""
    *_, last = replicate_runs(configured, REPLICATES)
    return last


@pytest.fixture(scope="module")
def base(configured: Scenario) -> Runs:
    """Three finished replicates of the tiny county without policy."""
    *_, last = replicate_runs(without_policy(configured, load_scenario(BASELINE)), REPLICATES)
    return last


def test_every_control_names_keys_the_scenario_has(tiny: Scenario) -> None:
    shown = settings_of(tiny)
    assert set(shown) == {
        *SLIDERS,
        MIGRATION_SHOCK,
        *(c.switch for c in CONTROLS if c.switch is not None),
    }
    assert shown[QUOTA] == 100 * tiny.policy.certification.poor_share_min


def test_untouched_settings_leave_the_file_exactly_as_it_is(configured: Scenario) -> None:
    assert configured == load_scenario(TINY).with_overrides(households=HOUSEHOLDS, months=MONTHS)


def test_slider_values_become_scenario_units(tiny: Scenario) -> None:
    shown = settings_of(tiny) | {QUOTA: 55.0, PLACES: 120.0, MIGRATION_SHOCK: True}
    assert changes(tiny, shown) == {QUOTA: pytest.approx(0.55), PLACES: 120, MIGRATION_SHOCK: True}
    assert isinstance(changes(tiny, shown)[PLACES], int)


@pytest.mark.parametrize(
    ("households", "months", "expected"),
    [
        (5, MONTHS, "households: expected 100 to 200,000, got 5"),
        (HOUSEHOLDS, 0, "months: expected 1 to 120, got 0"),
    ],
)
def test_run_size_out_of_range_is_refused_with_the_range(
    households: int, months: int, expected: str
) -> None:
    with pytest.raises(ValueError, match=expected):
        configure(TINY, households, months, {})


def test_a_file_that_fails_validation_names_the_key(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(
        f'extends = "{BASELINE.as_posix()}"\nname = "broken"\n'
        "[policy.wage_subsidy]\nshare_of_poor_wage_bill = 1.5\n"
    )
    with pytest.raises(ScenarioError, match="share_of_poor_wage_bill"):
        configure(broken, HOUSEHOLDS, MONTHS, {})


def test_scenario_files_lists_the_default_first_and_not_reforms() -> None:
    names = scenario_files(ROOT / "scenarios")
    assert names[0] == "default.toml"
    assert "baseline.toml" in names
    assert not {p.name for p in (ROOT / "scenarios" / "reforms").glob("*.toml")} & set(names)


def test_without_policy_keeps_households_and_shocks_and_drops_workshops_and_instruments(
    configured: Scenario,
) -> None:
    shocked = configured.with_changes({MIGRATION_SHOCK: True})
    counterfactual = without_policy(shocked, load_scenario(BASELINE))
    assert counterfactual.run == shocked.run
    assert counterfactual.county == shocked.county
    assert counterfactual.population == shocked.population
    assert counterfactual.shocks == shocked.shocks
    assert counterfactual.policy.budget_yuan_per_year == 0
    assert counterfactual.workshops.factory.initial_count == 0


def test_a_live_run_ends_with_the_tables_simulate_gives(configured: Scenario) -> None:
    snapshots = list(live_run(configured, replicate=1, refresh_seconds=0.0))
    assert [s.month for s in snapshots] == list(range(MONTHS + 1))
    assert snapshots[-1].finished and not snapshots[-2].finished
    assert {s.replicate for s in snapshots} == {1}
    result = simulate(configured, replicate=1)
    pd.testing.assert_frame_equal(snapshots[-1].monthly, result.monthly)
    assert snapshots[-1].summary == {
        o: pytest.approx(result.summary[o].iloc[0]) for o in (EXITS, POOR_MONTHS, SPENDING_YUAN)
    }


def test_replicates_run_one_after_another_and_finished_ones_are_shown(
    configured: Scenario,
) -> None:
    steps = list(replicate_runs(configured, REPLICATES, refresh_seconds=0.0))
    assert len(steps) == REPLICATES * (MONTHS + 1)
    assert [s.current.replicate for s in steps[:: MONTHS + 1]] == list(range(REPLICATES))
    assert [len(s.finished) for s in steps[MONTHS :: MONTHS + 1]] == [1, 2, 3]
    assert steps[0].shown == (steps[0].current,) and steps[0].month == 0
    middle = steps[MONTHS + 2]  # replicate 1 at month 1: replicate 0 is what is shown
    assert middle.shown == middle.finished == (middle.snapshots[0],) and middle.month == MONTHS
    shares = [progress(s) for s in steps]
    assert shares == sorted(shares) and shares[-1] == 1.0 and steps[-1].done
    assert progress(middle) == pytest.approx((MONTHS + 1) / (REPLICATES * MONTHS))


def test_replicate_r_of_the_policy_and_the_baseline_start_from_the_same_households(
    runs: Runs, base: Runs
) -> None:
    starts = [s.monthly["poor_households"].iloc[0] for s in runs.finished]
    assert starts == [s.monthly["poor_households"].iloc[0] for s in base.finished]
    assert len(set(starts)) > 1  # and replicates differ from one another


@pytest.mark.parametrize("count", [0, REPLICATES_MAX + 1])
def test_replicates_out_of_range_are_refused_with_the_range(count: int) -> None:
    with pytest.raises(ValueError, match=f"replicates: expected 1 to {REPLICATES_MAX}"):
        check_replicates(count)


def outcome(runs: Runs, name: str) -> np.ndarray:
    """A run-summary outcome of each finished replicate."""
    return np.array([s.summary[name] for s in runs.finished if s.summary is not None])


def final(runs: Runs, column: str) -> np.ndarray:
    """A monthly column's final value in each finished replicate."""
    return np.array([s.monthly[column].iloc[-1] for s in runs.finished], dtype=float)


def t_interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% t interval, computed here from scipy for an independent check."""
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return values.mean(), values.mean() - half, values.mean() + half


def test_headline_shows_replicate_means_and_their_difference(runs: Runs, base: Runs) -> None:
    alone, compared = headline_cells(runs), headline_cells(runs, base)
    assert table_rows(alone, "Measure")[0] == ("Measure", THIS_RUN)
    rows = {r[0]: r[1:] for r in table_rows(compared, "Measure")}
    assert rows["Measure"] == (THIS_RUN, "No policy", DIFFERENCE)
    ours, theirs = (100 * final(r, "headcount").mean() for r in (runs, base))
    assert rows[HEADCOUNT] == (f"{ours:.1f}", f"{theirs:.1f}", f"{ours - theirs:+.1f}")
    poor = final(runs, "poor_households").mean()
    assert [c.value for c in alone if c.measure == "Poor households"] == [pytest.approx(poor)]


def test_paired_effects_are_t_intervals_of_the_per_replicate_differences(
    runs: Runs, base: Runs
) -> None:
    cells = {(c.measure, c.column): c for c in effect_cells(runs, base)}
    exits = t_interval(outcome(runs, EXITS) - outcome(base, EXITS))
    shown = [cells[EXTRA_EXITS, c] for c in (EFFECT_MEAN, EFFECT_LOW, EFFECT_HIGH)]
    assert [c.value for c in shown] == pytest.approx(exits)
    assert [c.text for c in shown] == [f"{v:+,.0f}" for v in exits]
    averted = [cells[MONTHS_AVERTED, c].value for c in (EFFECT_MEAN, EFFECT_LOW, EFFECT_HIGH)]
    assert averted == pytest.approx(
        t_interval(outcome(base, POOR_MONTHS) - outcome(runs, POOR_MONTHS))
    )
    assert exits[1] > 0  # the tiny county's policy clearly adds exits, so a ratio is shown
    ratio = cells[YUAN_PER_EXIT, EFFECT_MEAN]
    assert ratio.value == pytest.approx(outcome(runs, SPENDING_YUAN).mean() / exits[0])
    assert ratio.text == f"{ratio.value:,.0f}"
    low, high = cells[YUAN_PER_EXIT, EFFECT_LOW].value, cells[YUAN_PER_EXIT, EFFECT_HIGH].value
    assert low < ratio.value < high


def test_a_ratio_whose_exits_interval_contains_0_is_unclear(runs: Runs) -> None:
    cells = {(c.measure, c.column): c for c in effect_cells(runs, runs)}
    assert cells[EXTRA_EXITS, EFFECT_MEAN].value == 0
    assert {cells[YUAN_PER_EXIT, c].text for c in (EFFECT_MEAN, EFFECT_LOW, EFFECT_HIGH)} == {
        UNCLEAR
    }


def test_one_pair_has_an_effect_but_no_interval(runs: Runs, base: Runs) -> None:
    one = Runs(base.scenario, REPLICATES, base.snapshots[:1])
    cells = {(c.measure, c.column): c.text for c in effect_cells(runs, one)}
    assert cells[EXTRA_EXITS, EFFECT_MEAN].startswith("+")
    assert cells[EXTRA_EXITS, EFFECT_LOW] == cells[YUAN_PER_EXIT, EFFECT_MEAN] == NO_INTERVAL
    started = Runs(base.scenario, REPLICATES, (next(live_run(base.scenario)),))
    assert effect_cells(runs, started) == []


def tidy_values(values: list[float], replicates: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "arm": "a",
            "series": "s",
            "replicate": replicates,
            "month": 1,
            "date": "2016-01",
            "value": values,
        }
    )


def test_bands_are_t_intervals_clipped_to_the_physical_range() -> None:
    three = band(tidy_values([0.0, 0.0, 3.0], [0, 1, 2]), (0.0, math.inf)).iloc[0]
    half = stats.t.ppf(0.975, 2) * np.std([0, 0, 3], ddof=1) / np.sqrt(3)
    assert (three["n"], three["mean"]) == (3, 1.0)
    assert (three["ci_low"], three["ci_high"]) == (0.0, pytest.approx(1.0 + half))
    share = band(tidy_values([98.0, 99.0, 100.0], [0, 1, 2]), (0.0, 100.0)).iloc[0]
    assert share["ci_high"] == 100.0 and share["ci_low"] < 99.0
    one = band(tidy_values([5.0], [0]), (0.0, math.inf)).iloc[0]
    assert one["mean"] == 5.0 and np.isnan(one["ci_low"]) and np.isnan(one["ci_high"])


def test_chart_data_has_every_replicate_by_calendar_month(runs: Runs, base: Runs) -> None:
    for chart in CHARTS:
        tidy = chart_data(chart, runs, base)
        arms = {runs.scenario.name, NO_POLICY} if chart.compared else {runs.scenario.name}
        assert set(tidy["arm"]) == arms
        assert set(tidy["replicate"]) == set(range(REPLICATES))
        assert tidy["date"].min() == "2015-12" and tidy["date"].max() == "2016-12"
    activity = chart_data(CHARTS[2], runs, None)
    people = activity.groupby(["replicate", "month"])["value"].sum()
    able = [s.activity.sum(axis=1) for s in runs.finished]
    assert people.to_numpy() == pytest.approx(pd.concat(able).to_numpy())


def figure_texts(figure: Figure) -> list[Text]:
    figure.canvas.draw()
    return [t for t in figure.findobj(Text) if t.get_visible() and t.get_text().strip()]


def inside(figure: Figure) -> bool:
    """Whether everything drawn (titles, labels, ticks, legend) is within the canvas."""
    drawn, canvas = figure.get_tightbbox(), figure.bbox_inches
    return bool(
        drawn.x0 >= canvas.x0
        and drawn.y0 >= canvas.y0
        and drawn.x1 <= canvas.x1
        and drawn.y1 <= canvas.y1
    )


def test_figures_have_dated_axes_readable_text_and_bands_once_replicates_finish(
    runs: Runs, base: Runs
) -> None:
    for chart in CHARTS:
        figure = chart_figure(chart, band(chart_data(chart, runs, base), chart.bounds))
        assert tuple(figure.get_size_inches()) == FIGURE_SIZE_IN
        texts = figure_texts(figure)
        assert min(float(t.get_fontsize()) for t in texts) >= FONT_PT
        assert inside(figure), chart.name
        ticks = [t.get_text() for t in figure.axes[0].get_xticklabels() if t.get_text()]
        assert ticks and all(re.fullmatch(r"20\d\d-\d\d", t) for t in ticks)
        assert figure.axes[0].collections, chart.name  # the bands
    first = Runs(runs.scenario, REPLICATES, runs.snapshots[:1])
    alone = CHARTS[0]
    assert (
        not chart_figure(alone, band(chart_data(alone, first, None), alone.bounds))
        .axes[0]
        .collections
    )


def test_a_chart_with_nothing_but_zeros_says_so(base: Runs) -> None:
    spending = CHARTS[3]
    empty = band(chart_data(spending, base, None), spending.bounds)
    assert empty.empty
    figure = chart_figure(spending, empty)
    assert [t.get_text() for t in figure_texts(figure)].count(NONE_DRAWN) == 1
    assert not figure.axes[0].get_xticks().size and not figure.legends


def test_the_download_holds_exactly_the_numbers_shown(runs: Runs, base: Runs) -> None:
    table = download_table(runs, base)
    assert list(table.columns) == DOWNLOAD_COLUMNS
    shown = headline_cells(runs, base) + effect_cells(runs, base)
    cells = table[table["table"].isin(["headline", "paired effect"])]
    assert list(cells["text"]) == [c.text for c in shown]
    for chart in CHARTS:
        tidy = chart_data(chart, runs, base)
        stats_ = band(tidy, chart.bounds)
        rows = table[table["table"] == chart.name]
        replicate = rows[rows["statistic"] == "replicate"]
        assert replicate["value"].to_numpy() == pytest.approx(tidy["value"].to_numpy())
        for statistic in ("mean", "ci_low", "ci_high"):
            drawn = rows[rows["statistic"] == statistic]["value"].to_numpy()
            assert drawn == pytest.approx(stats_[statistic].to_numpy(), nan_ok=True)
