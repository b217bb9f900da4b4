"""Uniforms of a PCG64 stream at chosen positions, without drawing the ones in between.

`uniforms_at(rng, n, positions)` returns `rng.random(n)[positions]` and leaves `rng` where
`rng.random(n)` would: the same numbers, bit for bit. A month's choice uniforms are one
per person, but only the revisers (a tenth or so) use theirs; jumping from one reviser
to the next costs one 128-bit multiply-add instead of a draw per person in between.

PCG64 (O'Neill 2014, as numpy implements it) steps a 128-bit linear congruential state,
s' = a s + c (mod 2^128), and outputs the XSL-RR permutation of the new state; a double
is the top 53 bits of the output times 2^-53. Jumping g steps is s' = A_g s + C_g with
A_g = a^g and C_g = c (a^(g-1) + ... + 1), taken from a table for gaps up to
`JUMP_TABLE` and composed beyond. 128-bit numbers are held as (high, low) uint64 pairs.
The array twin, `model.economy._uniforms_at`, draws all n and keeps those at `positions`;
the twin is declared in `model.economy` (see `model.compiled`).
"""

from __future__ import annotations

import numpy as np

from model.compiled.registry import jit

MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645  # numpy's PCG64 multiplier (128-bit)
JUMP_TABLE = 4096  # gaps with a precomputed jump
LOW_64 = (1 << 64) - 1
DOUBLE_SCALE = 1.0 / 9007199254740992.0  # 2^-53


def uniforms_at(rng: np.random.Generator, n: int, positions: np.ndarray) -> np.ndarray:
    """`rng.random(n)[positions]`, leaving `rng` as `rng.random(n)` would.

    Args:
        rng: a PCG64 generator.
        n: number of uniforms the stream advances by.
        positions: ascending positions in 0..n-1.
    """
    state = rng.bit_generator.state
    if state["bit_generator"] != "PCG64":
        raise TypeError("uniforms_at needs a PCG64 generator")
    s, c = state["state"]["state"], state["state"]["inc"]
    jumps = _jump_table(c)
    out = np.empty(len(positions))
    s_hi, s_lo = _draw_at(
        np.uint64(s >> 64), np.uint64(s & LOW_64), positions, np.int64(n), jumps, out
    )
    state["state"]["state"] = (int(s_hi) << 64) | int(s_lo)
    rng.bit_generator.state = state
    return out


_TABLES: dict[int, np.ndarray] = {}


def _jump_table(increment: int) -> np.ndarray:
    """(JUMP_TABLE + 1) x 4 uint64: A_g high, A_g low, C_g high, C_g low for g = 0.."""
    if increment not in _TABLES:
        table = np.empty((JUMP_TABLE + 1, 4), dtype=np.uint64)
        a, c = 1, 0
        for gap in range(JUMP_TABLE + 1):
            table[gap] = (a >> 64, a & LOW_64, c >> 64, c & LOW_64)
            a = (a * MULTIPLIER) & ((1 << 128) - 1)
            c = (c * MULTIPLIER + increment) & ((1 << 128) - 1)
        _TABLES.clear()  # one stream's increment at a time is enough
        _TABLES[increment] = table
    return _TABLES[increment]


@jit
def _mulhi(a, b):
    """High 64 bits of the 128-bit product of two uint64."""
    mask = np.uint64(0xFFFFFFFF)
    shift = np.uint64(32)
    a_lo, a_hi = a & mask, a >> shift
    b_lo, b_hi = b & mask, b >> shift
    p0, p1, p2, p3 = a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi
    carry = ((p0 >> shift) + (p1 & mask) + (p2 & mask)) >> shift
    return p3 + (p1 >> shift) + (p2 >> shift) + carry


@jit
def _jump(s_hi, s_lo, jumps, gap):
    """The state `gap` steps on: A_gap s + C_gap (mod 2^128)."""
    while gap > 0:
        g = min(gap, jumps.shape[0] - 1)
        a_hi, a_lo, c_hi, c_lo = jumps[g, 0], jumps[g, 1], jumps[g, 2], jumps[g, 3]
        hi = _mulhi(a_lo, s_lo) + a_lo * s_hi + a_hi * s_lo
        lo = a_lo * s_lo
        s_lo = lo + c_lo
        s_hi = hi + c_hi + (np.uint64(1) if s_lo < lo else np.uint64(0))
        gap -= g
    return s_hi, s_lo


@jit
def _double(s_hi, s_lo):
    """The uniform PCG64 outputs for state (s_hi, s_lo): XSL-RR, top 53 bits."""
    xored = s_hi ^ s_lo
    rotation = s_hi >> np.uint64(58)
    output = (xored >> rotation) | (xored << ((np.uint64(64) - rotation) & np.uint64(63)))
    return np.float64(output >> np.uint64(11)) * DOUBLE_SCALE


@jit
def _draw_at(s_hi, s_lo, positions, n, jumps, out):
    at = np.int64(-1)  # position of the last output drawn
    for k in range(positions.shape[0]):
        s_hi, s_lo = _jump(s_hi, s_lo, jumps, positions[k] - at)
        out[k] = _double(s_hi, s_lo)
        at = positions[k]
    return _jump(s_hi, s_lo, jumps, n - 1 - at)
