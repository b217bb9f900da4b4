"""`wsim compare`: common random numbers, paired differences recomputed from the stored
tables, the manifest, and bad input refused before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from experiment_helpers import COMPARE_SIZE, REFORM_NAME, TINY, Wsim, write_reform
from scipy import stats

from experiments.compare import (
    COST_EFFECTIVENESS,
    DIFFERENCES,
    OUTCOMES,
    CompareError,
    Comparison,
    comparison_arms,
    cost_effectiveness_tables,
    difference_tables,
    differences,
)
from experiments.executors import LostTasks, Serial
from experiments.intervals import DEFINED, fieller_interval
from model.scenario import load_scenario

FIGURES = {
    "poverty",
    "flows",
    "activity",
    "employment_by_sex_carer",
    "poor_income",
    "workshops",
    "jobs_quota",
    "spending",
    "cost_effectiveness",
    "effects",
}
TABLES = {"monthly", "poverty", "activity", "income", "workshops", "spending", "jobs", "summary"}


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory, wsim: Wsim) -> tuple[Path, str]:
    """`wsim compare tiny.toml <reform>` at 300 households, 12 months, 3 replicates:
    the output directory and stdout."""
    base = tmp_path_factory.mktemp("compare")
    out = base / "out"
    result = wsim(
        "compare", TINY, write_reform(base), *COMPARE_SIZE, "--workers", "1", "--out", out
    )
    assert result.exit_code == 0, result.output
    return out, result.stdout


def stored(out: Path, table: str) -> pd.DataFrame:
    return pd.read_parquet(out / "tables" / f"{table}.parquet")


def test_compare_writes_tables_figures_differences_and_manifest(compared: tuple[Path, str]) -> None:
    out, stdout = compared
    assert f"comparison written to {out}/" in stdout and "differences" in stdout
    assert {p.stem for p in (out / "tables").iterdir()} == TABLES
    assert {p.stem for p in (out / "plots").iterdir()} == FIGURES
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "compare" and manifest["reference"] == "tiny"
    assert [s["arm"] for s in manifest["scenarios"]] == ["tiny", REFORM_NAME]
    assert (
        manifest["seed"],
        manifest["households"],
        manifest["months"],
        manifest["replicates"],
    ) == (7, 300, 12, 3)
    assert manifest["aligned"] == [] and manifest["git_sha"]
    chain = [Path(f["path"]).name for f in manifest["scenarios"][1]["scenario_files"]]
    assert chain == [f"{REFORM_NAME}.toml", "tiny.toml", "default.toml", "baseline.toml"]
    written = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == written - {"manifest.json"}


def test_every_arm_starts_from_the_same_households_at_each_replicate(
    compared: tuple[Path, str],
) -> None:
    out, _ = compared
    for table in ("monthly", "activity", "income", "poverty"):
        start = stored(out, table).query("month == 0").drop(columns="arm")
        tiny, reform = (
            start[stored(out, table).query("month == 0")["arm"] == arm].reset_index(drop=True)
            for arm in ("tiny", REFORM_NAME)
        )
        pd.testing.assert_frame_equal(tiny, reform, obj=table)
    monthly = stored(out, "monthly").query("month == 0")
    assert monthly["replicate"].tolist() == [0, 1, 2, 0, 1, 2]
    assert monthly.groupby("arm")["poor_households"].nunique().gt(1).any()  # replicates differ


def test_differences_are_means_of_per_replicate_differences_from_stored_monthly_data(
    compared: tuple[Path, str],
) -> None:
    out, _ = compared
    table = pd.read_csv(out / DIFFERENCES).set_index("outcome")
    assert table.index.tolist() == list(OUTCOMES)
    assert (table["arm"] == REFORM_NAME).all() and (table["reference"] == "tiny").all()
    monthly = stored(out, "monthly").set_index(["arm", "replicate", "month"])
    final, start = (monthly.xs(m, level="month") for m in (12, 0))
    runs = monthly.groupby(["arm", "replicate"])
    simulated = monthly[monthly.index.get_level_values("month") > 0]
    last_year = simulated.groupby(["arm", "replicate"])["poor_households"]
    recomputed = {
        "headcount": final["headcount"],
        "income_per_capita": final["income_per_capita"],
        "net_exits": start["poor_households"] - final["poor_households"],
        "poor_households_final_12_mean": last_year.apply(lambda s: s.tail(12).mean()),
        "poor_households_end": final["poor_households"],
        "gross_exits": runs["exits"].sum(),
        "total_spending_yuan": runs["spending"].sum(),
    }
    for outcome, values in recomputed.items():
        diff = (values.xs(REFORM_NAME) - values.xs("tiny")).to_numpy()
        half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
        row = table.loc[outcome]
        assert row["n"] == 3
        assert row["difference"] == pytest.approx(diff.mean(), rel=1e-9, abs=1e-12), outcome
        assert row["ci_low"] == pytest.approx(diff.mean() - half, rel=1e-9, abs=1e-12)
        assert row["ci_high"] == pytest.approx(diff.mean() + half, rel=1e-9, abs=1e-12)
        assert row["reference_mean"] == pytest.approx(values.xs("tiny").mean(), rel=1e-9)


def test_poor_household_months_difference_pairs_the_stored_summaries(
    compared: tuple[Path, str],
) -> None:
    out, _ = compared
    summary = stored(out, "summary").set_index(["arm", "replicate"])
    months = summary["poor_household_months"]
    diff = months.xs(REFORM_NAME) - months.xs("tiny")
    row = pd.read_csv(out / DIFFERENCES).set_index("outcome").loc["poor_household_months"]
    assert row["n"] == 3
    assert row["difference"] == pytest.approx(diff.mean(), rel=1e-9, abs=1e-12)
    assert (months <= summary["poor_households_start"] * 12).all()  # months 1..12 of each


def test_cost_effectiveness_is_fieller_on_the_stored_summaries(
    compared: tuple[Path, str],
) -> None:
    """Yuan per extra net exit and per poor household-month averted, recomputed."""
    out, _ = compared
    summary = stored(out, "summary").set_index(["arm", "replicate"])
    diff = summary.xs(REFORM_NAME) - summary.xs("tiny")
    gains = {
        "net_exits": diff["net_exits"],
        "poor_household_months": -diff["poor_household_months"],
    }
    table = pd.read_csv(out / COST_EFFECTIVENESS).set_index("outcome")
    assert table.index.tolist() == list(gains) and (table["arm"] == REFORM_NAME).all()
    for outcome, gain in gains.items():
        expected, row = fieller_interval(diff["total_spending_yuan"], gain), table.loc[outcome]
        assert row["status"] == expected.status
        assert row["gain"] == pytest.approx(gain.mean(), abs=1e-9)
        if expected.status == DEFINED:
            assert (row["yuan_per_unit"], row["ci_low"], row["ci_high"]) == pytest.approx(
                (expected.estimate, expected.low, expected.high)
            )
        else:  # no number where the ratio is undefined
            assert row[["yuan_per_unit", "ci_low", "ci_high"]].isna().all()


def stored_differences(rows: list[tuple[str, str, float, float, float]]) -> pd.DataFrame:
    """A differences table: arm, outcome, difference and its CI per row."""
    return pd.DataFrame(rows, columns=["arm", "outcome", "difference", "ci_low", "ci_high"])


def test_differences_as_read_are_one_table_per_kind_of_unit() -> None:
    diffs = stored_differences(
        [
            ("a", "headcount", -0.0123, -0.0206, -0.004),
            ("a", "net_exits", 445.5, 400.2, 490.8),
            ("a", "poor_household_months", -1234.4, -2000.6, -468.2),
            ("a", "total_spending_yuan", 1_234_567.8, 1_000_000.0, 1_469_135.6),
            ("b", "headcount", 0.0004, -0.003, 0.0038),
            ("b", "net_exits", -0.3, -2.6, 2.0),
            ("b", "poor_household_months", 0.5, -10.0, 11.0),
            ("b", "total_spending_yuan", -10.0, -20.0, 0.0),
        ]
    )
    tables = difference_tables(diffs)
    assert list(tables) == [
        "Shares (percentage points)",
        "Counts (households, household-months)",
        "Money (yuan)",
    ]
    shares, counts, money = tables.values()
    assert shares.to_dict("list") == {
        "Scenario": ["a", "b"],
        "Poverty headcount, final month (percentage points)": [
            "-1.2 [-2.1, -0.4] pp",
            "0.0 [-0.3, +0.4] pp",
        ],
    }
    assert counts.to_dict("list") == {
        "Scenario": ["a", "b"],
        "Net exits (households)": ["+446 [+400, +491]", "0 [-3, +2]"],
        "Poor household-months (household-months)": ["-1,234 [-2,001, -468]", "+1 [-10, +11]"],
    }
    assert money.to_dict("list") == {
        "Scenario": ["a", "b"],
        "Spending (yuan)": ["+1,234,568 [+1,000,000, +1,469,136]", "-10.0 [-20.0, 0.0]"],
    }


def test_cost_effectiveness_as_read_keeps_gains_apart_from_yuan() -> None:
    costs = pd.DataFrame(
        {
            "arm": ["a", "a"],
            "outcome": ["net_exits", "poor_household_months"],
            "extra_spending_yuan": [184_335.4, 184_335.4],
            "gain": [20.5, 0.4],
            "yuan_per_unit": [8_992.0, float("nan")],
            "ci_low": [5_000.4, float("nan")],
            "ci_high": [20_000.6, float("nan")],
            "status": [DEFINED, "undefined: effect interval contains 0"],
        }
    )
    gains, money = cost_effectiveness_tables(costs).values()
    assert gains.to_dict("list") == {
        "Scenario": ["a"],
        "Extra net exits (households)": ["+21"],
        "Poor household-months averted (household-months)": ["0"],
    }
    assert money.to_dict("list") == {
        "Scenario": ["a"],
        "Extra spending (yuan)": ["+184,335"],
        "Yuan per extra net exit (yuan, 95% Fieller CI)": ["8,992 [5,000, 20,001]"],
        "Yuan per poor household-month averted (yuan, 95% Fieller CI)": [
            "undefined: effect interval contains 0"
        ],
    }


def test_differences_use_the_first_scenario_as_reference(tiny_comparison: Comparison) -> None:
    table = differences(tiny_comparison)
    assert set(table["arm"]) == {REFORM_NAME}
    assert set(table["reference"]) == {"tiny"}


def test_scenarios_with_other_run_settings_run_with_the_first_ones(
    tmp_path: Path, wsim: Wsim
) -> None:
    reform = write_reform(tmp_path, extra="[run]\nseed = 99\nhouseholds = 250")
    out = tmp_path / "out"
    result = wsim(
        "compare",
        TINY,
        reform,
        "--months",
        "3",
        "--replicates",
        "2",
        "--workers",
        "1",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "seed 7" in result.stdout and "its own: 99" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["aligned"]) == 2  # seed and households
    assert all(
        s["scenario"]["run"]["seed"] == 7 and s["scenario"]["run"]["households"] == 400
        for s in manifest["scenarios"]
    )
    start = stored(out, "monthly").query("month == 0").drop(columns="arm")
    half = len(start) // 2
    pd.testing.assert_frame_equal(
        start.iloc[:half].reset_index(drop=True), start.iloc[half:].reset_index(drop=True)
    )


def test_arms_are_labelled_by_file_name_when_scenario_names_repeat(tmp_path: Path) -> None:
    twin = write_reform(tmp_path, name="twin")
    twin.write_text(twin.read_text().replace('name = "twin"', 'name = "tiny"'))
    loaded = [(p, load_scenario(p)) for p in (TINY, twin)]
    arms, _ = comparison_arms(loaded)
    assert [a.label for a in arms] == ["tiny", "twin"]
    with pytest.raises(CompareError, match="distinct names"):
        comparison_arms([loaded[0], loaded[0]])


def test_default_output_directory_is_named_after_the_scenarios(
    tmp_path: Path, wsim: Wsim, monkeypatch: pytest.MonkeyPatch
) -> None:
    reform = write_reform(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = wsim(
        "compare",
        TINY,
        reform,
        "--months",
        "2",
        "--replicates",
        "2",
        "--households",
        "200",
        "--workers",
        "1",
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "results" / f"compare-tiny-{REFORM_NAME}" / DIFFERENCES).exists()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["{tiny}"], "SCENARIOS: expected at least two scenario files"),
        (["{tiny}", "{reform}", "--replicates", "1"], "--replicates: expected a whole number >= 2"),
        (["{tiny}", "{tmp}/missing.toml"], "missing.toml: (file): an existing file"),
        (["{tiny}", "{tmp}/bad.toml"], "bad.toml: run.monthz: a known key"),
        (["{tiny}", "{reform}", "--households", "0"], "--households: expected a value"),
        (["{tiny}", "{reform}", "--workers", "0"], "--workers: expected a whole number >= 1"),
    ],
)
def test_bad_input_is_one_error_line_exit_1_and_nothing_written(
    tmp_path: Path, wsim: Wsim, args: list[str], named: str
) -> None:
    reform = write_reform(tmp_path)
    (tmp_path / "bad.toml").write_text(f'extends = "{TINY.as_posix()}"\n[run]\nmonthz = 3\n')
    out = tmp_path / "out"
    filled = [a.format(tiny=TINY, reform=reform, tmp=tmp_path) for a in args]
    result = wsim("compare", *filled, "--out", out, "--months", "2")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and named in lines[0], lines
    assert not out.exists()
    assert not list(tmp_path.glob(".out.*"))


def test_runs_lost_with_their_worker_are_one_error_and_nothing_written(
    tmp_path: Path, wsim: Wsim, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lose_every_run(self: object, fn: object, items: list[object], *args: object) -> None:
        raise LostTasks(items, 3)

    monkeypatch.setattr(Serial, "map", lose_every_run)
    out = tmp_path / "out"
    result = wsim(
        "compare",
        TINY,
        write_reform(tmp_path),
        "--replicates",
        "2",
        "--months",
        "2",
        "--workers",
        "1",
        "--out",
        out,
    )
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == (
        "error: 4 run(s) lost, nothing written: the worker process running "
        "it died on each of 3 attempts (killed, or out of memory)"
    )
    assert not out.exists()
