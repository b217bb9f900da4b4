import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from model_helpers import (
    AWAY,
    activity_counts,
    check_accounting,
    check_people,
    check_poverty,
    check_workshops,
    drive,
    months,
    run,
    variant,
)

from model.economy import WorkshopEconomy, merge_sorted
from model.households import IS_WORKSHOP_ACTIVITY, Health, Source, update_care
from model.scenario import Activity, interpolate_by_year, load_scenario
from model.simulate import simulate
from model.workshops import Form, Status

# ------------------------------------------------------------------ reproducibility


def test_same_seed_gives_identical_tables(small):
    first, second = simulate(small).all_tables(), simulate(small).all_tables()
    assert first.keys() == second.keys()
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name], check_exact=True)


def test_different_seed_gives_different_tables(small):
    a = simulate(small).monthly
    b = simulate(variant(small, seed=small.run.seed + 1)).monthly
    assert not a.equals(b)
    assert not np.allclose(a["income_per_capita"], b["income_per_capita"])


def test_replicates_differ_and_each_is_reproducible(small):
    a0, a1 = simulate(small, replicate=0).monthly, simulate(small, replicate=1).monthly
    pd.testing.assert_frame_equal(a1, simulate(small, replicate=1).monthly)
    assert not a0.equals(a1)


def test_policy_arms_share_population_and_initial_workshops(small):
    arm = variant(
        small,
        {"policy.wage_subsidy.share_of_poor_wage_bill": 0.5, "policy.budget_yuan_per_year": 1.0e7},
    )
    a, b = WorkshopEconomy(small), WorkshopEconomy(arm)
    for field in ("household", "age", "female", "health", "frail", "skill"):
        assert np.array_equal(getattr(a.people, field), getattr(b.people, field))
    assert np.array_equal(a.households.land_mu, b.households.land_mu)
    assert [(w.form, w.capacity, w.village) for w in a.workshop_slots] == [
        (w.form, w.capacity, w.village) for w in b.workshop_slots
    ]


SHIPPED = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenarios_keep_the_invariants_every_month(path):
    scenario = load_scenario(path).with_overrides(households=2000, months=4)
    initial = {}

    def check(model, before):
        if not initial:
            initial.update(
                people=len(model.people),
                household=model.people.household.copy(),
                size=model.households.size.copy(),
            )
        check_accounting(model, before)
        check_workshops(model, before)
        check_people(model, initial)
        check_poverty(model, before)

    model = drive(scenario, check)
    assert model.month == 4


# ------------------------------------------------------------------ calendar


def test_calendar_months_and_ageing(tiny):
    model = WorkshopEconomy(variant(tiny, households=100, months=14))
    ages = model.people.age.copy()
    assert model.date == dt.date(2015, 12, 1)  # the starting state: the month before
    seen = []
    for m in months(model, 14):
        seen.append(m.date)
        expected_age = ages + (1 if m.month >= 13 else 0)
        assert np.array_equal(m.people.age, expected_age)
    assert seen[0] == dt.date(2016, 1, 1) and seen[11] == dt.date(2016, 12, 1)
    assert seen[12] == dt.date(2017, 1, 1) and model.month_of_year == 2


def test_poverty_line_follows_the_deflator(tiny):
    model = WorkshopEconomy(variant(tiny, {"run.start": dt.date(2019, 11, 1)}, households=100))
    p = tiny.poverty
    for m in months(model, 3):
        factor = interpolate_by_year(p.deflator_by_year, m.date.year)
        assert m.poverty_line == pytest.approx(p.line_2010_yuan_per_person_year * factor)
    assert model.date.year == 2020
    assert model.poverty_line == pytest.approx(2300 * 1.7391)


def test_dibao_tops_households_up_to_its_line(small):
    model = WorkshopEconomy(small)
    hh, ledger = model.households, model.ledger
    per_capita_year = ledger.total * 12 / hh.size
    line = small.incomes.dibao_line_yuan_per_person_year
    topped = hh.dibao_yuan_per_month > 0
    assert topped.any()
    assert per_capita_year[topped] == pytest.approx(np.full(topped.sum(), line), rel=1e-5)
    own = (ledger.total - ledger.by_source[Source.DIBAO]) * 12 / hh.size
    assert (own[~topped] >= line - 1e-6).all()


# ------------------------------------------------------------------ care


