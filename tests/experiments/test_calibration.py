"""Calibration: measures, the targets file, the fit and `wsim calibrate` / `check-calibration`."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from experiment_helpers import SCENARIOS, Wsim

from experiments.calibration import measures
from experiments.calibration.calibrated_scenarios import (
    CALIBRATED_DIR,
    check_calibration,
    fitted_replicates,
    sample_note,
)
from experiments.calibration.fit import Space, loss
from experiments.calibration.measures import MEASURES, UnknownMeasureError, compute, measure
from experiments.calibration.targets import (
    DEFAULT_TARGETS,
    FreeParameter,
    Target,
    TargetsError,
    load_targets,
)
from experiments.cli.main import CHECK_FIRST_REPLICATE as CHECK_FIRST
from experiments.cli.main import CHECK_REPLICATES
from model.scenario import Scenario, load_scenario
from model.simulate import RunResult

CHECK_SHARE = 1.0  # check-calibration's default: each county at its real size

# Check-calibration at CI size: real-scale counties (small counts such as Qingchuan's one
# collective workshop vanish below half scale), with more replicates than the fits used
# (12), so the check also runs replicates the optimiser never saw; see the slow variant.
COUNTIES = ("qingchuan", "suichuan", "pengxi")
REQUIRED_FIGURES = {  # (county, measure): published value the targets file must hold
    ("qingchuan", "workshops_open"): 62,
    ("qingchuan", "workshops_open_park"): 12,
    ("qingchuan", "workshops_open_cooperative"): 47,
    ("qingchuan", "workshops_open_outwork"): 2,
    ("qingchuan", "workshops_open_factory"): 1,
    ("qingchuan", "poor_workers"): 668,
    ("qingchuan", "jobs_filled"): 6600,
    ("qingchuan", "jobs_filled_park"): 600,
    ("qingchuan", "poor_workers_park"): 209,
    ("qingchuan", "jobs_filled_cooperative"): 623,
    ("qingchuan", "poor_gain_yuan_per_year"): 9600,
    ("qingchuan", "poor_gain_park"): 26000,
    ("qingchuan", "spending_hiring_bonus_yuan"): 728000,
    ("qingchuan", "spending_loans_yuan"): 83000,
    ("qingchuan", "loans_issued_yuan"): 3000000,
    ("suichuan", "earnings_factory"): 3000,
    ("suichuan", "insured_workers_peak"): 378,
    ("suichuan", "trainees_total"): 2300,
    ("suichuan", "loans_issued_yuan"): 870000,
    ("suichuan", "workshop_subsidies_yuan"): 1541700,
    ("suichuan", "workshops_open_outwork"): 353,
    ("pengxi", "workshops_open_factory"): 20,
    ("pengxi", "workshops_open_outwork"): 26,
    ("pengxi", "poor_workers_outwork"): 78,
}
PENGXI_ONLY = """
[[target]]
county = "pengxi"
name = "home_workshops"
value = 26
unit = "workshops"
tolerance = 0.15
measure = "workshops_open_outwork"
used = true
source = "居家式扶贫作坊26个 (26 home workshops)"

[[target]]
county = "pengxi"
name = "workshops_or_bases"
value = 20
unit = "workshops"
tolerance = 0.15
measure = "workshops_open_factory"
used = true
source = "扶贫车间（基地）20个 (20 workshops or bases)"

[county.pengxi.free."workshops.factory.entrants_per_month"]
lower = 0.1
upper = 6.0
reason = "free in pengxi.toml"

