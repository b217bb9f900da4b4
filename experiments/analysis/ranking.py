"""Ranking arms, and how stable a ranking is under resampling of the replicates.

A ranking by point estimates hides how often noise alone would reorder the arms. Each
ranking therefore comes with ``share_first``: the share of paired bootstrap resamples in
which the arm ranks first. A resample draws the units (replicates, with their
uncertainty values) with replacement, the same units for every arm, since the arms'
runs are paired on them; the arms are then ranked again on the resampled means.
`scipy.stats.bootstrap` computes an interval of one statistic, not the distribution of
a rank across arms, so the resamples are drawn here from a named numpy stream
(`model.streams.make_stream`, fixed by the spec's seed).

Two criteria, each on paired differences against the reference:

- `EFFECT`: the gain (extra net exits, poor household-months averted); rank 1 = largest.
- `COST`: extra spending per unit of gain (yuan); rank 1 = cheapest, among arms whose
  spending and gain move the same way (`scores`); the others are unranked.

Callers may rank a subset of the arms (`rank_arms`), e.g. by cost only the arms whose
ratio has a defined interval: the others get no rank and no share.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.sweep.seeding import ARM

RESAMPLES = 2000  # bootstrap resamples behind each share_first
EFFECT, COST = "effect", "cost"


def unit_matrix(paired: pd.DataFrame, values: pd.Series, unit_keys: list[str]) -> pd.DataFrame:
    """Paired differences as units (rows: `unit_keys` values) x arms (columns, in order).

    Args:
        paired: runs beside their reference runs, with ``arm`` and `unit_keys`.
        values: one paired difference per row of `paired` (its unit).
        unit_keys: columns naming a unit of resampling (replicate, uncertainty values).

    Returns:
        NaN where an arm has no pair for a unit.
    """
    frame = paired[[*unit_keys, ARM]].assign(_value=values.to_numpy())
    matrix = frame.pivot(index=unit_keys, columns=ARM, values="_value")
    return matrix[list(dict.fromkeys(paired[ARM]))]


def scores(spend: np.ndarray, gain: np.ndarray, by: str) -> np.ndarray:
    """Lower is better; +inf where an arm cannot be ranked.

    By cost an arm is ranked when its spending buys its gain: a gain bought with extra
    spending (or for nothing: ratio 0), or a loss with the spending saved (an arm that
    removes an instrument: what the instrument spent per unit it bought).

    Args:
        spend: mean extra spending of each arm (yuan; last axis: arms).
        gain: mean gain of each arm (same shape).
        by: `EFFECT` (minus the gain) or `COST` (yuan per unit of gain).
    """
    if by == EFFECT:
        score = -gain
    else:
        bought = ((gain > 0) & (spend >= 0)) | ((gain < 0) & (spend < 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(bought, spend / gain, np.inf)
    return np.where(np.isfinite(score), score, np.inf)


def ranks(score: np.ndarray) -> np.ndarray:
    """Rank of each score (1 = lowest, ties share the lower rank; 0 = unranked: inf)."""
    ranked = pd.Series(np.where(np.isfinite(score), score, np.nan)).rank(method="min")
    return ranked.fillna(0).astype(int).to_numpy()


def first_shares(
    spend: pd.DataFrame,
    gain: pd.DataFrame,
    by: str,
    rng: np.random.Generator,
    resamples: int = RESAMPLES,
) -> pd.Series:
    """Share of paired bootstrap resamples in which each arm ranks first.

    Units are resampled with replacement among those where every arm has a pair, the
    same units for every arm. A resample in which no arm can be ranked (by `COST`: no
    arm's spending buys any gain) counts for none, so the shares may sum to less than 1.

    Args:
        spend: extra spending, units x arms (`unit_matrix`; yuan).
        gain: gain, units x arms (same shape and labels).
        by: `EFFECT` or `COST`.
        rng: generator of the resamples.
        resamples: number of resamples.

    Returns:
        Share (0 to 1) per arm, indexed like the columns of `gain`.
    """
    complete = gain.notna().all(axis=1) & spend.notna().all(axis=1)
    x, y = spend[complete].to_numpy(), gain[complete].to_numpy()
    if len(y) == 0:
        return pd.Series(np.nan, index=gain.columns)
    picks = rng.integers(0, len(y), size=(resamples, len(y)))
    score = scores(x[picks].mean(axis=1), y[picks].mean(axis=1), by)
    best = score.argmin(axis=1)
    ranked = np.isfinite(score[np.arange(resamples), best])
    counts = np.bincount(best[ranked], minlength=gain.shape[1])
    return pd.Series(counts / resamples, index=gain.columns)


def rank_arms(
    spend: pd.DataFrame,
    gain: pd.DataFrame,
    by: str,
    rng: np.random.Generator,
    eligible: pd.Series | None = None,
) -> pd.DataFrame:
    """Rank by the point estimates and the share of resamples ranked first, per arm.

    Args:
        spend: extra spending, units x arms (`unit_matrix`; yuan).
        gain: gain, units x arms (same shape and labels).
        by: `EFFECT` or `COST`.
        rng: generator of the resamples.
        eligible: per arm (indexed like the columns), whether it takes part (default:
            every arm).

    Returns:
        Indexed by arm: ``rank`` (1 = best; 0 = unranked: not eligible, or no score) and
        ``share_first`` (0 to 1; NaN for an arm not eligible).
    """
    arms = gain.columns if eligible is None else gain.columns[eligible.loc[gain.columns].to_numpy()]
    table = pd.DataFrame({"rank": 0, "share_first": np.nan}, index=gain.columns)
    if len(arms):
        score = scores(spend[arms].mean().to_numpy(), gain[arms].mean().to_numpy(), by)
        table.loc[arms, "rank"] = ranks(score)
        table.loc[arms, "share_first"] = first_shares(spend[arms], gain[arms], by, rng)
    return table
