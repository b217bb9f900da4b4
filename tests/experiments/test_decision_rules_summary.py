"""The decision-rule summary: a ranking per rule with CIs, and a statement on every arm."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest
from experiment_helpers import ROOT
from sweep_helpers import spec_of, sweep_serial, wsim

from experiments.analysis.decision_rules import (
    RANKING_FILE,
    SUMMARY_FILE,
    UNRANKED,
    write_summary,
)

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


def test_every_rule_ranks_every_arm_with_intervals(summary) -> None:
    table, _ = summary
    assert table["rule"].drop_duplicates().tolist() == RULES
    for _, group in table.groupby("rule"):
        assert sorted(group["lever_arm"]) == sorted(ARMS)
    for column in ("exits_ci_low", "exits_ci_high", "ci_low", "ci_high"):
        assert column in table.columns
    costed = table[table["instrument"] != ""]
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
    holds = page.index("## Hold under every rule")
    depends = page.index("## Depend on the rule")
    statement = page[holds:]
    assert holds < depends
    for arm in ARMS:
        assert f"- `{arm}`: " in statement
        assert statement.count(f"`{arm}`") == 2  # its effect and its rank, each placed once


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