[county.pengxi.free."workshops.outwork.entrants_per_month"]
lower = 0.1
upper = 6.0
reason = "free in pengxi.toml"
"""
BAD_EDITS = {  # name: (text replaced in PENGXI_ONLY, replacement, fragment of the error key)
    "unknown_measure": (
        '"workshops_open_outwork"',
        '"workshops_opened_outwork"',
        "target 'home_workshops'.measure",
    ),
    "unknown_county": (
        'county = "pengxi"\nname = "home_workshops"',
        'county = "atlantis"\nname = "home_workshops"',
        "target 'home_workshops'.county",
    ),
    "lower_above_upper": (
        'lower = 0.1\nupper = 6.0\nreason = "free in pengxi.toml"\n\n[',
        'lower = 7.0\nupper = 6.0\nreason = "free in pengxi.toml"\n\n[',
        'county.pengxi.free."workshops.factory.entrants_per_month".lower',
    ),
    "key_not_in_scenario": (
        "workshops.outwork.entrants_per_month",
        "workshops.outwork.entrants_per_year",
        'county.pengxi.free."workshops.outwork.entrants_per_year"',
    ),
    "key_not_free": (
        "workshops.outwork.entrants_per_month",
        "workshops.outwork.capacity_workers_max",
        'county.pengxi.free."workshops.outwork.capacity_workers_max"',
    ),
    "unused_without_note": (
        'used = true\nsource = "居家式',
        'used = false\nsource = "居家式',
        "target 'home_workshops'.note",
    ),
    "two_tolerances": (
        'tolerance = 0.15\nmeasure = "workshops_open_outwork"',
        'tolerance = 0.15\ntolerance_abs = 2.0\nmeasure = "workshops_open_outwork"',
        "target 'home_workshops'.tolerance",
    ),
    "undeclared_shared": (
        "[county.pengxi.free.",
        '[county.pengxi]\nshared = ["x.y"]\n\n[county.pengxi.free.',
        "county.pengxi.shared",
    ),
}


def write_targets(directory: Path, edit: str | None = None) -> Path:
    text = PENGXI_ONLY
    if edit is not None:
        old, new, _ = BAD_EDITS[edit]
        assert old in text
        text = text.replace(old, new, 1)
    path = directory / "targets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# ---------------------------------------------------------------- measures


def test_counts_are_the_last_month_divided_by_the_scale(
    tiny_result: RunResult, tiny: Scenario
) -> None:
    got = compute(
        ["workshops_open", "jobs_filled", "poor_workers", "insured_workers"],
        tiny_result,
        tiny.scale,
    )
    last = tiny_result.monthly.iloc[-1]
    for name, value in got.items():
        assert value == pytest.approx(last[name] / tiny.scale)
    assert got["workshops_open"] > 0


def test_form_measures_add_up_to_the_totals(tiny_result: RunResult, tiny: Scenario) -> None:
    for total in ("workshops_open", "jobs_filled", "poor_workers"):
        parts = [MEASURES[f"{total}_{form}"](tiny_result, tiny.scale) for form in measures.FORMS]
        assert sum(parts) == pytest.approx(MEASURES[total](tiny_result, tiny.scale))


def test_money_and_trainees_are_summed_over_the_run(tiny_result: RunResult, tiny: Scenario) -> None:
    s = tiny_result.summary.iloc[0]
    subsidies = MEASURES["workshop_subsidies_yuan"](tiny_result, tiny.scale)
    assert subsidies == pytest.approx(
        (s["spending_opening_subsidy_yuan"] + s["spending_wage_subsidy_yuan"]) / tiny.scale
    )
    assert subsidies > 0
    trainees = MEASURES["trainees_total"](tiny_result, tiny.scale)
    assert trainees == pytest.approx(tiny_result.monthly["trainees"].sum() / tiny.scale)


def test_pay_and_gains_are_not_scaled(tiny_result: RunResult, tiny: Scenario) -> None:
    jobs = tiny_result.tables["jobs"]
    last = jobs[jobs["month"] == jobs["month"].max()].set_index("form")
    assert MEASURES["earnings_factory"](tiny_result, 0.5) == pytest.approx(
        last.loc["factory", "earnings_yuan_per_month"]
    )
    known = last[last["poor_gain_yuan_per_year"].notna() & (last["poor_workers"] > 0)]
    expected = np.average(known["poor_gain_yuan_per_year"], weights=known["poor_workers"])
    assert MEASURES["poor_gain_yuan_per_year"](tiny_result, tiny.scale) == pytest.approx(expected)


def test_unknown_measure_names_a_close_one() -> None:
    with pytest.raises(UnknownMeasureError, match="did you mean 'workshops_open_park'"):
        measure("workshops_open_parks")


# ---------------------------------------------------------------- the targets file


@pytest.fixture(scope="module")
def targets_file():  # noqa: ANN201
    return load_targets(DEFAULT_TARGETS, SCENARIOS)


def test_targets_file_holds_every_required_figure(targets_file) -> None:  # noqa: ANN001
    figures = {
        (t.county, t.measure): t.value for c in targets_file.counties.values() for t in c.targets
    }
    for key, value in REQUIRED_FIGURES.items():
        assert figures.get(key) == value, key
    assert set(targets_file.counties) == set(COUNTIES)


def test_every_target_names_a_measure_and_unused_ones_say_why(targets_file) -> None:  # noqa: ANN001
    for county in targets_file.counties.values():
        assert county.used_targets and county.free
        for t in county.targets:
            assert t.measure in MEASURES
            assert t.used or t.note
            assert (t.tolerance is None) != (t.tolerance_abs is None)


def test_shared_parameter_is_fitted_once_and_reused(targets_file) -> None:  # noqa: ANN001
    key = "workshops.screening_noise_sd"
    fitted = [c.name for c in targets_file.counties.values() if key in {p.key for p in c.free}]
    reused = [c.name for c in targets_file.counties.values() if key in {p.key for p in c.inherited}]
    assert fitted == ["qingchuan"]
    assert sorted(reused) == ["pengxi", "suichuan"]


@pytest.mark.parametrize("edit", sorted(BAD_EDITS))
def test_bad_targets_file_names_file_and_key(tmp_path: Path, edit: str) -> None:
    path = write_targets(tmp_path, edit)
    with pytest.raises(TargetsError) as caught:
        load_targets(path, SCENARIOS)
    assert str(caught.value).startswith(f"{path}: {BAD_EDITS[edit][2]}")


# ---------------------------------------------------------------- fit pieces


def test_target_band_is_relative_or_absolute() -> None:
    relative = Target("c", "n", 200.0, "u", "s", "workshops_open", True, tolerance=0.25)
    absolute = Target("c", "n", 2.0, "u", "s", "workshops_open", True, tolerance_abs=1.0)
    assert relative.band == 50.0 and relative.within(250.0) and not relative.within(251.0)
    assert absolute.band == 1.0 and absolute.within(1.0) and not absolute.within(3.5)
    assert not absolute.within(float("nan"))


def test_loss_sums_squared_deviations_of_used_targets_only() -> None:
    table = pd.DataFrame(
        {"used": [True, True, False, True], "deviation": [0.5, -2.0, 10.0, float("nan")]}
    )
    assert loss(table) == pytest.approx(0.25 + 4.0 + 100.0)


def test_space_maps_bounds_to_the_unit_cube_and_back() -> None:
    base = load_scenario(SCENARIOS / "pengxi.toml")
    space = Space.of(
        [
            FreeParameter("workshops.factory.entrants_per_month", 0.1, 10.0, "r", "p"),
            FreeParameter("policy.training.places_per_month", 10, 90, "r", "p"),
        ],
        base,
    )
    values = space.values(np.array([0.5, 0.5]))
    assert values == {
        "workshops.factory.entrants_per_month": 1.0,  # log scale: geometric mean
        "policy.training.places_per_month": 50,
    }  # whole number
    assert space.point(values) == pytest.approx([0.5, 0.5])
    assert space.values(np.array([-1.0, 2.0])) == {
        "workshops.factory.entrants_per_month": 0.1,
        "policy.training.places_per_month": 90,
    }


def test_initial_counts_move_in_steps_the_scaled_run_can_simulate() -> None:
    half = load_scenario(SCENARIOS / "suichuan.toml").with_overrides(households=60000)
    space = Space.of([FreeParameter("workshops.factory.initial_count", 0, 40, "r", "s")], half)
    written = [
        space.values(np.array([x]))["workshops.factory.initial_count"]
        for x in np.linspace(0, 1, 41)
    ]
    assert all(count % 2 == 0 for count in written)  # round(count x 0.5) * 2 == count
    assert sorted(set(written)) == list(range(0, 41, 2))


# ---------------------------------------------------------------- wsim calibrate


def test_calibrate_writes_a_loadable_scenario_of_the_fitted_keys(
    tmp_path: Path, wsim: Wsim
) -> None:
    out = tmp_path / "pengxi.toml"
    result = wsim(
        "calibrate",
        SCENARIOS / "pengxi.toml",
        "--targets",
        write_targets(tmp_path),
        "--households",
        "6000",
        "--replicates",
        "2",
        "--max-evaluations",
        "4",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert set(data) == {"extends", "name", "description", "workshops"}
    assert set(data["workshops"]) == {"factory", "outwork"}
    for form in ("factory", "outwork"):
        assert 0.1 <= data["workshops"][form]["entrants_per_month"] <= 6.0
    assert text.count("# fitted: ") == 2 and "evaluations: " in text
    fitted = load_scenario(out)
    assert (
        fitted.workshops.outwork.entrants_per_month
        == data["workshops"]["outwork"]["entrants_per_month"]
    )
    assert fitted.county.name == "Pengxi"
    assert "published" in result.stdout and "within" in result.stdout


def test_refine_searches_from_the_earlier_fit(tmp_path: Path, wsim: Wsim) -> None:
    out, targets = tmp_path / "pengxi.toml", write_targets(tmp_path)
    options = ("--targets", targets, "--households", "6000", "--replicates", "2", "--out", out)
    missing = wsim("calibrate", SCENARIOS / "pengxi.toml", *options, "--refine")
    assert missing.exit_code == 1 and "--refine" in one_error_line(missing.stderr)
    assert not out.exists()
    first = wsim("calibrate", SCENARIOS / "pengxi.toml", *options, "--max-evaluations", "4")
    assert first.exit_code == 0, first.output
    earlier = tomllib.loads(out.read_text(encoding="utf-8"))
    refined = wsim(
        "calibrate", SCENARIOS / "pengxi.toml", *options, "--max-evaluations", "1", "--refine"
    )
    assert refined.exit_code == 0, refined.output
    text = out.read_text(encoding="utf-8")
    assert "bounded Powell (scipy.optimize) from the earlier fit" in text
    assert "evaluations: 1;" in text  # the one evaluation is the earlier fit itself
    assert tomllib.loads(text)["workshops"] == earlier["workshops"]


@pytest.mark.parametrize(
    "edit", ["unknown_measure", "unknown_county", "lower_above_upper", "key_not_in_scenario"]
)
def test_calibrate_refuses_bad_targets_and_writes_nothing(
    tmp_path: Path, wsim: Wsim, edit: str
) -> None:
    targets = write_targets(tmp_path, edit)
    result = wsim(
        "calibrate",
        SCENARIOS / "pengxi.toml",
        "--targets",
        targets,
        "--max-evaluations",
        "1",
        "--out",
        tmp_path / "out" / "pengxi.toml",
    )
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert str(targets) in line and BAD_EDITS[edit][2] in line
    assert {p.name for p in tmp_path.iterdir()} == {"targets.toml"}


def test_calibrate_refuses_a_county_without_targets(tmp_path: Path, wsim: Wsim) -> None:
    result = wsim(
        "calibrate",
        SCENARIOS / "default.toml",
        "--targets",
        write_targets(tmp_path),
        "--out",
        tmp_path / "default.toml",
    )
    assert result.exit_code == 1
    assert "county.default" in one_error_line(result.stderr)
    assert not (tmp_path / "default.toml").exists()


# ---------------------------------------------------------------- wsim check-calibration


def test_check_calibration_fails_when_a_target_is_missed(tmp_path: Path, wsim: Wsim) -> None:
    targets = tmp_path / "targets.toml"
    targets.write_text(PENGXI_ONLY.replace("value = 26", "value = 2600"), encoding="utf-8")
    result = wsim(
        "check-calibration", "--targets", targets, "--households-share", "0.02", "--replicates", "1"
    )
    assert result.exit_code == 1
    assert "NO" in result.stdout and "of 2 used targets within tolerance" in result.stdout


def test_check_calibration_rejects_a_bad_share(wsim: Wsim) -> None:
    result = wsim("check-calibration", "--households-share", "0")
    assert result.exit_code == 1
    assert "--households-share" in one_error_line(result.stderr)


def test_every_county_has_a_committed_calibration() -> None:
    for county in COUNTIES:
        path = SCENARIOS / CALIBRATED_DIR / f"{county}.toml"
        assert load_scenario(path).name == f"{county}_calibrated"
        assert "# fitted: " in path.read_text(encoding="utf-8")


def test_calibrated_counties_meet_every_used_target_out_of_sample(targets_file) -> None:  # noqa: ANN001
    table = check_calibration(
        targets_file, CHECK_SHARE, range(CHECK_FIRST, CHECK_FIRST + CHECK_REPLICATES)
    )
    used = table[table["used"]]
    missed = {(c, t) for c, t in used.loc[~used["within"], ["county", "target"]].itertuples(False)}
    assert missed == set()
    assert len(used) == 24
    # Qingchuan's loans are a few large events (sd 2.2 million yuan a replicate): its fit
    # averages 48 replicates, so that a target met in sample is met out of sample
    assert fitted_replicates(SCENARIOS / CALIBRATED_DIR / "qingchuan.toml") == range(48)


def test_check_calibration_says_it_checks_out_of_sample(wsim: Wsim) -> None:
    result = wsim("check-calibration", "--households-share", "0.02", "--replicates", "1")
    assert result.stdout.count("out of sample: fit on replicates 0-") == len(COUNTIES)
    assert result.stdout.count("checked on 100-100") == len(COUNTIES)


def test_a_check_on_the_fit_s_own_replicates_says_it_is_in_sample() -> None:
    path = SCENARIOS / CALIBRATED_DIR / "pengxi.toml"
    fitted = fitted_replicates(path)
    assert fitted == range(0, 16)
    assert sample_note(fitted, range(100, 116)).startswith("out of sample")
    assert sample_note(fitted, range(15, 31)).startswith("IN SAMPLE")
    assert "--first-replicate 16" in sample_note(fitted, range(0, 8))
    assert sample_note(None, range(0, 8)).startswith("no fit recorded")
