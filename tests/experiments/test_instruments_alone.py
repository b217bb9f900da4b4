"""The "each instrument alone" design: one arm per instrument against none, analysed into
cost-effectiveness and rankings with one row per instrument."""

from __future__ import annotations

import pandas as pd
import pytest
from experiment_helpers import ROOT
from sweep_helpers import sweep_serial

from experiments.analysis.effects import GAINS, analyze
from experiments.sweep.design import sample
from experiments.sweep.seeding import ARM, BASELINE
from experiments.sweep.spec import load_spec
from model.scenario import INSTRUMENTS

SPEC = ROOT / "experiments" / "specs" / "instruments_alone.toml"
TINY_RUN = {"households = 20000": "households = 1000", "months = 48": "months = 3"}
TINY_REPLICATES = ("count = 20", "count = 2")


def test_the_spec_switches_each_instrument_on_alone_against_none() -> None:
    spec = load_spec(SPEC)
    policy = spec.base.policy
    assert not any(getattr(policy, name).enabled for name in INSTRUMENTS)
    design = sample(spec, spec.seed)
    assert design[ARM].tolist() == [BASELINE, *(f"{name}=True" for name in INSTRUMENTS)]
    switched_on = design.drop(columns=ARM).sum(axis=1).tolist()
    assert switched_on == [0] + [1] * len(INSTRUMENTS)  # none, then one at a time


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """The spec at 1,000 households, 3 months and 2 replicates, run and analysed."""
    text = SPEC.read_text(encoding="utf-8")
    for full, tiny in (*TINY_RUN.items(), TINY_REPLICATES):
        assert full in text
        text = text.replace(full, tiny)
    spec = load_spec(SPEC, text)  # relative paths resolve from the real spec's folder
    data = sweep_serial(spec, tmp_path_factory.mktemp("instruments_alone") / "sweep")
    return analyze(spec, data)


def test_a_tiny_run_analyses_into_one_row_per_instrument(tables: dict[str, pd.DataFrame]) -> None:
    arms = [f"{name}=True" for name in INSTRUMENTS]
    cost = tables["cost_effectiveness"]
    assert set(cost["outcome"]) == set(GAINS)
    for _, per_gain in cost.groupby("outcome"):
        assert per_gain[ARM].tolist() == arms
        assert (per_gain["n"] == 2).all()
    ranking = tables["ranking"]
    for _, criterion in ranking.groupby(["outcome", "by"]):
        assert sorted(criterion[ARM]) == sorted(arms)
        ranked = criterion["rank"] > 0
        assert criterion.loc[ranked, "share_first"].between(0, 1).all()
    spent = tables["instruments"].set_index([ARM, "instrument"])["extra_yuan"]
    for name in INSTRUMENTS:  # an arm spends on its own instrument only
        others = spent.loc[f"{name}=True"].drop(name)
        assert (others == 0).all(), name
