"""Fixtures of the experiment-layer tests: the tiny run and a `wsim` invoker."""

from __future__ import annotations

from pathlib import Path

import pytest
from experiment_helpers import Wsim
from typer.testing import CliRunner, Result

from experiments.cli import app
from model.scenario import Scenario
from model.simulate import RunResult, simulate


@pytest.fixture(scope="session")
def tiny_result(tiny: Scenario) -> RunResult:
    """The tiny scenario run once (replicate 0)."""
    return simulate(tiny)


@pytest.fixture(scope="session")
def wsim() -> Wsim:
    """Call the `wsim` command in-process: ``wsim("run", path, "--months", "3")``."""
    runner = CliRunner()

    def invoke(*args: str | Path) -> Result:
        return runner.invoke(app, [str(a) for a in args])

    return invoke
