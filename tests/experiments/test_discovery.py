"""Scenario discovery (`wsim discover`, `experiments.discover`): a planted failure region
is found by PRIM and CART, the real model end to end on a tiny Latin-hypercube sweep
(per-point paired effects checked against the stored summary), bad inputs, the report's
section, and the uncertainty spec and its no-policy counterfactual."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from experiment_helpers import ROOT, TINY, Wsim
from scipy.stats import qmc
from sweep_helpers import sweep_serial

import experiments
from experiments.discovery import (
    DISCOVERY_DIR,
    FAILS,
    RESULT_FILE,
    Discovery,
    DiscoveryError,
    Failure,
    choose_box,
    discover_points,
)
from experiments.provenance import VERSION_KEY
from experiments.report import write_report
from experiments.sweep.spec import load_spec
from model.scenario import Instrument, apply_reforms, load_scenario

SPECS = ROOT / "experiments" / "specs"
NO_POLICY = SPECS / "bases" / "default_no_policy.toml"
PARAMETERS = ["a", "b", "c", "d", "e"]
PLANTED = {"a": (0.2, 0.5), "c": (0.4, 0.8)}  # fails inside, on two of five parameters
LIMIT_TOLERANCE = 0.05  # of the unit range: PRIM peels 5% slices of the points
FIGURES = ("prim_trajectory", "prim_box_limits", "failures_scatter", "feature_scores")
TABLES = ("points", "trajectory", "box_limits", "cart_leaves", "feature_scores", "parameters")
OUTCOME = "poor_household_months"
EFFECT = OUTCOME + "_difference"
VS = "policy=off"


def planted_points(points: int = 1000, seed: int = 3) -> pd.DataFrame:
    """A Latin hypercube on the unit cube: ``net_exits`` 0 inside `PLANTED`, 10 outside."""
    unit = qmc.LatinHypercube(d=len(PARAMETERS), rng=np.random.default_rng(seed)).random(points)
    table = pd.DataFrame(unit, columns=PARAMETERS)
    inside = np.ones(points, dtype=bool)
    for name, (low, high) in PLANTED.items():
        inside &= (table[name] > low) & (table[name] < high)
    return table.assign(point=np.arange(points), net_exits=np.where(inside, 0.0, 10.0))


def unit_parameters() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "parameter": PARAMETERS,
            "key": [f"test.{p}" for p in PARAMETERS],
            "unit": "share",
            "range_low": 0.0,
            "range_high": 1.0,
        }
    )


@pytest.fixture(scope="module")
def planted() -> Discovery:
    """The planted failure's box, chosen among boxes 95% dense (tight enough to compare limits)."""
    return discover_points(
        planted_points(),
        unit_parameters(),
        Failure("net_exits", "below", 5.0),
        min_density=0.95,
        seed=1,
    )


def test_the_default_box_covers_and_is_dense_on_the_planted_failure() -> None:
    found = discover_points(
        planted_points(), unit_parameters(), Failure("net_exits", "below", 5.0), seed=1
    )
    assert found.coverage >= 0.8 and found.density >= 0.8
    restricted = found.box_limits.set_index("parameter")["restricted"]
    assert set(restricted.index[restricted]) == set(PLANTED)


def test_prim_recovers_the_planted_box(planted: Discovery) -> None:
    assert planted.points[FAILS].sum() == pytest.approx(1000 * 0.3 * 0.4, rel=0.1)
    assert planted.coverage >= 0.9 and planted.density >= 0.95
    limits = planted.box_limits.set_index("parameter")
    assert set(limits.index[limits["restricted"]]) == set(PLANTED)
    for name, (low, high) in PLANTED.items():
        assert limits.loc[name, "box_low"] == pytest.approx(low, abs=LIMIT_TOLERANCE)
        assert limits.loc[name, "box_high"] == pytest.approx(high, abs=LIMIT_TOLERANCE)
        assert limits.loc[name, ["qp_low", "qp_high"]].max() < 1e-6  # every limit matters
    free = limits.loc[[p for p in PARAMETERS if p not in PLANTED]]
    assert free[["qp_low", "qp_high"]].isna().all().all()
    assert (free["box_low"] == free["range_low"]).all()
    assert (free["box_high"] == free["range_high"]).all()


