"""The decision-rule summary: a ranking per rule with CIs and the share of resamples
ranked first, and a verdict (robust or unclear) on every conclusion."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest
from experiment_helpers import ROOT
from sweep_helpers import spec_of, sweep_serial, wsim

from experiments.analysis.decision_rules import (
    LOWERS,
    RAISES,
    RANKING_FILE,
    ROBUST,
    SUMMARY_FILE,
    UNCLEAR,
    UNCLEAR_VERDICT,
    UNRANKED,
    conclusions,
    write_summary,
)
from experiments.intervals import DEFINED

SPECS = ROOT / "experiments" / "specs"
RULES = ["logit", "income_max", "satisficing"]
ARMS = ["wage_subsidy=False", "training=False", "equity=False", "reform=quota_50"]
# The tiny county under three rules: three instruments switched off and a reform, 3 pairs.
TINY_SWEEP = f"""
seed = 3
[levers.decision_rule]
key = "choice.rule"
values = ["income_max", "satisficing"]
crossed = true
[levers.wage_subsidy]
key = "policy.wage_subsidy.enabled"
values = [false]
[levers.training]
key = "policy.training.enabled"
values = [false]
[levers.equity]
key = "policy.equity.enabled"
values = [false]
[levers.reform]
reforms = {{ quota_50 = "{(ROOT / "scenarios" / "reforms" / "quota_50.toml").as_posix()}" }}
[design]
method = "one_at_a_time"
[replicates]
count = 3
[outputs]
monthly = ["headcount", "spending"]
outcomes = ["net_exits", "total_spending_yuan"]
"""


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, str]:
    """The tiny sweep, run and summarised: (ranking table, summary page)."""
    folder = tmp_path_factory.mktemp("decision_rules")
    spec = spec_of(folder, TINY_SWEEP)
    sweep_serial(spec, folder / "sweep")
    ranking, page = write_summary(folder / "sweep", folder / "summary")
    assert (ranking.name, page.name) == (RANKING_FILE, SUMMARY_FILE)
    table = pd.read_csv(ranking).fillna({"instrument": "", "unranked_because": ""})
    return table, page.read_text(encoding="utf-8")


def rule_rows(arm: str, effects: list[tuple[float, float, float]], ranks: list[int]) -> list[dict]:
    """Ranking rows of one arm under the three rules: (effect, CI low, CI high) and rank."""
    return [
        {
            "rule": rule,
            "lever_arm": arm,
            "instrument": "wage_subsidy",
            "extra_net_exits": effect,
            "exits_ci_low": low,
            "exits_ci_high": high,
            "direction": RAISES if low > 0 else LOWERS if high < 0 else UNCLEAR,
            "rank": rank,
            "share_first": 0.5,
            "unranked_because": "",
        }
        for rule, (effect, low, high), rank in zip(RULES, effects, ranks, strict=True)
    ]


def test_every_rule_ranks_every_arm_with_intervals(summary) -> None:
    table, _ = summary
    assert table["rule"].drop_duplicates().tolist() == RULES
    for _, group in table.groupby("rule"):
        assert sorted(group["lever_arm"]) == sorted(ARMS)
    for column in ("exits_ci_low", "exits_ci_high", "ci_low", "ci_high", "share_first"):
        assert column in table.columns
    assert "bootstrap_valid" not in table.columns
    costed = table[table["instrument"] != ""]
    undefined = costed["cost_status"] != DEFINED
    assert costed.loc[undefined, ["yuan_per_net_exit", "ci_low", "ci_high"]].isna().all().all()
    ranked = table["rank"] != UNRANKED
    assert table.loc[ranked, "share_first"].between(0, 1).all()
    assert table.loc[~ranked, "share_first"].isna().all()
    assert (table.groupby("rule")["share_first"].sum() <= 1 + 1e-12).all()
    assert (table.loc[ranked, "cost_status"] == DEFINED).all()  # an undefined cost: no rank
    assert (
        table.loc[costed.index[undefined], "unranked_because"] == costed["cost_status"][undefined]
    ).all()
    assert (costed["exits_ci_low"] <= costed["extra_net_exits"]).all()
    assert (costed["extra_net_exits"] <= costed["exits_ci_high"]).all()
    assert set(table.loc[table["lever_arm"] == "reform=quota_50", "instrument"]) == {""}


def test_ranks_are_one_to_k_within_each_rule_and_explain_the_unranked(summary) -> None:
    table, _ = summary
    for _, group in table.groupby("rule"):
        ranked = group[group["rank"] != UNRANKED].sort_values("rank")
        assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))
        assert ranked["yuan_per_net_exit"].is_monotonic_increasing
        assert (ranked["yuan_per_net_exit"] > 0).all()
        unranked = group[group["rank"] == UNRANKED]
        assert (unranked["unranked_because"] != "").all()


def test_the_page_has_a_ranking_per_rule_and_a_statement_on_every_arm(summary) -> None:
    _, page = summary
    for rule in RULES:
        assert f"## Rule `{rule}`" in page
    robust = page.index("## Robust under every rule")
    unclear = page.index("## Unclear")
    statement = page[robust:]
    assert robust < unclear
    assert "| rank | first in |" in page
    for arm in ARMS:
        assert f"- `{arm}`: " in statement
        conclusions = 1 if arm.startswith("reform=") else 2  # a reform has no rank
        assert statement.count(f"`{arm}`") == conclusions  # each conclusion placed once


def test_a_conclusion_is_robust_only_where_the_effect_is_clear_under_every_rule() -> None:
    """The issue's case: first under every rule, but +15.3 [-0.6, +31.3] under one rule."""
    table = pd.DataFrame(
        [
            *rule_rows(
                "share=0.4", [(15.3, -0.6, 31.3), (9.0, 1.0, 17.0), (8.0, 2.0, 14.0)], [1] * 3
            ),
            *rule_rows("clear", [(-9.0, -12.0, -6.0), (-8.0, -11.0, -5.0), (-7, -9, -5)], [2] * 3),
            *rule_rows("flips", [(5.0, 1.0, 9.0), (-5.0, -9.0, -1.0), (4.0, 1.0, 7.0)], [2, 2, 3]),
        ]
    )
    found = conclusions(table).set_index(["lever_arm", "kind"])
    assert found.loc[("share=0.4", "effect"), "verdict"] == UNCLEAR_VERDICT
    assert found.loc[("share=0.4", "rank"), "verdict"] == UNCLEAR_VERDICT
    assert "ranked 1 under every rule, unclear" in found.loc[("share=0.4", "rank"), "text"]
    assert found.loc[("clear", "effect"), "verdict"] == ROBUST
    assert found.loc[("clear", "effect"), "text"].startswith(f"{LOWERS} under every rule")
    assert found.loc[("clear", "rank"), "verdict"] == ROBUST
    assert found.loc[("flips", "effect"), "verdict"] == UNCLEAR_VERDICT  # clear, opposite signs
    assert found.loc[("flips", "rank"), "verdict"] == UNCLEAR_VERDICT
    assert "first in 50%" in found.loc[("clear", "rank"), "text"]


