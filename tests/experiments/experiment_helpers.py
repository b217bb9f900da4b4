"""Paths and types shared by the experiment-layer tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
TINY = ROOT / "tests" / "fixtures" / "tiny.toml"

Wsim = Callable[..., Result]
