"""The ``wsim`` command starts without the heavy libraries: each command imports its own.

Building the app (every command and its help), asking any command for its help and
``wsim validate`` (which needs `model.scenario`, so pydantic, and nothing numerical)
must load none of `HEAVY`. Each check runs in a fresh interpreter, where nothing else
has imported them. How fast the command starts is measured by benchmarks/bench_cli.py,
not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from experiments import discovery
from experiments.calibration import targets
from experiments.cli import options
from experiments.sweep import seeding

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "pandas",
    "numpy",
    "scipy",
    "numba",
    "mesa",
    "matplotlib",
    "pyarrow",
    "optuna",
    "sklearn",
    "ema_workbench",
    "dask",
)
COMMANDS = (
    "run",
    "validate",
    "calibrate",
    "check-calibration",
    "compare",
    "report",
    "sweep",
    "resume",
    "status",
    "analyze",
    "analyze-rules",
    "rerun",
    "optimise",
    "discover",
)
LOADED = "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy})))"


def heavy_modules_after(code: str) -> list[str]:
    """The modules of `HEAVY` loaded after running `code` in a fresh interpreter."""
    script = f"import json, sys\n{code}\n{LOADED.format(heavy=set(HEAVY))}"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def invoking(*args: str) -> str:
    """Code invoking the ``wsim`` app with `args` in process, failing unless it exits 0."""
    return (
        "from typer.testing import CliRunner\n"
        "from experiments.cli.main import app\n"
        f"result = CliRunner().invoke(app, {list(args)!r})\n"
        "assert result.exit_code == 0, result.output\n"
    )


def test_building_the_cli_loads_no_heavy_module() -> None:
    assert heavy_modules_after("import experiments.cli.main") == []


@pytest.mark.parametrize("command", [(), *((c,) for c in COMMANDS)], ids=lambda c: "-".join(c))
def test_help_loads_no_heavy_module(command: tuple[str, ...]) -> None:
    assert heavy_modules_after(invoking(*command, "--help")) == []


def test_validate_loads_no_heavy_module() -> None:
    """Validating needs the scenario schema (pydantic), no numerical library."""
    code = invoking("validate", str(ROOT / "scenarios" / "default.toml"))
    assert heavy_modules_after(code) == []


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: " in done.stdout
    assert "validate" in done.stdout


def test_cli_defaults_equal_those_of_their_modules() -> None:
    """The light copies in `experiments.cli.options` that the help shows as defaults."""
    assert options.DEFAULT_TARGETS == targets.DEFAULT_TARGETS
    assert options.DEFAULT_SCENARIOS == targets.DEFAULT_SCENARIOS
    assert options.BASELINE == seeding.BASELINE
    assert options.MIN_DENSITY == discovery.MIN_DENSITY
