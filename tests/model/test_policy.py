import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_helpers import all_instruments_off, months, run, variant

from model.economy import WorkshopEconomy
from model.households import Source
from model.pay import cooperative_active_share
from model.policy import (
    Budget,
    Equity,
    HiringBonus,
    InjuryInsurance,
    OpeningSubsidy,
    WageSubsidy,
)
from model.scenario import INSTRUMENTS, load_scenario
from model.simulate import collect_result
from model.workshops import Form, Status

ROOT = Path(__file__).resolve().parents[2]

# ------------------------------------------------------------------ the budget


def test_budget_pays_whole_claims_in_order_while_money_lasts():
    budget = Budget()
    budget.allocate(100.0)
    paid = budget.pay("wage_subsidy", [30.0, 50.0, 40.0, 5.0])
    assert paid.tolist() == [True, True, False, False]
    assert budget.remaining == pytest.approx(20.0)
    assert budget.paid["wage_subsidy"] == 80.0
    assert budget.due["wage_subsidy"] == 125.0
    assert budget.spent_total["wage_subsidy"] == 80.0


def test_budget_pays_a_claim_equal_to_what_remains():
    budget = Budget(remaining=50.0, allocated=50.0)
    assert budget.pay("training", [50.0]).tolist() == [True]
    assert budget.remaining == 0.0 and budget.available("training") == 0.0


def test_budget_pays_nothing_when_the_first_claim_is_too_large():
    budget = Budget(remaining=100.0, allocated=100.0)
    assert budget.pay("loans", [150.0, 10.0]).tolist() == [False, False]
    assert budget.remaining == 100.0
    assert budget.due["loans"] == 160.0 and budget.paid["loans"] == 0.0


def test_empty_claims_change_nothing():
    budget = Budget(remaining=10.0, allocated=10.0)
    assert len(budget.pay("equity", [])) == 0
    assert budget.remaining == 10.0


def test_unspent_money_carries_over_and_months_reset_due_and_paid():
    budget = Budget()
    budget.allocate(100.0)
    budget.pay("free_rent", [60.0])
    budget.allocate(100.0)
    assert budget.remaining == pytest.approx(140.0) and budget.allocated == 200.0
    budget.start_month()
    assert set(budget.due) == set(INSTRUMENTS) == set(budget.paid)
    assert sum(budget.due.values()) == 0 and sum(budget.paid.values()) == 0
    assert budget.spent_total["free_rent"] == 60.0


def test_an_allocated_instrument_pays_only_from_its_envelope_which_carries_over():
    budget = Budget(shares={"training": 0.2, "wage_subsidy": 0.5})
    budget.allocate(1000.0)
    assert budget.available("training") == pytest.approx(200.0)
    assert budget.available("free_rent") == pytest.approx(300.0)  # the unallocated rest
    assert budget.pay("training", [150.0, 100.0]).tolist() == [True, False]
    assert budget.pay("free_rent", [250.0, 100.0]).tolist() == [True, False]
    assert budget.pay("wage_subsidy", [500.0]).tolist() == [True]
    budget.allocate(1000.0)
    assert budget.available("training") == pytest.approx(50.0 + 200.0)
    assert budget.available("free_rent") == pytest.approx(50.0 + 300.0)
    assert budget.remaining == pytest.approx(2000.0 - 900.0)


def test_without_an_allocation_every_instrument_draws_on_the_whole_budget():
    budget = Budget()
    budget.allocate(100.0)
    assert all(budget.available(name) == 100.0 for name in INSTRUMENTS)


def test_an_allocation_caps_each_instruments_spending_in_a_run(tiny):
    shares = {"training": 0.05, "wage_subsidy": 0.10}
    model = WorkshopEconomy(variant(tiny, {"policy.allocation": shares}, households=300))
    year = tiny.policy.budget_yuan_per_year * model.params.scale
    for m in months(model, 14):
        spent = m.policy.budget.spent_total
        for name, share in shares.items():
            assert spent[name] <= share * m.policy.budget.allocated + 1e-6
    assert model.policy.budget.allocated == pytest.approx(2 * year)
    free = run(variant(tiny, households=300, months=14)).policy.budget.spent_total
    capped = model.policy.budget.spent_total
    assert capped["wage_subsidy"] < free["wage_subsidy"]  # the envelope binds
    assert capped["equity"] >= free["equity"] - 1e-6  # the rest is not held back