def _assert_no_carer_away(model: WorkshopEconomy) -> None:
    carers = model.households.carer[model.households.carer >= 0]
    away = np.isin(model.people.activity[carers], AWAY)
    assert not away.any(), (model.month, carers[away].tolist())
    assert np.array_equal(np.flatnonzero(model.people.carer), np.sort(carers))


@pytest.mark.parametrize("seed", range(6))
def test_carer_never_migrates_without_substitute(tiny, seed):
    # 25 months so that ageing in January changes who the carers are
    model = WorkshopEconomy(variant(tiny, households=2000, months=25, seed=seed))
    _assert_no_carer_away(model)
    for m in months(model, 25):
        _assert_no_carer_away(m)


def test_carer_refused_a_workshop_place_does_not_stay_away(tiny):
    # A non-poor migrant becomes the carer and wants home outwork; a poor-worker quota of
    # 100% makes every outwork firm refuse non-poor applicants.
    scenario = variant(
        tiny,
        {"choice.rule": "income_max", "policy.certification.poor_share_min": 1.0},
        households=400,
    )
    model = WorkshopEconomy(scenario)
    people, hh = model.people, model.households
    for w in model.workshop_slots:
        if w.form == Form.OUTWORK:
            w.pay_yuan_per_month = 1.0e6  # outwork beats everything a carer may do
    migrant = np.flatnonzero((people.activity == Activity.MIGRATION) & ~model.registered_person)
    assert len(migrant) > 0
    person = int(migrant[0])
    home = people.household[person]
    hh.carer[home] = person
    people.carer[:] = False
    people.carer[hh.carer[hh.carer >= 0]] = True
    model.must_revise[person] = True
    model.step()
    assert people.carer[person]
    assert people.activity[person] not in AWAY


# ------------------------------------------------------------------ responses to levers and shocks


def _mean_outwork(scenario, seeds=(0, 1, 2)) -> float:
    return float(
        np.mean(
            [activity_counts(run(variant(scenario, seed=s)))[Activity.HOME_OUTWORK] for s in seeds]
        )
    )


def test_raising_outwork_piece_pay_raises_home_outwork(tiny):
    # value added doubles with pay, so the firms' margins (and their survival) are kept and
    # only the homeworkers' side changes
    base = variant(tiny, months=12)
    outwork = base.workshops.outwork
    richer = variant(
        base,
        {
            "workshops.outwork.pay_yuan_per_month": 2 * outwork.pay_yuan_per_month,
            "workshops.outwork.value_added_yuan_per_worker_month": 2
            * outwork.value_added_yuan_per_worker_month,
        },
    )
    assert _mean_outwork(richer) > 1.2 * _mean_outwork(base)


def test_pay_above_value_added_closes_workshops(tiny):
    base = variant(tiny, months=24)
    outwork = base.workshops.outwork
    losing = variant(
        base,
        {"workshops.outwork.pay_yuan_per_month": 2 * outwork.value_added_yuan_per_worker_month},
    )
    assert _mean_outwork(losing) < 0.5 * _mean_outwork(base)


def _shock_pair(tiny, key, settings):
    block = {**getattr(tiny.shocks, key).model_dump(), **settings, "enabled": True}
    base = variant(tiny, months=12)
    return base, variant(base, {f"shocks.{key}": block})


def test_migration_stop_keeps_migrants_home_in_its_window_and_they_return(tiny):
    base, shocked = _shock_pair(
        tiny, "migration_stop", {"start": dt.date(2016, 4, 1), "months": 3, "share_kept_home": 0.6}
    )
    migrants = {}
    for name, scenario in (("base", base), ("shocked", shocked)):
        model = WorkshopEconomy(scenario)
        series = []
        for m in months(model, 12):
            series.append(activity_counts(m)[Activity.MIGRATION])
            kept = m.people.kept_home
            assert not (kept & (m.people.activity == Activity.MIGRATION)).any()
            if name == "shocked":
                assert kept.any() == (4 <= m.month <= 6), m.month
        migrants[name] = np.array(series)
    window = slice(3, 6)  # months 4, 5, 6
    assert (migrants["shocked"][:3] == migrants["base"][:3]).all()
    assert (migrants["shocked"][window] < 0.6 * migrants["base"][window]).all()
    assert migrants["shocked"][6] > 1.5 * migrants["shocked"][5]  # they go back in month 7


