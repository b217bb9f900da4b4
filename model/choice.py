"""Decision rules: which activity a working-age person chooses when revising.

Options are the `Activity` values. Feasibility comes from the person (age, health, care
duty) and the household (land, resettlement, village); expected net income from the
offers the person can see. The default rule is a logit random-utility model:

    V_ij = b * (income_ij - cost_ij) / 1000 + c_j + inertia * [j == current_i]
           - care_penalty * [i is carer and j is a workshop outside the home, other
                             than the community factory downstairs of i's own site]
           - young_child_away_penalty * [i is a woman with a young child, j is away]

and P_ij is proportional to exp(V_ij) over feasible j. The income-maximising rule picks
the feasible option with the highest net income (ties: the current activity, then the
lowest code). The satisficing rule (`model.bounded_rationality`) keeps the current
activity while it pays at least an aspiration income and otherwise searches like the
income-maximising rule. Rules take and return arrays; `RULES` maps scenario names to
them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from model.bounded_rationality import satisficing_choice
from model.households import AWAY_ACTIVITIES, Health
from model.scenario import ACTIVITY_NAMES, Activity, Choice

N_OPTIONS = len(Activity)
YUAN_PER_UTILITY_UNIT = 1000.0  # utility_per_1000_yuan is per thousand yuan a month


@dataclass
class Revisers:
    """What the revising people are and can see (one row per reviser)."""

    current: np.ndarray  # int8, current activity
    carer: np.ndarray  # bool
    health: np.ndarray  # int8
    age: np.ndarray  # int16
    kept_home: np.ndarray  # bool
    has_land: np.ndarray  # bool
    resettled: np.ndarray  # bool
    mother: np.ndarray | None = None  # bool, a woman in a household with a young child


@dataclass
class Offers:
    """Expected monthly income and availability of each option (one row per reviser).

    The arrays may be column-major, so that an option's column is contiguous.
    """

    income: np.ndarray  # float64 (n, N_OPTIONS), yuan/month
    cost: np.ndarray  # float64 (n, N_OPTIONS), non-income cost, yuan/month
    available: np.ndarray  # bool (n, N_OPTIONS), places exist or the person holds one,
    # and (workshop options) pay if hired reaches the person's reservation income
    downstairs: np.ndarray | None = None  # bool (n,), the community factory offered is
    # at the person's own resettlement site (a carer there bears no care penalty)


def feasible_options(
    r: Revisers, offers: Offers, migrant_age_max: int, flexible_hours: bool
) -> np.ndarray:
    """Boolean (n, N_OPTIONS): the options each reviser may choose."""
    feasible = offers.available.copy(order="K")
    feasible[:, Activity.NOT_WORKING] = True
    feasible[:, Activity.FARMING] = r.has_land
    feasible[:, Activity.COMMUNITY_FACTORY] &= r.resettled
    away_ok = ~r.carer & (r.health != Health.DISABLED)
    feasible[:, Activity.PARK_WORKSHOP] &= away_ok
    feasible[:, Activity.MIGRATION] = (
        away_ok & (r.health == Health.HEALTHY) & (r.age <= migrant_age_max) & ~r.kept_home
    )
    if not flexible_hours:
        feasible[:, Activity.VILLAGE_WORKSHOP] &= ~r.carer
        feasible[:, Activity.COMMUNITY_FACTORY] &= ~r.carer
    return feasible


def away_misfits(
    activity: np.ndarray,
    carer: np.ndarray,
    health: np.ndarray,
    age: np.ndarray,
    migrant_age_max: int,
) -> np.ndarray:
    """People away from home who may no longer be (bool per person).

    Carers and disabled people working away, and migrants who fell ill or passed the
    migration age.
    """
    away = np.zeros(len(activity), dtype=bool)
    for option in AWAY_ACTIVITIES:
        away |= activity == option
    migrant = activity == Activity.MIGRATION
    return (away & (carer | (health == Health.DISABLED))) | (
        migrant & ((health != Health.HEALTHY) | (age > migrant_age_max))
    )


def utilities(r: Revisers, offers: Offers, coef: Choice) -> np.ndarray:
    """Systematic utility (n, N_OPTIONS) of each option for each reviser."""
    v = offers.income - offers.cost
    v *= coef.utility_per_1000_yuan
    v /= YUAN_PER_UTILITY_UNIT
    v += np.array([coef.option_constants.get(name, 0.0) for name in ACTIVITY_NAMES])
    _add_at_current(v, r.current, coef.inertia)
    care = coef.care_penalty * r.carer
    v[:, Activity.VILLAGE_WORKSHOP] -= care
    if offers.downstairs is not None:
        care = care * ~offers.downstairs
    v[:, Activity.COMMUNITY_FACTORY] -= care
    if r.mother is not None:
        away = coef.young_child_away_penalty * r.mother
        for option in AWAY_ACTIVITIES:
            v[:, option] -= away
    return v


def _add_at_current(v: np.ndarray, current: np.ndarray, amount: float) -> None:
    """Add `amount` to each row's entry at its current option (in place)."""
    rows = np.arange(len(current))
    if v.flags.f_contiguous:  # one flat index per row: option column * rows + row
        v.ravel(order="F")[current.astype(np.intp) * len(current) + rows] += amount
    else:
        v[rows, current] += amount


