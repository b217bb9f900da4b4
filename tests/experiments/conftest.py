"""Fixtures of the experiment-layer tests: the tiny run and a `wsim` invoker."""

from __future__ import annotations

from pathlib import Path

import pytest
from experiment_helpers import TINY, Wsim, write_reform
from typer.testing import CliRunner, Result

from experiments.cli.main import app
from experiments.compare import Comparison, comparison_arms, run_comparison
from experiments.executors import Serial
from model.scenario import Scenario, load_scenario
from model.simulate import RunResult, simulate

COMPARED = {"households": 300, "months": 12}  # the tiny comparison's [run] values
COMPARED_REPLICATES = 3


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


@pytest.fixture(scope="session")
def tiny_comparison(tmp_path_factory: pytest.TempPathFactory) -> Comparison:
    """The tiny scenario against its wage-subsidy reform: 300 households, 12 months, 3
    replicates (common random numbers)."""
    reform = write_reform(tmp_path_factory.mktemp("reform"))
    loaded = [(p, load_scenario(p).with_overrides(**COMPARED)) for p in (TINY, reform)]
    arms, notes = comparison_arms(loaded)
    with Serial() as executor:
        tables = run_comparison(arms, COMPARED_REPLICATES, executor)
    return Comparison(arms, COMPARED_REPLICATES, tables, notes, COMPARED)
