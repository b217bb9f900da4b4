"""Matching applicants to workshops, compiled with numba: the pool draw and hiring order.

The array twins are `model.labour_market._pick_in_pools` (the cumulative-vacancy search
of `pick_workshops`) and `model.labour_market._hiring_order` (the `np.lexsort` of
`hire`). Here each applicant's workshop is found by the same search, one applicant at a
time, and applicants are ordered by a counting sort on the workshop followed by a stable
sort of each workshop's scores, which is the order `np.lexsort` gives. Both give
identical results. The twins are declared in `model.labour_market` (see `model.compiled`).
"""

from __future__ import annotations

import numpy as np

from model.compiled.registry import jit


def hiring_order(slot: np.ndarray, score: np.ndarray, n_slots: int) -> np.ndarray:
    """Applicants by workshop, then by score, then by position: `np.lexsort((score, slot))`.

    Args:
        slot: each applicant's workshop slot (0 to n_slots - 1).
        score: each applicant's ranking score (lower is hired first).
        n_slots: number of workshop slots.
    """
    return _hiring_order(slot, score, n_slots)


def pick_in_pools(
    key: np.ndarray, u: np.ndarray, keys: np.ndarray, order: np.ndarray, cumulative: np.ndarray
) -> np.ndarray:
    """Each applicant's workshop, drawn in proportion to vacancies within its pool.

    Args:
        key: each applicant's pool.
        u: one uniform per applicant.
        keys: the slots' pools, ascending (slots in `order`).
        order: slot indices sorted by pool.
        cumulative: 0, then the running sum of vacancies over `order` (float64).

    Returns:
        The slot per applicant, -1 where the pool has no vacancy.
    """
    target = np.empty(len(key), dtype=np.int64)
    _pick_in_pools(key, u, keys, order, cumulative, target)
    return target


@jit
def _hiring_order(slot, score, n_slots):
    start = np.zeros(n_slots + 1, dtype=np.int64)
    for s in slot:
        start[s + 1] += 1
    for s in range(n_slots):
        start[s + 1] += start[s]
    order = np.empty(slot.shape[0], dtype=np.int64)
    fill = start[:-1].copy()
    for i in range(slot.shape[0]):
        order[fill[slot[i]]] = i
        fill[slot[i]] += 1
    for s in range(n_slots):
        first, end = start[s], start[s + 1]
        if end - first > 1:
            members = order[first:end].copy()
            order[first:end] = members[np.argsort(score[members], kind="mergesort")]
    return order


@jit
def _pick_in_pools(key, u, keys, order, cumulative, target):
    last = max(order.shape[0] - 1, 0)
    for a in range(key.shape[0]):
        start = np.searchsorted(keys, key[a], side="left")
        end = np.searchsorted(keys, key[a], side="right")
        total = cumulative[end] - cumulative[start]
        if not total > 0:
            target[a] = -1
            continue
        position = np.searchsorted(cumulative, cumulative[start] + u[a] * total, side="right") - 1
        position = min(max(position, start), max(end - 1, start))
        target[a] = order[min(max(position, 0), last)]
