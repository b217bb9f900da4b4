"""Analysis of a sweep: effects, rates, cost-effectiveness, rankings, Sobol and Morris.

Effects are paired: each run of an arm is compared with the baseline run of the same
replicate (and the same uncertainty values and crossed-lever levels: an arm under a
crossed lever's level is compared with the other levers' base at that level), which saw
the same households and shocks (common random numbers; `experiments.sweep.pairing`);
the 95% CI is Student's t on the paired differences. Rates get Wilson intervals. Cost
per unit of gain (yuan per extra net exit, per poor household-month averted) gets
Fieller's interval on the paired differences (`experiments.intervals.fieller_interval`),
"undefined" where the gain's own interval contains 0. Arms are ranked by gain and by
cost per unit, each with the share of paired bootstrap resamples in which it ranks first
(`experiments.analysis.ranking`). Sobol first- and total-order indices (on a Saltelli
design) and Morris mu*/sigma come from SALib, for the outcomes the spec names. Every
function takes and returns plain frames or arrays.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from experiments.analysis.national import national_values
from experiments.analysis.ranking import COST, EFFECT, rank_arms, unit_matrix
from experiments.intervals import CONFIDENCE, DEFINED, fieller_interval, t_half_width
from experiments.sweep.design import problem, reference_arms, sample, unit_sample
from experiments.sweep.engine import adaptive_check
from experiments.sweep.pairing import BASE, REPLICATE, pair_keys, pairs
from experiments.sweep.seeding import ARM, points, run_id
from experiments.sweep.spec import COUNTY, NATIONAL, Spec, unknown_name
from experiments.sweep.store import DONE, RUN_ID, SweepData
from model.streams import make_stream

EFFECT_OUTCOMES = (
    "headcount",
    "net_exits",
    "poor_household_months",
    "poor_households_final_12_mean",
    "poor_households_end",
    "gross_exits",
    "income_per_capita",
    "total_spending_yuan",
)
RATES = {
    "poor_at_end": "poor_households_end",  # rate name: summary count over households
    "out_of_poverty_12_months": "stayed_out_12_months",
}
SPENDING, EXITS, POOR_MONTHS = "total_spending_yuan", "net_exits", "poor_household_months"
GAINS = {  # costed outcome: (sign of a gain against the reference, one unit of gain)
    EXITS: (1, "extra net exit"),  # arm - reference
    POOR_MONTHS: (-1, "poor household-month averted"),  # reference - arm
}
GAIN_WORDS = {EXITS: "extra net exits", POOR_MONTHS: "poor household-months averted"}
# why an arm has no rank by cost (besides an undefined interval) or by effect
DOMINANT, LOSS = "gains and saves money (dominant)", "loses without saving money"
NO_PAIRS = "no pairs"


class AnalysisError(ValueError):
    """Results that cannot give an analysis (e.g. a Sobol design with rows missing)."""


def welch_half_width(a: np.ndarray, b: np.ndarray, confidence: float = CONFIDENCE) -> float:
    """Half-width of the Welch (unpaired) t interval of mean(a) - mean(b)."""
    from scipy.stats import t as t_distribution  # imported on first use: a run needs none

    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    if va + vb == 0:
        return 0.0  # both samples constant: no spread to cover
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(t_distribution.ppf((1 + confidence) / 2, df) * np.sqrt(va + vb))


def wilson_interval(
    successes: int, trials: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (shares in [0, 1])."""
    from scipy.stats import norm  # imported on first use, as every statistics import here

    z = norm.ppf((1 + confidence) / 2)
    p, n = successes / trials, trials
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return float(centre - half), float(centre + half)


def run_values(data: SweepData) -> pd.DataFrame:
    """Done runs with their scalar outcomes (summary and final-month columns)."""
    runs = data.runs[data.runs["status"] == DONE]
    return runs.join(data.values(), on=RUN_ID)


