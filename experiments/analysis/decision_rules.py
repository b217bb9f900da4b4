"""Do the policy conclusions survive a change of decision rule? Ranking and statement.

Summarises a sweep whose one crossed lever is the decision rule
(`experiments/specs/decision_rules.toml`): under each rule, every other arm's effect on
net poverty exits, paired with the default policy under the same rule (95% t CI), and
its cost per net exit (95% paired percentile bootstrap CI), ranked; then which
conclusions hold under every rule and which depend on it.

The county spends its whole budget in every arm (instruments are paid in order while
money lasts), so an arm's total spending hardly moves and total spending per extra exit
says nothing. An arm is costed on its own instrument's spending
(``spending_<instrument>_yuan``): its cost per net exit is the change in that spending
over the change in net exits, i.e. what the instrument spent per net exit it bought (an
arm switching it off) or what the money moved to it buys (an arm switching it on or
scaling it up). A lever without an instrument of its own (a reform file, the
certification quota) is not costed.

Ranks (1 = cheapest) go, by the point estimate, to the costed arms whose spending and
net exits move the same way; the others are unranked, with the reason (no spending of
its own, or instrument money that buys no net exits). An arm's effect on net exits
raises or lowers them when its 95% CI excludes 0, and is no clear effect otherwise (its
rank then rests on noise as much as on the model). Two conclusions are drawn per arm,
each holding when it is the same under every rule: the direction of its effect on net
exits, and its rank.

`write_summary` writes ``summary.md`` and ``ranking.csv`` (``wsim analyze-rules SWEEP_DIR
[--out DIR]``; DIR defaults to ``SWEEP_DIR/analysis``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.analysis.effects import EXITS, cost_per_exit, effects, pairs, run_values
from experiments.sweep.design import arm_label, reference_arms, sample
from experiments.sweep.engine import open_sweep
from experiments.sweep.seeding import ARM
from experiments.sweep.spec import LeverColumn, Spec
from experiments.sweep.store import SweepData
from model.scenario import INSTRUMENTS
from model.streams import make_stream

RANKING_FILE, SUMMARY_FILE = "ranking.csv", "summary.md"
RULE, UNRANKED = "rule", 0  # column of the crossed lever's level; rank of an unranked arm
RAISES, LOWERS, UNCLEAR = "raises net exits", "lowers net exits", "no clear effect"
NOT_COSTED, NO_EXITS_BOUGHT = "no spending of its own", "its money buys no net exits"
Row = Mapping[Any, Any]  # one row of a table, by column


class SummaryError(ValueError):
    """A sweep this summary does not apply to (e.g. no single crossed lever)."""


def rule_lever(spec: Spec) -> LeverColumn:
    """The spec's one crossed lever (the decision rule).

    Raises:
        SummaryError: if the spec has no crossed lever or more than one.
    """
    crossed = [lever for lever in spec.levers if lever.crossed]
    if len(crossed) != 1:
        raise SummaryError(
            f"{spec.path}: expected one crossed lever (the decision rule), got {len(crossed)}"
        )
    return crossed[0]


def arm_instruments(spec: Spec) -> pd.DataFrame:
    """Each non-reference arm of the design: its rule, label without the rule, instrument.

    Columns: ``arm``, ``rule`` (the crossed lever's level), ``lever_arm`` (the label of
    the other levers, as in a sweep without the crossed lever) and ``instrument`` (the
    policy instrument whose block the changed lever sets, or "").
    """
    rule = rule_lever(spec)
    others = tuple(lever for lever in spec.levers if not lever.crossed)
    design = sample(spec, spec.seed)
    design = design[~design[ARM].isin(reference_arms(spec.levers))]
    rows = []
    for point in design.to_dict("records"):
        changed = [lever for lever in others if point[lever.column] != lever.base]
        rows.append(
            {
                ARM: point[ARM],
                RULE: point[rule.column],
                "lever_arm": arm_label(others, point),
                "instrument": _instrument(changed),
            }
        )
    return pd.DataFrame(rows)


def _instrument(changed: list[LeverColumn]) -> str:
    """The instrument whose scenario block the one changed lever sets ("" otherwise)."""
    if len(changed) != 1 or changed[0].reforms is not None:
        return ""
    section, name, *_ = changed[0].column.split(".")
    return name if section == "policy" and name in INSTRUMENTS else ""


def ranking(spec: Spec, data: SweepData) -> pd.DataFrame:
    """Each arm's net-exit effect and cost per net exit under each rule, ranked by rule.

    Columns: ``rule``, ``lever_arm``, ``instrument``, ``n`` (pairs), ``extra_net_exits``
    with ``exits_ci_low``/``exits_ci_high`` (95% t), ``extra_instrument_yuan`` (mean
    change of the instrument's spending over the run), ``yuan_per_net_exit`` with
    ``ci_low``/``ci_high`` (95% bootstrap; ``bootstrap_valid``: share of resamples with
    the estimate's sign of extra net exits), ``direction`` of the effect on net exits,
    ``rank`` (1 = cheapest; 0 = unranked) and ``unranked_because`` ("" when ranked).
    """
    arms = arm_instruments(spec)
    paired = pairs(
        run_values(data), ["replicate", rule_lever(spec).column], reference_arms(spec.levers)
    )
    exits = effects(paired, [EXITS]).set_index(ARM).to_dict("index")
    rng = make_stream(spec.seed, "bootstrap")
    rows = []
    for arm in arms.to_dict("records"):
        effect = exits[arm[ARM]]
        cost = _instrument_cost(paired[paired[ARM] == arm[ARM]], arm["instrument"], rng)
        rows.append(
            {
                RULE: arm[RULE],
                "lever_arm": arm["lever_arm"],
                "instrument": arm["instrument"],
                "n": int(effect["n"]),
                "extra_net_exits": effect["difference"],
                "exits_ci_low": effect["ci_low"],
                "exits_ci_high": effect["ci_high"],
                **cost,
                "direction": direction(effect["ci_low"], effect["ci_high"]),
            }
        )
    table = pd.DataFrame(rows)
    table["unranked_because"] = [_unranked_because(row) for row in table.to_dict("records")]
    rankable = table["yuan_per_net_exit"].where(table["unranked_because"] == "")
    table.insert(
        len(table.columns) - 1,
        "rank",
        rankable.groupby(table[RULE]).rank(method="min").fillna(UNRANKED).astype(int),
    )
    return table


def _instrument_cost(
    group: pd.DataFrame, instrument: str, rng: np.random.Generator
) -> dict[str, float]:
    """Change of the instrument's spending and its cost per net exit with the 95% CI."""
    if not instrument:
        return dict.fromkeys(
            ["extra_instrument_yuan", "yuan_per_net_exit", "ci_low", "ci_high", "bootstrap_valid"],
            math.nan,
        )
    cost = cost_per_exit(group, rng, spending=f"spending_{instrument}_yuan").iloc[0]
    return {
        "extra_instrument_yuan": cost["extra_spending_yuan"],
        "yuan_per_net_exit": cost["yuan_per_extra_net_exit"],
        "ci_low": cost["ci_low"],
        "ci_high": cost["ci_high"],
        "bootstrap_valid": cost["bootstrap_valid"],
    }


def _unranked_because(row: Row) -> str:
    """Why an arm has no rank by cost per net exit ("" when it has one)."""
    if not row["instrument"]:
        return NOT_COSTED
    if not row["yuan_per_net_exit"] > 0:
        return NO_EXITS_BOUGHT
    return ""


def direction(ci_low: float, ci_high: float) -> str:
    """Direction of an effect on net exits from its 95% CI."""
    if ci_low > 0:
        return RAISES
    if ci_high < 0:
        return LOWERS
    return UNCLEAR


def conclusions(table: pd.DataFrame) -> pd.DataFrame:
    """Per arm and kind (effect, rank): whether it holds under every rule, in words.

    Columns: ``lever_arm``, ``kind`` (``effect`` or ``rank``), ``holds`` and ``text``.
    """
    rules = list(dict.fromkeys(table[RULE]))
    rows = []
    for lever_arm, group in table.groupby("lever_arm", sort=False):
        by_rule = group.set_index(RULE).reindex(rules).to_dict("index")
        effect = {str(rule): _effect_text(row) for rule, row in by_rule.items()}
        moves = {row["direction"] for row in by_rule.values()}
        rows.append(
            {
                "lever_arm": lever_arm,
                "kind": "effect",
                "holds": len(moves) == 1,
                "text": _agreement(moves.pop() if len(moves) == 1 else None, effect),
            }
        )
        ranks = {str(rule): _rank_text(row) for rule, row in by_rule.items()}
        same = set(ranks.values())
        rows.append(
            {
                "lever_arm": lever_arm,
                "kind": "rank",
                "holds": len(same) == 1,
                "text": "cost per net exit "
                + _agreement(f"{same.pop()} under every rule" if len(same) == 1 else None, ranks),
            }
        )
    return pd.DataFrame(rows)


def _effect_text(row: Row) -> str:
    return f"{row['direction']}, {_exits_interval(row)}"


def _exits_interval(row: Row) -> str:
    """Extra net exits and their 95% CI, e.g. ``-12.3 [-20.1, -4.5]``."""
    return (
        f"{row['extra_net_exits']:+.1f} [{row['exits_ci_low']:+.1f}, {row['exits_ci_high']:+.1f}]"
    )


def _rank_text(row: Row) -> str:
    """``ranked 2`` or ``unranked: <why>``."""
    rank = int(row["rank"])
    return f"unranked: {row['unranked_because']}" if rank == UNRANKED else f"ranked {rank}"


def _agreement(common: str | None, by_rule: dict[str, str]) -> str:
    """The common finding with each rule's numbers, or each rule's finding."""
    details = "; ".join(f"{rule}: {text}" for rule, text in by_rule.items())
    return f"{common} ({details})" if common is not None else details


def summary_markdown(spec: Spec, table: pd.DataFrame, found: pd.DataFrame, wall_time: str) -> str:
    """The summary page: set-up, one ranking table per rule, what holds and what depends."""
    lines = [
        f"# Policy conclusions under {table[RULE].nunique()} decision rules",
        "",
        *_method(spec, table, wall_time),
        "",
        "## In short",
        "",
        *_in_short(table, found),
    ]
    for rule, group in table.groupby(RULE, sort=False):
        lines += [
            "",
            f"## Rule `{rule}`",
            "",
            *_markdown_table(
                group.sort_values(
                    "rank", key=lambda r: r.replace(UNRANKED, len(group) + 1), kind="stable"
                )
            ),
        ]
    for holds, heading in ((True, "Hold under every rule"), (False, "Depend on the rule")):
        part = found[found["holds"] == holds]
        lines += ["", f"## {heading}", ""]
        lines += [f"- `{c.lever_arm}`: {c.text}" for c in part.itertuples()] or ["- none"]
    return "\n".join(lines) + "\n"


def _method(spec: Spec, table: pd.DataFrame, wall_time: str) -> list[str]:
    """What was run and how the numbers are made."""
    run = spec.base.run
    return [
        f"Sweep `{spec.name}` (spec `experiments/specs/{spec.path.name}`, base "
        f"`{spec.file.base}`): {run.households:,} households, {run.months} months from "
        f"{run.start:%Y-%m}, {int(table['n'].max())} replicates per arm, {wall_time}. "
        "An arm is named by the lever it changes from the default policy "
        "(`wage_subsidy=False`: the wage subsidy switched off; `hiring_bonus=True`: "
        "switched on) and is paired with the default policy under the same rule, on the "
        "same households and shocks.",
        "",
        "Extra net exits: mean paired difference in households leaving poverty over the "
        "run, 95% t interval. Cost per net exit: change in the instrument's own spending "
        "over the change in net exits (the county's budget is spent in full in every arm, "
        "so total spending hardly moves), 95% paired percentile bootstrap interval. Rank 1 "
        "is the cheapest by the point estimate; arms whose instrument money buys no net "
        "exits, or with no spending of their own, are unranked. An effect is clear when its "
        "95% interval excludes 0; the rank of an arm without a clear effect rests on noise "
        "as much as on the model.",
        "",
        f"Regenerate: `wsim analyze-rules results/{spec.name} --out results/examples/{spec.name}`.",
    ]


def _in_short(table: pd.DataFrame, found: pd.DataFrame) -> list[str]:
    """The cheapest ranked arm under each rule and the count of conclusions that hold."""
    cheapest = {
        str(rule): (
            f"`{group.loc[group['rank'] == 1, 'lever_arm'].iloc[0]}`"
            if (group["rank"] == 1).any()
            else "no arm ranked"
        )
        for rule, group in table.groupby(RULE, sort=False)
    }
    same = len(set(cheapest.values())) == 1
    kinds = {"effect": "directions of effect on net exits", "rank": "ranks by cost per net exit"}
    counts = [
        f"{int(found.loc[found['kind'] == kind, 'holds'].sum())} of "
        f"{int((found['kind'] == kind).sum())} {words} hold under every rule"
        for kind, words in kinds.items()
    ]
    return [
        "- Cheapest per net exit: "
        + (
            f"{cheapest.popitem()[1]} under every rule"
            if same
            else "; ".join(f"{arm} under {rule}" for rule, arm in cheapest.items())
        ),
        *_clear_effects(table),
        f"- {counts[0]}; {counts[1]}.",
    ]


def _clear_effects(table: pd.DataFrame) -> list[str]:
    """The arms with a clear effect on net exits under every rule, and under some only."""
    clear = table[table["direction"] != UNCLEAR]
    n_rules = table[RULE].nunique()
    everywhere, somewhere = [], []
    for arm, group in clear.groupby("lever_arm", sort=False):
        moves = set(group["direction"])
        if len(group) == n_rules and len(moves) == 1:
            everywhere.append(f"`{arm}` {moves.pop()}")
        else:
            where = ", ".join(f"{r[RULE]}: {r['direction']}" for r in group.to_dict("records"))
            somewhere.append(f"`{arm}` ({where})")
    return [
        f"- Clear effect on net exits under every rule: {'; '.join(everywhere) or 'none'}",
        f"- Clear effect under some rules only: {'; '.join(somewhere) or 'none'}",
    ]


def _markdown_table(group: pd.DataFrame) -> list[str]:
    header = (
        "| rank | arm | instrument | extra net exits [95% CI] | effect | extra "
        "instrument yuan | yuan per net exit [95% CI] |"
    )
    rows = [header, "|---:|---|---|---|---|---:|---|"]
    for r in group.to_dict("records"):
        rank = f"- ({r['unranked_because']})" if r["rank"] == UNRANKED else str(r["rank"])
        cost = (
            "-"
            if math.isnan(r["yuan_per_net_exit"])
            else (f"{r['yuan_per_net_exit']:,.0f} [{r['ci_low']:,.0f}, {r['ci_high']:,.0f}]")
        )
        spent = (
            "-" if math.isnan(r["extra_instrument_yuan"]) else f"{r['extra_instrument_yuan']:,.0f}"
        )
        rows.append(
            f"| {rank} | `{r['lever_arm']}` | {r['instrument'] or '-'} | "
            f"{_exits_interval(r)} | {r['direction']} | {spent} | {cost} |"
        )
    return rows


def write_summary(directory: Path, out: Path | None = None) -> list[Path]:
    """Write the ranking CSV and the summary page of the sweep in `directory`.

    Args:
        directory: the decision-rule sweep's directory.
        out: folder to write into (default: ``directory/analysis``).

    Returns:
        The ranking CSV and the summary page written.

    Raises:
        StoreError, SpecError: not a readable sweep.
        SummaryError: a sweep without a single crossed lever.
    """
    store, spec = open_sweep(directory)
    table = ranking(spec, store.load(panel=False))
    found = conclusions(table)
    folder = out or directory / "analysis"
    folder.mkdir(parents=True, exist_ok=True)
    table.to_csv(folder / RANKING_FILE, index=False)
    page = summary_markdown(spec, table, found, _wall_time(store.manifest()))
    (folder / SUMMARY_FILE).write_text(page, encoding="utf-8")
    return [folder / RANKING_FILE, folder / SUMMARY_FILE]


def _wall_time(manifest: dict[str, Any]) -> str:
    """From the sweep's start to its finish, as words."""
    if not manifest.get("finished_utc"):
        return "sweep not finished"
    elapsed = pd.Timestamp(manifest["finished_utc"]) - pd.Timestamp(manifest["started_utc"])
    return f"{elapsed.total_seconds() / 60:.1f} min from start to finish"
