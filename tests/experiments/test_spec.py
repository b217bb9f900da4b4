"""Sweep specs: valid ones load against their base; each kind of mistake is one clear error."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from experiment_helpers import ROOT, TINY
from sweep_helpers import FACTORIAL, UNCERTAIN, spec_of, write_spec

from experiments.optimisation.spec import load_optimise_spec
from experiments.sweep.design import sample
from experiments.sweep.spec import NO_REFORM, OWN, SpecError, county_seed, load_spec

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
    "counties.toml": 8_500,  # 5% of each county: Pengxi's 170,000 households
}
SMALL_EXAMPLE_HOUSEHOLDS = 2000


def test_example_specs_validate() -> None:
    for path in sorted((ROOT / "experiments" / "specs").glob("*.toml")):
        if "search" in tomllib.loads(path.read_text(encoding="utf-8")):
            search = load_optimise_spec(path)  # a budget search's spec (`wsim optimise`)
            sizes, given = [search.base.run.households], search.file.run.households
        else:
            spec = load_spec(path)
            sizes = [c.scenario.run.households for c in spec.counties] or [spec.base.run.households]
            given = spec.file.run.households or spec.file.run.households_share
        most = EXAMPLE_HOUSEHOLDS_MAX.get(path.name, SMALL_EXAMPLE_HOUSEHOLDS)
        assert given is not None and max(sizes) <= most, path


def write_county_spec(
    directory: Path, body: str = FACTORIAL, counties: dict[str, Path] | None = None
) -> Path:
    """A county sweep of a one-base spec's `body`: by default the tiny county ("upland")
    and a second county, which gives training its own share of the budget."""
    second = directory / "second.toml"
    second.write_text(
        f'extends = "{TINY.as_posix()}"\nname = "second"\n[county]\nhouseholds = 3000\n'
        "[policy.allocation]\ntraining = 0.5\n",
        encoding="utf-8",
    )
    named = counties or {"upland": TINY, "second": second}
    table = "[counties]\n" + "".join(f'{n} = "{f.as_posix()}"\n' for n, f in named.items())
    path = directory / "counties.toml"
    path.write_text(body.replace("[run]", table + "[run]", 1), encoding="utf-8")
    return path


def write_later_county(directory: Path) -> Path:
    """The tiny county starting a year later."""
    path = directory / "later.toml"
    path.write_text(
        f'extends = "{TINY.as_posix()}"\nname = "later"\n[run]\nstart = 2017-01-01\n',
        encoding="utf-8",
    )
    return path


def test_county_spec_runs_each_arm_in_each_county_at_its_share_and_seed(tmp_path: Path) -> None:
    body = FACTORIAL.replace("months = 6", "months = 6\nhouseholds_share = 0.1")
    spec = load_spec(write_county_spec(tmp_path, body))
    assert [(c.name, c.scenario.run.households) for c in spec.counties] == [
        ("upland", 400),
        ("second", 300),
    ]
    assert [c.scenario.run.seed for c in spec.counties] == [
        county_seed(11, "upland"),
        county_seed(11, "second"),
    ]
    assert len({*(c.scenario.run.seed for c in spec.counties), 11}) == 3
    assert spec.base == spec.counties[0].scenario
    wage, training = spec.levers
    assert (wage.levels, wage.base, training.base) == ((0.2, 0.6), OWN, OWN)
    design = sample(spec, spec.seed)
    assert list(design.columns) == ["county", wage.column, training.column, "arm"]
    arms = ["baseline", *(f"wage={w},training={t}" for w in (0.2, 0.6) for t in (True, False))]
    for county in ("upland", "second"):
        rows = design[design["county"] == county]
        assert list(rows["arm"]) == arms  # the base's levels are an arm of their own
        assert rows[wage.column].dtype == float and rows[training.column].dtype == bool
    assert design.loc[0, training.column] == spec.base.policy.training.enabled


def test_one_base_spec_parses_as_before_counties_existed(tmp_path: Path) -> None:
    """The parsed spec, and so the hash of an earlier sweep, is unchanged: it resumes."""
    dumped = spec_of(tmp_path, FACTORIAL).file.model_dump(mode="json")
    assert "counties" not in dumped and list(dumped["run"]) == ["households", "months"]


# name: (counties, spec body, key the error must name, fragments of what was expected);
# counties None: the tiny county and the second one (`write_county_spec`)
BAD_COUNTY_SPECS = {
    "base_and_counties": (
        None,
        f'base = "{TINY.as_posix()}"' + FACTORIAL,
        "counties",
        ["either base", "or [counties]", "not both"],
    ),
    "neither_base_nor_counties": ({}, FACTORIAL, "base", ["a base scenario: base (", "[counties]"]),
    "county_file_missing": (
        {"upland": TINY, "gone": Path("gone.toml")},
        FACTORIAL,
        "counties.gone",
        ["a valid scenario file", "gone.toml: (file): an existing file"],
    ),
    "county_named_national": (
        {"upland": TINY, "national": Path("second.toml")},
        FACTORIAL,
        "counties.national",
        ["a county name other than 'national'"],
    ),
    "one_file_twice": (
        {"upland": TINY, "again": TINY},
        FACTORIAL,
        "counties.again",
        ["a scenario file no other county names", "(also counties.upland)"],
    ),
    "lever_key_a_county_lacks": (
        None,
        FACTORIAL + '[levers.share]\nkey = "policy.allocation.training"\nvalues = [0.3]\n',
        "levers.share.key",
        ["a key of county 'upland' (", "tiny.toml) holding one value"],
    ),
    "counties_start_apart": (
        {"upland": TINY, "later": Path("later.toml")},
        FACTORIAL,
        "run.start",
        ["the same start in every county", "2016-01-01 in 'upland'", "2017-01-01 in 'later'"],
    ),
    "uncertainties_over_counties": (
        None,
        UNCERTAIN,
        "design.method",
        ["factorial or one_at_a_time in a county sweep (levers only), got sobol"],
    ),
    "households_and_share": (
        None,
        FACTORIAL.replace("months = 6", "months = 6\nhouseholds = 300\nhouseholds_share = 0.1"),
        "run",
        ["households or households_share, not both"],
    ),
    "share_above_one": (
        None,
        FACTORIAL.replace("months = 6", "months = 6\nhouseholds_share = 1.5"),
        "run.households_share",
        ["less than or equal to 1", "got 1.5"],
    ),
}


@pytest.mark.parametrize("stem", sorted(BAD_COUNTY_SPECS))
def test_bad_county_spec_is_one_error_naming_file_and_key(tmp_path: Path, stem: str) -> None:
    counties, body, key, expected = BAD_COUNTY_SPECS[stem]
    write_later_county(tmp_path)
    if counties == {}:
        path = tmp_path / "counties.toml"
        path.write_text(body, encoding="utf-8")
    else:
        named = None if counties is None else {n: tmp_path / f for n, f in counties.items()}
        path = write_county_spec(tmp_path, body, named)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert (caught.value.file, caught.value.key) == (str(path), key)
    for fragment in expected:
        assert fragment in caught.value.expected, (fragment, caught.value.expected)
