"""Intervals with a known truth: the 95% label covers about 95%, and a 90% interval
labelled 95% is caught (its coverage falls outside the band)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from experiments.analysis.effects import effects
from experiments.intervals import (
    CONFIDENCE,
    DEFINED,
    TOO_FEW,
    UNDEFINED,
    fieller_interval,
    t_quantile,
)
from experiments.sweep.pairing import pairs
from experiments.sweep.seeding import ARM, BASELINE

TRIALS, PAIRS = 2000, 20
BAND = 0.015  # 3 binomial sds of the coverage of 2,000 trials at 95% (sd 0.0049)
MISLABELLED = 0.90  # an interval at this level, labelled 95%, must fail the band
# Paired differences of (extra spending in yuan, extra net exits), bivariate normal:
MEANS = np.array([60_000.0, 12.0])
SDS = np.array([40_000.0, 8.0])
CORRELATION = 0.6
TRUE_RATIO = MEANS[0] / MEANS[1]  # 5,000 yuan per extra net exit

Covers = Callable[[np.ndarray, np.ndarray, float], bool]


def paired_samples(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One trial: `PAIRS` pairs of (extra spending, extra net exits)."""
    cov = np.outer(SDS, SDS) * np.array([[1.0, CORRELATION], [CORRELATION, 1.0]])
    draws = rng.multivariate_normal(MEANS, cov, size=PAIRS)
    return draws[:, 0], draws[:, 1]


def coverage(covers: Covers, confidence: float, seed: int) -> float:
    """Share of `TRIALS` trials whose interval at `confidence` covers the truth."""
    rng = np.random.default_rng(seed)
    return float(np.mean([covers(*paired_samples(rng), confidence) for _ in range(TRIALS)]))


def fieller_covers(spend: np.ndarray, exits: np.ndarray, confidence: float) -> bool:
    ratio = fieller_interval(spend, exits, confidence)
    assert ratio.status == DEFINED  # the exits effect is far from 0 in every trial
    return ratio.low <= TRUE_RATIO <= ratio.high


def in_band(share: float) -> bool:
    return abs(share - CONFIDENCE) <= BAND


@pytest.mark.parametrize(
    ("confidence", "labelled_right"), [(CONFIDENCE, True), (MISLABELLED, False)]
)
def test_fieller_95_percent_interval_covers_a_known_ratio_95_percent_of_the_time(
    confidence: float, labelled_right: bool
) -> None:
    """The 95% interval lands in the band; the same check fails a 90% interval."""
    assert in_band(coverage(fieller_covers, confidence, seed=2016)) == labelled_right


def test_effect_t_intervals_cover_a_known_effect_at_the_labelled_level() -> None:
    """`effects` at its default level covers about 95%; at 90% it falls out of the band."""
    rng = np.random.default_rng(15)
    shared = rng.normal(100.0, 20.0, size=(TRIALS, PAIRS))  # replicate effect (CRN)
    effect = 4.0
    rows = [
        {ARM: arm, "replicate": r, "net_exits": shared[t, r] + shift + rng.normal(0, 3.0)}
        for t in range(TRIALS)
        for arm, shift in ((f"{BASELINE}_{t}", 0.0), (f"arm_{t}", effect))
        for r in range(PAIRS)
    ]
    values = pd.DataFrame(rows)
    values["trial"] = values[ARM].str.rsplit("_", n=1).str[-1]
    references = [f"{BASELINE}_{t}" for t in range(TRIALS)]
    paired = pairs(values, ["trial", "replicate"], references)

    def covered(table: pd.DataFrame) -> float:
        return float(((table["ci_low"] <= effect) & (effect <= table["ci_high"])).mean())

    assert len(paired) == TRIALS * PAIRS
    assert in_band(covered(effects(paired, ["net_exits"])))
    assert not in_band(covered(effects(paired, ["net_exits"], confidence=MISLABELLED)))


def test_fieller_matches_the_roots_of_its_quadratic_by_hand() -> None:
    spend = np.array([10.0, 14.0, 9.0, 15.0, 12.0])
    exits = np.array([2.0, 3.0, 1.5, 3.5, 2.5])
    n = len(spend)
    (v_xx, v_xy), (_, v_yy) = np.cov(spend, exits) / n
    t2 = float(t_quantile(n)) ** 2
    x, y = spend.mean(), exits.mean()
    roots = np.roots([y * y - t2 * v_yy, -2 * (x * y - t2 * v_xy), x * x - t2 * v_xx])
    ratio = fieller_interval(spend, exits)
    assert ratio.status == DEFINED
    assert ratio.estimate == pytest.approx(x / y)
    assert (ratio.low, ratio.high) == pytest.approx(tuple(sorted(roots.real)))
    assert ratio.low < ratio.estimate < ratio.high


def test_a_gain_whose_interval_contains_zero_gives_no_number() -> None:
    spend = np.array([1000.0, 1200.0, 900.0, 1100.0])
    exits = np.array([3.0, -2.0, 1.0, -1.5])  # mean +0.125, t interval around 0
    ratio = fieller_interval(spend, exits)
    assert ratio.status == UNDEFINED == "undefined: effect interval contains 0"
    assert np.isnan([ratio.estimate, ratio.low, ratio.high]).all()
    no_gain = fieller_interval(spend, np.zeros(4))  # no effect at all: unbounded too
    assert no_gain.status == UNDEFINED
    assert fieller_interval([5.0], [1.0]).status == TOO_FEW
