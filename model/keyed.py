"""Keyed random numbers: every draw inside a run is a hash of what it concerns.

A uniform is a function of (seed, replicate, purpose, month, index, entity) only, where
the entity is what the draw is about: a person or household (by row), a firm (by the
serial it gets when it becomes a candidate, never its table slot), or a form. No stream
advances, so a policy arm that draws more for one entity (another workshop, another
applicant) leaves every other entity's numbers as they are: two arms of a comparison
see the same numbers wherever their states agree, which is what makes paired
differences precise (common random numbers).

The hash is SplitMix64's finaliser: the key (seed, replicate, purpose, month, index) is
folded into a 64-bit prefix, and entity e gets the top 53 bits of
mix(prefix + e * golden), as in a SplitMix64 generator started at the prefix. The
uniforms are in (0, 1), never 0 or 1, so their logarithms and normal quantiles are
finite.

Population synthesis, which every arm shares, draws from its own generator
(`model.streams`); everything after it draws here.
"""

from __future__ import annotations

import enum

import numpy as np
from scipy import special

from model.compiled import keyed as compiled_keyed
from model.compiled import twin
from model.compiled.keyed import GOLDEN, MANTISSA_SHIFT, MIX_1, MIX_2, UNIT

MASK = (1 << 64) - 1


class Purpose(enum.IntEnum):
    """What a draw decides; one key each, so purposes never share numbers."""

    REVISE = 1  # whether a person revises this month
    CHOICE = 2  # a person's draw for each option of the logit choice
    PICK = 3  # an applicant's draw for each workshop of the pool (race)
    HIRE = 4  # a firm's error in judging an applicant's skill (normal quantile)
    ORDERS = 5  # a firm's order innovation this month
    CANDIDATES = 6  # how many candidate firms of a form appear this month
    FIRM = 7  # a candidate firm's attributes (index: which attribute)
    LOAN = 8  # whether a new workshop takes a guaranteed loan
    ENROLMENT = 9  # whether the county enrols a certified workshop in injury insurance
    TRAINING_PLACES = 10  # rounding of the scaled number of training places
    TRAINING = 11  # a person's priority for a training place
    ORDER_COLLAPSE = 12  # whether an order collapse hits a firm
    MIGRATION_STOP = 13  # whether a migrant is kept home
    ILLNESS = 14  # whether a person falls ill this month
    PICK_GROUP = 15  # an applicant's draw for each group of workshops of the pool (race)
    INITIAL_WORKSHOPS = 16  # rounding of a form's scaled count of initial workshops
    INJURY = 17  # whether a workshop worker is hurt at work this month
    REGISTRATION = 18  # the error of a household's income assessment at registration


def _mix(z: int) -> int:
    """SplitMix64's finaliser of the 64-bit integer `z` (after adding the increment)."""
    z = (z + int(GOLDEN)) & MASK
    z = ((z ^ (z >> 30)) * int(MIX_1)) & MASK
    z = ((z ^ (z >> 27)) * int(MIX_2)) & MASK
    return z ^ (z >> 31)


