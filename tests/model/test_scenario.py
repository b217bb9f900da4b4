import copy
import datetime as dt
import os
from pathlib import Path

import pydantic
import pytest

from model import scenario as scenario_module
from model.economy import WorkshopEconomy
from model.scenario import (
    BYTES_PER_HOUSEHOLD,
    GIB,
    INSTRUMENTS,
    MAX_INPUT_BYTES,
    Scenario,
    ScenarioError,
    apply_reforms,
    defining_comment,
    extends_chain,
    interpolate_by_year,
    load_scenario,
    max_households,
    scenario_from_dict,
)

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "fixtures" / "tiny.toml"
SCENARIOS = ROOT / "scenarios"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def reform(directory: Path, body: str, name: str = "reform.toml") -> Path:
    """A reform file in `directory` extending the tiny scenario by absolute path."""
    return write(directory, name, f'extends = "{TINY.as_posix()}"\n{body}')


def load_error(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


# ----------------------------------------------------------------- extends + merge


def test_reform_extending_tiny_changes_only_the_key_it_names(tmp_path, tiny):
    path = reform(tmp_path, "[policy.wage_subsidy]\nshare_of_poor_wage_bill = 0.35\n")
    loaded = load_scenario(path)
    assert loaded.policy.wage_subsidy.share_of_poor_wage_bill == 0.35
    expected = copy.deepcopy(tiny.model_dump())
    expected["policy"]["wage_subsidy"]["share_of_poor_wage_bill"] = 0.35
    assert loaded.model_dump() == expected


def test_reform_with_relative_extends_path_resolves_against_its_own_folder(tmp_path, tiny):
    relative = os.path.relpath(TINY, tmp_path)
    path = write(
        tmp_path, "rel.toml", f'extends = "{Path(relative).as_posix()}"\n[run]\nseed = 99\n'
    )
    loaded = load_scenario(path)
    assert loaded.run.seed == 99
    assert loaded.population == tiny.population
    assert loaded.policy == tiny.policy


def test_reform_overriding_one_year_keeps_the_other_years_of_a_by_year_table(tmp_path, tiny):
    path = reform(tmp_path, "[incomes.migrant_wage_yuan_per_month]\n2020 = 5000.0\n")
    wages = load_scenario(path).incomes.migrant_wage_yuan_per_month
    before = tiny.incomes.migrant_wage_yuan_per_month
    assert wages[2020] == 5000.0
    assert set(wages) == set(before)
    assert all(wages[y] == before[y] for y in before if y != 2020)


def test_reform_of_a_reform_applies_both_with_the_later_winning(tmp_path, tiny):
    reform(tmp_path, "[run]\nseed = 1\nmonths = 7\n", name="first.toml")
    second = write(tmp_path, "second.toml", 'extends = "first.toml"\n[run]\nseed = 2\n')
    loaded = load_scenario(second)
    assert (loaded.run.seed, loaded.run.months) == (2, 7)
    assert loaded.run.households == tiny.run.households


def test_reform_replaces_a_list_as_a_whole(tmp_path):
    order = list(reversed(INSTRUMENTS))
    path = reform(tmp_path, f"[policy]\npayment_order = {order!r}\n".replace("'", '"'))
    assert load_scenario(path).policy.payment_order == order


def test_default_scenario_keeps_baseline_blocks_it_does_not_mention():
    baseline = load_scenario(SCENARIOS / "baseline.toml")
    default = load_scenario(SCENARIOS / "default.toml")
    assert default.population == baseline.population
    assert default.incomes == baseline.incomes
    assert default.workshops.factory.initial_count == 30
    assert baseline.workshops.factory.initial_count == 0
    assert (
        default.workshops.factory.pay_yuan_per_month
        == baseline.workshops.factory.pay_yuan_per_month
    )
    assert default.policy.wage_subsidy.enabled and not baseline.policy.wage_subsidy.enabled


def test_tiny_scenario_is_one_tenth_of_its_county():
    tiny = load_scenario(TINY)
    assert tiny.run.households == 400
    assert tiny.scale == pytest.approx(0.1)


# ----------------------------------------------------------------- errors


def test_unknown_key_is_rejected_with_file_dotted_key_and_suggestion(tmp_path):
    path = reform(tmp_path, "[run]\nhousholds = 10\n")
    err = load_error(path)
    assert err.file == str(path)
    assert err.key == "run.housholds"
    assert "did you mean 'households'" in str(err)
    assert str(path) in str(err)


def test_unknown_nested_key_names_its_full_path(tmp_path):
    path = reform(tmp_path, "[policy.wage_subsidy]\nshare_of_poor_wage_bil = 0.3\n")
    err = load_error(path)
    assert err.key == "policy.wage_subsidy.share_of_poor_wage_bil"
    assert "did you mean 'share_of_poor_wage_bill'" in str(err)


def test_unknown_top_level_key_is_rejected_with_suggestion(tmp_path):
    path = reform(tmp_path, 'nmae = "x"\n')
    err = load_error(path)
    assert err.key == "nmae"
    assert "did you mean 'name'" in str(err)


def test_unknown_key_in_a_base_file_names_the_base_file(tmp_path):
    base = write(
        tmp_path,
        "base.toml",
        f'extends = "{(SCENARIOS / "default.toml").as_posix()}"\n'
        "[choice]\nrevison_rate_per_month = 0.2\n",
    )
    top = write(tmp_path, "top.toml", 'extends = "base.toml"\n[run]\nseed = 3\n')
    err = load_error(top)
    assert Path(err.file).resolve() == base.resolve()
    assert err.key == "choice.revison_rate_per_month"
    assert "did you mean 'revision_rate_per_month'" in str(err)


def test_extends_cycle_is_rejected(tmp_path):
    a = write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    err = load_error(a)
    assert err.key == "extends"
    assert Path(err.file).name in {"a.toml", "b.toml"}
    assert "cycle" in err.expected
    assert "a.toml" in err.expected and "b.toml" in err.expected


def test_file_extending_itself_is_a_cycle(tmp_path):
    me = write(tmp_path, "me.toml", 'extends = "me.toml"\n')
    err = load_error(me)
    assert err.key == "extends"
    assert "cycle" in str(err)


def test_extends_to_a_missing_file_names_the_missing_file(tmp_path):
    path = write(tmp_path, "r.toml", 'extends = "nowhere.toml"\n')
    err = load_error(path)
    assert err.file == str(path)
    assert err.key == "extends"
    assert "nowhere.toml" in err.expected


def test_extends_to_a_directory_is_refused(tmp_path):
    (tmp_path / "sub").mkdir()
    path = write(tmp_path, "r.toml", 'extends = "sub"\n')
    err = load_error(path)
    assert err.file == str(path)
    assert err.key == "extends"
    assert "directory" in err.expected


def test_extends_must_be_a_string(tmp_path):
    path = write(tmp_path, "r.toml", "extends = 3\n")
    err = load_error(path)
    assert err.key == "extends"


def test_missing_scenario_file_is_refused(tmp_path):
    err = load_error(tmp_path / "absent.toml")
    assert err.key == "(file)"
    assert "exist" in err.expected


def test_invalid_toml_is_refused_with_syntax_key(tmp_path):
    path = write(tmp_path, "bad.toml", "[run\nmonths = 3\n")
    err = load_error(path)
    assert err.file == str(path)
    assert err.key == "(syntax)"
    assert "TOML" in err.expected


def test_share_above_one_is_refused_naming_the_key(tmp_path):
    path = reform(tmp_path, "[population]\nregistered_poor_share = 1.5\n")
    err = load_error(path)
    assert err.file == str(path)
    assert err.key == "population.registered_poor_share"
    assert "1.5" in str(err)
    assert "less than or equal to 1" in str(err)


def test_negative_share_is_refused_naming_the_key(tmp_path):
    path = reform(tmp_path, "[policy.certification]\npoor_share_min = -0.1\n")
    err = load_error(path)
    assert err.key == "policy.certification.poor_share_min"
    assert "greater than or equal to 0" in str(err)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("-0.1", "greater than or equal to 0"), ("nan", "finite"), ("inf", "finite")],
)
def test_registration_error_must_be_finite_and_non_negative(tmp_path, value, expected):
    path = reform(tmp_path, f"[population]\nregistration_income_error_sd = {value}\n")
    err = load_error(path)
    assert err.file == str(path)
    assert err.key == "population.registration_income_error_sd"
    assert expected in str(err)


