"""Returning memory the model has freed to the operating system.

Building a county and its first month make large temporary arrays (synthesis, the
starting rounds of choice and hiring). The C allocator keeps freed heap memory for
reuse rather than returning it, so a process's resident memory would stay at its
largest temporary. `release_freed_memory` asks glibc to return it (`malloc_trim`, as
Dask's workers do); elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache


@cache
def _trim() -> object | None:
    """The C library's `malloc_trim` (glibc), or None where it has none."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    return getattr(ctypes.CDLL(name), "malloc_trim", None)


def release_freed_memory() -> None:
    """Return freed heap memory to the operating system (glibc only; otherwise no-op)."""
    trim = _trim()
    if trim is not None:
        trim(0)  # type: ignore[operator]