def test_cart_and_the_feature_scores_point_at_the_planted_parameters(planted: Discovery) -> None:
    leaves = planted.cart_leaves
    assert leaves["coverage"].sum() >= 0.8 and (leaves["density"] >= 0.8).all()
    named = set(re.findall(r"[a-e](?= [<>])", " ".join(leaves["rule"])))
    assert named == set(PLANTED)
    assert set(planted.feature_scores["parameter"][:2]) == set(PLANTED)
    assert planted.feature_scores["score"].sum() == pytest.approx(1.0)
    assert "class: fails" in planted.cart_rules


def test_the_chosen_box_is_the_first_dense_one_unless_a_box_is_asked_for() -> None:
    trajectory = pd.DataFrame({"density": [0.2, 0.5, 0.85, 0.9, 0.7]})
    assert choose_box(trajectory, 0.8) == 2  # the most coverage among boxes dense enough
    assert choose_box(trajectory, 0.95) == 3  # none dense enough: the densest
    assert choose_box(trajectory, 0.8, box=1) == 1
    with pytest.raises(
        DiscoveryError, match=r"box: expected a box of the peeling trajectory, 0 to 4"
    ):
        choose_box(trajectory, 0.8, box=5)


def test_above_fails_the_other_side_and_no_crossing_is_an_error() -> None:
    points = planted_points(200)
    above = discover_points(points, unit_parameters(), Failure("net_exits", "above", 5.0))
    assert (above.points[FAILS] == (points["net_exits"] > 5)).all()
    for failure, words in [
        (Failure("net_exits", "below", -1.0), "no point has net_exits of baseline below -1"),
        (Failure("net_exits", "below", 11.0), "every point has net_exits of baseline below 11"),
    ]:
        with pytest.raises(DiscoveryError, match=words + r" .*: nothing to discover"):
            discover_points(points, unit_parameters(), failure)


# ---------------------------------------------------------------------------- real model


def tiny_spec(directory: Path) -> Path:
    """30 Latin-hypercube points x (default policy, no policy) x 1 replicate, 200 x 12."""
    path = directory / "uncertain.toml"
    path.write_text(
        f'base = "{TINY.as_posix()}"\nseed = 3\n'
        "[run]\nhouseholds = 200\nmonths = 12\n"
        f'[levers.policy]\nreforms = {{ off = "{NO_POLICY.as_posix()}" }}\n'
        '[uncertainties.factory_orders]\nkey = "workshops.factory.orders.mean_load"\n'
        "range = [0.5, 1.1]\n"
        '[uncertainties.outwork_orders]\nkey = "workshops.outwork.orders.mean_load"\n'
        "range = [0.4, 1.0]\n"
        '[uncertainties.income_weight]\nkey = "choice.utility_per_1000_yuan"\n'
        'range = [1.5, 6.0]\ndistribution = "loguniform"\n'
        '[design]\nmethod = "latin_hypercube"\nsamples = 30\n'
        "[replicates]\ncount = 1\n"
        '[outputs]\nmonthly = ["headcount"]\n'
        f'outcomes = ["net_exits", "{OUTCOME}", "headcount"]\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def uncertain_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("discovery")
    folder = directory / "sweep"
    sweep_serial(load_spec(tiny_spec(directory)), folder)
    return folder


def stored_effects(folder: Path) -> pd.DataFrame:
    """Each point's default-policy run minus its no-policy run, read from the parquet parts."""
    runs = pd.read_parquet(folder / "runs")
    summary = pd.read_parquet(folder / "summary")
    values = runs[runs["status"] == "done"].merge(summary, on="run_id")
    keys = [
        "workshops.factory.orders.mean_load",
        "workshops.outwork.orders.mean_load",
        "choice.utility_per_1000_yuan",
    ]
    default = values[values["arm"] == "baseline"].set_index(keys)[OUTCOME]
    none = values[values["arm"] == VS].set_index(keys)[OUTCOME]
    return (default - none).rename("effect").reset_index()


def middle_threshold(values: pd.Series) -> float:
    """A threshold with points on both sides: between the two middle distinct values."""
    distinct = np.unique(values)
    assert len(distinct) >= 2, "the tiny sweep's effects do not vary"
    middle = len(distinct) // 2
    return float((distinct[middle - 1] + distinct[middle]) / 2)


def test_discover_end_to_end_on_the_paired_effect(uncertain_sweep: Path, wsim: Wsim) -> None:
    expected = stored_effects(uncertain_sweep)
    threshold = middle_threshold(expected["effect"])
    result = wsim(
        "discover", uncertain_sweep, "--outcome", OUTCOME, "--effect-vs", VS,
        "--below", str(threshold),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    folder = uncertain_sweep / DISCOVERY_DIR / f"{OUTCOME}_below_{threshold:g}_effect_vs_{VS}"
    assert f"discovery written to {folder}/" in result.stdout
    assert "chosen box" in result.stdout and "coverage" in result.stdout
    for name in TABLES:
        assert (folder / f"{name}.csv").is_file(), name
    for figure in FIGURES:
        assert all((folder / "plots" / f"{figure}{s}").is_file() for s in (".png", ".csv"))
    points = pd.read_csv(folder / "points.csv")
    assert len(points) == 30 and (points["replicates"] == 1).all()
    merged = points.merge(
        expected,
        left_on=["factory_orders", "outwork_orders", "income_weight"],
        right_on=[
            "workshops.factory.orders.mean_load",
            "workshops.outwork.orders.mean_load",
            "choice.utility_per_1000_yuan",
        ],
    )
    assert len(merged) == 30
    np.testing.assert_array_equal(merged[EFFECT], merged["effect"])
    assert (merged[FAILS] == (merged["effect"] < threshold)).all()
    summary = json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))
    assert summary["failure"]["effect_vs"] == VS
    assert summary["failing_points"] == int((expected["effect"] < threshold).sum())


