"""The search for the best split of a yearly budget, robust over uncertain parameters.

optuna proposes candidates in batches (ask), every candidate of a batch runs on the
same scenarios and replicates as every other and as the counterfactual (common random
numbers; `experiments.optimisation.evaluation`), and each candidate's score is told
back (tell) in proposal order. The sampler is seeded by the spec's seed, so the same
spec proposes the same candidates given the same scores; as runs are deterministic and
stored, a search that is killed and started again replays its stored runs to exactly
the state it had and goes on from there (`optimise` resumes by itself).

A candidate's score is its gain against the counterfactual in each scenario, combined as
the spec's `[objective] robustness` says: the mean over scenarios, a lower quantile, or
the largest regret (the best hand-designed arm's gain in a scenario less the
candidate's, the candidate minimising its worst shortfall).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.study import StudyDirection

from experiments.optimisation.evaluation import (
    COUNTERFACTUAL,
    Runner,
    RunPlan,
    allocation_shares,
    counterfactual_point,
    hand_points,
    mix_point,
    policy_runs,
    scenario_gains,
    search_plan,
)
from experiments.optimisation.spec import SPENDING, OptimiseSpec
from model.scenario import KeyValue

SHARE = "share_"  # column prefix of an instrument's share of the budget
CANDIDATE = "candidate"  # arm label prefix of a candidate's runs


@dataclass(frozen=True)
class Candidate:
    """A proposed mix: each instrument's share of the budget and the searched settings."""

    number: int
    shares: dict[str, float]
    settings: dict[str, KeyValue]

    @property
    def label(self) -> str:
        """The arm label of its runs."""
        return f"{CANDIDATE}-{self.number}"


@dataclass
class SearchTrace:
    """The search's candidates and scores, in proposal order."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        """One row per candidate (see `record`)."""
        return pd.DataFrame(self.rows)


def propose(trial: optuna.Trial, spec: OptimiseSpec) -> Candidate:
    """The candidate a trial stands for (suggests a weight per instrument and each setting)."""
    instruments = spec.file.budget.instruments
    weights = (
        {name: trial.suggest_float(f"weight.{name}", 0.0, 1.0) for name in instruments}
        if len(instruments) > 1
        else {instruments[0]: 1.0}
    )
    settings: dict[str, KeyValue] = {}
    for s in spec.settings:
        low, high = s.setting.range
        if s.integer:
            settings[s.key] = trial.suggest_int(s.name, round(low), round(high), log=s.setting.log)
        else:
            settings[s.key] = trial.suggest_float(s.name, low, high, log=s.setting.log)
    return Candidate(trial.number, allocation_shares(weights, spec.floors), settings)


def sampler(spec: OptimiseSpec) -> optuna.samplers.BaseSampler:
    """The spec's sampler, seeded by its seed."""
    seed = spec.file.seed
    match spec.file.search.sampler:
        case "random":
            return optuna.samplers.RandomSampler(seed=seed)
        case "nsga2":
            return optuna.samplers.NSGAIISampler(seed=seed)
        case _:
            return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)


def directions(spec: OptimiseSpec) -> list[StudyDirection]:
    """Optuna's directions: the score (regret is minimised), then spending if asked."""
    regret = spec.file.objective.robustness == "regret"
    score = StudyDirection.MINIMIZE if regret else StudyDirection.MAXIMIZE
    return [score, StudyDirection.MINIMIZE] if spec.file.objective.spending else [score]


def ask_and_tell(
    spec: OptimiseSpec, score_batch: Callable[[list[Candidate]], list[list[float]]]
) -> optuna.Study:
    """The search loop: propose a batch, score it together, tell the scores back.

    optuna proposes `[search] batch` candidates; `score_batch` returns one list of
    objective values for each (in `directions` order), told back in proposal order,
    until `[search] evaluations` candidates are scored.
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=directions(spec), sampler=sampler(spec))
    total, batch = spec.file.search.evaluations, spec.file.search.batch
    while len(study.trials) < total:
        trials = [study.ask() for _ in range(min(batch, total - len(study.trials)))]
        candidates = [propose(t, spec) for t in trials]
        for trial, values in zip(trials, score_batch(candidates), strict=True):
            study.tell(trial, values)
    return study


def robust_score(spec: OptimiseSpec, gains: np.ndarray, reference: np.ndarray | None) -> float:
    """The candidate's score from its gain in each scenario (see the module docstring)."""
    objective = spec.file.objective
    if objective.robustness == "quantile":
        return float(np.quantile(gains, objective.quantile))
    if objective.robustness == "regret":
        assert reference is not None  # the spec requires hand arms for regret
        return float(np.max(reference - gains))
    return float(np.mean(gains))


