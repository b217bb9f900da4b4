"""`wsim sweep | resume | status | analyze` end to end, adaptive replicates on the paired
effect, bad options and unknown outcome or arm names."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from experiment_helpers import ROOT
from sweep_helpers import FACTORIAL, UNCERTAIN, spec_of, sweep_serial, write_spec, wsim

from experiments.cli.sweep import register
from experiments.sweep import engine
from experiments.sweep import runs as sweep_runs
from experiments.sweep.spec import SpecError, load_spec
from model.scenario import Scenario
from model.simulate import RunResult, simulate

# Adaptive on poor household-months over 12 months: common random numbers make the
# paired effect on net exits of the tiny county exact (half-width 0 from the first
# round), and in 6 months even poor household-months move alike in every replicate.
ADAPTIVE = FACTORIAL.replace("months = 6", "months = 12").replace(
    "count = 2", 'output = "poor_household_months"\nhalf_width = {width}\nmin = 2\nmax = 4'
)


def test_register_adds_the_sweep_commands() -> None:
    app = typer.Typer()
    register(app)
    assert [c.name for c in app.registered_commands] == [
        "sweep",
        "resume",
        "status",
        "analyze",
        "analyze-rules",
        "rerun",
    ]


def test_sweep_status_analyze_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "out"
    swept = wsim("sweep", write_spec(tmp_path, FACTORIAL), "--out", out, "--workers", "1")
    assert swept.exit_code == 0, swept.output
    assert f"sweep spec written to {out}/: 8 done, 0 failed" in swept.stdout
    status = wsim("status", out)
    assert status.exit_code == 0
    assert f"{out}: 8 done, 0 failed, 0 pending" in status.stdout
    assert "complete (" in status.stdout
    analysed = wsim("analyze", out)
    assert analysed.exit_code == 0, analysed.output
    written = sorted(p.name for p in (out / "analysis").iterdir())
    assert written == [
        "cost_effectiveness.csv",
        "effects.csv",
        "instruments.csv",
        "ranking.csv",
        "rates.csv",
    ]
    effects = pd.read_csv(out / "analysis" / "effects.csv")
    assert len(effects) == 3 * 8 and "95% CI" in analysed.stdout
    titles = ("effects", "rates", "cost_effectiveness", "ranking", "share_first")
    assert all(title in analysed.stdout for title in titles)


@pytest.mark.parametrize(("width", "replicates"), [(1e9, 2), (1e-9, 4)])
def test_adaptive_replicates_stop_at_the_target_or_the_maximum(
    tmp_path: Path, width: float, replicates: int
) -> None:
    spec = spec_of(tmp_path, ADAPTIVE.format(width=width))
    runs = sweep_serial(spec, tmp_path / "sweep").runs
    assert runs.groupby("arm")["replicate"].nunique().tolist() == [replicates] * 4
    assert sorted(runs["replicate"].unique()) == list(range(replicates))


def test_adaptive_next_round_follows_the_observed_spread(tmp_path: Path) -> None:
    # poor household-months averted vary by a few between replicates: a target of 2
    # needs more than the first 2 replicates and at most max = 4.
    spec = spec_of(tmp_path, ADAPTIVE.format(width=2.0))
    runs = sweep_serial(spec, tmp_path / "sweep").runs
    assert 2 < runs["replicate"].nunique() <= 4


def noisy_levels_exact_effect(template: RunResult) -> object:
    """A stand-in for `simulate`: poor household-months differ by hundreds between
    replicates, while the wage lever's effect is exactly 10 in every replicate."""

    def stand_in(params: Scenario, replicate: int = 0, **_: object) -> RunResult:
        wage = params.policy.wage_subsidy.share_of_poor_wage_bill
        months = 1000.0 + 300.0 * ((replicate * 7919) % 13) + (10.0 if wage > 0.5 else 0.0)
        summary = template.summary.assign(poor_household_months=months)
        return RunResult(template.monthly, {}, summary)

    return stand_in