def test_order_collapse_raises_idle_workshops(tiny):
    base, shocked = _shock_pair(
        tiny,
        "order_collapse",
        {"start": dt.date(2016, 4, 1), "months": 3, "share_of_firms": 0.6, "load_multiplier": 0.1},
    )
    idle = {}
    for name, scenario in (("base", base), ("shocked", shocked)):
        model = WorkshopEconomy(scenario)
        idle[name] = np.array(
            [sum(w.status == Status.IDLE for w in m.workshop_slots) for m in months(model, 12)]
        )
        assert all(w.order_multiplier == 1.0 for w in model.workshop_slots)
    assert (idle["shocked"][:3] == idle["base"][:3]).all()
    assert idle["shocked"][3:6].mean() >= idle["base"][3:6].mean() + 3
    assert idle["shocked"][7:].mean() <= idle["base"][7:].mean() + 1


def test_illness_raises_the_chronically_ill_count(tiny):
    healthy = WorkshopEconomy(variant(tiny, months=12))
    start = healthy.people.health.copy()
    for m in months(healthy, 12):
        assert np.array_equal(m.people.health, start)
    incidence = 0.01
    model = WorkshopEconomy(
        variant(
            tiny,
            {"shocks.illness.enabled": True, "shocks.illness.incidence_per_month": incidence},
            months=12,
        )
    )
    counts = [int((model.people.health == Health.CHRONIC).sum())]
    at_risk = int(((model.people.health == Health.HEALTHY) & (model.people.capacity > 0)).sum())
    for m in months(model, 12):
        counts.append(int((m.people.health == Health.CHRONIC).sum()))
    assert (np.diff(counts) >= 0).all()
    new = counts[-1] - counts[0]
    assert 0.5 * incidence * at_risk * 12 < new < 1.5 * incidence * at_risk * 12
    ill = (model.people.health == Health.CHRONIC) & (start == Health.HEALTHY)
    assert ill.any()
    assert model.people.capacity[ill] == pytest.approx(tiny.population.chronic_capacity)


def test_income_max_rule_runs_and_gives_a_different_activity_mix(tiny):
    logit = run(variant(tiny, months=12))
    greedy = run(variant(tiny, {"choice.rule": "income_max"}, months=12))
    assert greedy.month == 12
    able_l, able_g = logit.people.capacity > 0, greedy.people.capacity > 0
    mix_l = np.bincount(logit.people.activity[able_l], minlength=len(Activity))
    mix_g = np.bincount(greedy.people.activity[able_g], minlength=len(Activity))
    assert mix_l.sum() == mix_g.sum()
    assert np.abs(mix_l - mix_g).sum() >= 0.05 * mix_l.sum()


def test_migrant_who_falls_ill_and_is_refused_a_workshop_place_stops_migrating(tiny):
    # Migration needs good health; a refused application must not leave the person away.
    scenario = variant(
        tiny,
        {"choice.rule": "income_max", "policy.certification.poor_share_min": 1.0},
        households=400,
    )
    model = WorkshopEconomy(scenario)
    people = model.people
    for w in model.workshop_slots:
        if w.form == Form.OUTWORK:
            w.pay_yuan_per_month = 1.0e6
    migrant = np.flatnonzero((people.activity == Activity.MIGRATION) & ~model.registered_person)
    person = int(migrant[0])
    people.health[person] = Health.CHRONIC
    update_care(people, model.households, scenario.population)
    model.must_revise[person] = True
    model.step()
    assert people.activity[person] != Activity.MIGRATION


def test_merge_sorted_is_the_sorted_union():
    a, b = np.array([1, 4, 9, 12]), np.array([0, 4, 10, 12, 20])
    assert merge_sorted(a, b).tolist() == [0, 1, 4, 9, 10, 12, 20]
    assert merge_sorted(a, np.array([], dtype=np.int64)).tolist() == a.tolist()


def test_kept_list_of_employed_is_everyone_with_a_job_at_every_phase(tiny):
    model = WorkshopEconomy(variant(tiny, households=300))
    for _ in range(4):
        model.month += 1  # as step() does, phase by phase
        for phase in (
            "_age_people",
            "_apply_shocks",
            "_run_policy",
            "_update_workshops",
            "_revise_choices",
            "_match_labour",
            "_pay_month",
        ):
            getattr(model, phase)()
            np.testing.assert_array_equal(
                model.employed_now(), np.flatnonzero(model.people.employer >= 0)
            )
            employed = model.people.activity[model.people.employer >= 0]
            assert IS_WORKSHOP_ACTIVITY[employed].all(), "jobs only in workshop activities"
        model._update_poverty()
        model.datacollector.collect(model)
