"""Do the policy conclusions survive a change of decision rule? Ranking and statement.

Summarises a sweep whose one crossed lever is the decision rule
(`experiments/specs/decision_rules.toml`): under each rule, every other arm's effect on
net poverty exits, paired with the default policy under the same rule (95% t CI), and
its cost per net exit (95% Fieller CI), ranked with the share of paired bootstrap
resamples in which each arm ranks first; then which conclusions are robust to the rule.

The county spends its whole budget in every arm (instruments are paid in order while
money lasts), so an arm's total spending hardly moves and total spending per extra exit
says nothing. An arm is costed on its own instrument's spending
(``spending_<instrument>_yuan``): its cost per net exit is the change in that spending
over the change in net exits, i.e. what the instrument spent per net exit it bought (an
arm switching it off) or what the money moved to it buys (an arm switching it on or
scaling it up). A lever without an instrument of its own (a reform file, the
certification quota) is not costed. Where the effect's own interval contains 0 the cost
per net exit is undefined (`experiments.intervals.fieller_interval`) and shown as such.

Ranks (1 = cheapest) go, by the point estimate, to the costed arms whose cost per net
exit has a defined interval and whose spending and net exits move the same way; the
others are unranked, with the reason (no spending of its own, an undefined cost, or
instrument money that buys no net exits). ``share_first`` is the share of paired
bootstrap resamples of the replicates (the same replicates for every arm of a rule;
`experiments.analysis.ranking`) in which the arm ranks first among the ranked arms.
An arm's effect on net exits raises or lowers them when its 95% CI excludes 0, and is
no clear effect otherwise. Two conclusions are drawn per arm: the direction of its
effect on net exits, robust when its interval excludes 0 with the same sign under every
rule, and its rank, robust when it is the same under every rule and the effect is
robust too. Every other conclusion is unclear: the noise between replicates could
reverse it.

`write_summary` writes ``summary.md`` and ``ranking.csv`` (``wsim analyze-rules SWEEP_DIR
[--out DIR]``; DIR defaults to ``SWEEP_DIR/analysis``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.analysis.effects import EXITS, cost_effectiveness, effects, run_values
from experiments.analysis.ranking import COST, RESAMPLES, rank_arms, unit_matrix
from experiments.intervals import DEFINED
from experiments.sweep.design import arm_label, reference_arms, sample
from experiments.sweep.engine import open_sweep
from experiments.sweep.pairing import BASE, REPLICATE, sweep_pairs
from experiments.sweep.seeding import ARM
from experiments.sweep.spec import LeverColumn, Spec
from experiments.sweep.store import SweepData
from model.scenario import INSTRUMENTS
from model.streams import make_stream

RANKING_FILE, SUMMARY_FILE = "ranking.csv", "summary.md"
RULE, UNRANKED = "rule", 0  # column of the crossed lever's level; rank of an unranked arm
RAISES, LOWERS, UNCLEAR = "raises net exits", "lowers net exits", "no clear effect"
NOT_COSTED, NO_EXITS_BOUGHT = "no spending of its own", "its money buys no net exits"
ROBUST, UNCLEAR_VERDICT = "robust", "unclear"  # verdicts on a conclusion
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
    ``ci_low``/``ci_high`` (95% Fieller; NaN where undefined) and ``cost_status``
    (`experiments.intervals.DEFINED` or why undefined), ``direction`` of the effect on
    net exits, ``rank`` (1 = cheapest by the point estimate, among arms with a defined
    cost; 0 = unranked), ``share_first`` (share of paired bootstrap resamples in which
    the arm ranks first among those; NaN for an arm not among them) and
    ``unranked_because`` ("" when ranked).
    """
    arms = arm_instruments(spec)
    paired = sweep_pairs(spec, run_values(data))
    exits = effects(paired, [EXITS]).set_index(ARM).to_dict("index")
    rows = []
    for arm in arms.to_dict("records"):
        effect = exits[arm[ARM]]
        cost = _instrument_cost(paired[paired[ARM] == arm[ARM]], arm["instrument"])
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
    instrument_of = dict(zip(arms[ARM], arms["instrument"], strict=True))
    defined = pd.Series((table["cost_status"] == DEFINED).to_numpy(), index=arms[ARM])
    ranked = _cost_ranks(paired, instrument_of, defined, spec)
    table[["rank", "share_first"]] = ranked.loc[arms[ARM]].to_numpy()
    table["rank"] = table["rank"].astype(int)
    table["unranked_because"] = [_unranked_because(row) for row in table.to_dict("records")]
    return table