@given(st.floats(0, 1e6), st.lists(st.floats(0, 1e5), max_size=30))
@settings(max_examples=200, deadline=None)
def test_budget_never_pays_more_than_remains_and_pays_a_prefix(remaining, claims):
    budget = Budget(remaining=remaining, allocated=remaining)
    paid = budget.pay("equity", claims)
    amount = float(np.asarray(claims)[paid].sum()) if claims else 0.0
    assert amount <= remaining + 1e-6
    assert budget.remaining == pytest.approx(max(remaining - amount, 0.0))
    assert budget.remaining >= 0
    if len(paid):
        first_unpaid = np.argmin(paid) if not paid.all() else len(paid)
        assert paid[:first_unpaid].all() and not paid[first_unpaid:].any()


def test_agent_runs_enabled_instruments_in_payment_order(tiny):
    model = WorkshopEconomy(variant(tiny, households=100))
    names = [i.name for i in model.policy.instruments]
    order = tiny.policy.payment_order
    assert names == [n for n in order if getattr(tiny.policy, n).enabled]
    assert "hiring_bonus" not in names  # off in the default policy


def test_budget_is_allocated_each_january(tiny):
    model = run(variant(tiny, households=100, months=25))
    year = tiny.policy.budget_yuan_per_year * model.params.scale
    assert model.policy.budget.allocated == pytest.approx(3 * year)  # Jan 2016, 2017, 2018


def test_budget_is_allocated_in_the_first_month_whatever_the_start_month(tiny):
    july = variant(tiny, {"run.start": dt.date(2016, 7, 1)}, households=100)
    model = WorkshopEconomy(july)
    model.step()
    assert model.policy.budget.allocated > 0
    assert sum(model.policy.budget.paid.values()) > 0


def test_spending_never_exceeds_allocation(tiny):
    model = WorkshopEconomy(
        variant(tiny, {"policy.budget_yuan_per_year": 2_000_000.0}, households=200)
    )
    for m in months(model, 14):
        b = m.policy.budget
        assert sum(b.spent_total.values()) <= b.allocated + 1e-6
        assert b.remaining == pytest.approx(b.allocated - sum(b.spent_total.values()), abs=1e-3)


def test_switching_every_instrument_off_spends_nothing(tiny):
    model = WorkshopEconomy(variant(tiny, all_instruments_off(), households=200))
    assert model.policy.instruments == []
    for m in months(model, 12):
        assert sum(m.policy.budget.paid.values()) == 0.0
        assert sum(m.policy.budget.due.values()) == 0.0
    assert sum(model.policy.budget.spent_total.values()) == 0.0
    assert model.policy.budget.remaining == model.policy.budget.allocated
    result = collect_result(model)
    assert (result.monthly["spending"] == 0).all()
    assert (result.tables["spending"]["paid"] == 0).all()
    assert result.summary.loc[0, "total_spending_yuan"] == 0


def test_with_a_budget_below_every_claim_claims_are_due_but_unpaid(tiny):
    model = WorkshopEconomy(variant(tiny, {"policy.budget_yuan_per_year": 1.0}, households=200))
    due = 0.0
    for m in months(model, 4):
        assert sum(m.policy.budget.paid.values()) == 0.0
        due += sum(m.policy.budget.due.values())
    assert due > 0
    assert model.people.courses.sum() == 0  # unpaid courses are not given


# ------------------------------------------------------------------ certification


def test_certification_requires_open_staffed_workshops_meeting_the_quota(small):
    model = WorkshopEconomy(small)
    model.step()  # the initial workshops open in month 1
    quota = small.policy.certification.poor_share_min
    shops = model.workshop_slots[:4]
    for w, (workers, poor) in zip(shops, [(10, 3), (10, 2), (0, 0), (10, 10)], strict=True):
        w.accounts.workers, w.accounts.poor_workers = workers, poor
    shops[3].close()
    model.policy.certify()
    assert quota == 0.3
    assert [w.certified for w in shops] == [True, False, False, False]


