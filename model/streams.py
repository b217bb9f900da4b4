"""Named random streams derived statelessly from (seed, replicate, stream name).

A stream depends only on the root seed, the replicate index and its name. The model
draws its population from the "population" stream, so every policy arm of replicate r
has the same households; every later draw is keyed by what it concerns
(`model.keyed`). Experiments draw their designs and resamples from streams of their
own names.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_key(name: str) -> int:
    """A stable integer for a stream name (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(name.encode("utf-8"))


def make_stream(seed: int, name: str, replicate: int = 0) -> np.random.Generator:
    """The generator of stream `name` for (`seed`, `replicate`).

    Args:
        seed: root seed of the run (non-negative integer).
        name: stream name, e.g. "population".
        replicate: replicate index (non-negative integer).

    Returns:
        A PCG64 generator whose state depends on these three values only.
    """
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=(replicate, stream_key(name)))
    return np.random.Generator(np.random.PCG64(sequence))
