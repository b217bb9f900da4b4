"""Compilation with numba, when installed, of the few loops numpy cannot make fast enough.

Each compiled loop has an array version that stays the reference and the fallback; the
two compute the same numbers with the same floating-point operations in the same order,
and tests compare them exactly (`model.compiled_choice`, `model.compiled_pay`). The
compiled versions run when numba is installed, unless the environment sets
`WSIM_NUMBA=0`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

try:
    import numba
except ImportError:  # the array versions run instead
    numba = None  # type: ignore[assignment]


def enabled() -> bool:
    """Whether the compiled versions run (numba installed and not switched off)."""
    return numba is not None and os.environ.get("WSIM_NUMBA", "1") != "0"


def jit(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` compiled in nopython mode (cached on disk), or unchanged without numba."""
    return numba.njit(cache=True, nogil=True)(function) if numba is not None else function
