"""The registry of compiled kernels and their array twins, and the one switch between them.

Each kernel is declared once, by `twin`, in the model module that calls it, beside its
array twin: the array version, which stays the reference and the fallback. The two take
the same arguments, compute the same numbers with the same floating-point operations in
the same order, and the test each twin names compares them bit for bit
(`tests/model/test_compiled_registry.py` fails for a twin without such a test). `TWINS`
holds every twin declared so far by name, `twins()` all of them.

Calling a twin runs the compiled kernel when numba is installed, unless the environment
sets `WSIM_NUMBA=0`: `enabled` is the one place that reads the switch. It is read at
every call of a twin (about a dozen calls a month, whatever the number of people; a
microsecond each), so setting the variable takes effect at once, in this process and in
processes started with it.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

try:
    import numba
except ImportError:  # the array versions run instead
    numba = None  # type: ignore[assignment]


def enabled() -> bool:
    """Whether twins run their compiled kernels (numba installed and not switched off)."""
    return numba is not None and os.environ.get("WSIM_NUMBA", "1") != "0"


def jit(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` compiled in nopython mode (cached on disk), or unchanged without numba."""
    return numba.njit(cache=True, nogil=True)(function) if numba is not None else function


def jit_numpy_errors(function: Callable[..., Any]) -> Callable[..., Any]:
    """`jit` with numpy's floating-point error model, as the array versions have.

    A float division by zero gives inf or nan instead of raising ZeroDivisionError, so
    divisions need no check and a loop with one can be vectorised (four divisions at a
    time). Results are otherwise the same as `jit`'s.
    """
    if numba is None:
        return function
    return numba.njit(cache=True, nogil=True, error_model="numpy")(function)


@dataclass(frozen=True, slots=True)
class Twin[**P, R]:
    """A compiled kernel and its array version, called as one function.

    Attributes:
        name: the kernel's name, unique among twins.
        compiled: the compiled kernel (a function of a `model.compiled` module).
        arrays: the array version, with the same arguments and identical results.
        test: the test that compares the two bit for bit, as a pytest node id.
    """

    name: str
    compiled: Callable[P, R]
    arrays: Callable[P, R]
    test: str

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return (self.compiled if enabled() else self.arrays)(*args, **kwargs)

    def selected(self) -> Callable[P, R]:
        """The version a call runs now (see `enabled`)."""
        return self.compiled if enabled() else self.arrays


TWINS: dict[str, Twin[..., Any]] = {}


def twin[**P, R](compiled: Callable[P, R], arrays: Callable[P, R], test: str) -> Twin[P, R]:
    """Declare the compiled kernel `compiled` with its array version `arrays`.

    Args:
        compiled: the compiled kernel; its name names the twin.
        arrays: the array version (same arguments, identical results).
        test: the test comparing them bit for bit (pytest node id, from the repository).

    Returns:
        The twin, to be called instead of either version.
    """
    declared = Twin(compiled.__name__, compiled, arrays, test)
    if declared.name in TWINS:
        raise ValueError(f"kernel {declared.name!r} is declared twice")
    TWINS[declared.name] = declared
    return declared


def twins() -> dict[str, Twin[..., Any]]:
    """Every twin of the model, by name (imports each module of `model`, which declare them)."""
    import model

    for module in pkgutil.walk_packages(model.__path__, "model."):
        importlib.import_module(module.name)
    return dict(TWINS)