def test_adaptive_replicates_target_the_paired_effect_not_each_arm_level(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Levels spread by hundreds (a level target of 1 would run to max), but each
    arm's paired effect is exact: the first round already meets the target."""
    spec = spec_of(tmp_path, ADAPTIVE.format(width=1.0))
    template = simulate(spec.base.with_overrides(months=1))
    monkeypatch.setattr(sweep_runs, "simulate", noisy_levels_exact_effect(template))
    data = sweep_serial(spec, tmp_path / "sweep")
    assert data.runs["replicate"].nunique() == 2
    levels = data.values()["poor_household_months"]
    assert levels.std() > 100  # the level's own interval is far wider than the target
    check = engine.status(tmp_path / "sweep").adaptive
    assert check is not None and check.reached and check.widest == 0.0


def test_a_sweep_stopped_short_of_its_target_says_so(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    spec = write_spec(tmp_path, ADAPTIVE.format(width=1e-9))
    swept = wsim("sweep", spec, "--out", out, "--workers", "1")
    assert swept.exit_code == 0, swept.output
    said = (
        "poor_household_months: target half-width 1e-09 not reached at max 4 replicates: reached "
    )
    assert said in swept.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["adaptive"]["reached"] is False and said in manifest["adaptive"]["note"]
    assert manifest["adaptive"]["replicates"] == manifest["adaptive"]["max"] == 4
    assert said in wsim("status", out).stdout
    analysed = wsim("analyze", out)
    assert said in analysed.stdout
    table = pd.read_csv(out / "analysis" / "adaptive.csv").iloc[0]
    assert not table["reached"] and table["widest"] > table["target"]


def test_an_adaptive_sweep_that_reaches_its_target_says_so(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    swept = wsim("sweep", write_spec(tmp_path, ADAPTIVE.format(width=1e9)), "--out", out)
    assert swept.exit_code == 0, swept.output
    said = "poor_household_months: target half-width 1e+09 reached at 2 replicates"
    assert said in swept.stdout
    assert json.loads((out / "manifest.json").read_text())["adaptive"]["reached"] is True


@pytest.mark.parametrize(
    ("body", "key", "fragments"),
    [
        (
            ADAPTIVE.format(width=2.0).replace("household_months", "household_month"),
            "replicates.output",
            ["did you mean 'poor_household_months'", "known: ", "net_exits"],
        ),
        (
            FACTORIAL.replace(
                'outcomes = ["net_exits", "headcount"]', 'outcomes = ["poor_months"]'
            ),
            "outputs.outcomes.0",
            ["got 'poor_months'", "known: ", "poor_households_final_12_mean"],
        ),
        (
            UNCERTAIN.replace("count = 1", 'output = "net_exits"\nhalf_width = 1.0\nmax = 4'),
            "replicates.output",
            ["adaptive replicates target the paired effect", "levers"],
        ),
    ],
)
def test_an_unknown_outcome_in_a_spec_is_one_error_naming_file_key_and_known_names(
    tmp_path: Path, body: str, key: str, fragments: list[str]
) -> None:
    path = write_spec(tmp_path, body)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert (caught.value.file, caught.value.key) == (str(path), key)
    result = wsim("sweep", path, "--out", tmp_path / "out", "--workers", "1")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: {key}: ")
    assert all(fragment in lines[0] for fragment in fragments), lines[0]
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def factorial_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The factorial sweep of the tiny county, run once."""
    folder = tmp_path_factory.mktemp("factorial")
    sweep_serial(spec_of(folder, FACTORIAL), folder / "sweep")
    return folder / "sweep"


@pytest.mark.parametrize(
    ("option", "name", "fragments"),
    [
        ("--outcome", "net_exit", ["did you mean 'net_exits'", "known: ", "poor_household_months"]),
        ("--arm", "wage=0.7", ["got 'wage=0.7'", "known: baseline, training=False, wage=0.6"]),
    ],
)
def test_an_unknown_outcome_or_arm_on_the_command_line_is_one_error(
    factorial_sweep: Path, option: str, name: str, fragments: list[str]
) -> None:
    result = wsim("analyze", factorial_sweep, option, name)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {factorial_sweep}: {option}: ")
    assert all(fragment in lines[0] for fragment in fragments), lines[0]
    assert not (factorial_sweep / "analysis").exists()


def test_analyze_reports_on_the_outcomes_and_arms_asked_for(factorial_sweep: Path) -> None:
    result = wsim(
        "analyze", factorial_sweep, "--outcome", "poor_household_months", "--arm", "wage=0.6"
    )
    assert result.exit_code == 0, result.output
    effects = pd.read_csv(factorial_sweep / "analysis" / "effects.csv")
    assert effects[["arm", "outcome"]].values.tolist() == [["wage=0.6", "poor_household_months"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--workers", "0"), "--workers: expected a whole number >= 1, got 0"),
        (("--runs-per-task", "0"), "--runs-per-task: expected a whole number >= 1, got 0"),
    ],
)
def test_bad_option_values_exit_1_and_write_nothing(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = wsim("sweep", write_spec(tmp_path, FACTORIAL), "--out", tmp_path / "out", *args)
    assert result.exit_code == 1 and result.stderr.strip() == f"error: {message}"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["status", "resume", "analyze"])
def test_commands_on_a_directory_without_a_sweep_exit_1(tmp_path: Path, command: str) -> None:
    result = wsim(command, tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {tmp_path}: not a sweep directory")


@pytest.mark.slow
@pytest.mark.parametrize("stem", ["policy_mix", "sensitivity"])
def test_example_specs_run_and_analyse(tmp_path: Path, stem: str) -> None:
    out = tmp_path / stem
    assert (
        wsim(
            "sweep", ROOT / "experiments" / "specs" / f"{stem}.toml", "--out", out, "--workers", "2"
        ).exit_code
        == 0
    )
    analysed = wsim("analyze", out)
    assert analysed.exit_code == 0, analysed.output
    expected = "effects.csv" if stem == "policy_mix" else "morris.csv"
    assert (out / "analysis" / expected).exists()
