"""End-to-end tests of `wsim run` and `wsim validate` on the tiny scenario."""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from experiment_helpers import ROOT, SCENARIOS, TINY, Wsim, write_reform
from rich.console import Console

from experiments import api, outputs
from experiments.cli import main as cli
from experiments.cli.main import DelayedProgress, safe_name
from experiments.intervals import DEFINED, UNDEFINED
from experiments.outputs import PAIRED_EFFECTS
from model.scenario import Scenario
from model.simulate import RunResult, simulate

FIGURES = ("poverty", "income_sources", "activity", "spending")
MANIFEST_KEYS = {
    "scenario_name",
    "scenario_file",
    "scenario_files",
    "overrides",
    "seed",
    "months",
    "households",
    "replicate",
    "start",
    "workshop_sim_version",
    "python_version",
    "package_versions",
    "git_sha",
    "created_utc",
    "summary",
    "tables",
    "files",
    "scenario",
    "warnings",
}


@pytest.fixture(scope="module")
def tiny_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`wsim run tiny.toml --out <tmp>/out`, run once: the output directory and stdout."""
    from typer.testing import CliRunner

    from experiments.cli.main import app

    base = tmp_path_factory.mktemp("run")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(base)
        result = CliRunner().invoke(app, ["run", str(TINY), "--out", "out"])
    assert result.exit_code == 0, result.output
    return base / "out", result.stdout


@pytest.fixture(scope="module")
def manifest(tiny_out: tuple[Path, str]) -> dict:
    return json.loads((tiny_out[0] / "manifest.json").read_text())


def assert_one_error_line(stderr: str, *fragments: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def assert_nothing_written(directory: Path, expected: set[str]) -> None:
    assert {p.name for p in directory.iterdir()} == expected


# ---------------------------------------------------------------- wsim run: outputs


def test_run_writes_every_table_as_parquet_and_csv(
    tiny_out: tuple[Path, str], tiny_result: RunResult
) -> None:
    tables = tiny_out[0] / "tables"
    for name, expected in tiny_result.all_tables().items():
        parquet = pd.read_parquet(tables / f"{name}.parquet")
        csv = pd.read_csv(tables / f"{name}.csv")
        pd.testing.assert_frame_equal(parquet, expected.reset_index(drop=True), check_exact=True)
        assert list(csv.columns) == list(expected.columns)
        assert len(csv) == len(expected) > 0


def test_monthly_table_has_one_row_per_month_plus_the_start(
    tiny_out: tuple[Path, str], tiny: Scenario
) -> None:
    monthly = pd.read_parquet(tiny_out[0] / "tables" / "monthly.parquet")
    assert len(monthly) == tiny.run.months + 1
    assert monthly["month"].tolist() == list(range(tiny.run.months + 1))


def test_months_option_shortens_the_run(wsim: Wsim, tmp_path: Path) -> None:
    result = wsim("run", TINY, "--months", "3", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    monthly = pd.read_parquet(tmp_path / "out" / "tables" / "monthly.parquet")
    assert len(monthly) == 4
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["months"] == 3
    assert manifest["overrides"] == {"months": 3}
    assert manifest["scenario"]["run"]["months"] == 3


def test_panel_every_writes_the_household_panel(
    wsim: Wsim, tmp_path: Path, tiny: Scenario, tiny_out: tuple[Path, str]
) -> None:
    out = tmp_path / "out"
    result = wsim("run", TINY, "--months", "14", "--panel-every", "12", "--out", out)
    assert result.exit_code == 0, result.output
    panel = pd.read_parquet(out / "tables" / "panel.parquet")
    households = tiny.run.households
    assert panel.groupby("month")["household"].count().to_dict() == {
        0: households,
        12: households,
        14: households,
    }
    assert panel[panel["month"] == 14]["household"].tolist() == list(range(households))
    expected = simulate(tiny.with_overrides(months=14), panel_every_months=12).panel
    pd.testing.assert_frame_equal(panel, expected)
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"tables/panel.parquet", "tables/panel.csv"} <= set(manifest["files"])
    assert manifest["tables"]["panel"]["rows"] == 3 * households
    assert not (tiny_out[0] / "tables" / "panel.parquet").exists()


def test_manifest_records_scenario_files_run_and_code(
    manifest: dict, tiny: Scenario, tiny_result: RunResult
) -> None:
    assert set(manifest) == MANIFEST_KEYS
    assert manifest["scenario_name"] == "tiny"
    assert (manifest["seed"], manifest["months"], manifest["households"]) == (7, 12, 400)
    assert manifest["replicate"] == 0
    assert manifest["scenario_file"] == str(TINY)
    files = manifest["scenario_files"]
    assert [Path(f["path"]).name for f in files] == ["tiny.toml", "default.toml", "baseline.toml"]
    assert files[0]["text"] == TINY.read_text()
    assert files[2]["text"] == (SCENARIOS / "baseline.toml").read_text()
    assert Scenario.model_validate(manifest["scenario"]) == tiny
    assert manifest["workshop_sim_version"] == metadata.version("workshop-sim")
    assert set(manifest["package_versions"]) >= {"numpy", "mesa", "pandas"}
    assert manifest["python_version"].startswith("3.")
    created = dt.datetime.fromisoformat(manifest["created_utc"])
    assert created.utcoffset() == dt.timedelta(0)
    assert manifest["summary"]["gross_exits"] == tiny_result.summary["gross_exits"].iloc[0]
    assert manifest["tables"]["monthly"]["rows"] == 13


def test_manifest_lists_exactly_the_files_written(
    tiny_out: tuple[Path, str], manifest: dict
) -> None:
    out = tiny_out[0]
    written = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert written == {*manifest["files"], "manifest.json"}


def test_run_writes_each_figure_as_png_and_csv_without_svg(tiny_out: tuple[Path, str]) -> None:
    plots = tiny_out[0] / "plots"
    for stem in FIGURES:
        assert (plots / f"{stem}.png").read_bytes().startswith(b"\x89PNG")
        assert not (plots / f"{stem}.svg").exists()
        assert len(pd.read_csv(plots / f"{stem}.csv")) == 13


def test_run_writes_svg_figures_on_request(wsim: Wsim, tmp_path: Path) -> None:
    result = wsim("run", TINY, "--months", "3", "--svg", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    plots = tmp_path / "out" / "plots"
    for stem in FIGURES:
        assert "<svg" in (plots / f"{stem}.svg").read_text()
        assert (plots / f"{stem}.png").is_file()


def test_run_prints_where_outputs_are_and_a_summary(
    tiny_out: tuple[Path, str], tiny_result: RunResult
) -> None:
    stdout = tiny_out[1]
    summary = tiny_result.summary.to_dict("records")[0]
    for fragment in (
        "out/tables",
        "out/plots",
        "out/manifest.json",
        "net exits",
        f"{summary['poor_household_months']:,}",
        f"{summary['poor_households_final_12_mean']:,.1f}",
        f"{summary['total_spending_yuan']:,.0f}",
    ):
        assert fragment in stdout
    assert "per net exit" not in stdout and "cost per" not in stdout  # no counterfactual
    start, end = tiny_result.monthly["headcount"].iloc[[0, -1]]
    assert f"{start:.1%} → {end:.1%}" in stdout


def test_default_output_directory_is_results_scenario_name(
    wsim: Wsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = wsim("run", TINY, "--months", "1", "--seed", "3", "--replicate", "2")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "results" / "tiny" / "manifest.json").read_text())
    assert (manifest["seed"], manifest["replicate"]) == (3, 2)


def test_rerun_replaces_the_earlier_output_directory(wsim: Wsim, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert wsim("run", TINY, "--months", "2", "--out", out).exit_code == 0
    assert wsim("run", TINY, "--months", "1", "--out", out).exit_code == 0
    assert len(pd.read_parquet(out / "tables" / "monthly.parquet")) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary directory left


def test_failed_write_leaves_no_partial_directory(
    wsim: Wsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert wsim("run", TINY, "--months", "2", "--out", out).exit_code == 0
    before = (out / "manifest.json").read_text()

    def broken_plots(*args: object, **kwargs: object) -> list[Path]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(outputs, "plot_run", broken_plots)
    result = wsim("run", TINY, "--months", "1", "--out", out)
    assert isinstance(result.exception, RuntimeError)
    assert (out / "manifest.json").read_text() == before
    assert len(pd.read_parquet(out / "tables" / "monthly.parquet")) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert wsim("run", TINY, "--out", tmp_path / "new").exception is not None
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_run_refuses_to_replace_a_directory_it_did_not_write(wsim: Wsim, tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    result = wsim("run", TINY, "--out", tmp_path)
    assert result.exit_code == 1
    assert_one_error_line(result.stderr, "--out", str(tmp_path), "manifest.json")
    assert_nothing_written(tmp_path, {"precious.txt"})


# ---------------------------------------------------------------- wsim run: warnings


def test_run_prints_and_records_a_warning_for_an_instrument_without_its_form(
    wsim: Wsim, tmp_path: Path
) -> None:
    scenario = tmp_path / "no_community.toml"
    scenario.write_text(
        f'extends = "{TINY.as_posix()}"\nname = "no_community"\n'
        "[policy]\nbudget_yuan_per_year = 1e12\n"
        "[policy.factory_cash_support]\nenabled = true\n"
        "[workshops.community]\ninitial_count = 0\nentrants_per_month = 0.0\n",
        encoding="utf-8",
    )
    result = wsim("run", scenario, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    warning = (
        "no_community: no community workshop was open in any month: factory_cash_support, "
        "which pays only for community workshops, did nothing"
    )
    # the progress display, shown when a run outlasts its delay, leaves only blank lines
    assert [line for line in result.stderr.splitlines() if line] == [f"warning: {warning}"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["warnings"] == [warning]


def test_run_prints_a_warning_when_the_budget_binds(wsim: Wsim, tmp_path: Path) -> None:
    scenario = tmp_path / "short.toml"
    scenario.write_text(
        f'extends = "{TINY.as_posix()}"\nname = "short"\n'
        "[policy]\nbudget_yuan_per_year = 2e6\n",  # a quarter of the default's
        encoding="utf-8",
    )
    result = wsim("run", scenario, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    [warning] = manifest["warnings"]
    assert warning.startswith("short: the budget ran out: claims went unpaid in ")
    assert f"warning: {warning}" in result.stderr


# ---------------------------------------------------------------- wsim run --vs

VS_REPLICATES = 3


@pytest.fixture(scope="module")
def vs_out(tmp_path_factory: pytest.TempPathFactory, wsim: Wsim) -> tuple[Path, str]:
    """`wsim run tiny.toml --months 6 --vs baseline --replicates 3`: its folder and stdout."""
    out = tmp_path_factory.mktemp("vs") / "out"
    result = wsim(
        "run", TINY, "--months", "6", "--vs", "baseline", "--replicates", VS_REPLICATES,
        "--workers", "1", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out, result.stdout


@pytest.fixture(scope="module")
def vs_results() -> api.RunResults:
    """The same through the Python interface."""
    return api.run_scenario(TINY, months=6, replicates=VS_REPLICATES, vs="baseline")


def test_run_vs_writes_the_paired_effects_the_python_interface_gives(
    vs_out: tuple[Path, str], vs_results: api.RunResults
) -> None:
    written = pd.read_csv(vs_out[0] / PAIRED_EFFECTS)
    assert vs_results.effects is not None
    pd.testing.assert_frame_equal(written, vs_results.effects, check_exact=True)
    assert list(written["outcome"]) == [*api.PAIRED_DIFFERENCES, *api.PAIRED_RATIOS]
    assert (written["n"] == VS_REPLICATES).all()


def test_run_vs_writes_replicate_0_and_records_the_counterfactual(
    vs_out: tuple[Path, str], tiny: Scenario
) -> None:
    out = vs_out[0]
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "tables" / "summary.parquet"),
        simulate(tiny.with_overrides(months=6)).summary,
        check_exact=True,
    )
    manifest = json.loads((out / "manifest.json").read_text())
    counterfactual = manifest["counterfactual"]
    assert counterfactual["scenario_name"] == "baseline"
    assert counterfactual["replicates"] == VS_REPLICATES
    assert counterfactual["scenario"]["run"] == manifest["scenario"]["run"]  # aligned to tiny
    assert any("baseline.toml: run with households 400" in n for n in counterfactual["aligned"])
    assert PAIRED_EFFECTS in manifest["files"] and manifest["replicate"] == 0


def test_run_vs_figures_show_every_replicate_with_a_band(
    vs_out: tuple[Path, str], vs_results: api.RunResults
) -> None:
    drawn = pd.read_csv(vs_out[0] / "plots" / "poverty.csv")
    headcount = pd.concat(
        [
            vs_results.result(r).monthly.set_index("month")["headcount"]
            for r in range(VS_REPLICATES)
        ],
        axis=1,
    )
    np.testing.assert_allclose(drawn["headcount"], headcount.mean(axis=1), rtol=1e-12)
    assert (drawn["headcount_ci_low"] < drawn["headcount"]).any()
    assert "replicates 0 to 2" in (vs_out[0] / "plots" / "poverty.txt").read_text()


def test_run_vs_prints_each_effect_with_its_interval_or_undefined(
    vs_out: tuple[Path, str], vs_results: api.RunResults
) -> None:
    stdout = " ".join(vs_out[1].split())
    assert "tiny against baseline: 400 households, 6 months, seed 7, replicates 0..2" in stdout
    assert vs_results.effects is not None
    for row in vs_results.effects.to_dict("records"):
        assert row["measure"] in stdout
        if row["status"] == DEFINED:
            assert f"[{cli.signed(row['ci_low'])}, {cli.signed(row['ci_high'])}]" in stdout
    assert "nan" not in stdout and "cost per net exit" not in stdout


def test_an_undefined_ratio_reads_undefined_never_a_number() -> None:
    effects = pd.DataFrame(
        [
            ("net exits (households)", 12.5, -3.0, 28.0, DEFINED),
            ("yuan per extra net exit", math.nan, math.nan, math.nan, UNDEFINED),
        ],
        columns=["measure", "estimate", "ci_low", "ci_high", "status"],
    )
    screen = io.StringIO()
    Console(file=screen, width=120).print(cli.effects_table(effects))
    rows = [line for line in screen.getvalue().splitlines() if line.startswith("│")]
    lines = {line.split("│")[1].strip(): line for line in rows}
    assert "+12.5" in lines["net exits (households)"]
    assert "[-3, +28]" in lines["net exits (households)"]
    assert "undefined" in lines["yuan per extra net exit"]
    assert "contains 0" in lines["yuan per extra net exit"]
    assert "nan" not in screen.getvalue() and "n/a" not in screen.getvalue()


def test_run_vs_takes_a_scenario_file_too(wsim: Wsim, tmp_path: Path) -> None:
    result = wsim(
        "run", TINY, "--months", "2", "--vs", SCENARIOS / "baseline.toml", "--replicates", "2",
        "--workers", "1", "--out", tmp_path / "out",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "out" / PAIRED_EFFECTS)) == 7


def test_run_vs_no_policy_is_the_same_county_without_workshops_or_instruments(
    wsim: Wsim, tmp_path: Path
) -> None:
    result = wsim(
        "run", SCENARIOS / "qingchuan.toml", "--households", "2000", "--months", "6",
        "--vs", "no-policy", "--replicates", "2", "--workers", "1", "--out", tmp_path / "out",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "qingchuan against qingchuan (no policy)" in result.stdout
    assert "another county" not in result.stderr and "differs" not in result.stderr
    effects = pd.read_csv(tmp_path / "out" / PAIRED_EFFECTS)
    spending = effects.set_index("outcome").loc["total_spending_yuan", "estimate"]
    assert spending > 0  # the counterfactual spends nothing


# ---------------------------------------------------------------- wsim validate


def test_validate_accepts_the_shipped_scenarios(wsim: Wsim) -> None:
    files = [*sorted(SCENARIOS.rglob("*.toml")), TINY]
    result = wsim("validate", *files)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(files)
    assert all(line.startswith("OK ") for line in lines)
    assert "tiny, 400 households, 12 months" in lines[-1]


@pytest.mark.parametrize("command", ["validate", "run"])
def test_unreadable_file_is_one_error_line(
    wsim: Wsim, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    def unreadable(path: Path) -> Scenario:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli, "load_scenario", unreadable)
    result = wsim(command, "locked.toml")
    assert result.exit_code == 1
    assert_one_error_line(
        result.stderr, "locked.toml: (file): a readable file", "Permission denied"
    )


# ---------------------------------------------------------------- wsim run: bad input
# (malformed scenario files: test_bad_inputs.py)


@pytest.mark.parametrize(
    ("options", "fragments"),
    [
        (["--households", "0"], ["--households", "greater than 0", "got 0"]),
        (["--households", "-5"], ["--households", "greater than 0", "got -5"]),
        (
            ["--households", str(10**12)],
            ["--households", "households on this machine", "bytes per household"],
        ),
        (["--months", "0"], ["--months", "greater than 0", "got 0"]),
        (["--seed", "-1"], ["--seed", "greater than or equal to 0", "got -1"]),
        (["--replicate", "-1"], ["--replicate", ">= 0", "got -1"]),
        (["--panel-every", "0"], ["--panel-every", ">= 1", "got 0"]),
        (["--out", "tiny.toml/out"], ["--out", "tiny.toml is a file"]),
        (["--vs", "baseline"], ["--replicates", ">= 2 with --vs", "got 1"]),
        (["--replicates", "2"], ["--replicates", "expected 1 without --vs", "got 2"]),
        (["--vs", "nowhere", "--replicates", "2"], ["--vs nowhere: (name): a scenario name"]),
        (["--vs", "tiny.toml", "--replicates", "2"], ["--vs", "distinct names or file names"]),
        (["--vs", "baseline", "--replicates", "2", "--replicate", "1"], ["--replicate", "--vs"]),
        (["--vs", "baseline", "--replicates", "2", "--panel-every", "3"], ["--panel-every"]),
    ],
)
def test_run_rejects_bad_options_and_writes_nothing(
    wsim: Wsim,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    options: list[str],
    fragments: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.toml").write_text(TINY.read_text().replace("../../", f"{ROOT}/"))
    result = wsim("run", "tiny.toml", *options)
    assert result.exit_code == 1
    assert_one_error_line(result.stderr, *fragments)
    assert_nothing_written(tmp_path, {"tiny.toml"})


@pytest.mark.parametrize("name", ["missing.toml", "a_directory"])
def test_run_rejects_a_missing_file_or_a_directory(
    wsim: Wsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_directory").mkdir()
    result = wsim("run", name)
    assert result.exit_code == 1
    assert_one_error_line(result.stderr, name, "(file)")
    assert_nothing_written(tmp_path, {"a_directory"})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run"], "Missing argument 'SCENARIO.toml'"),
        (["run", TINY, "--months", "abc"], "Invalid value for '--months'"),
        (["run", TINY, "--bogus"], "No such option: --bogus"),
        (["validate"], "Missing argument 'SCENARIO.toml'"),
        (["sweep"], "Missing argument 'SPEC.toml'"),
        (
            ["sweep", "spec.toml", "--wokers", "2"],
            "No such option: --wokers (Possible options: --workers)",
        ),
        (["sweep", "spec.toml", "--workers", "two"], "Invalid value for '--workers'"),
        (["resume"], "Missing argument 'DIR'"),
        (["rerun", "results/sweep"], "Missing argument 'RUN_ID'"),
        (["status", "a", "b"], "Got unexpected extra argument(s) (b)"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_usage_errors_are_one_error_line_with_code_2(
    wsim: Wsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = wsim(*args)
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()  # as every other error: one line, no usage box
    assert line.startswith(f"error: {message}")
    command = "wsim" if args == ["frobnicate"] else f"wsim {args[0]}"
    assert line.endswith(f"(see '{command} --help')")
    assert list(tmp_path.iterdir()) == []


def test_no_command_prints_the_help(wsim: Wsim) -> None:
    result = wsim()
    assert result.exit_code == 2
    assert "Commands" in result.stdout and not result.stderr.strip()


def test_help_groups_options_in_panels_with_metavars_that_say_what_they_are(wsim: Wsim) -> None:
    text = wsim("run", "--help").stdout
    for panel in (cli.RUN_SIZE, cli.OUTPUT, cli.COUNTERFACTUAL):
        assert f"─ {panel} ─" in text
    for option, metavar in (("--months", "MONTHS"), ("--out", "DIR"), ("--reform", "REFORM.toml")):
        assert re.search(rf"{option}\s+(-\w\s+)?{re.escape(metavar)}\s", text), option
    assert "[run] months" in text and "results/NAME" in text  # brackets survive the markup
    assert "<int>" not in text and "{scenario}" not in text


def test_help_documents_the_exit_codes(wsim: Wsim) -> None:
    result = wsim("--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for fragment in (
        "Exit codes: 0 ok;",
        "1 invalid input (scenario or spec file",
        "a results directory that cannot be written",
        "a rerun that does not reproduce its stored rows;",
        "2 usage error (unknown command or option, missing argument)",
    ):
        assert fragment in text


# ---------------------------------------------------------------- helpers


@pytest.mark.parametrize(("delay_s", "shown"), [(0.0, True), (3600.0, False)])
def test_progress_bar_appears_only_once_the_delay_has_passed(delay_s: float, shown: bool) -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with DelayedProgress(5, delay_s=delay_s, console=console) as progress:
        for month in range(1, 6):
            progress(SimpleNamespace(month=month))  # type: ignore[arg-type]
    assert ("5/5" in screen.getvalue()) is shown


@pytest.mark.parametrize(
    ("name", "safe"),
    [("default", "default"), ("../../etc", "_.._etc"), ("a b/c", "a_b_c"), ("...", "scenario")],
)
def test_scenario_name_becomes_one_safe_directory_name(name: str, safe: str) -> None:
    assert safe_name(name) == safe


def test_run_with_an_overflowing_value_fails_and_writes_nothing(wsim: Wsim, tmp_path: Path) -> None:
    reform = tmp_path / "huge.toml"
    reform.write_text("[incomes]\nfarm_net_yuan_per_mu_year = 1e308\n", encoding="utf-8")
    out = tmp_path / "out"
    result = wsim("run", TINY, "--reform", reform, "--months", "2", "--out", out)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: tiny: the run produced")
    assert not out.exists()


def test_version_and_short_options(wsim: Wsim, tmp_path: Path) -> None:
    version = wsim("--version")
    assert version.exit_code == 0 and version.stdout.startswith("wsim (workshop-sim) ")
    assert wsim("-V").stdout == version.stdout
    out = tmp_path / "short"
    result = wsim("run", TINY, "-m", "2", "-n", "100", "-s", "3", "-o", out)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["months"], manifest["households"], manifest["seed"]) == (2, 100, 3)


@pytest.mark.parametrize("command", ["run", "compare"])
def test_an_out_path_too_long_for_the_system_is_one_error(
    wsim: Wsim, tmp_path: Path, command: str
) -> None:
    out = tmp_path / ("a" * 5000)
    scenarios = [TINY] if command == "run" else [TINY, SCENARIOS / "baseline.toml"]
    result = wsim(command, *scenarios, "-m", "1", "-n", "50", "-o", out)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: --out ") and "a path the system accepts" in line
    assert len(line) < 400  # the path is shortened in the middle


# ---------------------------------------------------------------- wsim compare --reform


def test_compare_reform_adds_the_first_scenario_with_the_reform_as_an_arm(
    wsim: Wsim, tmp_path: Path
) -> None:
    reform = write_reform(tmp_path)
    out = tmp_path / "out"
    result = wsim(
        "compare", TINY, "-f", reform, "-r", "2", "-n", "120", "-m", "3", "--svg", "-o", out
    )
    assert result.exit_code == 0, result.output
    for stem in ("poverty", "workshops", "activity"):  # SVG on request, dated from the start
        assert (out / "plots" / f"{stem}.svg").is_file()
        assert "Months 2015-12 to 2016-03" in (out / "plots" / f"{stem}.txt").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    first, reformed = manifest["scenarios"]
    assert first["file"] == str(TINY) and reformed["file"] == str(reform)
    subsidy = reformed["scenario"]["policy"]["wage_subsidy"]["share_of_poor_wage_bill"]
    assert subsidy == 0.60  # the reform's value on the first scenario
    assert reformed["scenario"]["run"] == first["scenario"]["run"]  # same households, seed
    arms = set(pd.read_csv(out / "differences.csv")["arm"])
    assert arms == {reformed["arm"]}


def test_compare_needs_two_arms_counting_reforms(wsim: Wsim, tmp_path: Path) -> None:
    result = wsim("compare", TINY, "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "or one with --reform" in result.stderr
    assert not (tmp_path / "out").exists()