def test_without_certification_rule_every_open_staffed_workshop_is_certified(small):
    model = WorkshopEconomy(variant(small, {"policy.certification.enabled": False}))
    model.step()
    shop = model.workshop_slots[0]
    shop.accounts.workers, shop.accounts.poor_workers = 10, 0
    model.policy.certify()
    assert shop.certified


# ------------------------------------------------------------------ instruments


def test_opening_subsidy_depends_on_capacity_and_is_paid_once(small):
    model = WorkshopEconomy(small)
    p = small.policy.opening_subsidy
    instrument = OpeningSubsidy(p)
    assert instrument._amount(p.large_min_workers) == p.large_yuan
    assert instrument._amount(p.large_min_workers - 1) == p.small_yuan
    model.policy.certify()
    for w in model.workshop_slots:
        w.certified, w.opening_paid = True, False
    budget = Budget(remaining=1e12, allocated=1e12)
    instrument.run(model, budget)
    expected = sum(instrument._amount(w.capacity) for w in model.workshop_slots)
    assert budget.paid["opening_subsidy"] == pytest.approx(expected)
    instrument.run(model, budget)
    assert budget.paid["opening_subsidy"] == pytest.approx(expected)


def test_only_workshops_opened_while_the_policy_runs_claim_the_opening_subsidy(small):
    model = WorkshopEconomy(small)
    list(months(model, 1))  # month 1: the county's initial workshops open
    table = model.workshop_table
    initial = np.flatnonzero(table.opened_month == 1)
    assert len(initial) and table.opening_paid[initial].all()
    list(months(model, 11))
    later = np.flatnonzero((table.opened_month > 1) & table.opening_paid)  # claimed and paid
    assert len(later)
    instrument = OpeningSubsidy(small.policy.opening_subsidy)
    spent = model.policy.budget.spent_total["opening_subsidy"]
    assert spent == pytest.approx(instrument._amount(table.capacity[later]).sum())


def test_wage_subsidy_is_a_share_of_certified_workshops_poor_wage_bill(small):
    model = WorkshopEconomy(small)
    list(months(model, 3))
    model.policy.certify()
    share = small.policy.wage_subsidy.share_of_poor_wage_bill
    budget = Budget(remaining=1e12, allocated=1e12)
    WageSubsidy(small.policy.wage_subsidy).run(model, budget)
    certified = [w for w in model.workshop_slots if w.certified]
    assert certified
    expected = share * sum(w.accounts.poor_wage_bill for w in certified)
    assert budget.paid["wage_subsidy"] == pytest.approx(expected)
    assert expected > 0


def test_poor_wage_bill_counts_registered_poor_workers_up_to_the_age_limit(small):
    model = WorkshopEconomy(small)
    list(months(model, 2))
    people, age_max = model.people, small.policy.wage_subsidy.worker_age_max
    for w in model.workshops:
        mine = people.employer == w.slot
        counted = mine & model.registered_person & (people.age <= age_max)
        assert w.accounts.workers == mine.sum()
        assert w.accounts.poor_workers == (mine & model.registered_person).sum()
        assert w.accounts.poor_wage_bill == pytest.approx(people.earnings[counted].sum(), rel=1e-5)
        assert w.accounts.wage_bill == pytest.approx(people.earnings[mine].sum(), rel=1e-5)


def test_hiring_bonus_once_per_poor_worker_with_a_long_enough_contract(small):
    model = WorkshopEconomy(small)
    list(months(model, 2))
    model.policy.certify()
    p = small.policy.hiring_bonus
    people = model.people
    poor_employed = np.flatnonzero((people.employer >= 0) & model.registered_person)
    assert len(poor_employed) >= 4
    people.tenure[poor_employed] = 0
    people.tenure[poor_employed[:3]] = p.contract_months_min
    qualifying = {
        w.slot
        for w in model.workshop_slots
        if w.certified and w.accounts.poor_workers >= p.poor_hired_min
    }
    expected = [i for i in poor_employed[:3] if people.employer[i] in qualifying]
    budget = Budget(remaining=1e12, allocated=1e12)
    HiringBonus(p).run(model, budget)
    assert budget.paid["hiring_bonus"] == pytest.approx(p.yuan_per_worker * len(expected))
    assert sorted(np.flatnonzero(people.bonus_paid).tolist()) == sorted(expected)
    HiringBonus(p).run(model, budget)
    assert budget.paid["hiring_bonus"] == pytest.approx(p.yuan_per_worker * len(expected))


