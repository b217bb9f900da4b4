"""Running both versions of a twin (`model.compiled`) and comparing them bit for bit.

Equivalence tests call `run_both(twin, ...)` with the twin itself (for example
`run_both(metrics.fgt_sums, ...)`): `test_compiled_registry.py` looks for that call in
the test each twin names.
"""

from __future__ import annotations

import copy
import enum
import functools
import struct
from typing import Any

import numpy as np
from pydantic import BaseModel

from model.compiled import Twin


def run_both(twin: Twin[..., Any], *args: Any) -> tuple[Any, tuple[Any, ...]]:
    """Call the compiled and the array version of `twin` on copies of `args`.

    Both must return identical results and leave their arguments identical, bit for bit.

    Returns:
        The compiled version's result and its arguments, as it left them.
    """
    compiled_args, arrays_args = copy.deepcopy(args), copy.deepcopy(args)
    compiled = twin.compiled(*compiled_args)
    arrays = twin.arrays(*arrays_args)
    assert_identical(compiled, arrays, f"{twin.name}: result")
    assert_identical(compiled_args, arrays_args, f"{twin.name}: arguments")
    return compiled, compiled_args


def assert_identical(a: Any, b: Any, where: str = "value") -> None:
    """`a` and `b` hold the same types, dtypes, shapes and bits (recursively)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray | np.generic):
        assert a.dtype == b.dtype, f"{where}: dtype {a.dtype} != {b.dtype}"
        assert np.shape(a) == np.shape(b), f"{where}: shape {np.shape(a)} != {np.shape(b)}"
        if a.tobytes() != b.tobytes():
            differ = np.flatnonzero(
                np.asarray(a).view(np.uint8).ravel() != np.asarray(b).view(np.uint8).ravel()
            )
            raise AssertionError(f"{where}: bits differ (first differing byte {differ[0]})")
    elif isinstance(a, float):
        assert struct.pack("<d", a) == struct.pack("<d", b), f"{where}: {a!r} != {b!r}"
    elif isinstance(a, tuple | list):
        assert len(a) == len(b), f"{where}: length {len(a)} != {len(b)}"
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_identical(x, y, f"{where}[{k}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), f"{where}: keys {set(a) ^ set(b)} differ"
        for key in a:
            assert_identical(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, np.random.Generator):
        assert_identical(a.bit_generator.state, b.bit_generator.state, f"{where}.state")
    elif isinstance(a, int | str | bool | enum.Enum | BaseModel) or not hasattr(a, "__dict__"):
        assert a == b, f"{where}: {a!r} != {b!r}"
    else:  # dataclasses and other objects: attribute by attribute
        fields_a, fields_b = vars(a), vars(b)
        cached = _cached_properties(type(a))  # computed by one version, perhaps not the other
        assert fields_a.keys() - cached == fields_b.keys() - cached, f"{where}: attributes differ"
        for name in fields_a.keys() & fields_b.keys():
            assert_identical(fields_a[name], fields_b[name], f"{where}.{name}")


def _cached_properties(cls: type) -> set[str]:
    return {
        name
        for klass in cls.__mro__
        for name, attribute in vars(klass).items()
        if isinstance(attribute, functools.cached_property)
    }
