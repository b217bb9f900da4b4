"""`wsim sweep | resume | status | analyze` end to end, adaptive replicates, bad options."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import typer
from experiment_helpers import ROOT
from sweep_helpers import FACTORIAL, spec_of, sweep_serial, write_spec, wsim

from experiments.cli.sweep import register

ADAPTIVE = FACTORIAL.replace(
    "count = 2", 'output = "net_exits"\nhalf_width = {width}\nmin = 2\nmax = 4'
)


def test_register_adds_the_sweep_commands() -> None:
    app = typer.Typer()
    register(app)
    assert [c.name for c in app.registered_commands] == [
        "sweep",
        "resume",
        "status",
        "analyze",
        "rerun",
    ]


def test_sweep_status_analyze_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "out"
    swept = wsim("sweep", write_spec(tmp_path, FACTORIAL), "--out", out, "--workers", "1")
    assert swept.exit_code == 0, swept.output
    assert f"sweep spec written to {out}/: 8 done, 0 failed" in swept.stdout
    status = wsim("status", out)
    assert status.exit_code == 0
    assert f"{out}: 8 done, 0 failed, 0 pending" in status.stdout
    assert "complete (" in status.stdout
    analysed = wsim("analyze", out)
    assert analysed.exit_code == 0, analysed.output
    written = sorted(p.name for p in (out / "analysis").iterdir())
    assert written == ["cost_per_exit.csv", "effects.csv", "instruments.csv", "rates.csv"]
    effects = pd.read_csv(out / "analysis" / "effects.csv")
    assert len(effects) == 3 * 5 and "95% CI" in analysed.stdout
    assert all(title in analysed.stdout for title in ("effects", "rates", "cost_per_exit"))


@pytest.mark.parametrize(("width", "replicates"), [(1e9, 2), (1e-9, 4)])
def test_adaptive_replicates_stop_at_the_target_or_the_maximum(
    tmp_path: Path, width: float, replicates: int
) -> None:
    spec = spec_of(tmp_path, ADAPTIVE.format(width=width))
    runs = sweep_serial(spec, tmp_path / "sweep").runs
    assert runs.groupby("arm")["replicate"].nunique().tolist() == [replicates] * 4
    assert sorted(runs["replicate"].unique()) == list(range(replicates))


def test_adaptive_next_round_follows_the_observed_spread(tmp_path: Path) -> None:
    # net_exits varies by a few households between replicates: a target of 2 needs more
    # than the first 2 replicates and at most max = 4.
    spec = spec_of(tmp_path, ADAPTIVE.format(width=2.0))
    runs = sweep_serial(spec, tmp_path / "sweep").runs
    assert 2 < runs["replicate"].nunique() <= 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--workers", "0"), "--workers: expected a whole number >= 1, got 0"),
        (("--runs-per-task", "0"), "--runs-per-task: expected a whole number >= 1, got 0"),
    ],
)
def test_bad_option_values_exit_1_and_write_nothing(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = wsim("sweep", write_spec(tmp_path, FACTORIAL), "--out", tmp_path / "out", *args)
    assert result.exit_code == 1 and result.stderr.strip() == f"error: {message}"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["status", "resume", "analyze"])
def test_commands_on_a_directory_without_a_sweep_exit_1(tmp_path: Path, command: str) -> None:
    result = wsim(command, tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {tmp_path}: not a sweep directory")


@pytest.mark.slow
@pytest.mark.parametrize("stem", ["policy_mix", "sensitivity"])
def test_example_specs_run_and_analyse(tmp_path: Path, stem: str) -> None:
    out = tmp_path / stem
    assert (
        wsim(
            "sweep", ROOT / "experiments" / "specs" / f"{stem}.toml", "--out", out, "--workers", "2"
        ).exit_code
        == 0
    )
    analysed = wsim("analyze", out)
    assert analysed.exit_code == 0, analysed.output
    expected = "effects.csv" if stem == "policy_mix" else "morris.csv"
    assert (out / "analysis" / expected).exists()