def test_injury_insurance_covers_poor_workers_outside_outwork(small):
    model = WorkshopEconomy(small)
    list(months(model, 2))
    model.policy.certify()
    p = small.policy.injury_insurance
    assert p.poor_workers_only
    budget = Budget(remaining=1e12, allocated=1e12)
    InjuryInsurance(p).run(model, budget)
    insured = sum(
        w.accounts.poor_workers
        for w in model.workshop_slots
        if w.certified and w.form != Form.OUTWORK
    )
    assert model.insured_workers == insured
    assert budget.paid["injury_insurance"] == pytest.approx(
        insured * p.premium_yuan_per_worker_month
    )


def test_injury_insurance_enrols_a_share_of_workshops_once(with_cooperatives):
    scenario = variant(with_cooperatives, {"policy.injury_insurance.take_up_share": 0.5})
    model = WorkshopEconomy(scenario)
    list(months(model, 2))
    model.policy.certify()
    insurance = InjuryInsurance(scenario.policy.injury_insurance)
    budget = Budget(remaining=1e12, allocated=1e12)
    insurance.run(model, budget)
    eligible = [w for w in model.workshop_slots if w.certified and w.form != Form.OUTWORK]
    decided = {w.slot: w.insurance_enrolled for w in eligible}
    assert len(eligible) >= 4 and 0 < sum(decided.values()) < len(eligible)
    assert model.insured_workers == sum(
        w.accounts.poor_workers for w in eligible if w.insurance_enrolled
    )
    insurance.run(model, budget)  # a workshop's enrolment is decided once
    assert {w.slot: w.insurance_enrolled for w in eligible} == decided
    never = InjuryInsurance(
        variant(scenario, {"policy.injury_insurance.take_up_share": 0.0}).policy.injury_insurance
    )
    for w in eligible:
        w.insurance_enrolled = None
    never.run(model, budget)
    assert model.insured_workers == 0


# ------------------------------------------------------------------ equity


def test_households_without_labour_get_shares_and_dividends(with_cooperatives):
    model = WorkshopEconomy(with_cooperatives)
    hh = model.households
    eligible = hh.registered_poor & ~hh.has_labour & model.poor
    share = with_cooperatives.policy.equity.share_per_person_yuan
    funds = with_cooperatives.policy.equity.funds_yuan * with_cooperatives.scale
    assert 0 < share * hh.size[eligible].sum() <= funds
    model.step()
    assert (hh.equity_yuan[eligible] == share * hh.size[eligible]).all()
    assert (hh.equity_yuan[~eligible] == 0).all()
    model.step()
    rate = with_cooperatives.policy.equity.dividend_rate_per_year
    active = cooperative_active_share(model.workshop_table)
    assert active > 0
    dividends = model.ledger.by_source[Source.DIVIDENDS]
    assert dividends == pytest.approx(hh.equity_yuan * rate / 12 * active)
    assert (dividends[eligible] > 0).all()


def test_equity_shares_are_held_only_by_households_poor_last_month(with_cooperatives):
    model = WorkshopEconomy(variant(with_cooperatives, months=12))
    for _ in range(12):
        poor_before = model.poor.copy()
        model.step()
        holders = model.households.equity_yuan > 0
        assert not (holders & ~poor_before).any()
        assert (model.households.registered_poor[holders]).all()