def _finalise(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser of each uint64 in `z` (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * MIX_1
    z = (z ^ (z >> np.uint64(27))) * MIX_2
    return z ^ (z >> np.uint64(31))


def _keyed_uniforms(prefix: np.uint64, entities: np.ndarray) -> np.ndarray:
    """The twin of `model.compiled.keyed.keyed_uniforms`, with numpy's uint64 arrays."""
    z = _finalise(np.uint64(prefix) + entities.astype(np.uint64) * GOLDEN)
    return ((z >> MANTISSA_SHIFT).astype(np.float64) + 0.5) * UNIT


keyed_uniforms = twin(
    compiled_keyed.keyed_uniforms,
    _keyed_uniforms,
    test="tests/model/test_keyed.py::test_keyed_uniforms_twins_are_identical",
)


def _keyed_selection(
    prefix: np.uint64, share: float, forced: np.ndarray, capacity: np.ndarray
) -> np.ndarray:
    """The twin of `model.compiled.keyed.keyed_selection`, on whole arrays."""
    u = _keyed_uniforms(prefix, np.arange(len(capacity), dtype=np.int64))
    return np.flatnonzero(((u < share) | forced) & (capacity > 0))


keyed_selection = twin(
    compiled_keyed.keyed_selection,
    _keyed_selection,
    test="tests/model/test_keyed.py::test_keyed_selection_twins_are_identical",
)


def _keyed_option_uniforms(prefix: np.uint64, entities: np.ndarray, options: int) -> np.ndarray:
    """The twin of `model.compiled.keyed.keyed_option_uniforms`, on whole arrays."""
    numbers = entities[:, None] * options + np.arange(options)
    return _keyed_uniforms(prefix, numbers.ravel()).reshape(len(entities), options)


keyed_option_uniforms = twin(
    compiled_keyed.keyed_option_uniforms,
    _keyed_option_uniforms,
    test="tests/model/test_keyed.py::test_keyed_option_uniforms_twins_are_identical",
)


def _keyed_pair_uniforms(prefix: np.uint64, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The twin of `model.compiled.keyed.keyed_pair_uniforms`, with numpy's uint64 arrays."""
    inner = _finalise(np.uint64(prefix) + first.astype(np.uint64) * GOLDEN)
    z = _finalise(inner + second.astype(np.uint64) * GOLDEN)
    return ((z >> MANTISSA_SHIFT).astype(np.float64) + 0.5) * UNIT


keyed_pair_uniforms = twin(
    compiled_keyed.keyed_pair_uniforms,
    _keyed_pair_uniforms,
    test="tests/model/test_keyed.py::test_keyed_pair_uniforms_twins_are_identical",
)


class KeyedDraws:
    """The keyed random numbers of one run.

    Args:
        seed: the scenario's root seed.
        replicate: the replicate index.
    """

    def __init__(self, seed: int, replicate: int) -> None:
        self.root = _mix(_mix(seed & MASK) ^ replicate)

    def prefix(self, purpose: Purpose, month: int = 0, index: int = 0) -> np.uint64:
        """The 64-bit key of the draws of `purpose` in `month` (and sub-key `index`)."""
        return np.uint64(_mix(_mix(_mix(self.root ^ int(purpose)) ^ month) ^ index))

    def uniforms(
        self, purpose: Purpose, entities: np.ndarray, month: int = 0, index: int = 0
    ) -> np.ndarray:
        """One uniform in (0, 1) per entity (non-negative integers), float64."""
        return keyed_uniforms(self.prefix(purpose, month, index), np.asarray(entities, np.int64))

    def selection(
        self,
        purpose: Purpose,
        share: float,
        forced: np.ndarray,
        capacity: np.ndarray,
        month: int = 0,
        index: int = 0,
    ) -> np.ndarray:
        """Entities 0..n-1 with capacity > 0 that are forced or whose uniform is < share.

        The same as ``np.flatnonzero(((uniforms(arange(n)) < share) | forced) &
        (capacity > 0))``, without the arrays (`keyed_selection`).
        """
        return keyed_selection(self.prefix(purpose, month, index), share, forced, capacity)

    def option_uniforms(
        self, purpose: Purpose, entities: np.ndarray, options: int, month: int = 0, index: int = 0
    ) -> np.ndarray:
        """A uniform per entity and option (n x options).

        Entity e's option k has the uniform of entity e x options + k of `uniforms`.
        """
        return keyed_option_uniforms(
            self.prefix(purpose, month, index), np.asarray(entities, np.int64), options
        )

    def uniform(self, purpose: Purpose, entity: int = 0, month: int = 0, index: int = 0) -> float:
        """The uniform of one entity."""
        return float(self.uniforms(purpose, np.array([entity]), month, index)[0])

    def pair_uniforms(
        self,
        purpose: Purpose,
        first: np.ndarray,
        second: np.ndarray,
        month: int = 0,
        index: int = 0,
    ) -> np.ndarray:
        """One uniform in (0, 1) per pair of entities (e.g. applicant and workshop serial)."""
        return keyed_pair_uniforms(
            self.prefix(purpose, month, index),
            np.asarray(first, np.int64),
            np.asarray(second, np.int64),
        )

    def normals(
        self, purpose: Purpose, entities: np.ndarray, month: int = 0, index: int = 0
    ) -> np.ndarray:
        """One standard normal per entity (the normal quantile of its uniform)."""
        return special.ndtri(self.uniforms(purpose, entities, month, index))

    def poisson(self, purpose: Purpose, means: np.ndarray, month: int = 0) -> np.ndarray:
        """A Poisson count for each entity 0, 1, ... of mean `means[entity]` (int64).

        Each count is the Poisson quantile of the entity's uniform (0 for a mean of 0).
        """
        means = np.asarray(means, dtype=np.float64)
        u = self.uniforms(purpose, np.arange(len(means)), month)
        counts = poisson_quantile(u, np.maximum(means, np.finfo(float).tiny))
        return np.where(means > 0, counts, 0).astype(np.int64)

    def stochastic_round(self, x: float, purpose: Purpose, month: int = 0, entity: int = 0) -> int:
        """`x` rounded to floor(x) or ceil(x) with the odds that keep it unbiased."""
        whole = int(np.floor(x))
        return whole + int(self.uniform(purpose, entity, month) < x - whole)

    def by_priority(
        self, purpose: Purpose, candidates: np.ndarray, k: int, month: int
    ) -> np.ndarray:
        """The `k` candidates with the lowest keyed priority, in order of priority.

        A uniformly random subset of size k, in random order; a candidate's chance of
        being picked depends on the others only through k and their number.
        """
        priority = self.uniforms(purpose, candidates, month)
        k = min(k, len(candidates))
        first = np.argpartition(priority, k - 1)[:k] if 0 < k < len(candidates) else None
        picked = np.arange(len(candidates)) if first is None else first
        picked = picked[np.argsort(priority[picked], kind="stable")][:k]
        return candidates[picked]


def poisson_quantile(u: np.ndarray, means: np.ndarray) -> np.ndarray:
    """The smallest k with P(K <= k) >= u for K ~ Poisson(mean), for u in (0, 1).

    The computation of `scipy.stats.poisson.ppf` (its `_ppf`: the inverse of the
    incomplete gamma function, then one step down where the CDF already reaches u)
    without the distribution object's argument handling, which costs a millisecond a
    call; a test checks both agree.
    """
    counts = np.ceil(special.pdtrik(u, means))
    below = np.maximum(counts - 1, 0)
    return np.where(special.pdtr(below, means) >= u, below, counts)
