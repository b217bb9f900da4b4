"""The Python interface (`experiments.api`): the same tables as the model and the `wsim`
commands, folders read back as written, clear errors for the wrong folder, specs from
dictionaries equal to spec files, a unit for every column, and a light package import."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from experiment_helpers import COMPARE_SIZE, SCENARIOS, TINY, Wsim, write_reform
from sweep_helpers import FACTORIAL, write_spec

import experiments
from experiments import api
from experiments.compare import DIFFERENCES, Arm, CompareError, Comparison
from experiments.executors import Processes, Serial
from experiments.figures.arms import REPLICATE
from experiments.intervals import DEFINED, UNDEFINED
from experiments.sweep.engine import spec_hash
from experiments.sweep.seeding import ARM
from experiments.sweep.spec import SpecError, load_spec
from experiments.sweep.store import SweepData, SweepStore
from model.scenario import ScenarioError, load_scenario
from model.simulate import simulate

SIZE = {"households": 300, "months": 12}
WAGE = "policy.wage_subsidy.share_of_poor_wage_bill"


def assert_same_tables(got: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    assert list(got) == list(expected)
    for name, table in expected.items():
        pd.testing.assert_frame_equal(got[name], table, obj=name, check_exact=True)


@pytest.fixture(scope="module")
def tiny_runs() -> api.RunResults:
    """The tiny scenario with three times its wage subsidy, replicates 0 and 1, 6 months."""
    return api.run_scenario(TINY, {WAGE: 0.6}, replicates=2, months=6)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory, wsim: Wsim) -> dict[str, Path]:
    """A folder of each kind: `wsim run`, `wsim compare` and `wsim sweep` of the tiny county."""
    base = tmp_path_factory.mktemp("folders")
    made = {"run": base / "run", "comparison": base / "compare", "sweep": base / "sweep"}
    for args in (
        ("run", TINY, "--months", "6", "--replicate", "1", "--out", made["run"]),
        (
            "compare",
            TINY,
            write_reform(base),
            *COMPARE_SIZE,
            "--workers",
            "1",
            "--out",
            made["comparison"],
        ),
        ("sweep", write_spec(base, FACTORIAL), "--workers", "1", "--out", made["sweep"]),
    ):
        result = wsim(*args)
        assert result.exit_code == 0, result.output
    return made


def test_run_gives_the_tables_simulate_gives(tiny_runs: api.RunResults) -> None:
    scenario = load_scenario(TINY).with_changes({WAGE: 0.6}).with_overrides(months=6)
    assert tiny_runs.scenario == scenario and tiny_runs.file == TINY
    assert tiny_runs.replicates == (0, 1) and tiny_runs.overrides == {"months": 6}
    for replicate in tiny_runs.replicates:
        assert_same_tables(
            tiny_runs.result(replicate).all_tables(),
            simulate(scenario, replicate=replicate).all_tables(),
        )
    assert list(tiny_runs.monthly.columns[:2]) == ["replicate", "month"]
    assert len(tiny_runs.monthly) == 2 * 7 and list(tiny_runs.summary["replicate"]) == [0, 1]
    with pytest.raises(KeyError, match="replicate 2: expected one of"):
        tiny_runs.result(2)


def test_run_is_the_same_on_worker_processes(tiny_runs: api.RunResults) -> None:
    on_workers = api.run_scenario(TINY, {WAGE: 0.6}, replicates=2, months=6, executor=Processes(2))
    assert_same_tables(on_workers.tables, tiny_runs.tables)


def test_a_saved_run_loads_as_written(tiny_runs: api.RunResults, tmp_path: Path) -> None:
    folder = tiny_runs.save(tmp_path / "run", replicate=1)
    loaded = api.load(folder, "run")
    assert loaded.scenario == tiny_runs.scenario and loaded.replicates == (1,)
    assert loaded.overrides == {"months": 6}
    assert_same_tables(loaded.result(1).all_tables(), tiny_runs.result(1).all_tables())


def test_load_of_a_wsim_run_folder_gives_the_run(folders: dict[str, Path]) -> None:
    loaded = api.load(folders["run"])
    assert isinstance(loaded, api.RunResults) and loaded.replicates == (1,)
    scenario = load_scenario(TINY).with_overrides(months=6)
    assert loaded.scenario == scenario
    assert_same_tables(loaded.result(1).all_tables(), simulate(scenario, replicate=1).all_tables())


@pytest.fixture(scope="module")
def against() -> api.RunResults:
    """The tiny scenario against the county without policy: replicates 0-2, 6 months."""
    return api.run_scenario(TINY, months=6, replicates=3, vs="baseline")


def test_a_run_against_a_counterfactual_pairs_the_same_replicates(
    against: api.RunResults,
) -> None:
    assert against.replicates == (0, 1, 2) and against.scenario.name == "tiny"
    assert set(against.summary["replicate"]) == {0, 1, 2}
    counterfactual = against.counterfactual
    assert counterfactual is not None and counterfactual.scenario.name == "baseline"
    assert counterfactual.scenario.run == against.scenario.run  # the scenario's run values
    compared = api.compare_scenarios(
        api.arm(SCENARIOS / "baseline.toml"), TINY, replicates=3, months=6,
        households=400, seed=7,
    )  # fmt: skip
    summary = compared.summary.set_index(["arm", "replicate"])
    change = summary.loc["tiny"] - summary.loc["baseline"]
    effects = against.effects
    assert effects is not None
    estimate = effects.set_index("outcome")["estimate"]
    assert estimate["net_exits"] == pytest.approx(change["net_exits"].mean())
    assert estimate["poor_household_months_averted"] == pytest.approx(
        -change["poor_household_months"].mean()
    )
    assert estimate["total_spending_yuan"] == pytest.approx(change["total_spending_yuan"].mean())
    assert effects.attrs["units"]["estimate"] == api.OUTCOME_UNIT
    units = dict(zip(effects["outcome"], effects["outcome_unit"], strict=True))
    assert units["yuan_per_extra_net_exit"] == "yuan per net exit"


def test_a_run_against_itself_has_no_effect_and_no_cost_per_unit() -> None:
    same = api.run_scenario(TINY, months=3, replicates=2, vs=api.arm(TINY, name="tiny_again"))
    effects = same.effects
    assert effects is not None
    differences = effects[effects["status"] == DEFINED]
    assert list(differences["outcome"]) == list(api.PAIRED_DIFFERENCES)
    assert (differences[["estimate", "ci_low", "ci_high"]] == 0).all().all()
    ratios = effects[effects["outcome"].isin(api.PAIRED_RATIOS)]
    assert list(ratios["status"]) == [UNDEFINED, UNDEFINED]
    assert ratios[["estimate", "ci_low", "ci_high"]].isna().all().all()


def synthetic(spending: list[float], exits: list[float]) -> Comparison:
    """A comparison of made-up runs: the policy arm's extra spending and net exits per
    replicate against a reference of zeros (poor household-months fall as exits rise)."""
    rows = [
        {
            ARM: arm, REPLICATE: r, "net_exits": x * on, "poor_household_months": -3 * x * on,
            "poor_households_final_12_mean": -x * on, "poor_households_end": -x * on,
            "gross_exits": x * on, "total_spending_yuan": y * on,
        }
        for arm, on in (("reference", 0.0), ("policy", 1.0))
        for r, (y, x) in enumerate(zip(spending, exits, strict=True))
    ]  # fmt: skip
    monthly = pd.DataFrame(
        [{**{k: row[k] for k in (ARM, REPLICATE)}, "month": 1, "headcount": 0.1,
          "income_per_capita": 500.0} for row in rows]
    )  # fmt: skip
    tiny = load_scenario(TINY)
    arms = [Arm(name, tiny, TINY) for name in ("reference", "policy")]
    return Comparison(arms, len(exits), {"summary": pd.DataFrame(rows), "monthly": monthly}, [], {})


def test_paired_effects_give_the_ratio_of_mean_effects_with_a_fieller_interval() -> None:
    spending, exits = [1000.0, 1200.0, 900.0, 1100.0], [10.0, 11.0, 9.0, 12.0]
    effects = api.paired_effects(synthetic(spending, exits)).set_index("outcome")
    per_exit = effects.loc["yuan_per_extra_net_exit"]
    assert per_exit["status"] == DEFINED
    assert per_exit["estimate"] == pytest.approx(sum(spending) / sum(exits))
    assert per_exit["ci_low"] < per_exit["estimate"] < per_exit["ci_high"]
    per_month = effects.loc["yuan_per_poor_household_month_averted"]
    assert per_month["estimate"] == pytest.approx(sum(spending) / (3 * sum(exits)))
    averted = effects.loc["poor_household_months_averted"]
    assert averted["estimate"] == pytest.approx(3 * sum(exits) / len(exits))
    assert 0 < averted["ci_low"] < averted["estimate"] < averted["ci_high"]
    unclear = api.paired_effects(synthetic(spending, [10.0, -12.0, 9.0, -8.0])).set_index("outcome")
    assert unclear.loc["yuan_per_extra_net_exit", "status"] == UNDEFINED
    assert pd.isna(unclear.loc["yuan_per_extra_net_exit", "estimate"])


def test_a_run_against_a_counterfactual_saves_and_loads_its_effects_and_warnings(
    against: api.RunResults, tmp_path: Path
) -> None:
    folder = against.save(tmp_path / "run")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["warnings"] == list(against.warnings) and against.warnings
    loaded = api.load(folder, "run")
    assert loaded.warnings == against.warnings
    assert loaded.effects is not None and against.effects is not None
    pd.testing.assert_frame_equal(loaded.effects, against.effects, check_exact=True)
    assert loaded.effects.attrs == against.effects.attrs
    assert loaded.counterfactual is not None and against.counterfactual is not None
    assert loaded.counterfactual.scenario == against.counterfactual.scenario
    assert loaded.counterfactual.notes == against.counterfactual.notes


def test_a_run_without_counterfactual_has_warnings_and_no_effects(
    tiny_runs: api.RunResults,
) -> None:
    assert tiny_runs.effects is None and tiny_runs.counterfactual is None
    assert tiny_runs.warnings == tuple(
        api.run_warnings(tiny_runs.scenario, tiny_runs.tables, "tiny")
    )


def test_a_run_against_a_counterfactual_needs_two_replicates_and_two_names() -> None:
    with pytest.raises(ValueError, match="replicates: expected a whole number >= 2 with vs"):
        api.run_scenario(TINY, vs="baseline")
    with pytest.raises(CompareError, match="distinct names or file names"):
        api.run_scenario(TINY, replicates=2, months=1, vs=TINY)


def test_compare_gives_the_tables_and_differences_wsim_compare_wrote(
    folders: dict[str, Path],
) -> None:
    reform = folders["comparison"].parent / "tiny_wage_60.toml"
    computed = api.compare_scenarios(TINY, reform, replicates=3, **SIZE)
    written = folders["comparison"]
    assert computed.arms == ["tiny", "tiny_wage_60"] and computed.reference == "tiny"
    for name, table in computed.tables.items():
        stored_table = pd.read_parquet(written / "tables" / f"{name}.parquet")
        pd.testing.assert_frame_equal(table, stored_table, obj=name, check_exact=True)
    stored = pd.read_csv(written / DIFFERENCES)
    pd.testing.assert_frame_equal(
        computed.differences.drop(columns="outcome_unit"), stored, check_exact=True
    )
    loaded = api.load(written, "comparison")
    pd.testing.assert_frame_equal(loaded.differences, computed.differences, check_exact=True)
    pd.testing.assert_frame_equal(
        loaded.cost_effectiveness, computed.cost_effectiveness, check_exact=True
    )


def test_a_saved_comparison_loads_as_written(tmp_path: Path) -> None:
    named = api.arm(TINY, {WAGE: 0.6}, name="wage_60")
    computed = api.compare_scenarios(TINY, named, replicates=2, months=6, seed=3)
    assert computed.comparison.arms[1].scenario.run.seed == 3
    loaded = api.load(computed.save(tmp_path / "compare"))
    assert isinstance(loaded, api.ComparisonResults) and loaded.arms == ["tiny", "wage_60"]
    assert_same_tables(loaded.tables, computed.tables)
    assert loaded.comparison.arms == computed.comparison.arms


def test_load_of_a_sweep_folder_gives_what_it_stores(folders: dict[str, Path]) -> None:
    loaded = api.load(folders["sweep"], "sweep")
    assert isinstance(loaded, SweepData)  # what the analysis functions take
    stored = SweepStore(folders["sweep"]).load()
    pd.testing.assert_frame_equal(loaded.runs, stored.runs)
    pd.testing.assert_frame_equal(loaded.summary, stored.summary)
    assert len(loaded.runs) == 4 * 2  # 2 x 2 factorial, 2 replicates
    assert loaded.manifest["experiment"] == "spec"
    assert {"effects", "rates", "cost_effectiveness", "instruments"} <= set(loaded.analyze())


@pytest.mark.parametrize(
    ("kind", "other", "found"),
    [
        ("sweep", "comparison", "found a comparison folder"),
        ("run", "sweep", "found a sweep folder"),
        ("comparison", "run", "found a run folder"),
    ],
)
def test_load_of_a_folder_of_another_kind_names_it(
    folders: dict[str, Path], kind: str, other: str, found: str
) -> None:
    with pytest.raises(api.ResultsError) as raised:
        api.load(folders[other], kind)
    assert str(raised.value).startswith(f"{folders[other]}: expected {api.KINDS[kind]}, ")
    assert found in str(raised.value)


def test_load_of_no_results_folder_says_what_is_there(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "manifest.json").write_text(json.dumps({"tool": "x"}))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text("{")
    for name, found in (
        ("missing", "found nothing there"),
        ("empty", "found an empty folder"),
        ("other", "found no manifest.json among its 1 entries (notes.txt)"),
        ("foreign", "found a manifest.json of none of these (its keys: tool)"),
        ("broken", "found a manifest.json that is not readable JSON"),
    ):
        with pytest.raises(api.ResultsError, match=r"^.*" + name + r": expected ") as raised:
            api.load(tmp_path / name)
        assert found in str(raised.value), raised.value


def named_spec(directory: Path) -> tuple[Path, dict[str, Any]]:
    """The factorial spec's file, named as its stem, and the same as a dictionary."""
    path = write_spec(directory, f'name = "factorial"\n{FACTORIAL}', stem="factorial")
    return path, tomllib.loads(path.read_text(encoding="utf-8"))


