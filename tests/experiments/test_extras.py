"""The pip extras: the core runs without them, and a command that needs one says which."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from experiment_helpers import ROOT, TINY, Wsim, write_reform

from experiments.extras import EXTRAS, MissingExtraError, missing, require

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
EXTRA_MODULES = sorted({name for _, names in EXTRAS.values() for name in names})


def test_every_extra_of_pyproject_is_named_and_none_is_a_core_dependency() -> None:
    optional = PYPROJECT["optional-dependencies"]
    assert set(EXTRAS) == set(optional) - {"all", "dev"}
    assert optional["all"] == [f"workshop-sim[{','.join(EXTRAS)}]"]
    core = " ".join(PYPROJECT["dependencies"]).lower()
    for extra in EXTRAS:
        for requirement in optional[extra]:
            name = requirement.split("[")[0].split(">")[0].split("<")[0].lower()
            assert name not in core, requirement


def test_a_missing_module_names_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    assert missing("decision") == []
    monkeypatch.setitem(sys.modules, "optuna", None)
    assert missing("decision") == ["optuna"]
    with pytest.raises(MissingExtraError, match=r"pip install 'workshop-sim\[decision\]'"):
        require("decision")


def test_optimise_without_its_extra_is_one_error_line(
    wsim: Wsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)
    result = wsim("optimise", ROOT / "experiments" / "specs" / "budget_mix.toml", "-o", tmp_path)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: wsim optimise and wsim discover need(s) optuna")
    assert list(tmp_path.iterdir()) == []


def test_dask_without_its_extra_is_one_error_line(
    wsim: Wsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    spec = ROOT / "experiments" / "specs" / "uncertainty.toml"
    result = wsim("sweep", spec, "--dask", "local", "-o", tmp_path / "sweep")
    assert result.exit_code == 1
    assert "'cluster' extra" in result.stderr
    assert not (tmp_path / "sweep").exists()


BLOCKED_RUN = """
import sys
for name in {modules!r}:
    sys.modules[name] = None  # as if not installed: importing it raises ImportError
from experiments.cli.main import app
sys.argv = ["wsim", *sys.argv[1:]]
app()
"""


def test_run_compare_and_report_work_without_any_extra(tmp_path: Path) -> None:
    script = BLOCKED_RUN.format(modules=EXTRA_MODULES)

    def wsim(*args: str | Path) -> None:
        command = [sys.executable, "-c", script, *map(str, args)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr

    wsim("run", TINY, "-m", "3", "-n", "150", "-o", tmp_path / "run")
    reform = write_reform(tmp_path)
    wsim(
        "compare",
        TINY,
        "-f",
        reform,
        "-r",
        "2",
        "-m",
        "3",
        "-n",
        "150",
        "-w",
        "1",
        "-o",
        tmp_path / "c",
    )
    wsim("report", tmp_path / "c")
    assert (tmp_path / "run" / "manifest.json").is_file()
    assert (tmp_path / "c" / "report.html").is_file()
