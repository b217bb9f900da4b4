"""Uniforms at chosen positions equal numpy's draws, and the stream ends where numpy's does."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twins import run_both

from model.compiled import uniforms as compiled_uniforms
from model.compiled.uniforms import JUMP_TABLE
from model.economy import uniforms_at
from model.streams import make_stream


def twin_streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    a = make_stream(seed, "choices", replicate=seed % 3)
    a.random(5, dtype=np.float32)  # leaves half a 64-bit output buffered
    b = make_stream(seed, "choices", replicate=seed % 3)
    b.bit_generator.state = a.bit_generator.state
    return a, b


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 3 * JUMP_TABLE), share=st.floats(0.0, 1.0))
def test_uniforms_at_twins_are_identical(seed, n, share):
    drawn, rng = twin_streams(seed)
    positions = np.flatnonzero(np.random.default_rng(seed).random(n) < share)
    # identical uniforms, and both streams left at the same state
    uniforms, (jumped, *_) = run_both(uniforms_at, rng, n, positions)
    np.testing.assert_array_equal(uniforms, drawn.random(n)[positions])
    assert jumped.bit_generator.state == drawn.bit_generator.state
    np.testing.assert_array_equal(jumped.random(4), drawn.random(4))
    np.testing.assert_array_equal(
        jumped.random(3, dtype=np.float32), drawn.random(3, dtype=np.float32)
    )


def test_gaps_longer_than_the_jump_table_are_composed():
    _, rng = twin_streams(7)
    n = 5 * JUMP_TABLE + 17
    run_both(uniforms_at, rng, n, np.array([0, 3 * JUMP_TABLE + 5, n - 1]))


def test_other_bit_generators_are_refused():
    with pytest.raises(TypeError, match="PCG64"):
        compiled_uniforms.uniforms_at(np.random.Generator(np.random.Philox(1)), 10, np.array([1]))