def test_spec_from_dict_equals_the_spec_of_the_same_file(tmp_path: Path) -> None:
    path, data = named_spec(tmp_path)
    from_file = load_spec(path)
    from_dict = api.spec_from_dict(data, directory=tmp_path)
    assert dataclasses.replace(from_dict, text="") == dataclasses.replace(from_file, text="")
    assert spec_hash(from_dict) == spec_hash(from_file)
    assert tomllib.loads(from_dict.text) == data  # the text stored in the sweep's manifest


def test_a_sweep_from_a_dict_is_continued_from_its_file(tmp_path: Path) -> None:
    path, data = named_spec(tmp_path)
    first = api.run_sweep(api.spec_from_dict(data, directory=tmp_path), tmp_path / "sweep")
    again = api.run_sweep(path, tmp_path / "sweep", executor=Serial())
    assert len(first.runs) == len(again.runs) == 4 * 2
    assert len(again.manifest["sessions"]) == 2  # continued, nothing run twice
    pd.testing.assert_frame_equal(again.summary, first.summary)


def test_spec_from_dict_names_what_is_wrong(tmp_path: Path) -> None:
    data = named_spec(tmp_path)[1]
    with pytest.raises(SpecError, match="name: an experiment name"):
        api.spec_from_dict({k: v for k, v in data.items() if k != "name"})
    with pytest.raises(SpecError, match=r"factorial.toml: seed: text, a number, .* got object"):
        api.spec_from_dict({**data, "seed": object()}, directory=tmp_path)
    with pytest.raises(SpecError, match=r"factorial.toml: run.months: Input should be greater"):
        api.spec_from_dict({**data, "run": {"months": 0}}, directory=tmp_path)


