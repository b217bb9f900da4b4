"""Matching applicants to workshops, compiled with numba: the pick race and the hiring order.

The array twins are `model.labour_market._race` (the vectorised race of
`pick_workshops`) and `model.labour_market._hiring_order` (the `np.lexsort` of `hire`).
Here each applicant's race is run candidate by candidate without the arrays of pairs
the vectorised version builds, and applicants are ordered by a counting sort on the
workshop followed by a stable sort of each workshop's scores, which is the order
`np.lexsort` gives. Both give identical results. The twins are declared in
`model.labour_market` (see `model.compiled`).
"""

from __future__ import annotations

import numpy as np

from model.compiled.keyed import GOLDEN, MANTISSA_SHIFT, UNIT, _finalise  # the same hash
from model.compiled.registry import jit


def hiring_order(slot: np.ndarray, score: np.ndarray, n_slots: int) -> np.ndarray:
    """Applicants by workshop, then by score, then by position: `np.lexsort((score, slot))`.

    Args:
        slot: each applicant's workshop slot (0 to n_slots - 1).
        score: each applicant's ranking score (lower is hired first).
        n_slots: number of workshop slots.
    """
    return _hiring_order(slot, score, n_slots)


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


def race(
    wanted: np.ndarray,
    keys: np.ndarray,
    weights: np.ndarray,
    entities: np.ndarray,
    persons: np.ndarray,
    prefix: np.uint64,
) -> np.ndarray:
    """Each applicant's winner among the candidates whose key it wants (-1: none).

    The twin of `model.labour_market._race`: candidate c arrives at -log(u) / weights[c],
    u the applicant's keyed pair uniform for `entities[c]` under `prefix`; the first to
    arrive wins (the first listed if tied). The uniforms are hashed here, their
    logarithms taken by numpy between two compiled passes, as the array version does.

    Args:
        wanted: the key each applicant enters (-1 or an absent key: none).
        keys: the candidates' keys, ascending.
        weights: the candidates' weights (> 0).
        entities: what each candidate's draw is keyed by (e.g. the firm's serial).
        persons: each applicant's person index.
        prefix: the hashed key of the draws (`model.keyed.KeyedDraws.prefix`).
    """
    start = np.searchsorted(keys, wanted, side="left")
    counts = np.searchsorted(keys, wanted, side="right") - start
    offsets = np.cumsum(counts) - counts
    wait = np.empty(int(counts.sum()), dtype=np.float64)
    _pair_draws(np.uint64(prefix), persons, entities, start, counts, offsets, wait)
    np.log(wait, out=wait)
    np.negative(wait, out=wait)
    winner = np.empty(len(wanted), dtype=np.int64)
    _first_to_arrive(wait, weights, start, counts, offsets, winner)
    return winner


@jit
def _pair_draws(prefix, persons, entities, start, counts, offsets, out):
    for a in range(persons.shape[0]):
        inner = _finalise(prefix + np.uint64(persons[a]) * GOLDEN)
        for k in range(counts[a]):
            z = _finalise(inner + np.uint64(entities[start[a] + k]) * GOLDEN)
            out[offsets[a] + k] = (np.float64(z >> MANTISSA_SHIFT) + 0.5) * UNIT


@jit
def _first_to_arrive(wait, weights, start, counts, offsets, winner):
    for a in range(counts.shape[0]):
        winner[a] = -1
        best = np.inf
        for k in range(counts[a]):
            arrival = wait[offsets[a] + k] / weights[start[a] + k]
            if arrival < best:
                best = arrival
                winner[a] = start[a] + k
