import numpy as np
import pytest
from model_helpers import months

from model.collection import POVERTY_GROUPS, TABLES, ActivityCensus
from model.economy import WorkshopEconomy
from model.households import Source
from model.metrics import fgt_of_groups
from model.scenario import ACTIVITY_NAMES
from model.simulate import NonFiniteResultError, check_finite, collect_result, simulate
from model.workshops import FORM_FIELDS, Status


@pytest.fixture(scope="module")
def checked(tiny):
    """A tiny run, with the model state each month kept beside its tables."""
    model = WorkshopEconomy(tiny)
    states = {0: state(model)}
    for m in months(model, tiny.run.months):
        states[m.month] = state(m)
    return model, collect_result(model), states


def state(model: WorkshopEconomy) -> dict:
    people = model.people
    able = people.capacity > 0
    return {
        "able": int(able.sum()),
        "by_activity": np.bincount(people.activity[able], minlength=len(ACTIVITY_NAMES)),
        "carers": int((people.carer & able).sum()),
        "women": int((people.female & able).sum()),
        "slots": len(model.workshop_slots),
        "open": len(model.workshops),
        "certified": sum(w.certified for w in model.workshop_slots),
        "capacity_open": sum(w.capacity for w in model.workshop_slots if w.status != Status.CLOSED),
        "employed": int((people.employer >= 0).sum()),
        "poor_employed": int(((people.employer >= 0) & model.registered_person).sum()),
    }


def test_every_table_has_its_columns_and_all_months(checked, tiny):
    _, result, _ = checked
    for name, columns in TABLES.items():
        table = result.tables[name]
        assert list(table.columns) == columns
        assert sorted(table["month"].unique()) == list(range(tiny.run.months + 1))
    assert result.monthly["month"].tolist() == list(range(tiny.run.months + 1))


def test_activity_table_counts_every_able_person_once(checked):
    _, result, states = checked
    for month, rows in result.tables["activity"].groupby("month"):
        s = states[month]
        assert rows["people"].sum() == s["able"]
        by_activity = rows.groupby("activity")["people"].sum()
        assert [by_activity[a] for a in ACTIVITY_NAMES] == s["by_activity"].tolist()
        assert rows.loc[rows["carer"], "people"].sum() == s["carers"]
        assert rows.loc[rows["sex"] == "female", "people"].sum() == s["women"]


def test_poverty_table_agrees_with_the_headline(checked):
    _, result, _ = checked
    poverty = result.tables["poverty"]
    assert set(poverty["group"]) == set(POVERTY_GROUPS)
    everyone = poverty[poverty["group"] == "all"].set_index("month")
    monthly = result.monthly.set_index("month")
    np.testing.assert_allclose(everyone["fgt0"], monthly["headcount"])
    np.testing.assert_allclose(everyone["fgt1"], monthly["poverty_gap"])
    np.testing.assert_allclose(everyone["fgt2"], monthly["severity"])
    assert (poverty.groupby("month")["people"].max() == everyone["people"]).all()


def test_workshop_and_jobs_tables_agree_with_people(checked):
    _, result, states = checked
    monthly = result.monthly.set_index("month")
    shops = result.tables["workshops"].groupby("month")
    jobs = result.tables["jobs"].groupby("month")
    for month, s in states.items():
        rows = shops.get_group(month)
        assert rows["count"].sum() == s["slots"]
        assert rows.loc[rows["status"] != "closed", "count"].sum() == s["open"]
        assert rows.loc[rows["status"] != "closed", "capacity"].sum() == s["capacity_open"]
        assert rows["certified"].sum() == s["certified"]
        assert rows["jobs_filled"].sum() == s["employed"] == monthly.loc[month, "jobs_filled"]
        assert (
            rows["poor_workers"].sum() == s["poor_employed"] == monthly.loc[month, "poor_workers"]
        )
        by_form = jobs.get_group(month)
        assert set(by_form["form"]) == set(FORM_FIELDS.values())
        assert by_form["jobs_filled"].sum() == s["employed"]
        assert by_form["poor_workers"].sum() == s["poor_employed"]
        assert monthly.loc[month, "workshops_open"] == s["open"]
        share = s["poor_employed"] / s["employed"] if s["employed"] else 0.0
        assert monthly.loc[month, "poor_share_of_jobs"] == pytest.approx(share)


