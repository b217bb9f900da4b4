import zlib

import numpy as np
import pytest

from model.streams import make_stream, stream_key


def test_same_seed_name_and_replicate_give_identical_draws():
    a = make_stream(42, "choices", 3).random(100)
    b = make_stream(42, "choices", 3).random(100)
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    ("seed", "name", "replicate"),
    [
        (42, "matching", 3),  # another name
        (43, "choices", 3),  # another seed
        (42, "choices", 4),  # another replicate
    ],
)
def test_changing_seed_name_or_replicate_changes_the_draws(seed, name, replicate):
    base = make_stream(42, "choices", 3).random(100)
    assert not np.array_equal(base, make_stream(seed, name, replicate).random(100))


def test_stream_key_is_stable_across_processes():
    # CRC-32 of the UTF-8 name: fixed forever, unlike Python's salted hash()
    assert stream_key("population") == zlib.crc32(b"population")
    assert stream_key("choices") == zlib.crc32(b"choices")