def _instrument_cost(group: pd.DataFrame, instrument: str) -> dict[str, Any]:
    """Change of the instrument's spending and its cost per net exit with the 95% CI."""
    if not instrument:
        return {
            **dict.fromkeys(
                ["extra_instrument_yuan", "yuan_per_net_exit", "ci_low", "ci_high"], math.nan
            ),
            "cost_status": NOT_COSTED,
        }
    cost = cost_effectiveness(
        group, spending=f"spending_{instrument}_yuan", outcomes=(EXITS,)
    ).iloc[0]
    return {
        "extra_instrument_yuan": cost["extra_spending_yuan"],
        "yuan_per_net_exit": cost["yuan_per_unit"],
        "ci_low": cost["ci_low"],
        "ci_high": cost["ci_high"],
        "cost_status": cost["status"],
    }


def _cost_ranks(
    paired: pd.DataFrame, instrument_of: dict[str, str], defined: pd.Series, spec: Spec
) -> pd.DataFrame:
    """Rank by cost per net exit within each rule, and the share of resamples ranked first.

    Only arms whose cost has a defined interval take part (`defined`, by arm).

    Returns:
        Indexed by arm: ``rank`` (0 = unranked: no instrument, an undefined cost, or
        spending and net exits that move in opposite directions) and ``share_first``
        (NaN for an arm that does not take part).
    """
    rng = make_stream(spec.seed, "ranking")
    spend = _instrument_spending(paired, instrument_of)
    gain = paired[EXITS] - paired[EXITS + BASE]
    frames = [
        rank_arms(
            unit_matrix(rows, spend[rows.index], [REPLICATE]),
            unit_matrix(rows, gain[rows.index], [REPLICATE]),
            COST,
            rng,
            defined,
        )
        for _, rows in paired.groupby(rule_lever(spec).column, sort=False)
    ]
    return pd.concat(frames)


def _instrument_spending(paired: pd.DataFrame, instrument_of: dict[str, str]) -> pd.Series:
    """Change of each run's own instrument's spending against its reference run (yuan).

    NaN for runs of arms without an instrument.
    """
    spend = pd.Series(math.nan, index=paired.index)
    for arm, instrument in instrument_of.items():
        if instrument:
            rows, column = paired[ARM] == arm, f"spending_{instrument}_yuan"
            spend[rows] = paired.loc[rows, column] - paired.loc[rows, column + BASE]
    return spend


def _unranked_because(row: Row) -> str:
    """Why an arm has no rank by cost per net exit ("" when it has one)."""
    if not row["instrument"]:
        return NOT_COSTED
    if row["cost_status"] != DEFINED:
        return str(row["cost_status"])
    return NO_EXITS_BOUGHT if row["rank"] == UNRANKED else ""


def direction(ci_low: float, ci_high: float) -> str:
    """Direction of an effect on net exits from its 95% CI."""
    if ci_low > 0:
        return RAISES
    if ci_high < 0:
        return LOWERS
    return UNCLEAR