# Keys of the labour market, firms, injuries and equity: a bad value, and the words the
# error must contain.
BAD_MECHANICS = [
    ("workshops.factory", "piece_rate_yuan", "-1.4", "greater than 0"),
    ("workshops.factory", "piece_rate_yuan", "nan", "finite"),
    ("workshops.factory", "piece_rate_yuan", "inf", "finite"),
    ("workshops.outwork", "piece_rate_share", "1.5", "less than or equal to 1"),
    ("workshops.outwork", "piece_rate_share", "nan", "finite"),
    ("choice.work_disutility_yuan_per_month", "village_workshop", "-300.0", "greater than"),
    ("choice.work_disutility_yuan_per_month", "village_workshop", "inf", "finite"),
    ("choice.work_disutility_yuan_per_month", "village_workshop", "nan", "finite"),
    ("policy.equity", "dividend_rate_per_year", "-0.08", "greater than or equal to 0"),
    ("policy.equity", "dividend_rate_per_year", "1.5", "less than or equal to 1"),
    ("policy.equity", "share_per_person_yuan", "0.0", "greater than 0"),
    ("policy.equity", "share_per_person_yuan", "inf", "finite"),
    ("workshops", "injury_rate_per_worker_month", "-0.001", "greater than or equal to 0"),
    ("workshops", "injury_rate_per_worker_month", "nan", "finite"),
    ("workshops", "injury_cost_yuan", "-1.0", "greater than or equal to 0"),
    ("workshops", "injury_recovery_months", "0", "greater than or equal to 1"),
    ("workshops", "loss_months_to_close", "0", "greater than or equal to 1"),
    ("workshops", "profit_memory_months", "0", "greater than or equal to 1"),
]