def test_a_sweep_without_a_crossed_lever_is_refused(tmp_path: Path) -> None:
    spec = spec_of(
        tmp_path,
        TINY_SWEEP.replace("crossed = true", "")
        .replace("count = 3", "count = 1")
        .replace('["income_max", "satisficing"]', '["income_max"]'),
    )
    sweep_serial(spec, tmp_path / "sweep")
    result = wsim("analyze-rules", tmp_path / "sweep")
    assert result.exit_code == 1
    assert "expected one crossed lever" in result.output


def test_the_decision_rule_spec_crosses_the_policy_mix_levers() -> None:
    """decision_rules.toml keeps policy_mix.toml's levers and adds the rule, crossed."""
    mix, rules = (
        tomllib.loads((SPECS / f"{name}.toml").read_text(encoding="utf-8"))
        for name in ("policy_mix", "decision_rules")
    )
    crossed = {name: lever for name, lever in rules["levers"].items() if lever.get("crossed")}
    assert list(crossed) == ["decision_rule"]
    assert crossed["decision_rule"]["key"] == "choice.rule"
    assert set(crossed["decision_rule"]["values"]) == set(RULES) - {"logit"}
    others = {name: lever for name, lever in rules["levers"].items() if name not in crossed}
    assert others == mix["levers"]
    assert (rules["base"], rules["design"]) == (mix["base"], mix["design"])
