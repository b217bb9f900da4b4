"""Keyed uniforms compiled with numba: one SplitMix64 finaliser per entity.

The array twin is `model.keyed._keyed_uniforms`, declared in `model.keyed` (see
`model.compiled`); both compute the same 64-bit integers with wrapping arithmetic and
turn them into the same doubles.
"""

from __future__ import annotations

import numpy as np

from model.compiled.registry import jit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # SplitMix64's increment (2^64 / golden ratio)
MIX_1 = np.uint64(0xBF58476D1CE4E5B9)  # SplitMix64's finaliser multipliers
MIX_2 = np.uint64(0x94D049BB133111EB)
SHIFT_1, SHIFT_2, SHIFT_3 = np.uint64(30), np.uint64(27), np.uint64(31)
MANTISSA_SHIFT = np.uint64(11)  # keep the top 53 bits: a double's mantissa
UNIT = 2.0**-53  # spacing of the uniforms


def keyed_uniforms(prefix: np.uint64, entities: np.ndarray) -> np.ndarray:
    """The uniform in (0, 1) of each entity under the key `prefix` (float64).

    Args:
        prefix: the hashed key of the draw (seed, replicate, purpose, time).
        entities: non-negative entity numbers (int64): person, household or firm serial.
    """
    out = np.empty(len(entities), dtype=np.float64)
    _keyed_uniforms(np.uint64(prefix), entities, out)
    return out


@jit
def _keyed_uniforms(prefix, entities, out):
    for i in range(entities.shape[0]):
        z = _finalise(prefix + np.uint64(entities[i]) * GOLDEN)
        out[i] = (np.float64(z >> MANTISSA_SHIFT) + 0.5) * UNIT


def keyed_selection(
    prefix: np.uint64, share: float, forced: np.ndarray, capacity: np.ndarray
) -> np.ndarray:
    """Entities i (ascending, int64) with capacity[i] > 0 and forced[i] or a uniform < share.

    The uniform of entity i is `keyed_uniforms(prefix, [i])`. One branch-free pass marks
    the selected (so the loop vectorises); no array of uniforms is kept.

    Args:
        prefix: the hashed key of the draw.
        share: the chance of being selected when not forced.
        forced: selected whenever able (bool per entity).
        capacity: entities with capacity <= 0 are never selected.
    """
    selected = np.empty(len(capacity), dtype=np.bool_)
    _keyed_selection(np.uint64(prefix), share, forced, capacity, selected)
    return np.flatnonzero(selected)


@jit
def _keyed_selection(prefix, share, forced, capacity, selected):
    for i in range(capacity.shape[0]):
        z = _finalise(prefix + np.uint64(i) * GOLDEN)
        drawn = (np.float64(z >> MANTISSA_SHIFT) + 0.5) * UNIT < share
        selected[i] = (capacity[i] > 0) & (forced[i] | drawn)


def keyed_option_uniforms(prefix: np.uint64, entities: np.ndarray, options: int) -> np.ndarray:
    """A uniform per entity and option: that of entity e x `options` + k (float64, n x k).

    The uniforms `keyed_uniforms` gives those numbers, without building their indices.
    """
    out = np.empty((len(entities), options), dtype=np.float64)
    _keyed_option_uniforms(np.uint64(prefix), entities, out)
    return out


@jit
def _keyed_option_uniforms(prefix, entities, out):
    options = out.shape[1]
    for i in range(entities.shape[0]):
        first = np.uint64(entities[i]) * np.uint64(options)
        for k in range(options):
            z = _finalise(prefix + (first + np.uint64(k)) * GOLDEN)
            out[i, k] = (np.float64(z >> MANTISSA_SHIFT) + 0.5) * UNIT


def keyed_pair_uniforms(prefix: np.uint64, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The uniform in (0, 1) of each pair (first[i], second[i]) under the key `prefix`.

    The pair's uniform is the uniform of `second` under the hash of `first` as a prefix:
    e.g. an applicant's (first) draw for each workshop (second, its serial).
    """
    out = np.empty(len(first), dtype=np.float64)
    _keyed_pair_uniforms(np.uint64(prefix), first, second, out)
    return out


@jit
def _finalise(z):
    z = (z ^ (z >> SHIFT_1)) * MIX_1
    z = (z ^ (z >> SHIFT_2)) * MIX_2
    return z ^ (z >> SHIFT_3)


@jit
def _keyed_pair_uniforms(prefix, first, second, out):
    for i in range(first.shape[0]):
        inner = _finalise(prefix + np.uint64(first[i]) * GOLDEN)
        z = _finalise(inner + np.uint64(second[i]) * GOLDEN)
        out[i] = (np.float64(z >> MANTISSA_SHIFT) + 0.5) * UNIT
