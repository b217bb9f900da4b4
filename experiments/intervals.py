"""The confidence interval of a mean over replicates (Student's t).

One rule for every place that states how precise a mean over replicates is: adaptive
replicates of a sweep run until it is narrow enough, calibration reports it for each
target, the analysis for each paired effect and the figures as bands.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

CONFIDENCE = 0.95  # level of every interval the project reports


def t_half_width(sd: Any, n: Any, confidence: float = CONFIDENCE) -> np.ndarray:
    """Half-width of the t confidence interval of a mean, in the unit of `sd` (NaN for n < 2).

    Args:
        sd: sample standard deviation(s) (ddof 1), in the measure's unit.
        n: number(s) of replicates behind each mean.
        confidence: confidence level of the interval.
    """
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(stats.t.ppf((1 + confidence) / 2, n - 1) * np.asarray(sd) / np.sqrt(n))
