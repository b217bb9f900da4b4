"""Care load, labour capacity and designated carers of every household, compiled with numba.

The array twin is `model.households._recompute_care` (the rule is
`model.households.update_care`): flags per person, then `household_any` per flag and a
carer chosen by gathering, sorting out and comparing candidates. People are ordered by
household, so here one pass over each household's members computes the same flags, the
same capacities and the same carer (the able woman with the lowest skill, or the able man
where no woman can work; the first among equals). The twin is declared in
`model.households` (see `model.compiled`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.compiled.registry import jit

if TYPE_CHECKING:  # model.households calls this module
    from model.households import Households, People
    from model.scenario import Population


def recompute_care(
    people: People,
    households: Households,
    rules: Population,
    by_health: np.ndarray,
    healthy: int,
    disabled: int,
) -> None:
    """Recompute households' care flags and carers and people's capacity and carer flag.

    Args:
        people: the people (ordered by household); `capacity` and `carer` are replaced.
        households: the households; their care flags and `carer` are replaced.
        rules: the scenario's population rules (ages, who may care).
        by_health: labour capacity of a working-age person by health code (float32).
        healthy: the health code of healthy people.
        disabled: the health code of disabled people.
    """
    n, m = len(households), len(people)
    flags = np.zeros((5, n), dtype=np.bool_)
    capacity = np.empty(m, dtype=np.float32)
    carer = np.full(n, -1, dtype=np.int32)
    _update_care(
        people.age,
        people.health,
        people.frail,
        people.female,
        people.skill,
        households.first_member,
        households.size,
        by_health,
        rules.young_child_age_max,
        rules.labour_age_min,
        rules.labour_age_max,
        rules.healthy_elderly_can_care,
        healthy,
        disabled,
        capacity,
        flags,
        carer,
    )
    (
        households.young_child,
        households.care_need,
        households.has_disabled,
        households.substitute_carer,
        households.has_labour,
    ) = (row.copy() for row in flags)
    people.capacity = capacity
    households.carer = carer
    people.carer = np.zeros(m, dtype=bool)
    people.carer[carer[carer >= 0]] = True


@jit
def _update_care(
    age,
    health,
    frail,
    female,
    skill,
    first_member,
    size,
    by_health,
    young_max,
    labour_min,
    labour_max,
    elderly_can_care,
    healthy,
    disabled_code,
    capacity,
    flags,
    carer,
):
    for home in range(first_member.shape[0]):
        start, end = first_member[home], first_member[home] + size[home]
        young_child = care_need = has_disabled = substitute = has_labour = has_woman = False
        for i in range(start, end):
            young = age[i] <= young_max
            disabled = health[i] == disabled_code
            young_child |= young
            care_need |= young or frail[i] or disabled
            has_disabled |= disabled
            substitute |= (
                elderly_can_care and age[i] > labour_max and not frail[i] and health[i] == healthy
            )
            in_age = labour_min <= age[i] <= labour_max and not frail[i]
            capacity[i] = by_health[health[i]] if in_age else np.float32(0.0)
            if capacity[i] > 0:
                has_labour = True
                has_woman |= female[i]
        flags[0, home], flags[1, home], flags[2, home] = young_child, care_need, has_disabled
        flags[3, home], flags[4, home] = substitute, has_labour
        if care_need and not substitute:
            lowest = np.float32(np.inf)
            for i in range(start, end):
                if (
                    capacity[i] > 0
                    and female[i] == has_woman
                    and (carer[home] < 0 or skill[i] < lowest)
                ):
                    carer[home], lowest = i, skill[i]
