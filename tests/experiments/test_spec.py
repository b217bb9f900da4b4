"""Sweep specs: valid ones load against their base; each kind of mistake is one clear error."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from experiment_helpers import ROOT
from sweep_helpers import FACTORIAL, UNCERTAIN, spec_of, write_spec

from experiments.optimisation.spec import load_optimise_spec
from experiments.sweep.spec import NO_REFORM, SpecError, load_spec

REFORM = (ROOT / "scenarios" / "reforms" / "quota_50.toml").as_posix()

# name: (spec body, key the error must name, a fragment of what was expected)
BAD_SPECS = {
    "unknown_top_key": ("sede = 3\n" + FACTORIAL, "sede", "did you mean 'seed'"),
    "unknown_lever_key": (
        FACTORIAL.replace('key = "policy.training', 'kye = "policy.training'),
        "levers.training.kye",
        "did you mean 'key'",
    ),
    "empty_lever": (
        FACTORIAL.replace("values = [true, false]", "values = []"),
        "levers.training.values",
        "non-empty",
    ),
    "range_reversed": (
        UNCERTAIN.replace("[1.0, 4.0]", "[4.0, 1.0]"),
        "uncertainties.weight.range",
        "low < high",
    ),
    "unknown_monthly": (
        FACTORIAL.replace('"spending"]', '"spendng"]'),
        "outputs.monthly.2",
        "did you mean 'spending'",
    ),
    "unknown_outcome": (
        FACTORIAL.replace('"net_exits", "headcount"]', '"net_exit"]'),
        "outputs.outcomes.0",
        "did you mean 'net_exits'",
    ),
    "lever_key_missing": (
        FACTORIAL.replace("policy.training.enabled", "policy.trainng.enabled"),
        "levers.training.key",
        "did you mean 'policy.training.enabled'",
    ),
    "lever_value_invalid": (
        FACTORIAL.replace("[0.2, 0.6]", "[0.2, 1.6]"),
        "levers.wage.values",
        "less than or equal to 1",
    ),
    "sobol_without_uncertainties": (
        FACTORIAL.replace('"factorial"', '"sobol"\nsamples = 8'),
        "design.method",
        "sobol needs [uncertainties]",
    ),
    "factorial_uncertainties_only": (
        UNCERTAIN.replace('"sobol"', '"factorial"'),
        "design.method",
        "factorial needs levers",
    ),
    "sobol_samples_not_power_of_2": (
        UNCERTAIN.replace("samples = 32", "samples = 30"),
        "design.samples",
        "a power of 2",
    ),
    "uncertainty_not_a_number": (
        UNCERTAIN.replace("choice.utility_per_1000_yuan", "choice.rule"),
        "uncertainties.weight.key",
        "a numeric key",
    ),
    "reform_missing": (
        FACTORIAL + '[levers.reform]\nreforms = { gone = "gone.toml" }\n',
        "levers.reform.reforms.gone",
        "a reform that applies",
    ),
    "panel_every_0_months": (
        FACTORIAL + "panel = true\npanel_every_months = 0\n",
        "outputs.panel_every_months",
        "greater than 0",
    ),
    "adaptive_without_max": (
        FACTORIAL.replace("count = 2", 'output = "net_exits"\nhalf_width = 2.0'),
        "replicates",
        "either count, or output, half_width and max",
    ),
    "count_and_adaptive": (
        FACTORIAL.replace("count = 2", 'count = 2\noutput = "net_exits"'),
        "replicates",
        "either count, or output, half_width and max",
    ),
}


def test_factorial_spec_loads_with_levels_as_the_scenario_stores_them(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, FACTORIAL.replace("[0.2, 0.6]", "[0, 0.6]"))
    wage, training = spec.levers
    assert (wage.column, wage.levels, wage.base) == (
        "policy.wage_subsidy.share_of_poor_wage_bill",
        (0.0, 0.6),
        0.2,
    )
    assert isinstance(wage.levels[0], float)
    assert (training.levels, training.base) == ((True, False), True)
    assert spec.base.run.seed == 11 and spec.base.run.months == 6
    assert spec.monthly_columns == ("month", "headcount", "income_per_capita", "spending")
    assert spec.name == "spec"


def test_panel_is_asked_for_in_outputs(tmp_path: Path) -> None:
    outputs = spec_of(tmp_path, FACTORIAL + "panel = true\npanel_every_months = 3\n").file.outputs
    assert (outputs.panel, outputs.panel_every_months) == (True, 3)
    assert outputs.model_dump()["panel_every_months"] == 3
    plain = spec_of(tmp_path, FACTORIAL).file.outputs
    assert (plain.panel, plain.panel_every_months) == (False, 12)
    # without a panel the parsed spec, and so the hash of the sweep, is as it always was
    assert list(plain.model_dump(mode="json")) == ["monthly", "summary", "panel", "outcomes"]


def test_reform_lever_is_named_by_its_files(tmp_path: Path) -> None:
    lever = f'[levers.reform]\nreforms = {{ quota_50 = "{REFORM}" }}\n'
    spec = spec_of(tmp_path, FACTORIAL + lever)
    reform = spec.levers[-1]
    assert (reform.column, reform.levels, reform.base) == ("reform", ("quota_50",), NO_REFORM)


def test_uncertainty_on_a_whole_number_key_is_marked_integer(tmp_path: Path) -> None:
    body = UNCERTAIN.replace("choice.revision_rate_per_month", "policy.training.places_per_month")
    spec = spec_of(tmp_path, body.replace("[0.05, 0.25]", "[10, 60]"))
    assert [u.integer for u in spec.uncertainties] == [False, True, False]


@pytest.mark.parametrize("stem", sorted(BAD_SPECS))
def test_bad_spec_is_one_error_naming_file_and_key(tmp_path: Path, stem: str) -> None:
    body, key, expected = BAD_SPECS[stem]
    path = write_spec(tmp_path, body, stem)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert (caught.value.file, caught.value.key) == (str(path), key)
    assert expected in caught.value.expected


# Example specs run small counties, except the decision-rule sweep behind
# results/examples/decision_rules/: at 2,000 households the default county has under one
# factory workshop, so it runs a sixth of the county (20,000 households, about 8 minutes
# on 2 cores).
# specs whose arms need a county-sized economy to open workshops at all
EXAMPLE_HOUSEHOLDS_MAX = {
    "decision_rules.toml": 20_000,
    "instruments_alone.toml": 20_000,
    "uncertainty.toml": 5_000,  # fewer lose a form's workshops (see its header)
}
SMALL_EXAMPLE_HOUSEHOLDS = 2000


def test_example_specs_validate() -> None:
    for path in sorted((ROOT / "experiments" / "specs").glob("*.toml")):
        if "search" in tomllib.loads(path.read_text(encoding="utf-8")):
            spec = load_optimise_spec(path)  # a budget search's spec (`wsim optimise`)
        else:
            spec = load_spec(path)
        most = EXAMPLE_HOUSEHOLDS_MAX.get(path.name, SMALL_EXAMPLE_HOUSEHOLDS)
        assert spec.file.run.households is not None and spec.file.run.households <= most, path