@pytest.mark.parametrize(("table", "key", "value", "expected"), BAD_MECHANICS)
def test_bad_mechanics_values_are_refused_naming_file_and_key(
    tmp_path, table, key, value, expected
):
    path = reform(tmp_path, f"[{table}]\n{key} = {value}\n")
    err = load_error(path)
    assert err.file == str(path)
    assert err.key == f"{table}.{key}"
    assert expected in str(err)


def test_registration_error_may_be_zero(tmp_path):
    path = reform(tmp_path, "[population]\nregistration_income_error_sd = 0.0\n")
    assert load_scenario(path).population.registration_income_error_sd == 0.0


def test_wrong_type_is_refused_naming_the_key(tmp_path):
    path = reform(tmp_path, '[run]\nmonths = "twelve"\n')
    err = load_error(path)
    assert err.key == "run.months"
    assert "twelve" in str(err)


def test_probabilities_not_summing_to_one_are_refused(tmp_path):
    path = reform(tmp_path, "[population.poor]\nadults_probs = [0.1, 0.2, 0.3, 0.2, 0.1]\n")
    err = load_error(path)
    assert err.key == "population.poor"
    assert "adults_probs" in str(err)


@pytest.mark.parametrize(
    ("allocation", "expected"),
    [
        ("{ wage_subsidy = 0.7, training = 0.5 }", "summing to at most 1"),
        ("{ wage_subsidy = -0.1 }", "between 0 and 1"),
        ("{ wage_subsidy = nan }", "finite number"),
        ("{ pensions = 0.2 }", "pensions"),
    ],
)
def test_bad_allocations_are_refused_naming_the_policy(tmp_path, allocation, expected):
    path = reform(tmp_path, f"[policy]\nallocation = {allocation}\n")
    err = load_error(path)
    assert err.file == str(path)
    assert err.key.startswith("policy")
    assert expected in str(err)


def test_payment_order_must_name_every_instrument_once(tmp_path):
    order = list(INSTRUMENTS[:-1]) + [INSTRUMENTS[0]]
    path = reform(tmp_path, f"[policy]\npayment_order = {order!r}\n".replace("'", '"'))
    err = load_error(path)
    assert err.key == "policy"
    assert "payment_order" in str(err)