def spec_digest(spec: OptimiseSpec) -> str:
    """SHA-256 of the parsed spec and the resolved base scenario (a resumed search's key)."""
    content = {
        "optimise": spec.file.model_dump(mode="json"),
        "base": spec.base.model_dump(mode="json"),
        "hand": spec.hand.file.model_dump(mode="json") if spec.hand else None,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Search:
    """One search: its runs, the counterfactual's gains reference and the optuna study.

    Args:
        spec: the optimisation spec.
        runner: makes and reads runs (its executor entered).
    """

    def __init__(self, spec: OptimiseSpec, runner: Runner) -> None:
        self.spec, self.runner = spec, runner
        self.plan: RunPlan = search_plan(spec)
        self.trace = SearchTrace()
        counterfactual = policy_runs(COUNTERFACTUAL, counterfactual_point(), self.plan)
        runner.run(counterfactual)
        self.counterfactual = runner.summaries(counterfactual)
        self.reference = self._reference() if spec.file.objective.robustness == "regret" else None

    def gains(self, label: str, policy: dict[str, KeyValue]) -> tuple[np.ndarray, float]:
        """A policy's gain per search scenario and its mean spending per run (yuan)."""
        tasks = policy_runs(label, policy, self.plan)
        self.runner.run(tasks)
        rows = self.runner.summaries(tasks)
        gains = scenario_gains(self.spec, rows, self.counterfactual, self.plan)
        return gains, float(rows[SPENDING].mean())

    def run(self) -> pd.DataFrame:
        """Propose, run and score every candidate; returns the trace (one row each)."""
        ask_and_tell(self.spec, self._score_batch)
        return self.trace.frame()

    def _score_batch(self, candidates: list[Candidate]) -> list[list[float]]:
        """Run a batch of candidates together, then score each."""
        self.runner.run(
            [
                task
                for c in candidates
                for task in policy_runs(
                    c.label, mix_point(self.spec, c.shares, c.settings), self.plan
                )
            ]
        )
        return [self._score(c) for c in candidates]

    def _score(self, candidate: Candidate) -> list[float]:
        point = mix_point(self.spec, candidate.shares, candidate.settings)
        gains, spending = self.gains(candidate.label, point)
        score = robust_score(self.spec, gains, self.reference)
        self.trace.rows.append(self._row(candidate, gains, score, spending))
        return [score, spending] if self.spec.file.objective.spending else [score]

    def _row(
        self, candidate: Candidate, gains: np.ndarray, score: float, spending: float
    ) -> dict[str, Any]:
        return {
            CANDIDATE: candidate.number,
            **{f"{SHARE}{name}": share for name, share in candidate.shares.items()},
            **candidate.settings,
            "score": score,
            "mean_gain": float(np.mean(gains)),
            "spending_yuan": spending,
            **{f"gain_scenario_{s}": float(g) for s, g in enumerate(gains)},
        }

    def _reference(self) -> np.ndarray:
        """The best hand-designed arm's gain in each search scenario (regret's yardstick)."""
        gains = [
            self.gains(f"hand-{label}", point)[0] for label, point in hand_points(self.spec).items()
        ]
        return np.max(np.vstack(gains), axis=0)


def best_so_far(trace: pd.DataFrame, spec: OptimiseSpec) -> pd.Series:
    """The best score among the candidates up to each one (the convergence trace)."""
    if spec.file.objective.robustness == "regret":
        return trace["score"].cummin()
    return trace["score"].cummax()


def pareto_front(trace: pd.DataFrame, spec: OptimiseSpec) -> pd.DataFrame:
    """Candidates no other beats on both score and spending, by spending."""
    better = -1 if spec.file.objective.robustness == "regret" else 1
    score, spending = better * trace["score"].to_numpy(), trace["spending_yuan"].to_numpy()
    dominated = [
        bool(
            np.any(
                (score >= score[i])
                & (spending <= spending[i])
                & ((score > score[i]) | (spending < spending[i]))
            )
        )
        for i in range(len(trace))
    ]
    return trace[~np.array(dominated, dtype=bool)].sort_values("spending_yuan")


def chosen(trace: pd.DataFrame, spec: OptimiseSpec) -> pd.Series:
    """The chosen candidate: the best score (the front's best score with spending)."""
    rows = pareto_front(trace, spec) if spec.file.objective.spending else trace
    scores = rows["score"].to_numpy()
    regret = spec.file.objective.robustness == "regret"
    best = int(np.argmin(scores) if regret else np.argmax(scores))
    return rows.iloc[best]


@dataclass(frozen=True)
class OptimisationResult:
    """What a search found.

    Attributes:
        trace: one row per candidate: shares, settings, score, mean gain, spending, and
            the gain in each search scenario.
        convergence: candidate and the best score up to it.
        chosen: the chosen candidate's row of `trace`.
        pareto: the candidates on the front of score against spending (empty unless
            spending is an objective).
        check: the out-of-sample check, one row per policy (empty without `[check]`).
        difference: the chosen mix less the best hand-designed arm out of sample.
        robustness: how scores combine scenarios, in words.
        directory: where the tables and figures were written.
    """

    trace: pd.DataFrame
    convergence: pd.DataFrame
    chosen: pd.Series
    pareto: pd.DataFrame
    check: pd.DataFrame
    difference: pd.DataFrame
    robustness: str
    directory: Path
