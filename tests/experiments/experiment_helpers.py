"""Paths and types shared by the experiment-layer tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
TINY = ROOT / "tests" / "fixtures" / "tiny.toml"
REFORM_NAME = "tiny_wage_60"
COMPARE_SIZE = ("--households", "300", "--months", "12", "--replicates", "3")

Wsim = Callable[..., Result]


def write_reform(directory: Path, name: str = REFORM_NAME, extra: str = "") -> Path:
    """A reform of the tiny county (three times its wage subsidy) in `directory`."""
    path = directory / f"{name}.toml"
    path.write_text(
        f'# A reform of the tiny county.\nextends = "{TINY.as_posix()}"\n'
        f'name = "{name}"\n{extra}\n[policy.wage_subsidy]\n'
        "share_of_poor_wage_bill = 0.60   # reform: three times the default\n",
        encoding="utf-8",
    )
    return path
