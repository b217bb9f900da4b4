"""`wsim optimise`: the budget split found on a planted optimum, on the real model out of
sample, resumed after kill -9 to the same result, and refusing bad specs."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from experiment_helpers import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.executors import Processes
from experiments.optimisation.check import MIX
from experiments.optimisation.evaluation import allocation_shares
from experiments.optimisation.run import optimise
from experiments.optimisation.search import (
    Candidate,
    OptimisationResult,
    ask_and_tell,
    pareto_front,
    robust_score,
)
from experiments.optimisation.spec import OptimiseSpec, load_optimise_spec
from experiments.sweep.store import MANIFEST

SPECS = ROOT / "experiments" / "specs"
EVALUATIONS = 6
SMALL = f"""
name = "small_mix"
base = "{ROOT / "scenarios" / "default.toml"}"
seed = 5

[run]
households = 300
months = 12

[budget]
instruments = ["wage_subsidy", "training", "equity"]

[settings.wage_subsidy_share]
key = "policy.wage_subsidy.share_of_poor_wage_bill"
range = [0.1, 0.5]

[uncertainties.revision_rate]
key = "choice.revision_rate_per_month"
range = [0.05, 0.20]

[evaluation]
scenarios = 2
replicates = 1

[search]
evaluations = {EVALUATIONS}
batch = 3