def test_the_python_interface_gives_the_same_points(uncertain_sweep: Path) -> None:
    expected = stored_effects(uncertain_sweep)
    threshold = middle_threshold(expected["effect"])
    found = experiments.discover(uncertain_sweep, OUTCOME, above=threshold, effect_vs=VS)
    assert found.points[FAILS].sum() == (expected["effect"] > threshold).sum()
    level = experiments.discover(
        uncertain_sweep, "net_exits", below=middle_threshold(_levels(uncertain_sweep)), box=0
    )
    assert level.chosen_box == 0 and level.coverage == 1.0
    assert "net_exits" in level.points.columns and level.failure.effect_vs is None


def _levels(folder: Path) -> pd.Series:
    found = experiments.load(folder, "sweep", panel=False)
    values = found.runs.merge(found.summary, on="run_id")
    return values.loc[values["arm"] == "baseline", "net_exits"]


def test_the_sweep_report_gains_a_scenario_discovery_section(uncertain_sweep: Path) -> None:
    threshold = middle_threshold(stored_effects(uncertain_sweep)["effect"])
    folder = uncertain_sweep / DISCOVERY_DIR / "report_check"
    experiments.discover(uncertain_sweep, OUTCOME, below=threshold, effect_vs=VS).save(folder)
    page = write_report(uncertain_sweep).read_text(encoding="utf-8")
    assert "<h2>Scenario discovery</h2>" in page
    assert f"{OUTCOME} of baseline minus {VS} below {threshold:g}" in page
    assert "discovery/report_check/plots/prim_trajectory.png" in page


BAD_INPUTS = [  # options after --outcome, and what the one error line says
    (
        "net_exit --below 0",
        [
            "--outcome: expected one of the spec's outcomes, got 'net_exit'",
            "did you mean 'net_exits'",
            "known: net_exits, poor_household_months, headcount",
        ],
    ),
    (
        f"net_exits --below 0 --effect-vs {VS[:-1]}",
        [
            f"--effect-vs: expected one of the sweep's arms, got '{VS[:-1]}'",
            f"known: baseline, {VS}",
        ],
    ),
    ("net_exits --below 0 --arm nope", ["--arm: expected one of the sweep's arms"]),
    ("net_exits --below 0 --above 1", ["--below/--above: expected exactly one of them, got both"]),
    ("net_exits", ["--below/--above: expected exactly one of them, got neither"]),
    ("net_exits --below nan", ["--below: expected a finite number, got nan"]),
    ("net_exits --above inf", ["--above: expected a finite number, got inf"]),
    (
        "net_exits --below -1e9",
        ["no point has net_exits of baseline below -1e+09", "nothing to discover"],
    ),
    (
        f"net_exits --above -1e9 --effect-vs {VS}",
        [f"every point has net_exits of baseline minus {VS} above -1e+09", "nothing to discover"],
    ),
    ("net_exits --below 0 --min-density 1.5", ["--min-density: expected a share in (0, 1]"]),
    ("net_exits --below 0 --effect-vs baseline", ["--effect-vs: expected another arm than"]),
    ("net_exits --below 0 --box -1", ["--box: expected a box index >= 0, got -1"]),
]