def test_non_utf8_file_is_refused(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "Suichuan Xiàn"\n'.encode("latin-1"))
    err = load_error(path)
    assert err.file == str(path)
    assert err.key == "(file)"
    assert "UTF-8" in err.expected


def test_directory_instead_of_file_is_refused(tmp_path):
    err = load_error(tmp_path)
    assert err.key == "(file)"
    assert "directory" in err.expected


def test_households_beyond_memory_are_refused_with_an_estimate(tmp_path):
    path = reform(tmp_path, f"[run]\nhouseholds = {10**12}\n")
    err = load_error(path)
    assert err.file == str(path)
    assert err.key == "run.households"
    need = 10**12 * BYTES_PER_HOUSEHOLD / GIB
    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / GIB
    for fragment in (
        f"at most {max_households():,} households on this machine",
        f"it has {memory:,.1f} GiB of memory",
        f"{BYTES_PER_HOUSEHOLD:,} bytes per household ({need:,.1f} GiB for these)",
    ):
        assert fragment in err.expected


def test_households_up_to_memory_are_accepted(tiny, monkeypatch):
    monkeypatch.setattr(scenario_module, "physical_memory_bytes", lambda: GIB)
    limit = GIB // BYTES_PER_HOUSEHOLD
    assert max_households() == limit
    assert tiny.with_overrides(households=limit).run.households == limit
    with pytest.raises(pydantic.ValidationError, match="at most 976,128 households"):
        tiny.with_overrides(households=limit + 1)


def test_bytes_per_household_covers_the_model_state(tiny):
    model = WorkshopEconomy(tiny)
    state = sum(
        array.nbytes
        for table in (model.people, model.households)
        for array in vars(table).values()
        if hasattr(array, "nbytes")
    )
    assert state / tiny.run.households < BYTES_PER_HOUSEHOLD


def test_budget_above_zero_is_needed_while_an_instrument_is_enabled(tiny):
    off = {f"policy.{name}.enabled": False for name in INSTRUMENTS}
    none = tiny.with_changes({**off, "policy.budget_yuan_per_year": 0.0})
    assert none.policy.budget_yuan_per_year == 0.0
    with pytest.raises(ScenarioError) as info:
        tiny.with_changes(
            {**off, "policy.equity.enabled": True, "policy.budget_yuan_per_year": 0.0}
        )
    assert info.value.key == "policy"
    assert (
        "budget_yuan_per_year > 0 while instruments paid from it are enabled (equity)"
        in info.value.expected
    )


def test_scenario_from_dict_names_its_origin_and_key(tiny):
    data = tiny.model_dump()
    data["choice"]["rule"] = "coin_flip"
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, origin="notebook")
    assert info.value.file == "notebook"
    assert info.value.key == "choice.rule"


def test_option_constants_must_name_known_activities(tiny):
    data = tiny.model_dump()
    data["choice"]["option_constants"]["fishing"] = 1.0
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    assert info.value.key == "choice"
    assert "fishing" in str(info.value)


def test_capacity_min_above_max_is_refused(tiny):
    data = tiny.model_dump()
    data["workshops"]["park"]["capacity_workers_min"] = 90
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    assert info.value.key == "workshops.park"


# ----------------------------------------------------------------- the Scenario object


def test_with_overrides_replaces_run_settings_only(tiny):
    changed = tiny.with_overrides(households=123, months=4, seed=5)
    assert (changed.run.households, changed.run.months, changed.run.seed) == (123, 4, 5)
    assert changed.run.start == tiny.run.start
    assert changed.model_dump(exclude={"run"}) == tiny.model_dump(exclude={"run"})


def test_with_overrides_validates(tiny):
    with pytest.raises(pydantic.ValidationError):
        tiny.with_overrides(households=0)


def test_scenario_is_frozen(tiny):
    with pytest.raises(pydantic.ValidationError):
        tiny.run.months = 3  # type: ignore[misc]


def test_scenario_round_trips_through_its_dump(tiny):
    assert Scenario.model_validate(tiny.model_dump()) == tiny


def test_start_date_is_a_date(tiny):
    assert tiny.run.start == dt.date(2016, 1, 1)


def test_value_reads_a_dotted_key_as_the_scenario_holds_it(tiny):
    assert tiny.value("policy.training.enabled") is tiny.policy.training.enabled
    assert tiny.value("choice.rule") == tiny.choice.rule
    assert tiny.value("choice.option_constants.farming") == tiny.choice.option_constants["farming"]
    assert tiny.number("run.households") == 400
    assert isinstance(tiny.number("run.households"), int)
    assert (
        tiny.number("policy.wage_subsidy.share_of_poor_wage_bill")
        == tiny.policy.wage_subsidy.share_of_poor_wage_bill
    )


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("policy.training.places_per_mnth", "not a key of the scenario"),
        ("run.months.first", "not a key of the scenario"),
        ("scale", "not a key of the scenario"),  # a property, not a key
        ("policy.training", "holds a Training, not one value"),
        ("run.start", "holds a date, not one value"),
    ],
)
def test_value_of_a_key_holding_no_single_value_names_the_key(tiny, key, why):
    with pytest.raises(KeyError, match=f"{key}: {why}"):
        tiny.value(key)