def conclusions(table: pd.DataFrame) -> pd.DataFrame:
    """Per arm and kind (effect, rank): whether the conclusion is robust to the rule.

    The effect is robust when its interval excludes 0 with the same sign under every
    rule; the rank when it is the same under every rule and the effect is robust. Every
    other conclusion is unclear. An arm without spending of its own has no rank
    conclusion.

    Columns: ``lever_arm``, ``kind`` (``effect`` or ``rank``), ``verdict`` (`ROBUST` or
    `UNCLEAR_VERDICT`) and ``text``.
    """
    rules = list(dict.fromkeys(table[RULE]))
    rows = []
    for lever_arm, group in table.groupby("lever_arm", sort=False):
        by_rule = group.set_index(RULE).reindex(rules).to_dict("index")
        moves = {row["direction"] for row in by_rule.values()}
        clear = len(moves) == 1 and UNCLEAR not in moves
        effect = {str(rule): _effect_text(row) for rule, row in by_rule.items()}
        rows.append(
            {
                "lever_arm": lever_arm,
                "kind": "effect",
                "verdict": ROBUST if clear else UNCLEAR_VERDICT,
                "text": _agreement(f"{moves.pop()} under every rule" if clear else None, effect),
            }
        )
        if not any(row["instrument"] for row in by_rule.values()):
            continue  # no rank to conclude on: the arm has no spending of its own
        ranks_by_rule = {str(rule): _rank_text(row) for rule, row in by_rule.items()}
        same = {_rank_word(row) for row in by_rule.values()}
        robust = clear and len(same) == 1
        common = f"{same.pop()} under every rule" if len(same) == 1 else None
        if common is not None and not robust:
            common += ", unclear: its effect on net exits is not clear under every rule"
        rows.append(
            {
                "lever_arm": lever_arm,
                "kind": "rank",
                "verdict": ROBUST if robust else UNCLEAR_VERDICT,
                "text": "cost per net exit " + _agreement(common, ranks_by_rule),
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


def _rank_word(row: Row) -> str:
    """``ranked 2`` or ``unranked: <why>``."""
    rank = int(row["rank"])
    return f"unranked: {row['unranked_because']}" if rank == UNRANKED else f"ranked {rank}"


def _rank_text(row: Row) -> str:
    """The rank with the share of resamples ranked first, e.g. ``ranked 1, first in 48%``."""
    word = _rank_word(row)
    return word if row["rank"] == UNRANKED else f"{word}, first in {_share(row['share_first'])}"


def _share(share: float) -> str:
    """Share of resamples ranked first as a percentage ("-" for an unranked arm)."""
    return "-" if math.isnan(share) else f"{share:.0%}"


def _agreement(common: str | None, by_rule: dict[str, str]) -> str:
    """The common finding with each rule's numbers, or each rule's finding."""
    details = "; ".join(f"{rule}: {text}" for rule, text in by_rule.items())
    return f"{common} ({details})" if common is not None else details


def summary_markdown(spec: Spec, table: pd.DataFrame, found: pd.DataFrame, wall_time: str) -> str:
    """The summary page: set-up, one ranking table per rule, what is robust, what unclear."""
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
    headings = (
        (ROBUST, "Robust under every rule"),
        (UNCLEAR_VERDICT, "Unclear (not clear under every rule, or depends on it)"),
    )
    for verdict, heading in headings:
        part = found[found["verdict"] == verdict]
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
        "so total spending hardly moves), 95% Fieller interval; undefined where the "
        "effect's own interval contains 0 (the data then allow any cost, of either sign). "
        "Rank 1 is the cheapest by the point estimate; arms whose instrument money buys no "
        "net exits, with an undefined cost or with no spending of their own, are unranked. "
        f"First in: the share of {RESAMPLES:,} paired bootstrap resamples of the "
        "replicates (the same replicates for every arm of a rule) in which the arm ranks "
        "first among the ranked arms. An effect is clear when "
        "its 95% interval excludes 0. A conclusion is robust when the effect is clear "
        "with the same sign under every rule (and, for a rank, the rank is the same under "
        "every rule); otherwise it is unclear.",
        "",
        f"Regenerate: `wsim analyze-rules results/{spec.name} --out results/examples/{spec.name}`.",
    ]


def _in_short(table: pd.DataFrame, found: pd.DataFrame) -> list[str]:
    """The cheapest ranked arm under each rule and the count of robust conclusions."""
    first: dict[str, tuple[str | None, float]] = {}  # rule: (arm ranked 1, share first)
    for rule, group in table.groupby(RULE, sort=False):
        top = group[group["rank"] == 1]
        first[str(rule)] = (
            (str(top["lever_arm"].iloc[0]), float(top["share_first"].iloc[0]))
            if len(top)
            else (None, math.nan)
        )
    arms = {arm for arm, _ in first.values()}
    if len(arms) == 1 and None not in arms:
        arm = arms.pop()
        rank = found[(found["lever_arm"] == arm) & (found["kind"] == "rank")].iloc[0]
        shares = ", ".join(f"{rule} {_share(share)}" for rule, (_, share) in first.items())
        verdict = (
            "robust"
            if rank["verdict"] == ROBUST
            else "unclear: its effect on net exits is not clear under every rule"
        )
        line = (
            f"`{arm}` under every rule by the point estimate (first in {shares} of "
            f"resamples); {verdict}"
        )
    else:
        line = "; ".join(
            f"`{arm}` under {rule} (first in {_share(share)} of resamples)"
            if arm is not None
            else f"no arm ranked under {rule}"
            for rule, (arm, share) in first.items()
        )
    kinds = {"effect": "effects on net exits", "rank": "ranks by cost per net exit"}
    counts = [
        f"{int(((found['kind'] == kind) & (found['verdict'] == ROBUST)).sum())} of "
        f"{int((found['kind'] == kind).sum())} {words}"
        for kind, words in kinds.items()
    ]
    return [
        f"- Cheapest per net exit: {line}",
        *_clear_effects(table),
        f"- Robust under every rule: {counts[0]}; {counts[1]}.",
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
        "| rank | first in | arm | instrument | extra net exits [95% CI] | effect | extra "
        "instrument yuan | yuan per net exit [95% CI] |"
    )
    rows = [header, "|---:|---:|---|---|---|---|---:|---|"]
    for r in group.to_dict("records"):
        rank = f"- ({r['unranked_because']})" if r["rank"] == UNRANKED else str(r["rank"])
        spent = (
            "-" if math.isnan(r["extra_instrument_yuan"]) else f"{r['extra_instrument_yuan']:,.0f}"
        )
        rows.append(
            f"| {rank} | {_share(r['share_first'])} | `{r['lever_arm']}` | "
            f"{r['instrument'] or '-'} | "
            f"{_exits_interval(r)} | {r['direction']} | {spent} | {_cost_text(r)} |"
        )
    return rows


def _cost_text(row: Row) -> str:
    """Yuan per net exit with its 95% CI, "undefined: ..." or "-" (no instrument)."""
    if not row["instrument"]:
        return "-"
    if row["cost_status"] != DEFINED:
        return str(row["cost_status"])
    return f"{row['yuan_per_net_exit']:,.0f} [{row['ci_low']:,.0f}, {row['ci_high']:,.0f}]"


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
