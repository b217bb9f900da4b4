"""Analysis: CIs that cover known effects, Wilson by hand, cost per unit of gain with
Fieller intervals, rankings with their stability, and Sobol/Morris indices that rank the
inputs of a known linear model run through the sweep machinery."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sweep_helpers import FACTORIAL, UNCERTAIN, spec_of, sweep_serial

from experiments.analysis import effects as analysis
from experiments.analysis.formatting import readable
from experiments.analysis.ranking import COST, EFFECT, first_shares
from experiments.intervals import DEFINED, UNDEFINED, fieller_interval
from experiments.sweep import runs
from experiments.sweep.pairing import pairs
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
    """Baseline and one arm over `n` replicates sharing a replicate effect (CRN-like).

    The arm adds `effect` net exits, averts 10 poor household-months per extra exit and
    spends 1,000 yuan more per extra exit.
    """
    shared = rng.normal(100.0, 20.0, n)
    rows = [
        {
            ARM: arm,
            "replicate": r,
            "net_exits": shared[r] + shift + rng.normal(0, 1.0),
            "poor_household_months": 50 * shared[r] - 10 * shift + rng.normal(0, 5.0),
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
            pairs(synthetic_values(5.0, rng), ["replicate"]), ["net_exits"]
        ).iloc[0]
        covered.append(table["ci_low"] <= 5.0 <= table["ci_high"])
        narrower.append((table["ci_high"] - table["ci_low"]) / 2 < table["half_width_unpaired"])
    assert 0.92 <= np.mean(covered) <= 0.98
    assert all(narrower)


def test_effects_are_paired_by_replicate() -> None:
    values = synthetic_values(3.0, np.random.default_rng(2)).sample(frac=1.0, random_state=3)
    row = analysis.effects(pairs(values, ["replicate"]), ["net_exits"]).iloc[0]
    assert row["n"] == 12 and row["arm"] == "more"
    assert row["difference"] == pytest.approx(3.0, abs=1.0)
    assert row["ci_high"] - row["ci_low"] < 2.5  # replicate noise (sd 20) cancels in pairs


def test_wilson_interval_matches_a_hand_computation() -> None:
    # 8 of 20 at 95% (z = 1.959964): centre (0.4 + z²/40) / (1 + z²/20) = 0.416113,
    # half z * sqrt(0.24/20 + z²/1600) / (1 + z²/20) = 0.197306.
    low, high = analysis.wilson_interval(8, 20)
    assert (low, high) == pytest.approx((0.218807, 0.613419), abs=1e-6)
    assert analysis.wilson_interval(0, 10)[0] == pytest.approx(0.0, abs=1e-12)


def test_cost_effectiveness_is_extra_spending_over_gain_with_fieller_intervals() -> None:
    paired = pairs(synthetic_values(4.0, np.random.default_rng(4)), ["replicate"])
    table = analysis.cost_effectiveness(paired).set_index("outcome")
    exits = (paired["net_exits"] - paired["net_exits_baseline"]).to_numpy()
    averted = (
        paired["poor_household_months_baseline"] - paired["poor_household_months"]
    ).to_numpy()
    spend = (paired["total_spending_yuan"] - paired["total_spending_yuan_baseline"]).to_numpy()
    assert table["per"].tolist() == ["extra net exit", "poor household-month averted"]
    for outcome, gain in (("net_exits", exits), ("poor_household_months", averted)):
        row, expected = table.loc[outcome], fieller_interval(spend, gain)
        assert row["status"] == DEFINED and row["n"] == 12
        assert row["extra_spending_yuan"] == pytest.approx(4000.0)
        assert row["gain"] == pytest.approx(gain.mean())
        assert row["yuan_per_unit"] == pytest.approx(4000.0 / gain.mean())
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((expected.low, expected.high))
        assert row["ci_low"] < row["yuan_per_unit"] < row["ci_high"]
    assert table.loc["poor_household_months", "yuan_per_unit"] == pytest.approx(100.0, rel=0.2)


def test_cost_of_an_unclear_gain_is_undefined_and_reads_undefined() -> None:
    """No effect on exits: no number, not even a point estimate, in the table or print."""
    paired = pairs(synthetic_values(0.0, np.random.default_rng(8)), ["replicate"])
    table = analysis.cost_effectiveness(paired, outcomes=("net_exits",))
    row = table.iloc[0]
    assert row["status"] == UNDEFINED
    assert np.isnan([row["yuan_per_unit"], row["ci_low"], row["ci_high"]]).all()
    shown = readable("cost_effectiveness", table).iloc[0]
    assert shown["yuan_per_unit"] == "undefined"
    assert shown["95% CI"] == "undefined: effect interval contains 0"
    assert "status" not in shown.index


def units_by_arms(gains: dict[str, np.ndarray]) -> pd.DataFrame:
    """Paired gains, units (rows) by arms (columns)."""
    return pd.DataFrame(gains)


def test_share_first_resamples_the_same_replicates_for_every_arm() -> None:
    """Arm a gains one more than b in every replicate, while replicates differ by far more:
    resampled together a always ranks first; resampled apart it would be near a coin toss."""
    rng = np.random.default_rng(9)
    shared = rng.normal(0.0, 50.0, 20)
    gain = units_by_arms({"a": shared + 1.0, "b": shared})
    spend = units_by_arms({"a": np.full(20, 100.0), "b": np.full(20, 100.0)})
    shares = first_shares(spend, gain, EFFECT, np.random.default_rng(1))
    assert shares.to_dict() == {"a": 1.0, "b": 0.0}


def test_share_first_splits_between_arms_noise_cannot_tell_apart() -> None:
    rng = np.random.default_rng(10)
    gain = units_by_arms({"a": rng.normal(5.0, 10.0, 20), "b": rng.normal(5.0, 10.0, 20)})
    spend = units_by_arms({"a": np.full(20, 1000.0), "b": np.full(20, 1000.0)})
    for by in (EFFECT, COST):
        shares = first_shares(spend, gain, by, np.random.default_rng(2))
        assert 0.1 < shares["a"] < 0.9 and 0.1 < shares["b"] < 0.9
        assert shares.sum() <= 1.0


def test_cost_ranks_only_arms_whose_spending_buys_a_gain() -> None:
    """An arm that spends more for fewer exits never ranks first by cost."""
    gain = units_by_arms({"buys": np.full(10, 2.0), "loses": np.full(10, -3.0)})
    spend = units_by_arms({"buys": np.full(10, 5000.0), "loses": np.full(10, 10.0)})
    shares = first_shares(spend, gain, COST, np.random.default_rng(3))
    assert shares.to_dict() == {"buys": 1.0, "loses": 0.0}


def test_sweep_analysis_has_effects_rates_costs_rankings_and_instruments(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, FACTORIAL)
    tables = analysis.analyze(spec, sweep_serial(spec, tmp_path / "sweep"))
    assert list(tables) == ["rates", "effects", "cost_effectiveness", "ranking", "instruments"]
    arms = ["training=False", "wage=0.6", "wage=0.6,training=False"]  # design order
    assert tables["effects"][ARM].unique().tolist() == arms
    assert set(tables["effects"]["outcome"]) == set(analysis.EFFECT_OUTCOMES)
    assert (tables["effects"]["n"] == 2).all()
    rates = tables["rates"]
    assert (rates["of"] == 400 * 2).all() and rates["share"].between(0, 1).all()
    shares = tables["instruments"].groupby(ARM)["share"].sum()
    assert np.allclose(shares[shares > 0], 1.0)
    cost = tables["cost_effectiveness"]
    assert cost.groupby("outcome")[ARM].apply(list).to_dict() == dict.fromkeys(analysis.GAINS, arms)
    undefined = cost["status"] != DEFINED
    assert cost.loc[undefined, ["yuan_per_unit", "ci_low", "ci_high"]].isna().all().all()
    ranking = tables["ranking"]
    for _, group in ranking.groupby(["outcome", "by"]):
        assert sorted(group[ARM]) == sorted(arms)
        ranked = group[group["rank"] > 0]
        assert ranked["rank"].is_monotonic_increasing  # in reading order (ties share a rank)
        assert ranked.empty or ranked["rank"].iloc[0] == 1
        assert ranked["share_first"].between(0, 1).all() and group["share_first"].sum() <= 1
        assert (group.loc[group["rank"] == 0, "unranked_because"] != "").all()
    by_cost = ranking[ranking["by"] == "cost"]
    undefined = by_cost["status"] != DEFINED
    assert (by_cost.loc[undefined, "rank"] == 0).all()  # an undefined cost has no rank
    assert by_cost.loc[undefined, "share_first"].isna().all()
    assert (by_cost.loc[undefined, "unranked_because"] == by_cost.loc[undefined, "status"]).all()


def test_analysis_reports_on_the_arms_and_outcomes_asked_for(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, FACTORIAL)
    data = sweep_serial(spec, tmp_path / "sweep")
    tables = analysis.analyze(spec, data, outcomes=["gross_exits"], arms=["wage=0.6"])
    assert tables["effects"][["arm", "outcome"]].values.tolist() == [["wage=0.6", "gross_exits"]]
    assert set(tables["ranking"][ARM]) == {"wage=0.6"}
    with pytest.raises(analysis.AnalysisError, match=r"outcomes: .*'net_exit' \(did you mean"):
        analysis.analyze(spec, data, outcomes=["net_exit"])
    with pytest.raises(analysis.AnalysisError, match=r"arms: .*known: baseline, "):
        analysis.analyze(spec, data, arms=["wage=0.7"])


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
    paired = pairs(values, ["replicate", "rule"], [BASELINE, "rule=b"])
    table = analysis.effects(paired, ["net_exits"]).set_index(ARM)
    assert table.loc["more", "difference"] == pytest.approx(2.0, abs=1.0)
    assert table.loc["rule=b,more", "difference"] == pytest.approx(9.0, abs=1.0)
    assert table["n"].tolist() == [12, 12]


def test_instrument_spending_and_cost_per_gain_match_the_stored_runs_by_hand(
    tmp_path: Path,
) -> None:
    spec = spec_of(tmp_path, FACTORIAL)
    data = sweep_serial(spec, tmp_path / "sweep")
    tables = analysis.analyze(spec, data)
    summary = data.summary.set_index("run_id").select_dtypes("number")
    runs = data.runs.set_index("run_id")[[ARM, "replicate"]].join(summary)
    runs = runs.set_index([ARM, "replicate"])
    base = runs.loc[BASELINE]
    checked = 0
    for arm in ("wage=0.6", "training=False"):
        own = runs.loc[arm]
        extra = own - base.loc[own.index]
        instruments = tables["instruments"].set_index([ARM, "instrument"]).loc[arm]
        for name in ("wage_subsidy", "training"):
            column = f"spending_{name}_yuan"
            assert instruments.loc[name, "spending_yuan"] == pytest.approx(own[column].mean())
            assert instruments.loc[name, "extra_yuan"] == pytest.approx(extra[column].mean())
        costs = tables["cost_effectiveness"].set_index([ARM, "outcome"])
        for outcome, (sign, _) in analysis.GAINS.items():
            cost = costs.loc[(arm, outcome)]
            if cost["status"] == DEFINED:  # extra spending / extra gain
                gain = sign * extra[outcome].mean()
                assert cost["yuan_per_unit"] == pytest.approx(
                    extra["total_spending_yuan"].mean() / gain
                )
                checked += 1
    assert checked  # at least one ratio was defined and compared
