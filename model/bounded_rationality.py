"""Bounded rationality: satisficing against an aspiration income (Simon 1955).

A revising person does not weigh every option each time. The current activity is kept
while it is still feasible and its expected net income reaches the aspiration level;
only a person below the aspiration (or whose activity became infeasible) searches, and
takes what the search finds:

    keep_i   = [c_i feasible for i] and (y_i,c_i - k_i,c_i >= A)
    choice_i = c_i if keep_i else search_i

with c_i the current activity, y and k the expected income and non-income cost of an
option (yuan/month, `model.choice.Offers`) and A the aspiration
(`choice.aspiration_yuan_per_month`). The search is a full one: the feasible option with
the highest net income (`model.choice.income_max_choice`). The rule draws no random
numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from model.choice import Offers, Revisers


def satisfied(
    r: Revisers, offers: Offers, feasible: np.ndarray, aspiration_yuan_per_month: float
) -> np.ndarray:
    """Whether each reviser's current activity is feasible and pays at least the aspiration.

    Args:
        r: the revisers.
        offers: expected income and non-income cost of each option (yuan/month).
        feasible: bool (n, options), the options each reviser may choose.
        aspiration_yuan_per_month: net income that contents a person (yuan/month).

    Returns:
        Bool per reviser.
    """
    rows = np.arange(len(r.current))
    net = offers.income[rows, r.current] - offers.cost[rows, r.current]
    return feasible[rows, r.current] & (net >= aspiration_yuan_per_month)


def satisficing_choice(
    r: Revisers,
    offers: Offers,
    feasible: np.ndarray,
    aspiration_yuan_per_month: float,
    search: Callable[[Revisers, Offers, np.ndarray], np.ndarray],
) -> np.ndarray:
    """Keep the current activity if satisfied, otherwise take what `search` finds.

    Args:
        r: the revisers.
        offers: expected income and non-income cost of each option (yuan/month).
        feasible: bool (n, options), the options each reviser may choose.
        aspiration_yuan_per_month: net income that contents a person (yuan/month).
        search: the rule a dissatisfied person chooses by (revisers, offers, feasible)
            -> activity per reviser.

    Returns:
        The chosen activity per reviser (int8).
    """
    keep = satisfied(r, offers, feasible, aspiration_yuan_per_month)
    return np.where(keep, r.current, search(r, offers, feasible)).astype(np.int8)