def effects(
    paired: pd.DataFrame, outcomes: list[str], confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """Mean paired difference arm - baseline per outcome, with its t CI at `confidence`.

    Columns: ``arm``, ``outcome``, ``n`` (pairs with finite values), ``baseline`` and
    ``arm_mean`` (means of the outcome), ``difference`` (mean arm - baseline),
    ``ci_low``, ``ci_high`` and ``half_width_unpaired`` (the Welch half-width on the
    same runs, for comparison), all in the outcome's unit.
    """
    rows = []
    for arm, group in paired.groupby(ARM, sort=False):
        for outcome in outcomes:
            a, b = (group[c].to_numpy(dtype=float) for c in (outcome, outcome + BASE))
            keep = np.isfinite(a) & np.isfinite(b)
            diff = a[keep] - b[keep]
            paired_ci = len(diff) > 1
            half = (
                float(t_half_width(diff.std(ddof=1), len(diff), confidence))
                if paired_ci
                else np.nan
            )
            mean = _mean(diff)
            rows.append(
                {
                    ARM: arm,
                    "outcome": outcome,
                    "n": len(diff),
                    "baseline": _mean(b[keep]),
                    "arm_mean": _mean(a[keep]),
                    "difference": mean,
                    "ci_low": mean - half,
                    "ci_high": mean + half,
                    "half_width_unpaired": welch_half_width(a[keep], b[keep], confidence)
                    if paired_ci
                    else np.nan,
                }
            )
    return pd.DataFrame(rows)


def rates(values: pd.DataFrame) -> pd.DataFrame:
    """Shares of households per arm (pooled over runs) with Wilson 95% intervals."""
    rows = []
    for arm, group in values.groupby(ARM, sort=False):
        trials = int(group["households"].sum())
        for rate, column in RATES.items():
            successes = int(group[column].sum())
            low, high = wilson_interval(successes, trials)
            rows.append(
                {
                    ARM: arm,
                    "rate": rate,
                    "households": successes,
                    "of": trials,
                    "share": successes / trials,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    return pd.DataFrame(rows)


def gain_differences(group: pd.DataFrame, outcome: str) -> pd.Series:
    """Gain in a costed outcome per pair (`GAINS`; the outcome's unit).

    Arm - reference for net exits; reference - arm for poor household-months (averted).
    """
    sign, _ = GAINS[outcome]
    return sign * (group[outcome] - group[outcome + BASE])


def cost_effectiveness(
    paired: pd.DataFrame,
    spending: str = SPENDING,
    outcomes: tuple[str, ...] = tuple(GAINS),
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Extra spending per unit of gain of each arm against its reference, Fieller CI.

    The estimate is mean extra spending over mean gain (yuan per extra net exit, or per
    poor household-month averted); its interval is Fieller's on the paired differences
    (`experiments.intervals.fieller_interval`). Where the gain's own t interval contains
    0 the ratio is undefined: estimate and bounds are NaN and ``status`` says so. An arm
    that removes an instrument has both negative: the ratio is then what the instrument
    spent per unit of gain it bought.

    Args:
        paired: runs beside their reference runs (`experiments.sweep.pairing.pairs`).
        spending: the spending column counted: total spending, or one instrument's
            (``spending_<instrument>_yuan``).
        outcomes: costed outcomes (keys of `GAINS`) to divide by, where present.
        confidence: confidence level of the intervals.

    Returns:
        One row per arm and outcome: ``arm``, ``outcome``, ``per`` (one unit of gain in
        words), ``n`` (pairs), ``extra_spending_yuan`` (mean, yuan), ``gain`` (mean extra
        net exits, or poor household-months averted), ``yuan_per_unit``, ``ci_low``,
        ``ci_high`` (yuan per unit) and ``status`` (`experiments.intervals.DEFINED`, or
        why the ratio is undefined).
    """
    present = [o for o in outcomes if o in paired.columns]
    rows = []
    for arm, group in paired.groupby(ARM, sort=False):
        for outcome in present:
            spend = group[spending] - group[spending + BASE]
            gain = gain_differences(group, outcome)
            keep = np.isfinite(spend) & np.isfinite(gain)
            ratio = fieller_interval(spend[keep], gain[keep], confidence)
            rows.append(
                {
                    ARM: arm,
                    "outcome": outcome,
                    "per": GAINS[outcome][1],
                    "n": int(keep.sum()),
                    "extra_spending_yuan": _mean(spend[keep].to_numpy()),
                    "gain": _mean(gain[keep].to_numpy()),
                    "yuan_per_unit": ratio.estimate,
                    "ci_low": ratio.low,
                    "ci_high": ratio.high,
                    "status": ratio.status,
                }
            )
    return pd.DataFrame(rows)


def instruments(values: pd.DataFrame, paired: pd.DataFrame) -> pd.DataFrame:
    """Spending by instrument per arm, and what the arm adds against its reference.

    Columns: ``arm``, ``instrument``, ``spending_yuan`` (mean yuan spent), ``share`` of
    the arm's spending and ``extra_yuan`` (mean paired change; NaN for a reference arm).
    Cost per unit of gain, with its interval, is in `cost_effectiveness`.
    """
    names = [c for c in values.columns if c.startswith("spending_") and c.endswith("_yuan")]
    spent = values.groupby(ARM, sort=False)[[*names, SPENDING]].mean().to_dict("index")
    diffs = pd.DataFrame({c: paired[c] - paired[c + BASE] for c in names})
    gains = diffs.groupby(paired[ARM], sort=False).mean().to_dict("index")
    rows = []
    for arm, mean in spent.items():
        gain = gains.get(arm, dict.fromkeys(names, math.nan))
        rows += [
            {
                ARM: arm,
                "instrument": c.removeprefix("spending_").removesuffix("_yuan"),
                "spending_yuan": mean[c],
                "share": _ratio(mean[c], mean[SPENDING]),
                "extra_yuan": gain[c],
            }
            for c in names
        ]
    return pd.DataFrame(rows)


def ranking(
    paired: pd.DataFrame, unit_keys: list[str], crossed: list[str], rng: np.random.Generator
) -> pd.DataFrame:
    """Arms ranked by gain and by cost per unit of gain, with the share ranked first.

    Arms are ranked among those compared with the same reference (one group per level
    of the crossed levers), for each costed outcome present (`GAINS`): by gain (rank 1 =
    largest) and by total extra spending per unit of gain (rank 1 = cheapest, among
    arms whose cost has a defined Fieller interval and whose spending and gain move the
    same way). Ranks follow the point estimates; ``share_first`` is the share of paired
    bootstrap resamples of the units (`experiments.analysis.ranking`) in which the arm
    ranks first among the arms ranked.

    Args:
        paired: runs beside their reference runs.
        unit_keys: columns naming a unit of resampling (replicate, uncertainty values).
        crossed: columns of the crossed levers (arms at the same levels share a
            reference).
        rng: generator of the bootstrap resamples.

    Returns:
        Columns ``crossed_level`` (the crossed levers' levels, "" without crossed
        levers), ``outcome``, ``by`` (``effect`` or ``cost``), ``criterion`` (in words),
        ``arm``, ``estimate`` (the gain, or yuan per unit of gain: NaN where its Fieller
        interval is undefined), ``status`` (of that interval; "" by effect), ``rank``
        (0 = unranked), ``share_first`` (0 to 1; NaN for an arm whose cost is undefined)
        and ``unranked_because`` ("" when ranked).
    """
    frames = []
    groups: Iterable[tuple[Any, pd.DataFrame]] = (
        paired.groupby(crossed, sort=False) if crossed else [((), paired)]
    )
    for level, group in groups:
        for outcome in [o for o in GAINS if o in group.columns]:
            gain = unit_matrix(group, gain_differences(group, outcome), unit_keys)
            spend = unit_matrix(group, group[SPENDING] - group[SPENDING + BASE], unit_keys)
            cost = cost_effectiveness(group, outcomes=(outcome,)).set_index(ARM).loc[gain.columns]
            for by in (EFFECT, COST):
                by_cost = by == COST
                ranked = rank_arms(
                    spend, gain, by, rng, cost["status"] == DEFINED if by_cost else None
                )
                reasons = (
                    _cost_unranked(cost, spend.mean(), gain.mean())
                    if by_cost
                    else np.where(gain.mean().isna(), NO_PAIRS, "")
                )
                frames.append(
                    pd.DataFrame(
                        {
                            "crossed_level": ",".join(map(str, level)),
                            "outcome": outcome,
                            "by": by,
                            "criterion": f"yuan per {GAINS[outcome][1]}"
                            if by_cost
                            else GAIN_WORDS[outcome],
                            ARM: gain.columns,
                            "estimate": (
                                cost["yuan_per_unit"] if by_cost else gain.mean()
                            ).to_numpy(),
                            "status": cost["status"].to_numpy() if by_cost else "",
                            "rank": ranked["rank"].to_numpy(),
                            "share_first": ranked["share_first"].to_numpy(),
                            "unranked_because": np.where(ranked["rank"] > 0, "", reasons),
                        }
                    )
                )
    return pd.concat(frames, ignore_index=True)


def _cost_unranked(cost: pd.DataFrame, spend: pd.Series, gain: pd.Series) -> np.ndarray:
    """Why each arm would have no rank by cost: its interval's status, or the signs."""
    signs = np.where((gain > 0) & (spend < 0), DOMINANT, LOSS)
    return np.where(cost["status"] != DEFINED, cost["status"], signs)


def row_outcomes(design: pd.DataFrame, values: pd.Series, replicates: list[int]) -> np.ndarray:
    """Mean of an outcome over the replicates done at each design row (SALib's Y).

    Raises:
        AnalysisError: if a row has no done run (SALib needs every row).
    """
    y = np.array(
        [values.reindex([run_id(p, r) for r in replicates]).mean() for p in points(design)]
    )
    if np.isnan(y).any():
        raise AnalysisError(
            f"{int(np.isnan(y).sum())} of {len(y)} design rows of "
            f"{values.name} have no done run; resume the sweep first"
        )
    return y


def sobol_indices(salib_problem: dict[str, Any], y: np.ndarray, seed: int) -> pd.DataFrame:
    """First- and total-order Sobol indices (with 95% CI half-widths) of each input."""
    from SALib.analyze import sobol as sobol_analysis

    result = sobol_analysis.analyze(salib_problem, y, calc_second_order=True, seed=seed)
    return pd.DataFrame(
        {
            "input": salib_problem["names"],
            "S1": result["S1"],
            "S1_conf": result["S1_conf"],
            "ST": result["ST"],
            "ST_conf": result["ST_conf"],
        }
    )


def morris_indices(
    salib_problem: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    levels: int,
) -> pd.DataFrame:
    """Morris mu, mu* (with its 95% CI half-width) and sigma of each input.

    Inputs are on the unit cube, so effects are per full range of each input.
    """
    from SALib.analyze import morris as morris_analysis

    result = morris_analysis.analyze(salib_problem, x, y, num_levels=levels, seed=rng)
    return pd.DataFrame(
        {
            "input": salib_problem["names"],
            "mu": result["mu"],
            "mu_star": result["mu_star"],
            "mu_star_conf": result["mu_star_conf"],
            "sigma": result["sigma"],
        }
    )


def sensitivity(spec: Spec, data: SweepData, outcomes: Sequence[str]) -> pd.DataFrame:
    """Sobol or Morris indices of each outcome, stacked (one row per input)."""
    method = spec.file.design.method
    design, salib_problem = sample(spec, spec.seed), problem(spec)
    values = data.values()
    replicates = sorted(int(r) for r in data.runs["replicate"].unique())
    frames = []
    for outcome in outcomes:
        y = row_outcomes(design, values[outcome], replicates)
        if method == "sobol":
            seed = int(make_stream(spec.seed, "sobol").integers(1, 2**31))
            table = sobol_indices(salib_problem, y, seed)
        else:
            table = morris_indices(
                salib_problem,
                unit_sample(spec, spec.seed),
                y,
                make_stream(spec.seed, "morris"),
                spec.file.design.levels,
            )
        frames.append(table.assign(outcome=outcome)[["outcome", *table.columns]])
    return pd.concat(frames, ignore_index=True)


def outcome_names(data: SweepData) -> list[str]:
    """Outcomes a sweep's analysis can report on: numeric summary and kept monthly columns."""
    values = data.values()
    return [c for c in values.columns if pd.api.types.is_numeric_dtype(values[c])]


def arm_names(spec: Spec) -> list[str]:
    """The arms of a sweep's design, in design order."""
    return list(dict.fromkeys(sample(spec, spec.seed)[ARM]))


def check_names(what: str, given: Sequence[str], known: Sequence[str]) -> None:
    """Refuse the first of `given` not in `known`.

    Raises:
        AnalysisError: ``<what>: expected ..., got 'x' (did you mean 'y'?); known: ...``.
    """
    for name in given:
        if name not in known:
            raise AnalysisError(f"{what}: expected one of the sweep's, {unknown_name(name, known)}")


def analyze(
    spec: Spec,
    data: SweepData,
    outcomes: Sequence[str] | None = None,
    arms: Sequence[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Every table the sweep supports, by name.

    Args:
        spec: the sweep's spec.
        data: its stored results.
        outcomes: outcomes of the effects and of Sobol or Morris indices (default: the
            standard `EFFECT_OUTCOMES` and the spec's outcomes for effects, the spec's
            for indices).
        arms: arms to report on (default: all); their reference arms are kept to pair
            with, and rankings rank these arms only.

    Returns:
        ``rates`` (with a summary); ``effects``, ``cost_effectiveness``, ``ranking`` and
        ``instruments`` when the design has arms other than the baseline; ``adaptive``
        (one row: where adaptive replicates stopped, and whether the target half-width
        of the paired effect was reached) for an adaptive sweep; ``sobol`` or
        ``morris`` for those designs. A county sweep's tables have a ``county`` column
        first: each county's rows, then the ``national`` ones, of the runs added up over
        the counties (`experiments.analysis.national`), which the table ``national``
        lists (one row per arm and replicate).

    Raises:
        AnalysisError: an unknown outcome or arm, or a Sobol or Morris design with rows
            missing.
    """
    check_names("outcomes", outcomes or [], outcome_names(data))
    check_names("arms", arms or [], arm_names(spec))
    values = run_values(data)
    if arms is not None:
        values = values[values[ARM].isin([*arms, *reference_arms(spec.levers)])]
    if spec.counties:
        tables = _by_county(spec, values, outcomes)
    else:
        tables = arm_tables(spec, values, outcomes)
    order = {arm: i for i, arm in enumerate(arm_names(spec))}
    tables = {
        name: table.sort_values(ARM, key=lambda a: a.map(order), kind="stable")
        for name, table in tables.items()
    }
    if "ranking" in tables:
        tables["ranking"] = _by_rank(tables["ranking"])
    replicates = int(data.runs[REPLICATE].max()) + 1 if len(data.runs) else 0
    check = adaptive_check(spec, data, replicates)
    if check is not None:
        tables["adaptive"] = pd.DataFrame([{**check.record(), "widest": check.widest}])
    if spec.file.design.method in ("sobol", "morris"):
        tables[spec.file.design.method] = sensitivity(
            spec, data, outcomes or spec.file.outputs.outcomes
        )
    return tables


def arm_tables(
    spec: Spec, values: pd.DataFrame, outcomes: Sequence[str] | None = None
) -> dict[str, pd.DataFrame]:
    """The rates, effects, cost-effectiveness, ranking and instruments of some runs.

    Args:
        spec: the sweep's spec.
        values: done runs with their scalar outcomes (`run_values`), of one county in a
            county sweep.
        outcomes: outcomes of the effects (default: the standard and the spec's).
    """
    tables: dict[str, pd.DataFrame] = {}
    if {"households", *RATES.values()} <= set(values.columns):
        tables["rates"] = rates(values)
    paired = pairs(values, pair_keys(spec), reference_arms(spec.levers))
    if len(paired):
        names = outcomes or [
            c
            for c in dict.fromkeys([*EFFECT_OUTCOMES, *spec.file.outputs.outcomes])
            if c in values.columns
        ]
        tables["effects"] = effects(paired, list(names))
    if len(paired) and SPENDING in values.columns and set(GAINS) & set(values.columns):
        crossed = [lever.column for lever in spec.levers if lever.crossed]
        units = [c for c in pair_keys(spec) if c not in crossed]
        tables["cost_effectiveness"] = cost_effectiveness(paired)
        tables["ranking"] = ranking(paired, units, crossed, make_stream(spec.seed, "ranking"))
        tables["instruments"] = instruments(values, paired)
    return tables


def _by_county(
    spec: Spec, values: pd.DataFrame, outcomes: Sequence[str] | None
) -> dict[str, pd.DataFrame]:
    """`arm_tables` of each county and of the national runs, stacked with ``county`` first.

    Adds ``national``: the national runs themselves (`national.national_values`).
    """
    keys = [c for c in pair_keys(spec) if c != COUNTY]
    national = national_values(values, keys, len(spec.counties))
    groups = [(c.name, values[values[COUNTY] == c.name]) for c in spec.counties]
    groups.append((NATIONAL, national.assign(**{COUNTY: NATIONAL})))
    stacked: dict[str, list[pd.DataFrame]] = {}
    for county, runs in groups:
        for name, table in arm_tables(spec, runs, outcomes).items():
            stacked.setdefault(name, []).append(table.assign(**{COUNTY: county}))
    tables = {
        name: pd.concat(frames, ignore_index=True)[[COUNTY, *frames[0].columns.drop(COUNTY)]]
        for name, frames in stacked.items()
    }
    return tables | {"national": national}


def _by_rank(table: pd.DataFrame) -> pd.DataFrame:
    """A ranking table in reading order, by rank.

    Per county (of a county sweep), crossed level, outcome and criterion.
    """
    groups = [COUNTY] if COUNTY in table.columns else []
    keys = list(zip(*(table[c] for c in [*groups, "crossed_level", "outcome", "by"]), strict=True))
    order = {key: i for i, key in enumerate(dict.fromkeys(keys))}
    position = [order[key] for key in keys]
    unranked_last = table["rank"].where(table["rank"] > 0, len(table) + 1)
    return (
        table.assign(_group=position, _rank=unranked_last)
        .sort_values(["_group", "_rank"], kind="stable")
        .drop(columns=["_group", "_rank"])
        .reset_index(drop=True)
    )


def _mean(values: np.ndarray) -> float:
    """The mean, NaN when there are no values (e.g. no pair with finite outcomes)."""
    return float(values.mean()) if len(values) else math.nan


def _ratio(numerator: float, denominator: float) -> float:
    """The quotient, NaN when the denominator is zero."""
    return float(numerator / denominator) if denominator != 0 else math.nan
