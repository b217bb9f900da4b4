"""Analysis of a sweep: effects, rates, cost per net exit, Sobol and Morris indices.

Effects are paired: each run of an arm is compared with the baseline run of the same
replicate (and the same uncertainty values and crossed-lever levels: an arm under a
crossed lever's level is compared with the other levers' base at that level), which saw
the same households and shocks (common random numbers); the 95% CI is Student's t on
the paired differences. Rates get Wilson intervals, cost per net exit a paired bootstrap
CI. Sobol first- and total-order
indices (on a Saltelli design) and Morris mu*/sigma come from SALib, for the outcomes the
spec names. Every function takes and returns plain frames or arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analysis
from SALib.analyze import sobol as sobol_analysis
from scipy import stats

from experiments.intervals import CONFIDENCE, t_half_width
from experiments.sweep.design import problem, reference_arms, sample, unit_sample
from experiments.sweep.seeding import ARM, BASELINE, points, run_id
from experiments.sweep.spec import Spec
from experiments.sweep.store import DONE, RUN_ID, SweepData
from model.streams import make_stream

BOOTSTRAP_SAMPLES = 2000
BASE = "_baseline"  # suffix of the baseline run's values in a pairs frame
EFFECT_OUTCOMES = (
    "headcount",
    "net_exits",
    "gross_exits",
    "income_per_capita",
    "total_spending_yuan",
)
RATES = {
    "poor_at_end": "poor_households_end",  # rate name: summary count over households
    "out_of_poverty_12_months": "stayed_out_12_months",
}
SPENDING, EXITS = "total_spending_yuan", "net_exits"


class AnalysisError(ValueError):
    """Results that cannot give an analysis (e.g. a Sobol design with rows missing)."""


def welch_half_width(a: np.ndarray, b: np.ndarray, confidence: float = CONFIDENCE) -> float:
    """Half-width of the Welch (unpaired) t interval of mean(a) - mean(b)."""
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    if va + vb == 0:
        return 0.0  # both samples constant: no spread to cover
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(stats.t.ppf((1 + confidence) / 2, df) * np.sqrt(va + vb))


def wilson_interval(
    successes: int, trials: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (shares in [0, 1])."""
    z = stats.norm.ppf((1 + confidence) / 2)
    p, n = successes / trials, trials
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return float(centre - half), float(centre + half)


def run_values(data: SweepData) -> pd.DataFrame:
    """Done runs with their scalar outcomes (summary and final-month columns)."""
    runs = data.runs[data.runs["status"] == DONE]
    return runs.join(data.values(), on=RUN_ID)


def pairs(
    values: pd.DataFrame, keys: list[str], reference: str | list[str] = BASELINE
) -> pd.DataFrame:
    """Each run of another arm beside its `reference` arm's run (columns suffixed `BASE`).

    Args:
        values: runs with outcomes (`run_values`).
        keys: columns a run and its reference run share: replicate, uncertainty values
            and crossed levers.
        reference: the arm the others are paired with (the baseline of a sweep), or the
            arms, one per level of the crossed levers (`design.reference_arms`).
    """
    outcomes = [
        c for c in values.columns if pd.api.types.is_numeric_dtype(values[c]) and c not in keys
    ]
    is_reference = values[ARM].isin([reference] if isinstance(reference, str) else reference)
    baseline = values.loc[is_reference, [*keys, *outcomes]]
    others = values[~is_reference]
    return others.merge(baseline, on=keys, suffixes=("", BASE))