@pytest.mark.parametrize(("options", "fragments"), BAD_INPUTS)
def test_bad_input_is_one_error_and_writes_nothing(
    uncertain_sweep: Path, wsim: Wsim, options: str, fragments: list[str]
) -> None:
    before = sorted(uncertain_sweep.rglob("*"))
    result = wsim("discover", uncertain_sweep, "--outcome", *options.split())
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert all(fragment in lines[0] for fragment in fragments), lines[0]
    assert sorted(uncertain_sweep.rglob("*")) == before


def test_a_box_off_the_trajectory_is_one_error(uncertain_sweep: Path, wsim: Wsim) -> None:
    threshold = middle_threshold(stored_effects(uncertain_sweep)["effect"])
    before = sorted(uncertain_sweep.rglob("*"))
    options = ["--effect-vs", VS, "--below", str(threshold), "--box", "500"]
    result = wsim("discover", uncertain_sweep, "--outcome", OUTCOME, *options)
    assert result.exit_code == 1
    assert re.fullmatch(
        r"error: --box: expected a box of the peeling trajectory, 0 to \d+, got 500\n",
        result.stderr,
    ), result.stderr
    assert sorted(uncertain_sweep.rglob("*")) == before


def test_a_folder_that_is_not_a_sweep_is_refused(tmp_path: Path, wsim: Wsim) -> None:
    empty, run = tmp_path / "empty", tmp_path / "run"
    empty.mkdir()
    run.mkdir()
    manifest = {VERSION_KEY: "0", "scenario_name": "default"}  # what tells a run folder
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    for folder, found in [(empty, "a results folder"), (run, "a sweep folder")]:
        before = sorted(folder.iterdir())
        result = wsim("discover", folder, "--outcome", "net_exits", "--below", "0")
        assert result.exit_code == 1
        assert result.stderr.startswith(f"error: {folder}: expected {found}"), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert sorted(folder.iterdir()) == before
    with pytest.raises(experiments.ResultsError, match="found a run folder"):
        experiments.discover(run, "net_exits", below=0)


def test_an_output_folder_of_other_files_is_refused(uncertain_sweep: Path, wsim: Wsim) -> None:
    threshold = middle_threshold(stored_effects(uncertain_sweep)["effect"])
    occupied = uncertain_sweep.parent / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine", encoding="utf-8")
    result = wsim(
        "discover", uncertain_sweep, "--outcome", OUTCOME, "--effect-vs", VS,
        "--below", str(threshold), "--out", occupied,
    )  # fmt: skip
    assert result.exit_code == 1 and "holds other files" in result.stderr
    assert [p.name for p in occupied.iterdir()] == ["notes.txt"]


def test_importing_discovery_leaves_ema_and_sklearn_unloaded() -> None:
    code = (
        "import sys, experiments.discovery; "
        "print(sorted({'ema_workbench', 'sklearn'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# ---------------------------------------------------------------------------- the spec


def test_the_uncertainty_spec_validates_and_every_range_has_a_reason() -> None:
    spec = load_spec(SPECS / "uncertainty.toml")
    assert spec.file.design.method == "latin_hypercube"
    assert [lever.levels for lever in spec.levers] == [("off",)]
    assert len(spec.uncertainties) >= 10
    for u in spec.uncertainties:
        value = spec.base.number(u.column)  # the key exists and holds a number
        assert u.spec.range[0] <= value <= u.spec.range[1], u.name  # the default is inside
    ranges = [line for line in spec.text.splitlines() if line.startswith("range =")]
    assert len(ranges) == len(spec.uncertainties)
    assert all(re.search(r"# (assumption|source):", line) for line in ranges), ranges
    assert re.search(r"measured \d+ min \d+ s on 2 workers", spec.text)


def test_no_policy_switches_every_instrument_and_the_quota_off() -> None:
    default = load_scenario(ROOT / "scenarios" / "default.toml")
    off = apply_reforms(default, [NO_POLICY])
    blocks = {
        name: getattr(off.policy, name)
        for name in type(off.policy).model_fields
        if isinstance(getattr(off.policy, name), Instrument)
    }
    assert "certification" in blocks and len(blocks) == 11
    assert not any(block.enabled for block in blocks.values())
    assert any(getattr(default.policy, name).enabled for name in blocks)
    assert off.policy.budget_yuan_per_year == 0
    assert off.workshops == default.workshops  # the county keeps its firms
