"""Analysis: CIs that cover known effects, Wilson by hand, cost per exit, and Sobol/Morris
indices that rank the inputs of a known linear model run through the sweep machinery."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sweep_helpers import FACTORIAL, UNCERTAIN, spec_of, sweep_serial

from experiments.analysis import effects as analysis
from experiments.sweep import runs
from experiments.sweep.seeding import ARM, BASELINE
from experiments.sweep.spec import Spec
from experiments.sweep.store import SweepData
from model.scenario import Scenario
from model.simulate import RunResult, simulate

WEIGHT, REVISION, LIVING = (
    "choice.utility_per_1000_yuan",
    "choice.revision_rate_per_month",
    "incomes.migrant_living_cost_share",
)


def synthetic_values(effect: float, rng: np.random.Generator, n: int = 12) -> pd.DataFrame:
    """Baseline and one arm over `n` replicates sharing a replicate effect (CRN-like)."""
    shared = rng.normal(100.0, 20.0, n)
    rows = [
        {
            ARM: arm,
            "replicate": r,
            "net_exits": shared[r] + shift + rng.normal(0, 1.0),
            "total_spending_yuan": 5000.0 + 1000.0 * shift,
        }
        for arm, shift in ((BASELINE, 0.0), ("more", effect))
        for r in range(n)
    ]
    return pd.DataFrame(rows)


def test_paired_t_ci_covers_a_known_effect_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(1)
    covered, narrower = [], []
    for _ in range(400):
        table = analysis.effects(
            analysis.pairs(synthetic_values(5.0, rng), ["replicate"]), ["net_exits"]
        ).iloc[0]
        covered.append(table["ci_low"] <= 5.0 <= table["ci_high"])
        narrower.append((table["ci_high"] - table["ci_low"]) / 2 < table["half_width_unpaired"])
    assert 0.92 <= np.mean(covered) <= 0.98
    assert all(narrower)


def test_effects_are_paired_by_replicate() -> None:
    values = synthetic_values(3.0, np.random.default_rng(2)).sample(frac=1.0, random_state=3)
    row = analysis.effects(analysis.pairs(values, ["replicate"]), ["net_exits"]).iloc[0]
    assert row["n"] == 12 and row["arm"] == "more"
    assert row["difference"] == pytest.approx(3.0, abs=1.0)
    assert row["ci_high"] - row["ci_low"] < 2.5  # replicate noise (sd 20) cancels in pairs


def test_wilson_interval_matches_a_hand_computation() -> None:
    # 8 of 20 at 95% (z = 1.959964): centre (0.4 + z²/40) / (1 + z²/20) = 0.416113,
    # half z * sqrt(0.24/20 + z²/1600) / (1 + z²/20) = 0.197306.
    low, high = analysis.wilson_interval(8, 20)
    assert (low, high) == pytest.approx((0.218807, 0.613419), abs=1e-6)
    assert analysis.wilson_interval(0, 10)[0] == pytest.approx(0.0, abs=1e-12)


def test_cost_per_exit_is_extra_spending_over_extra_exits() -> None:
    paired = analysis.pairs(synthetic_values(4.0, np.random.default_rng(4)), ["replicate"])
    table = analysis.cost_per_exit(paired, np.random.default_rng(5)).iloc[0]
    exits = (paired["net_exits"] - paired["net_exits_baseline"]).mean()
    assert table["extra_spending_yuan"] == pytest.approx(4000.0)
    assert table["yuan_per_extra_net_exit"] == pytest.approx(4000.0 / exits)
    assert table["ci_low"] < 4000.0 / exits < table["ci_high"]
    again = analysis.cost_per_exit(paired, np.random.default_rng(5)).iloc[0]
    assert (again["ci_low"], again["ci_high"]) == (table["ci_low"], table["ci_high"])


def test_sweep_analysis_has_effects_rates_costs_and_instruments(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, FACTORIAL)
    tables = analysis.analyze(spec, sweep_serial(spec, tmp_path / "sweep"))
    assert list(tables) == ["rates", "effects", "cost_per_exit", "instruments"]
    arms = ["training=False", "wage=0.6", "wage=0.6,training=False"]  # design order
    assert tables["effects"][ARM].unique().tolist() == arms
    assert set(tables["effects"]["outcome"]) == {
        "headcount",
        "net_exits",
        "gross_exits",
        "income_per_capita",
        "total_spending_yuan",
    }
    assert (tables["effects"]["n"] == 2).all()
    rates = tables["rates"]
    assert (rates["of"] == 400 * 2).all() and rates["share"].between(0, 1).all()
    shares = tables["instruments"].groupby(ARM)["share"].sum()
    assert np.allclose(shares[shares > 0], 1.0)


def linear_model(coefficients: dict[str, float], spec: Spec) -> Callable[..., RunResult]:
    """A stand-in for `simulate`: net exits linear in each uncertainty's unit coordinate."""
    template = simulate(spec.base.with_overrides(months=1))
    ranges = {u.column: u.spec.range for u in spec.uncertainties}

    def stand_in(params: Scenario, replicate: int = 0, **_: object) -> RunResult:
        dumped = params.model_dump()
        total = 0.0
        for key, weight in coefficients.items():
            section, name = key.split(".")
            low, high = ranges[key]
            total += weight * (dumped[section][name] - low) / (high - low)
        return RunResult(template.monthly, {}, template.summary.assign(net_exits=total))

    return stand_in


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_indices_rank_the_inputs_of_a_known_linear_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    body = (
        UNCERTAIN
        if method == "sobol"
        else UNCERTAIN.replace('"sobol"', '"morris"').replace("samples = 32", "samples = 10")
    )
    spec = spec_of(tmp_path, body)
    coefficients = {WEIGHT: 10.0, REVISION: 3.0, LIVING: 0.0}
    monkeypatch.setattr(runs, "simulate", linear_model(coefficients, spec))
    data: SweepData = sweep_serial(spec, tmp_path / "sweep")
    table = analysis.analyze(spec, data)[method].set_index("input")
    if method == "sobol":
        assert table["S1"].idxmax() == WEIGHT and table["ST"].idxmin() == LIVING
        assert table.loc[WEIGHT, "S1"] == pytest.approx(100 / 109, abs=0.05)
        assert table.loc[REVISION, "S1"] == pytest.approx(9 / 109, abs=0.05)
        assert table.loc[LIVING, "ST"] == pytest.approx(0.0, abs=0.01)
    else:
        assert table["mu_star"].to_dict() == pytest.approx(coefficients, abs=1e-9)
        assert table["sigma"].to_dict() == pytest.approx(dict.fromkeys(coefficients, 0.0), abs=1e-9)


def test_arms_under_a_crossed_lever_are_paired_with_the_reference_of_their_level() -> None:
    rng = np.random.default_rng(6)
    low, high = synthetic_values(2.0, rng), synthetic_values(9.0, rng)
    high["net_exits"] += 1000.0  # another rule: another level of exits
    high[ARM] = high[ARM].map({BASELINE: "rule=b", "more": "rule=b,more"})
    values = pd.concat([low.assign(rule="a"), high.assign(rule="b")], ignore_index=True)
    paired = analysis.pairs(values, ["replicate", "rule"], [BASELINE, "rule=b"])
    table = analysis.effects(paired, ["net_exits"]).set_index(ARM)
    assert table.loc["more", "difference"] == pytest.approx(2.0, abs=1.0)
    assert table.loc["rule=b,more", "difference"] == pytest.approx(9.0, abs=1.0)
    assert table["n"].tolist() == [12, 12]