def test_shares_of_a_household_leaving_poverty_go_to_the_next_eligible(with_cooperatives):
    model = WorkshopEconomy(with_cooperatives)
    model._start_policy()  # the cooperatives open
    hh = model.households
    p = with_cooperatives.policy.equity
    equity = Equity(p, scale=0.0)  # no funds of its own: only returned shares
    holder, waiting = np.flatnonzero(hh.registered_poor & ~hh.has_labour & model.poor)[:2]
    hh.equity_yuan[:] = 0.0
    hh.equity_yuan[holder] = p.share_per_person_yuan * hh.size[waiting]
    model.poor = model.poor.copy()
    model.poor[holder] = False  # the holder has left poverty
    budget = Budget(remaining=1e12, allocated=1e12)
    equity.run(model, budget)
    assert hh.equity_yuan[holder] == 0.0
    assert hh.equity_yuan[waiting] == p.share_per_person_yuan * hh.size[waiting]
    assert budget.paid["equity"] == 0.0  # the returned shares, not new money
    assert equity.returned_yuan == 0.0


def test_no_shares_without_cooperatives(tiny):
    none = variant(
        tiny,
        {"workshops.cooperative.initial_count": 0, "workshops.cooperative.entrants_per_month": 0.0},
        households=200,
        months=4,
    )
    model = run(none)
    assert model.households.equity_yuan.sum() == 0
    assert model.policy.budget.spent_total["equity"] == 0


# ------------------------------------------------------------------ training


def test_training_gives_courses_to_registered_poor_workers_within_the_limit(tiny):
    scenario = variant(tiny, households=300, months=10)
    model = WorkshopEconomy(scenario)
    started = 0
    for m in months(model, 10):
        started += len(m.trainees)
        assert m.registered_person[m.trainees].all()
        assert (m.people.capacity[m.trainees] > 0).all()
    courses = model.people.courses
    assert courses.sum() == started > 0
    assert not courses[~model.registered_person].any()
    assert courses.max() <= scenario.policy.training.courses_per_person_max
    off = run(variant(scenario, {"policy.training.enabled": False}))
    assert off.people.courses.sum() == 0


def test_training_raises_piece_earnings_by_the_productivity_gain(small):
    model = WorkshopEconomy(small)
    list(months(model, 2))
    people = model.people
    outwork = {
        w.slot for w in model.workshops if w.form == Form.OUTWORK and w.status == Status.OPEN
    }
    workers = np.flatnonzero(np.isin(people.employer, list(outwork)))
    assert len(workers) > 0
    before = people.earnings[workers].copy()
    people.courses[workers] += 1
    model._pay()
    gain = small.policy.training.productivity_gain
    assert gain > 0
    assert people.earnings[workers] == pytest.approx(before * (1 + gain), rel=1e-5)


# ------------------------------------------------------------------ the end of support


def test_when_support_ends_nothing_is_paid_or_certified(tiny):
    months = 18
    lasting = variant(tiny, months=months)
    ending = variant(lasting, {"policy.support_ends": dt.date(2017, 1, 1)})
    with_support, without = WorkshopEconomy(lasting), WorkshopEconomy(ending)
    for _ in range(months):
        spent_before = sum(without.policy.budget.spent_total.values())
        with_support.step()
        without.step()
        spent = sum(without.policy.budget.spent_total.values())
        if without.date >= dt.date(2017, 1, 1):
            assert without.policy.ended and spent == spent_before
            assert not without.workshop_table.certified.any()
            assert without.workshop_table.support.sum() == 0
        else:
            assert not without.policy.ended
            assert spent == sum(with_support.policy.budget.spent_total.values())
    assert with_support.workshop_table.certified.any()


def test_after_support_ends_fewer_workshops_stay_open_and_more_households_are_poor():
    default = load_scenario(ROOT / "scenarios" / "default.toml")
    open_, poor = {"with": 0, "without": 0}, {"with": 0, "without": 0}
    for seed in (0, 1):
        lasting = variant(default, households=5000, months=48, seed=seed)
        ending = variant(lasting, {"policy.support_ends": dt.date(2018, 1, 1)})
        for name, scenario in (("with", lasting), ("without", ending)):
            model = run(scenario)
            open_[name] += int(model.workshop_table.is_open.sum())
            poor[name] += int(model.poor.sum())
    assert open_["without"] < open_["with"]
    assert poor["without"] > poor["with"]