@pytest.mark.parametrize("key", ["policy.training.enabled", "choice.rule"])
def test_number_of_a_key_holding_no_number_names_the_key(tiny, key):
    with pytest.raises(KeyError, match=f"{key}: holds .*, not a number"):
        tiny.number(key)


def test_extends_chain_lists_the_file_then_its_bases(tmp_path):
    chain = extends_chain(SCENARIOS / "qingchuan.toml")
    assert chain[0] == (SCENARIOS / "qingchuan.toml").resolve()
    assert chain[-1] == (SCENARIOS / "baseline.toml").resolve()
    looped = write(tmp_path, "loop.toml", 'extends = "loop.toml"\n')
    assert extends_chain(looped) == [looped.resolve()]


def test_defining_comment_follows_extends_to_the_nearest_file() -> None:
    file, comment = defining_comment(
        SCENARIOS / "qingchuan.toml", "workshops.park.entrants_per_month"
    )
    assert file.name == "qingchuan.toml" and "free:" in comment
    file, comment = defining_comment(SCENARIOS / "qingchuan.toml", "incomes.pension_age")
    assert file.name == "baseline.toml"
    with pytest.raises(KeyError):
        defining_comment(SCENARIOS / "qingchuan.toml", "incomes.no_such_key")


def test_interpolate_by_year_is_linear_inside_and_flat_outside():
    table = {2014: 2864.0, 2020: 4072.0}
    assert interpolate_by_year(table, 2017) == pytest.approx(2864 + (4072 - 2864) / 2)
    assert interpolate_by_year(table, 2010) == 2864.0
    assert interpolate_by_year(table, 2030) == 4072.0
    assert interpolate_by_year({2019: 5.0}, 2000) == 5.0


# ----------------------------------------------------------------- shipped files and reforms

SHIPPED = sorted(p for p in SCENARIOS.rglob("*.toml"))


@pytest.mark.parametrize(
    "path", SHIPPED, ids=[p.relative_to(SCENARIOS).as_posix() for p in SHIPPED]
)
def test_every_shipped_scenario_loads(path):
    scenario = load_scenario(path)
    assert sorted(scenario.policy.payment_order) == sorted(INSTRUMENTS)


def test_apply_reforms_composes_reform_files_in_order(tmp_path, tiny):
    first = write(
        tmp_path,
        "first.toml",
        'extends = "elsewhere.toml"\n[run]\nseed = 1\n'
        "[policy.wage_subsidy]\nshare_of_poor_wage_bill = 0.35\n",
    )
    second = write(tmp_path, "second.toml", "[run]\nseed = 2\n")
    reformed = apply_reforms(tiny, [first, second])
    assert reformed.run.seed == 2
    assert reformed.policy.wage_subsidy.share_of_poor_wage_bill == 0.35
    assert reformed.model_dump(exclude={"run", "policy"}) == tiny.model_dump(
        exclude={"run", "policy"}
    )
    assert apply_reforms(tiny, []) == tiny


def test_apply_reforms_names_the_reform_with_an_unknown_key(tmp_path, tiny):
    bad = write(tmp_path, "bad.toml", "[policy.training]\nplaces_per_mnth = 3\n")
    with pytest.raises(ScenarioError) as info:
        apply_reforms(tiny, [bad])
    assert info.value.file == str(bad)
    assert info.value.key == "policy.training.places_per_mnth"
    assert "did you mean 'places_per_month'" in str(info.value)


# ----------------------------------------------------------------- labour-market keys

INF, NAN = float("inf"), float("nan")
BAD_LABOUR_MARKET_VALUES = [
    ("workshops.outwork.piece_rate_yuan", -1.4, "greater than 0"),
    ("workshops.outwork.piece_rate_yuan", 0.0, "greater than 0"),
    ("workshops.outwork.piece_rate_yuan", INF, "finite number"),
    ("workshops.factory.piece_rate_yuan", NAN, "finite number"),
    ("workshops.factory.piece_rate_share", 1.5, "less than or equal to 1"),
    ("workshops.factory.piece_rate_share", -0.1, "greater than or equal to 0"),
    ("workshops.factory.pay_yuan_per_month", INF, "finite number"),
    ("choice.work_disutility_yuan_per_month.home_outwork", -100.0, "greater than or equal to 0"),
    ("choice.work_disutility_yuan_per_month.village_workshop", INF, "finite number"),
    ("choice.work_disutility_yuan_per_month.park_workshop", NAN, "finite number"),
    ("workshops.time_wage_skill_share", 1.2, "less than or equal to 1"),
    ("workshops.time_wage_skill_share", NAN, "finite number"),
    ("workshops.factory.piece_rate_share", INF, "finite number"),
    ("workshops.screening_noise_sd", -0.1, "greater than or equal to 0"),
    ("workshops.screening_noise_sd", INF, "finite number"),
    ("workshops.park_distance_scale_km", 0.0, "greater than 0"),
    ("workshops.park_distance_scale_km", INF, "finite number"),
    ("workshops.community.hiring_priority", "friends", "'none', 'registered_poor' or 'own_site'"),
    ("county.resettlement_sites", 0, "greater than 0"),
    ("policy.training.productivity_gain", -0.1, "greater than or equal to 0"),
    ("policy.training.productivity_gain", 1.5, "less than or equal to 1"),
    ("policy.training.productivity_gain", INF, "finite number"),
]