def logit_choice(v: np.ndarray, feasible: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Draw one option per row with probability proportional to exp(v) over feasible options.

    An exponential race: each option has its own exponential draw E (`draws`, one per row
    and option, -log of a keyed uniform) and arrives at E / exp(v); the first feasible
    option to arrive wins, an exact draw from the logit probabilities. It is run on the
    log scale, as Gumbel-max: the winner has the highest v - log E (-log E is a Gumbel
    draw), so no weight is exponentiated. Because every option keeps its own draw, a
    change in one option's utility moves a choice only to or from that option, never
    between two others. Infeasible options never win.
    """
    score = v - np.log(draws)
    score[~feasible] = -np.inf
    return np.argmax(score, axis=1).astype(np.int8)


def choice_probabilities(v: np.ndarray, feasible: np.ndarray) -> np.ndarray:
    """Logit probabilities (n, N_OPTIONS); rows sum to 1 over feasible options."""
    weights = _logit_weights(v, feasible)
    return weights / weights.sum(axis=1, keepdims=True)


def _logit_weights(v: np.ndarray, feasible: np.ndarray) -> np.ndarray:
    """exp(v - max over feasible options) on feasible options, 0 elsewhere.

    Every row has a feasible option. The exponent is capped at 0 so that infeasible
    options, which may lie above the feasible maximum, stay finite before being zeroed.
    """
    top = np.where(feasible, v, -np.inf).max(axis=1)
    weights = v - top[:, None]
    np.minimum(weights, 0.0, out=weights)
    np.exp(weights, out=weights)
    weights *= feasible
    return weights


def income_max_choice(r: Revisers, offers: Offers, feasible: np.ndarray) -> np.ndarray:
    """The feasible option with the highest net income; ties keep the current activity."""
    net = np.where(feasible, offers.income - offers.cost, -np.inf)
    best = net.max(axis=1)
    rows = np.arange(len(r.current))
    keep = net[rows, r.current] >= best
    return np.where(keep, r.current, np.argmax(net, axis=1)).astype(np.int8)


Rule = Callable[[Revisers, Offers, np.ndarray, Choice, np.ndarray], np.ndarray]


def _logit_rule(
    r: Revisers, offers: Offers, feasible: np.ndarray, coef: Choice, draws: np.ndarray
) -> np.ndarray:
    return logit_choice(utilities(r, offers, coef), feasible, draws)


def _income_max_rule(
    r: Revisers, offers: Offers, feasible: np.ndarray, coef: Choice, draws: np.ndarray
) -> np.ndarray:
    return income_max_choice(r, offers, feasible)


def _satisficing_rule(
    r: Revisers, offers: Offers, feasible: np.ndarray, coef: Choice, draws: np.ndarray
) -> np.ndarray:
    return satisficing_choice(
        r, offers, feasible, coef.aspiration_yuan_per_month, search=income_max_choice
    )


RULES: dict[str, Rule] = {
    "logit": _logit_rule,
    "income_max": _income_max_rule,
    "satisficing": _satisficing_rule,
}


def choose(
    r: Revisers, offers: Offers, coef: Choice, migrant_age_max: int, draws: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Apply the scenario's decision rule.

    Args:
        r: the revisers.
        offers: what each reviser is offered.
        coef: the decision coefficients and rule.
        migrant_age_max: oldest age at which people migrate (years).
        draws: exponential draws, one per reviser and option (used by the logit rule).

    Returns:
        The chosen activity per reviser, and whether each reviser's current activity is
        still feasible (a refused applicant may keep it only then).
    """
    feasible = feasible_options(r, offers, migrant_age_max, coef.flexible_hours)
    current_ok = feasible[np.arange(len(r.current)), r.current]
    return RULES[coef.rule](r, offers, feasible, coef, draws), current_ok