def test_summary_describes_the_run(checked, tiny):
    model, result, _ = checked
    row = result.summary.iloc[0]
    assert len(result.summary) == 1
    assert row["households"] == tiny.run.households
    assert row["people"] == model.households.size.sum() == len(model.people)
    assert row["months"] == tiny.run.months
    assert row["income_gain_difference_yuan"] == pytest.approx(
        row["income_gain_workshop_yuan"] - row["income_gain_other_yuan"]
    )
    spent = sum(row[f"spending_{name}_yuan"] for name in model.policy.budget.spent_total)
    assert row["total_spending_yuan"] == pytest.approx(spent)
    counts = model.tracker.poor_counts
    assert row["poor_households_final_12_mean"] == pytest.approx(np.mean(counts[-12:]))
    assert 0 <= row["poor_household_months"] <= row["poor_households_start"] * row["months"]


def test_tables_read_during_a_run_continue_unchanged(tiny):
    early = WorkshopEconomy(tiny)
    late = WorkshopEconomy(tiny)
    for m in months(early, tiny.run.months):
        if m.month in (1, 5):
            m.datacollector.get_table_dataframe("activity")  # as the dashboard does
    list(months(late, tiny.run.months))
    for name in TABLES:
        assert early.datacollector.get_table_dataframe(name).equals(
            late.datacollector.get_table_dataframe(name)
        )


def test_a_run_whose_numbers_overflow_is_refused(tiny):
    huge = tiny.with_changes({"incomes.farm_net_yuan_per_mu_year": 1e308})
    with pytest.warns(RuntimeWarning), pytest.raises(NonFiniteResultError, match="non-finite"):
        simulate(huge.with_overrides(households=200, months=2))


def test_means_over_nobody_may_be_missing_outside_the_monthly_table(tiny):
    result = simulate(tiny.with_overrides(households=200, months=2))
    check_finite(result, "tiny")  # jobs earnings are NaN where nobody holds a job
    result.monthly.loc[1, "headcount"] = np.nan
    with pytest.raises(NonFiniteResultError, match="monthly.headcount"):
        check_finite(result, "tiny")


def test_poverty_and_income_tables_come_from_the_monthly_passes(tiny):
    model = WorkshopEconomy(tiny)
    for _ in range(3):
        model.step()
        measured = model.tracker._measured
        assert measured is not None and measured[0] is model.poverty_groups  # in the pass
        expected = fgt_of_groups(
            model.tracker.per_capita,
            model.poverty_line,
            model.households.size,
            model.poverty_groups,
        )
        assert model.poverty == expected  # exactly
    income = model.datacollector.get_table_dataframe("income")
    last = income[income["month"] == model.month].set_index(["group", "source"])
    by_source, registered = model.ledger.by_source, model.households.registered_poor
    people = model.poverty_groups.people
    for source in Source:
        everyone = over_registered = 0.0
        for h in range(len(registered)):  # households left to right
            everyone += by_source[source, h]
            over_registered += by_source[source, h] if registered[h] else 0.0
        name = source.name.lower()
        assert last.loc[("all", name), "yuan_per_capita"] == everyone / people["all"]
        assert (
            last.loc[("registered_poor", name), "yuan_per_capita"]
            == over_registered / people["registered_poor"]
        )


def test_activity_census_follows_new_capacity_and_carers(tiny):
    """Capacity and carers change by new arrays (ageing each January, illness shocks)."""
    ill = tiny.with_changes(
        {"shocks.illness.enabled": True, "shocks.illness.incidence_per_month": 0.05}
    )
    model = WorkshopEconomy(ill.with_overrides(households=300, months=15))
    census = model.datacollector.census
    replaced = 0
    for _ in range(15):
        capacity = model.people.capacity
        model.step()
        replaced += model.people.capacity is not capacity
        fresh = ActivityCensus().count(model.people)
        np.testing.assert_array_equal(census.counts[: len(fresh)], fresh)
    assert replaced >= 2  # illness and ageing made new arrays, which the census recounted