@pytest.mark.parametrize(("key", "value", "expected"), BAD_LABOUR_MARKET_VALUES)
def test_bad_pay_reservation_and_hiring_values_are_refused_naming_the_key(
    tiny, key, value, expected
):
    with pytest.raises(ScenarioError) as info:
        tiny.with_changes({key: value}, origin="reform.toml")
    assert info.value.key == key
    assert expected in info.value.expected


def test_own_site_priority_is_refused_for_forms_without_a_site(tiny):
    with pytest.raises(ScenarioError) as info:
        tiny.with_changes({"workshops.factory.hiring_priority": "own_site"})
    assert info.value.key == "workshops.factory"
    assert "own_site only for community factories" in info.value.expected


def test_disutility_of_an_activity_that_is_no_workshop_job_is_refused(tiny):
    data = tiny.model_dump()
    data["choice"]["work_disutility_yuan_per_month"]["migration"] = 100.0
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, "notebook")
    assert info.value.key == "choice.work_disutility_yuan_per_month"
    assert "['migration'] are not workshop jobs" in info.value.expected


def test_non_finite_values_in_a_scenario_file_are_refused(tmp_path):
    bad = reform(tmp_path, "[workshops.outwork]\npiece_rate_yuan = inf\n")
    error = load_error(bad)
    assert (error.key, error.file) == ("workshops.outwork.piece_rate_yuan", str(bad))
    assert "finite number" in error.expected


def test_changes_may_name_entries_of_open_tables_which_their_validators_check():
    base = load_scenario(ROOT / "scenarios" / "default.toml")
    changed = base.with_changes({"policy.allocation.training": 0.2}, origin="a sweep point")
    assert changed.policy.allocation == {"training": 0.2}
    with pytest.raises(ScenarioError, match="pensions"):
        base.with_changes({"policy.allocation.pensions": 0.2}, origin="a sweep point")
    with pytest.raises(ScenarioError, match="a key the scenario has"):
        base.with_changes({"policy.training.speed": 1.0}, origin="a sweep point")


@pytest.mark.parametrize(
    ("make", "found"),
    [(lambda p: os.mkfifo(p), "a named pipe"), (lambda p: p.mkdir(), "a directory")],
)
def test_inputs_that_are_not_regular_files_are_refused_before_reading(tmp_path, make, found):
    path = tmp_path / "scenario.toml"
    make(path)
    err = load_error(path)  # a named pipe would block a read until a writer came
    assert err.key == "(file)" and found in str(err)


def test_a_device_and_an_oversized_file_are_refused(tmp_path):
    assert "a device" in str(load_error(Path("/dev/zero")))
    big = tmp_path / "big.toml"
    big.write_text("# padding\n" * (MAX_INPUT_BYTES // 10 + 1), encoding="utf-8")
    assert f"at most {MAX_INPUT_BYTES:,} bytes" in str(load_error(big))


def test_a_run_past_its_tables_is_allowed_when_the_file_says_flat(tmp_path):
    path = reform(
        tmp_path,
        '[run]\nmonths = 240\n[poverty]\ndeflator_beyond_table = "flat"\n'
        '[incomes]\nmigrant_wage_beyond_table = "flat"\n',
    )
    assert load_scenario(path).run.months == 240
    only_prices = reform(
        tmp_path, '[run]\nmonths = 240\n[poverty]\ndeflator_beyond_table = "flat"\n', "prices.toml"
    )
    err = load_error(only_prices)
    assert err.key == "incomes.migrant_wage_yuan_per_month" and "(2016-2035)" in str(err)
