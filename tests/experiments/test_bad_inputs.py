"""Malformed scenario, sweep and optimisation files (`tests/bad_inputs/`) given to `wsim`.

Each is refused with exit code 1 and exactly one `error: <file>: <key>: <expected>` line
holding the fragments `tests/bad_inputs/expected.toml` lists for it, and nothing is
written: no output directory, no results directory.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from experiment_helpers import ROOT, TINY, Wsim
from typer.testing import Result

BAD_INPUTS = ROOT / "tests" / "bad_inputs"
EXPECTED: dict[str, dict[str, object]] = tomllib.loads(
    (BAD_INPUTS / "expected.toml").read_text(encoding="utf-8")
)
SCENARIOS = sorted(name for name in EXPECTED if name.startswith("scenarios/"))
SPECS = sorted(name for name in EXPECTED if name.startswith("specs/"))
SEARCHES = sorted(name for name in EXPECTED if name.startswith("optimise/"))
MIN_CASES = 80  # the issues ask for at least this many malformed files


def assert_refused(result: Result, name: str) -> None:
    """Exit code 1 and one error line naming the file and key, with every fragment."""
    case = EXPECTED[name]
    named = BAD_INPUTS / str(case.get("file", name))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {named}: {case['key']}: "), lines[0]
    for fragment in case["expected"]:  # type: ignore[attr-defined]
        assert fragment in lines[0], (fragment, lines[0])


def test_every_bad_file_has_its_expected_error() -> None:
    files = {p.relative_to(BAD_INPUTS).as_posix() for p in BAD_INPUTS.glob("*/*.toml")}
    assert files == set(EXPECTED)
    assert len(EXPECTED) >= MIN_CASES
    for case in EXPECTED.values():
        assert set(case) <= {"key", "expected", "file", "reform_of"} and case["expected"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_bad_scenario_is_refused_by_validate_and_run(
    wsim: Wsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)  # `wsim run` would write results/<name>/ here
    path, out = BAD_INPUTS / name, tmp_path / "out"
    base = EXPECTED[name].get("reform_of")
    commands = (
        [("run", BAD_INPUTS / str(base), "--reform", path, "--out", out)]
        if base
        else [("validate", path), ("run", path, "--out", out)]
    )
    for command in commands:
        result = wsim(*command)
        assert_refused(result, name)
        assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", SPECS)
def test_bad_spec_is_refused_by_sweep(
    wsim: Wsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = wsim("sweep", BAD_INPUTS / name, "--out", tmp_path / "out", "--workers", "1")
    assert_refused(result, name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", SEARCHES)
def test_bad_optimisation_spec_is_refused_by_optimise(
    wsim: Wsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = wsim("optimise", BAD_INPUTS / name, "--out", tmp_path / "out", "--workers", "1")
    assert_refused(result, name)
    assert list(tmp_path.iterdir()) == []


def test_validate_checks_every_file_and_reports_each_bad_one(wsim: Wsim) -> None:
    scenarios = [name for name in SCENARIOS if "reform_of" not in EXPECTED[name]]
    result = wsim("validate", TINY, *(BAD_INPUTS / name for name in scenarios))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"OK {TINY}: tiny, 400 households, 12 months"]
    errors = result.stderr.splitlines()
    assert len(errors) == len(scenarios)
    for name, line in zip(scenarios, errors, strict=True):
        assert line.startswith(f"error: {BAD_INPUTS / name}: {EXPECTED[name]['key']}: ")
