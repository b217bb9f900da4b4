"""Matching applicants to workshop places under the poor-worker quota and priorities.

Each applicant applies to one workshop of the kind chosen (in the own village for village
workshops, county-wide otherwise), drawn with probability proportional to its vacancies.
Each workshop then hires registered-poor applicants first, trained before untrained, the
rest in random order, never past capacity; where certification is in force, non-poor
applicants are hired only as far as the poor share stays at the quota.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.households import NO_EMPLOYER, People
from model.scenario import Activity

# Tolerance when comparing a poor share with the quota (shares are ratios of head counts).
QUOTA_TOLERANCE = 1e-9


@dataclass
class Staff:
    """Head counts per workshop slot."""

    workers: np.ndarray       # int64
    poor_workers: np.ndarray  # int64

    @classmethod
    def count(cls, people: People, poor_person: np.ndarray, n_slots: int) -> Staff:
        """Count each workshop's workers and registered-poor workers."""
        employed = people.employer >= 0
        slots = people.employer[employed]
        return cls(np.bincount(slots, minlength=n_slots),
                   np.bincount(slots, poor_person[employed], n_slots).astype(np.int64))


def market_key(activity: np.ndarray, village: np.ndarray, n_villages: int) -> np.ndarray:
    """Pool of places an activity draws on.

    One pool per village for village workshops, one county-wide pool per other kind.
    """
    return np.where(activity == Activity.VILLAGE_WORKSHOP, village,
                    n_villages + activity.astype(np.int64))


def nonpoor_room(staff: Staff, quota_share: float) -> np.ndarray:
    """Non-poor workers each workshop may add without its poor share falling below quota."""
    unlimited = np.iinfo(np.int64).max // 4
    if quota_share <= 0:
        return np.full(len(staff.workers), unlimited)
    allowed = np.floor(staff.poor_workers * (1 - quota_share) / quota_share + QUOTA_TOLERANCE)
    allowed = np.minimum(allowed, unlimited).astype(np.int64)
    return np.maximum(allowed - (staff.workers - staff.poor_workers), 0)


@dataclass
class Applications:
    """Who applies for what this month (one entry per applicant)."""

    person: np.ndarray   # int64, person index
    key: np.ndarray      # int64, market_key of the wanted activity
    poor: np.ndarray     # bool, registered poor
    trained: np.ndarray  # bool, has completed a course


def pick_workshops(apps: Applications, slot_key: np.ndarray, vacancies: np.ndarray,
                   u: np.ndarray) -> np.ndarray:
    """For each applicant, a workshop of its pool drawn in proportion to vacancies (-1 if none)."""
    order = np.argsort(slot_key, kind="stable")
    keys, room = slot_key[order], vacancies[order].astype(np.float64)
    cum = np.concatenate(([0.0], np.cumsum(room)))
    start = np.searchsorted(keys, apps.key, side="left")
    end = np.searchsorted(keys, apps.key, side="right")
    total = cum[end] - cum[start]
    position = np.searchsorted(cum, cum[start] + u * total, side="right") - 1
    # Rounding can push a draw near 1 past its pool's end: keep it inside the pool.
    position = np.clip(position, start, np.maximum(end - 1, start))
    position = np.clip(position, 0, max(len(order) - 1, 0))
    return np.where(total > 0, order[position] if len(order) else -1, -1)


def hire(apps: Applications, target: np.ndarray, vacancies: np.ndarray, staff: Staff,
         quota_share: float, u: np.ndarray,
         needs_training: np.ndarray | None = None) -> np.ndarray:
    """Which applicants their target workshop hires (bool per applicant).

    Poor applicants come first, trained before untrained, then random order; a workshop
    hires at most its vacancies, and non-poor applicants only as far as its poor share,
    counting this round's poor hires, stays at `quota_share`. Workshops flagged in
    `needs_training` consider only applicants who completed a course.
    """
    qualified = target >= 0
    if needs_training is not None:
        qualified &= apps.trained | ~needs_training[np.maximum(target, 0)]
    applying = np.flatnonzero(qualified)
    slot = target[applying]
    order = np.lexsort((u[applying], ~apps.trained[applying], ~apps.poor[applying], slot))
    slot_sorted = slot[order]
    group_start = np.searchsorted(slot_sorted, slot_sorted, side="left")
    rank = np.arange(len(order)) - group_start
    poor_sorted = apps.poor[applying][order]
    poor_in_group = np.bincount(slot_sorted, poor_sorted, len(vacancies)).astype(np.int64)
    poor_hired = np.minimum(vacancies, poor_in_group)
    after = Staff(staff.workers + poor_hired, staff.poor_workers + poor_hired)
    nonpoor_allowed = np.minimum(vacancies - poor_hired, nonpoor_room(after, quota_share))
    accepted = np.where(poor_sorted, rank < vacancies[slot_sorted],
                        rank - poor_in_group[slot_sorted] < nonpoor_allowed[slot_sorted])
    hired = np.zeros(len(target), dtype=bool)
    hired[applying[order]] = accepted
    return hired


def release(people: People, leavers: np.ndarray) -> None:
    """Leavers lose their employer, tenure and hiring-bonus status."""
    people.employer[leavers] = NO_EMPLOYER
    people.tenure[leavers] = 0
    people.bonus_paid[leavers] = False


def take_up(people: People, persons: np.ndarray, slots: np.ndarray,
            activities: np.ndarray) -> None:
    """Persons start at their new workshops.

    Those coming from outside workshops keep last month's earnings as their before-job
    income; those moving between workshops keep the one they had.
    """
    newcomers = persons[people.employer[persons] == NO_EMPLOYER]
    people.earnings_before_job[newcomers] = people.earnings[newcomers]
    release(people, persons)
    people.employer[persons] = slots
    people.activity[persons] = activities