def test_scenarios_by_name_and_changes() -> None:
    assert api.arm("default").path == SCENARIOS / "default.toml"
    assert api.arm("calibrated/qingchuan").path == SCENARIOS / "calibrated" / "qingchuan.toml"
    changed = api.arm("default", {WAGE: 0.4}, name="wage_40")
    assert changed.label == changed.scenario.name == "wage_40"
    assert changed.scenario == load_scenario(SCENARIOS / "default.toml").with_changes(
        {WAGE: 0.4, "name": "wage_40"}
    )
    with pytest.raises(ScenarioError, match=r"^nowhere: \(name\): a scenario name \(.*qingchuan"):
        api.arm("nowhere")
    with pytest.raises(ScenarioError, match=r"changes to default.toml: policy.wage: a key"):
        api.arm("default", {"policy.wage": 1})
    with pytest.raises(ScenarioError, match=r"^run size: run.households: Input should be"):
        api.run_scenario("default", households=0)
    with pytest.raises(ValueError, match="replicates: expected a whole number >= 2, got 1"):
        api.compare_scenarios("baseline", "default", replicates=1)


def test_every_column_has_a_unit(
    tiny_runs: api.RunResults, folders: dict[str, Path], against: api.RunResults
) -> None:
    comparison = api.load(folders["comparison"], "comparison")
    sweep = api.load(folders["sweep"], "sweep")
    tables = {
        **tiny_runs.tables,
        **{f"compared {n}": t for n, t in comparison.tables.items()},
        "differences": comparison.differences,
        "cost_effectiveness": comparison.cost_effectiveness,
        "paired_effects": against.effects,
        "runs": sweep.runs,
        "monthly": sweep.monthly,
        "summary": sweep.summary,
        "failures": sweep.failures,
        **sweep.analyze(),
    }
    for name, table in tables.items():
        assert list(table.attrs["units"]) == list(table.columns), name
    assert tiny_runs.monthly.attrs["units"]["income_per_capita"] == "yuan per person per month"
    assert sweep.runs.attrs["units"][WAGE] == "share"
    differences = comparison.differences
    assert differences.attrs["units"]["difference"] == api.OUTCOME_UNIT
    assert all(differences["outcome_unit"]) and all(tables["effects"]["outcome_unit"])
    assert (
        dict(zip(differences["outcome"], differences["outcome_unit"], strict=False))[
            "total_spending_yuan"
        ]
        == "yuan"
    )


def test_the_package_exports_the_interface_without_importing_it() -> None:
    code = (
        "import sys, experiments; heavy = {'pandas', 'scipy', 'matplotlib', 'numba', "
        "'experiments.api'} & set(sys.modules); assert not heavy, heavy; "
        "import experiments.compare, experiments.sweep.engine; from experiments import api; "
        "assert all(getattr(experiments, n) is getattr(api, n) for n in api.__all__)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert experiments.load is api.load and experiments.Serial is Serial