[check]
hand_arms = "{SPECS / "policy_mix.toml"}"
scenarios = 3
"""
PLANTED = {"wage_subsidy": 0.6, "training": 0.3, "equity": 0.1}  # shares of the optimum
PLANTED_SETTING = 0.25  # the optimum's wage-subsidy share of the poor wage bill
KILL_TIMEOUT_S = 180


def write(directory: Path, text: str = SMALL, name: str = "small_mix.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("spec"))


@pytest.fixture(scope="module")
def whole(spec_path: Path, tmp_path_factory: pytest.TempPathFactory) -> OptimisationResult:
    """The small search run once without interruption."""
    return optimise(spec_path, tmp_path_factory.mktemp("whole") / "search")


def with_search(spec: OptimiseSpec, **search: object) -> OptimiseSpec:
    block = spec.file.search.model_copy(update=search)
    return replace(spec, file=spec.file.model_copy(update={"search": block}))


def with_objective(spec: OptimiseSpec, **objective: object) -> OptimiseSpec:
    block = spec.file.objective.model_copy(update=objective)
    return replace(spec, file=spec.file.model_copy(update={"objective": block}))


# ------------------------------------------------------------------ planted truth


def planted_scores(candidates: list[Candidate]) -> list[list[float]]:
    """Minus the squared distance from the planted optimum (shares and setting)."""
    scores = []
    for c in candidates:
        setting = float(c.settings["policy.wage_subsidy.share_of_poor_wage_bill"])
        distance = sum((c.shares[k] - v) ** 2 for k, v in PLANTED.items())
        scores.append([-(distance + (setting - PLANTED_SETTING) ** 2)])
    return scores


def test_the_search_finds_a_planted_optimum(spec_path: Path) -> None:
    spec = with_search(load_optimise_spec(spec_path), evaluations=60, batch=4)
    study = ask_and_tell(spec, planted_scores)
    assert len(study.trials) == 60
    assert -study.best_value < 0.05**2  # within 0.05 of the optimum (Euclidean)
    random = ask_and_tell(with_search(spec, sampler="random"), planted_scores)
    assert study.best_value > random.best_value  # TPE beats random search on it


def test_the_same_spec_proposes_the_same_candidates(spec_path: Path) -> None:
    spec = with_search(load_optimise_spec(spec_path), evaluations=8)
    first = [t.params for t in ask_and_tell(spec, planted_scores).trials]
    again = [t.params for t in ask_and_tell(spec, planted_scores).trials]
    assert first == again


# ------------------------------------------------------------------ parts


@settings(max_examples=100, deadline=None)
@given(
    weights=st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3),
    floors=st.lists(st.floats(0.0, 0.3), min_size=3, max_size=3),
)
def test_shares_respect_floors_and_never_exceed_the_budget(weights, floors) -> None:
    names = ["wage_subsidy", "training", "equity"]
    shares = allocation_shares(
        dict(zip(names, weights, strict=True)), dict(zip(names, floors, strict=True))
    )
    assert sum(shares.values()) <= 1.0
    assert all(shares[n] >= f - 1e-6 for n, f in zip(names, floors, strict=True))
    assert sum(shares.values()) >= 1.0 - 1e-5  # the whole budget is split


def test_robust_scores_combine_scenarios_as_named(spec_path: Path) -> None:
    spec = load_optimise_spec(spec_path)
    gains, reference = np.array([4.0, -2.0, 10.0, 0.0]), np.array([5.0, 1.0, 6.0, 2.0])
    assert robust_score(spec, gains, None) == pytest.approx(3.0)
    quantile = with_objective(spec, robustness="quantile", quantile=0.25)
    assert robust_score(quantile, gains, None) == pytest.approx(np.quantile(gains, 0.25))
    regret = with_objective(spec, robustness="regret")
    assert robust_score(regret, gains, reference) == pytest.approx(3.0)  # 1 - (-2)


def test_the_pareto_front_keeps_only_undominated_candidates(spec_path: Path) -> None:
    spec = load_optimise_spec(spec_path)
    trace = pd.DataFrame(
        {
            "candidate": [0, 1, 2, 3, 4],
            "score": [5.0, 7.0, 6.0, 7.0, 1.0],
            "spending_yuan": [100.0, 300.0, 300.0, 200.0, 50.0],
        }
    )
    front = pareto_front(trace, spec)
    assert front["candidate"].tolist() == [4, 0, 3]  # 1 and 2 cost more for no more


# ------------------------------------------------------------------ the real model


def test_the_search_runs_every_candidate_and_checks_out_of_sample(
    whole: OptimisationResult,
) -> None:
    trace = whole.trace
    assert len(trace) == EVALUATIONS
    shares = trace.filter(regex="^share_")
    assert (shares.sum(axis=1) <= 1.0).all() and (shares.sum(axis=1) > 0.999).all()
    assert whole.chosen["score"] == trace["score"].max()
    assert (whole.convergence["best_score"].diff().dropna() >= 0).all()
    check = whole.check.set_index("policy")
    assert MIX in check.index and "hand: default policy" in check.index
    assert (check["ci_low"] <= check["gain"]).all() and (check["gain"] <= check["ci_high"]).all()
    # not worse than the best hand-designed arm on runs the search never saw
    assert whole.difference.loc[0, "verdict"] in ("better", "unclear"), whole.difference
    written = {p.name for p in whole.directory.iterdir()}
    assert {"trace.csv", "check.csv", "convergence.csv", "plots"} <= written
    plots = {p.name for p in (whole.directory / "plots").iterdir()}
    assert {"convergence.png", "convergence.csv", "check.png", "check.csv"} <= plots


def test_the_check_runs_on_replicates_the_search_never_used(whole: OptimisationResult) -> None:
    runs = pd.read_parquet(whole.directory.parent / "runs")
    search = runs[runs["arm"].str.startswith("candidate")]["replicate"]
    check = runs[runs["arm"].str.startswith("optimised") | runs["arm"].str.startswith("hand: ")]
    assert set(search) == {0, 1}
    assert check["replicate"].min() >= 1000


def test_a_finished_search_replays_without_new_runs(
    whole: OptimisationResult, spec_path: Path
) -> None:
    before = len(pd.read_parquet(whole.directory.parent / "runs"))
    again = optimise(spec_path, whole.directory.parent)
    assert len(pd.read_parquet(whole.directory.parent / "runs")) == before
    pd.testing.assert_frame_equal(again.trace, whole.trace)


def test_a_search_killed_mid_run_resumes_to_the_same_result(
    whole: OptimisationResult, spec_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "search"
    driver = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from fault_injection import arm; arm('before_runs_part', 4); "
        "from experiments.cli.main import app; "
        "app(['optimise', sys.argv[2], '--out', sys.argv[3], '--workers', '1'])"
    )
    here = str(Path(__file__).parent)
    process = subprocess.Popen(
        [sys.executable, "-c", driver, here, str(spec_path), str(out)],
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        process.wait(timeout=KILL_TIMEOUT_S)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == -signal.SIGKILL
    assert (out / MANIFEST).exists() and not (out / "optimisation").exists()
    resumed = optimise(spec_path, out)
    pd.testing.assert_frame_equal(resumed.trace, whole.trace)
    pd.testing.assert_frame_equal(resumed.check, whole.check)


# ------------------------------------------------------------------ bad input


BAD_SPECS = [
    (
        'instruments = ["wage_subsidy", "training", "equity"]',
        'instruments = ["wage_subsidy", "training", "equity"]\n'
        "[budget.minimum_yuan_per_year]\nequity = 9000000.0",
        "budget.minimum_yuan_per_year",
        "infeasible budget",
    ),
    (
        "[evaluation]",
        '[objective]\noutcome = "happiness"\n[evaluation]',
        "objective.outcome",
        "happiness",
    ),
    ("range = [0.1, 0.5]", "range = [0.5, 0.5]", "settings.wage_subsidy_share.range", "low < high"),
    ("range = [0.1, 0.5]", "range = [0.1, inf]", "settings.wage_subsidy_share.range.1", "finite"),
    ("range = [0.1, 0.5]", "range = [nan, 0.5]", "settings.wage_subsidy_share.range.0", "finite"),
    ('"training", "equity"]', '"training", "pensions"]', "budget.instruments.2", "pensions"),
    (
        "[evaluation]",
        '[objective]\nrobustness = "regret"\n[evaluation]',
        "objective.robustness",
        "hand-designed arms",
    ),
    ("range = [0.1, 0.5]", "range = [0.1, 1.5]", "settings.wage_subsidy_share.range", "less than"),
]


@pytest.mark.parametrize(("old", "new", "key", "expected"), BAD_SPECS)
def test_bad_specs_are_refused_naming_file_and_key(wsim, tmp_path, old, new, key, expected) -> None:
    text = SMALL.replace(old, new, 1)
    if "[check]" in new or "regret" in new:
        text = text[: text.index("[check]")]
    assert text != SMALL
    path = write(tmp_path, text, "bad.toml")
    out = tmp_path / "out"
    result = wsim("optimise", path, "--out", out)
    assert result.exit_code == 1, result.output
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: {path}: {key}:") and expected in line, line
    assert not out.exists()


def test_an_unknown_outcome_lists_the_known_ones(spec_path: Path, tmp_path: Path) -> None:
    text = SMALL.replace("[evaluation]", '[objective]\noutcome = "net_exit"\n[evaluation]', 1)
    with pytest.raises(ValueError, match="did you mean 'net_exits'"):
        load_optimise_spec(write(tmp_path, text, "typo.toml"))


def test_the_shipped_spec_validates() -> None:
    spec = load_optimise_spec(SPECS / "budget_mix.toml")
    assert spec.hand is not None and spec.yuan_per_year == spec.base.policy.budget_yuan_per_year


def test_the_report_of_a_search_shows_the_check_and_the_chosen_split(
    whole: OptimisationResult, wsim
) -> None:
    directory = whole.directory.parent
    result = wsim("report", directory)
    assert result.exit_code == 0, result.output
    page = (directory / "report.html").read_text(encoding="utf-8")
    assert "Out of sample" in page and "The chosen split" in page
    assert page.count("<img") == len(list((whole.directory / "plots").glob("*.png")))
    assert whole.difference.loc[0, "verdict"] in page


def test_with_spending_the_front_is_optunas_pareto_front(spec_path: Path) -> None:
    spec = with_objective(
        with_search(load_optimise_spec(spec_path), evaluations=24, sampler="nsga2"), spending=True
    )

    def score_and_cost(candidates: list[Candidate]) -> list[list[float]]:
        return [
            [score, 100.0 * c.shares["wage_subsidy"] + 10.0 * c.shares["training"]]
            for c, (score,) in zip(candidates, planted_scores(candidates), strict=True)
        ]

    study = ask_and_tell(spec, score_and_cost)
    trace = pd.DataFrame(
        {
            "candidate": [t.number for t in study.trials],
            "score": [t.values[0] for t in study.trials],
            "spending_yuan": [t.values[1] for t in study.trials],
        }
    )
    front = set(pareto_front(trace, spec)["candidate"])
    assert front == {t.number for t in study.best_trials}


def test_two_worker_processes_find_the_same_candidates_and_scores(
    whole: OptimisationResult, spec_path: Path, tmp_path: Path
) -> None:
    parallel = optimise(spec_path, tmp_path / "search", Processes(2))
    pd.testing.assert_frame_equal(parallel.trace, whole.trace)
    pd.testing.assert_frame_equal(parallel.check, whole.check)
