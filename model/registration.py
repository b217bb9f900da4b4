"""Registration of the poor at the start: a quota filled by an income test with error.

China registered its rural poor in 2014 (建档立卡) under a quota (规模控制): the number
of poor estimated for each county was handed down to townships and villages, and each
village filled its quota with the households it assessed as poorest. The model does the
same once, after the starting allocation (month 0): the county's quota
round(`population.registered_poor_share` × households) is divided among the villages in
proportion to their households (largest remainders, so the villages' quotas add up to
the county's), and each village registers its households with the lowest assessed
income per person. A household's assessed income is its month-0 income per person
times exp(σ ε), ε ~ Normal(0, 1) keyed by the household (`Purpose.REGISTRATION`),
σ = `population.registration_income_error_sd`. Ties (for σ = 0) go by ε.

Villages of the model are alike in expectation, so a quota proportional to households
is what an allocation by estimated poverty incidence gives; the realised number of
income-poor households still differs between villages, so a village quota excludes some
poor households of poorer villages and includes some non-poor ones of better-off
villages even when the assessment is exact, as the village quotas did.
"""

from __future__ import annotations

import numpy as np

from model.population import by_village

# Slack when flooring a village's exact quota, so that a product such as 0.12 × 400
# computed as 47.999… counts as 48.
_FLOOR_SLACK = 1e-9


def village_quotas(households_per_village: np.ndarray, share: float) -> np.ndarray:
    """Each village's registration quota (int64), adding up to the county's.

    The county's quota is round(`share` × households); each village gets the whole part
    of its proportional share, and the households left over go one each to the villages
    with the largest fractional parts (ties: the lower village index).
    """
    counts = np.asarray(households_per_village, dtype=np.int64)
    total = round(share * int(counts.sum()))
    exact = share * counts.astype(np.float64)
    quota = np.minimum(np.floor(exact + _FLOOR_SLACK).astype(np.int64), counts)
    left = total - int(quota.sum())
    if left > 0:
        by_remainder = np.argsort(-(exact - quota), kind="stable")
        quota[by_remainder[:left]] += 1
    return quota


def assessed_income(
    income_per_capita: np.ndarray, error_sd: float, noise: np.ndarray
) -> np.ndarray:
    """Income per person as the assessment sees it: income × exp(`error_sd` × `noise`)."""
    return np.asarray(income_per_capita, dtype=np.float64) * np.exp(error_sd * noise)


def register(
    income_per_capita: np.ndarray,
    village: np.ndarray,
    n_villages: int,
    share: float,
    error_sd: float,
    noise: np.ndarray,
) -> np.ndarray:
    """Which households are registered as poor (bool per household).

    Args:
        income_per_capita: each household's income per person at the start (yuan,
            finite).
        village: each household's village (0 .. `n_villages` - 1).
        n_villages: villages of the county.
        share: the registered share of households (the quota).
        error_sd: sd of the assessment's error (log points).
        noise: a standard normal per household (the assessment's error, and the order
            among equal assessed incomes).

    Returns:
        True for the households with the lowest assessed income of each village, as many
        as the village's quota (`village_quotas`); among equal assessed incomes, those
        with the lowest noise, then the first households. The same as ranking each
        village's households by ``np.lexsort((noise, assessed, village))``, without
        sorting the county: each village's quota-th lowest assessed income is its cut
        (`village_cuts`); households below it are registered, and those at it fill the
        rest of the quota by noise.
    """
    counts = np.bincount(village, minlength=n_villages)
    quota = village_quotas(counts, share)
    assessed = assessed_income(income_per_capita, error_sd, noise)
    cut = village_cuts(assessed, village, counts, quota)[village]
    registered = assessed < cut
    tied = np.flatnonzero(assessed == cut)
    if len(tied):
        left = quota - np.bincount(village[registered], minlength=n_villages)
        order = tied[np.lexsort((noise[tied], village[tied]))]  # by village, then noise
        registered[order] = _rank_in_village(village[order], n_villages) < left[village[order]]
    return registered


def village_cuts(
    assessed: np.ndarray, village: np.ndarray, counts: np.ndarray, quota: np.ndarray
) -> np.ndarray:
    """Each village's quota-th lowest assessed income (yuan; -inf for a quota of 0).

    The villages' incomes are laid out as the rows of a table, padded with +inf, and
    each row is sorted on its own: short sorts that stay in the cache. The table holds
    villages x the largest village's households (8 bytes each): about 1.2 times the
    households where villages are alike in size, as the model draws them.

    Args:
        assessed: assessed income per household (yuan, finite).
        village: each household's village.
        counts: households per village.
        quota: households to register per village (at most its households).
    """
    order = by_village(village)
    home = village[order]
    table = np.full((len(counts), int(counts.max(initial=0))), np.inf)
    table[home, _rank_in_village(home, len(counts))] = assessed[order]
    table.sort(axis=1)
    cut = np.full(len(counts), -np.inf)
    some = np.flatnonzero(quota > 0)
    cut[some] = table[some, quota[some] - 1]
    return cut


def _rank_in_village(home: np.ndarray, n_villages: int) -> np.ndarray:
    """Position of each entry among its village's entries (`home`: villages, grouped)."""
    counts = np.bincount(home, minlength=n_villages)
    start = np.cumsum(counts) - counts
    return np.arange(len(home)) - start[home]