def effects(paired: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """Mean paired difference arm - baseline per outcome, with its 95% t CI.

    ``half_width_unpaired`` is the Welch half-width on the same runs, for comparison.
    """
    rows = []
    for arm, group in paired.groupby(ARM, sort=False):
        for outcome in outcomes:
            a, b = (group[c].to_numpy(dtype=float) for c in (outcome, outcome + BASE))
            keep = np.isfinite(a) & np.isfinite(b)
            diff = a[keep] - b[keep]
            half = float(t_half_width(diff.std(ddof=1), len(diff))) if len(diff) > 1 else np.nan
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
                    "half_width_unpaired": welch_half_width(a[keep], b[keep])
                    if len(diff) > 1
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


def cost_per_exit(
    paired: pd.DataFrame,
    rng: np.random.Generator,
    samples: int = BOOTSTRAP_SAMPLES,
    spending: str = SPENDING,
) -> pd.DataFrame:
    """Extra spending per extra net exit of each arm against the baseline (yuan).

    The estimate is mean extra spending over mean extra net exits (NaN when the arm
    changes no net exits). An arm that removes an instrument has both negative: the
    ratio is then what the instrument spent per net exit it bought. The 95% CI is a
    percentile bootstrap over the pairs, keeping resamples whose extra net exits have
    the estimate's sign (``bootstrap_valid`` is their share). `spending` is the column
    counted: total spending, or one instrument's (``spending_<instrument>_yuan``).
    """
    rows = []
    for arm, group in paired.groupby(ARM, sort=False):
        spend = (group[spending] - group[spending + BASE]).to_numpy(dtype=float)
        exits = (group[EXITS] - group[EXITS + BASE]).to_numpy(dtype=float)
        picks = rng.integers(0, len(spend), size=(samples, len(spend)))
        num, den = spend[picks].mean(axis=1), exits[picks].mean(axis=1)
        same_side = (np.sign(den) == np.sign(exits.mean())) & (den != 0)
        ratios = num[same_side] / den[same_side]
        low, high = np.percentile(ratios, [2.5, 97.5]) if len(ratios) else (np.nan, np.nan)
        rows.append(
            {
                ARM: arm,
                "extra_spending_yuan": spend.mean(),
                "extra_net_exits": exits.mean(),
                "yuan_per_extra_net_exit": _ratio(spend.mean(), exits.mean()),
                "ci_low": low,
                "ci_high": high,
                "bootstrap_valid": len(ratios) / samples,
            }
        )
    return pd.DataFrame(rows)


def instruments(values: pd.DataFrame, paired: pd.DataFrame) -> pd.DataFrame:
    """Spending by instrument per arm, and what the arm adds against the baseline.

    Columns: mean yuan spent, share of the arm's spending, mean extra yuan (paired) and
    extra yuan per extra net exit (NaN for the baseline arm itself).
    """
    names = [c for c in values.columns if c.startswith("spending_") and c.endswith("_yuan")]
    spent = values.groupby(ARM, sort=False)[[*names, SPENDING]].mean().to_dict("index")
    diffs = pd.DataFrame({c: paired[c] - paired[c + BASE] for c in [*names, EXITS]})
    gains = diffs.groupby(paired[ARM], sort=False).mean().to_dict("index")
    rows = []
    for arm, mean in spent.items():
        gain = gains.get(arm, dict.fromkeys([*names, EXITS], math.nan))
        rows += [
            {
                ARM: arm,
                "instrument": c.removeprefix("spending_").removesuffix("_yuan"),
                "spending_yuan": mean[c],
                "share": _ratio(mean[c], mean[SPENDING]),
                "extra_yuan": gain[c],
                "yuan_per_extra_net_exit": _ratio(gain[c], gain[EXITS]),
            }
            for c in names
        ]
    return pd.DataFrame(rows)


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


def sensitivity(spec: Spec, data: SweepData) -> pd.DataFrame:
    """Sobol or Morris indices of every spec outcome, stacked (one row per input)."""
    method = spec.file.design.method
    design, salib_problem = sample(spec, spec.seed), problem(spec)
    values = data.values()
    replicates = sorted(int(r) for r in data.runs["replicate"].unique())
    frames = []
    for outcome in spec.file.outputs.outcomes:
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


def analyze(spec: Spec, data: SweepData) -> dict[str, pd.DataFrame]:
    """Every table the sweep supports, by name.

    Returns:
        ``effects``, ``rates``, ``cost_per_exit`` and ``instruments`` when the design
        has arms other than the baseline (``rates`` always), and ``sobol`` or
        ``morris`` for those designs.
    """
    values = run_values(data)
    tables: dict[str, pd.DataFrame] = {}
    if {"households", *RATES.values()} <= set(values.columns):
        tables["rates"] = rates(values)
    crossed = [lever.column for lever in spec.levers if lever.crossed]
    paired = pairs(
        values,
        ["replicate", *(u.column for u in spec.uncertainties), *crossed],
        reference_arms(spec.levers),
    )
    if len(paired):
        names = [
            c
            for c in dict.fromkeys([*EFFECT_OUTCOMES, *spec.file.outputs.outcomes])
            if c in values.columns
        ]
        tables["effects"] = effects(paired, names)
    if len(paired) and {SPENDING, EXITS} <= set(values.columns):
        tables["cost_per_exit"] = cost_per_exit(paired, make_stream(spec.seed, "bootstrap"))
        tables["instruments"] = instruments(values, paired)
    arms = {arm: i for i, arm in enumerate(dict.fromkeys(sample(spec, spec.seed)[ARM]))}
    tables = {
        name: table.sort_values(ARM, key=lambda a: a.map(arms), kind="stable")
        for name, table in tables.items()
    }
    if spec.file.design.method in ("sobol", "morris"):
        tables[spec.file.design.method] = sensitivity(spec, data)
    return tables


def _mean(values: np.ndarray) -> float:
    """The mean, NaN when there are no values (e.g. no pair with finite outcomes)."""
    return float(values.mean()) if len(values) else math.nan


def _ratio(numerator: float, denominator: float) -> float:
    """The quotient, NaN when the denominator is zero."""
    return float(numerator / denominator) if denominator != 0 else math.nan
