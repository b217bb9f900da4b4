"""Named random streams derived statelessly from (seed, replicate, stream name).

Every process that draws random numbers has its own stream, so that changing how
often one process draws (e.g. more workshops under a policy) never shifts the numbers
another process sees. Streams depend only on the root seed, the replicate index and
the stream's name: all policy arms of replicate r see the same population and shocks
(common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np

STREAM_NAMES = (
    "population",
    "orders",
    "entry",
    "choices",
    "matching",
    "shocks",
    "training",
    "enrolment",
)


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


class Streams:
    """The named generators of one run, created on first use."""

    def __init__(self, seed: int, replicate: int = 0) -> None:
        self.seed, self.replicate = seed, replicate
        self._generators: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        if name not in STREAM_NAMES:
            raise KeyError(f"unknown random stream {name!r}; known: {STREAM_NAMES}")
        if name not in self._generators:
            self._generators[name] = make_stream(self.seed, name, self.replicate)
        return self._generators[name]
