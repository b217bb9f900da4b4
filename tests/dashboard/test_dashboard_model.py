"""The dashboard's model side: levers, configured scenarios, live runs, numbers, figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

from experiments.compare import without_policy
from experiments.dashboard import (
    CONTROLS,
    HEADCOUNT,
    MIGRATION_SHOCK,
    SLIDERS,
    activity_figure,
    changes,
    configure,
    exits_figure,
    headcount_figure,
    headline,
    live_run,
    scenario_files,
    settings_of,
    spending_figure,
)
from model.scenario import Scenario, ScenarioError, load_scenario
from model.simulate import simulate

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "fixtures" / "tiny.toml"
BASELINE = ROOT / "scenarios" / "baseline.toml"
HOUSEHOLDS, MONTHS = 400, 12
QUOTA = "policy.certification.poor_share_min"
PLACES = "policy.training.places_per_month"


@pytest.fixture(scope="module")
def configured() -> Scenario:
    return configure(TINY, HOUSEHOLDS, MONTHS, settings_of(load_scenario(TINY)))


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
    snapshots = list(live_run(configured, refresh_seconds=0.0))
    assert [s.month for s in snapshots] == list(range(MONTHS + 1))
    assert snapshots[-1].finished and not snapshots[-2].finished
    pd.testing.assert_frame_equal(snapshots[-1].monthly, simulate(configured).monthly)


def test_headline_compares_with_the_baseline_at_the_same_month(configured: Scenario) -> None:
    run = list(live_run(configured))[-1]
    base = list(live_run(without_policy(configured, load_scenario(BASELINE))))[-1]
    alone, compared = headline(run), headline(run, base)
    assert alone[0] == ("Measure", "This run")
    assert compared[0] == ("Measure", "This run", "No policy", "Difference")
    row = dict((r[0], r[1:]) for r in compared)[HEADCOUNT]
    ours, theirs = (100 * s.monthly["headcount"].iloc[-1] for s in (run, base))
    assert row == (f"{ours:.1f}", f"{theirs:.1f}", f"{ours - theirs:+.1f}")
    measures = [r[0].lower() for r in [*alone, *compared]]
    assert not [m for m in measures if "per net exit" in m or "per extra" in m]  # one replicate


def test_every_figure_draws_with_and_without_the_baseline(configured: Scenario) -> None:
    first, *_, last = live_run(configured, refresh_seconds=0.0)
    base = list(live_run(without_policy(configured, load_scenario(BASELINE))))[-1]
    for figure in (
        headcount_figure(last, base),
        exits_figure(last),
        exits_figure(last, base),
        activity_figure(first),
        spending_figure(first),
        spending_figure(last),
    ):
        assert isinstance(figure, Figure) and figure.axes
