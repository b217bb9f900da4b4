"""Confidence intervals over replicates: a mean (Student's t) and a ratio of means (Fieller).

One rule for every place that states how precise a mean over replicates is: adaptive
replicates of a sweep run until the paired effect's interval is narrow enough,
calibration reports it for each target, the analysis for each paired effect and the
figures as bands. One rule for every ratio of paired effects (yuan per extra net exit,
per poor household-month averted): Fieller's interval, which keeps every replicate and
says "undefined" where the effect in the denominator is not clearly away from 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

CONFIDENCE = 0.95  # level of every interval the project reports
DEFINED = "defined"  # status of a bounded ratio interval
UNDEFINED = "undefined: effect interval contains 0"  # the ratio's set is unbounded
TOO_FEW = "undefined: fewer than 2 pairs"  # no spread to judge the ratio by


def t_quantile(n: Any, confidence: float = CONFIDENCE) -> np.ndarray:
    """Two-sided Student t quantile for a mean of `n` values (n - 1 degrees of freedom)."""
    from scipy.stats import t  # imported on first use: a single run needs no interval

    return np.asarray(t.ppf((1 + confidence) / 2, np.asarray(n, dtype=float) - 1))


def t_half_width(sd: Any, n: Any, confidence: float = CONFIDENCE) -> np.ndarray:
    """Half-width of the t confidence interval of a mean, in the unit of `sd` (NaN for n < 2).

    Args:
        sd: sample standard deviation(s) (ddof 1), in the measure's unit.
        n: number(s) of replicates behind each mean.
        confidence: confidence level of the interval.
    """
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(t_quantile(n, confidence) * np.asarray(sd) / np.sqrt(n))


@dataclass(frozen=True)
class RatioInterval:
    """A ratio of two paired mean differences and its confidence interval.

    Attributes:
        estimate: mean numerator difference over mean denominator difference (the
            numerator's unit per denominator unit); NaN unless `status` is `DEFINED`.
        low: lower bound (same unit; NaN unless `DEFINED`).
        high: upper bound (same unit; NaN unless `DEFINED`).
        status: `DEFINED`, `UNDEFINED` (the denominator's own interval contains 0, so
            the set of ratios the data allow is unbounded) or `TOO_FEW`.
    """

    estimate: float
    low: float
    high: float
    status: str


def fieller_interval(
    numerator: Any, denominator: Any, confidence: float = CONFIDENCE
) -> RatioInterval:
    """Fieller's interval for mean(numerator) / mean(denominator) of paired differences.

    Each element is one pair (one replicate): e.g. extra spending (yuan) and extra net
    exits (households) of an arm over its reference. With x̄, ȳ the means, v_xx, v_yy,
    v_xy the variances and covariance of the means (sample (co)variance / n) and t the
    two-sided Student t quantile with n - 1 degrees of freedom, the interval is the set
    of θ with (x̄ - θȳ)² <= t² Var(x̄ - θȳ), i.e. the roots of

        (ȳ² - t² v_yy) θ² - 2 (x̄ȳ - t² v_xy) θ + (x̄² - t² v_xx) = 0.

    When ȳ² - t² v_yy <= 0 (the denominator's own t interval contains 0) the set is
    unbounded: the ratio is undefined and no number is returned. Every pair counts; none
    is dropped, unlike a bootstrap that discards resamples of the "wrong" sign. Coverage
    is exact for bivariate normal pairs. scipy.stats has no interval for a ratio of means
    (as of scipy 1.18), hence this function.

    Args:
        numerator: paired differences of the numerator, one per pair.
        denominator: paired differences of the denominator, same order.
        confidence: confidence level of the interval.
    """
    x, y = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    n = len(x)
    if n < 2:
        return RatioInterval(math.nan, math.nan, math.nan, TOO_FEW)
    (v_xx, v_xy), (_, v_yy) = np.cov(x, y, ddof=1) / n
    x_mean, y_mean, t2 = x.mean(), y.mean(), float(t_quantile(n, confidence)) ** 2
    a = y_mean**2 - t2 * v_yy
    if a <= 0:
        return RatioInterval(math.nan, math.nan, math.nan, UNDEFINED)
    b = x_mean * y_mean - t2 * v_xy
    c = x_mean**2 - t2 * v_xx
    root = math.sqrt(max(b * b - a * c, 0.0))  # >= 0 when a > 0 (rounding aside)
    return RatioInterval(
        float(x_mean / y_mean), float((b - root) / a), float((b + root) / a), DEFINED
    )
