import zlib

import numpy as np
import pytest

from model.streams import STREAM_NAMES, Streams, make_stream, stream_key


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


def test_every_named_stream_is_distinct():
    firsts = {make_stream(1, name).random() for name in STREAM_NAMES}
    assert len(firsts) == len(STREAM_NAMES)
    assert len({stream_key(n) for n in STREAM_NAMES}) == len(STREAM_NAMES)


def test_stream_key_is_stable_across_processes():
    # CRC-32 of the UTF-8 name: fixed forever, unlike Python's salted hash()
    assert stream_key("population") == zlib.crc32(b"population")
    assert stream_key("choices") == zlib.crc32(b"choices")


def test_streams_reuse_one_generator_per_name_and_do_not_disturb_each_other():
    streams = Streams(seed=9, replicate=1)
    first = streams["orders"].random(5)
    streams["choices"].random(1000)  # heavy use of another stream
    second = streams["orders"].random(5)
    fresh = make_stream(9, "orders", 1).random(10)
    assert np.array_equal(np.concatenate([first, second]), fresh)
    assert streams["orders"] is streams["orders"]


def test_unknown_stream_name_is_refused():
    with pytest.raises(KeyError, match="unknown random stream"):
        Streams(0)["weather"]
