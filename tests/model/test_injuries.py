"""Work injuries: who is hurt, who pays, what an injured worker loses, what insurance does."""

import numpy as np
import pytest
from model_helpers import variant

from model.economy import WorkshopEconomy
from model.workshops import Form

RISKY = {"workshops.injury_rate_per_worker_month": 0.05}
ALL_INSURED = {
    "policy.injury_insurance.enabled": True,
    "policy.injury_insurance.take_up_share": 1.0,
    "policy.injury_insurance.poor_workers_only": False,
    "policy.certification.enabled": False,  # every staffed workshop is certified
    "policy.budget_yuan_per_year": 1e12,
}


def risky(tiny, insured: bool, months: int = 12):
    changes = {**RISKY, **(ALL_INSURED if insured else {"policy.injury_insurance.enabled": False})}
    return variant(tiny, changes, households=400, months=months)


def test_an_uninsured_injured_worker_keeps_the_job_but_earns_nothing_on_leave(tiny):
    scenario = risky(tiny, insured=False)
    model = WorkshopEconomy(scenario)
    rules = scenario.workshops
    seen = 0
    for _ in range(scenario.run.months):
        model.step()
        injuries = model.injuries
        on_leave = injuries.person[model.people.employer[injuries.person] == injuries.slot]
        seen += len(on_leave)
        assert (model.people.earnings[on_leave] == 0).all()
        assert not injuries.insured.any()
        assert (injuries.months_left >= 1).all()
        assert (injuries.months_left <= rules.injury_recovery_months).all()
        new = injuries.months_left == rules.injury_recovery_months
        hurt_at = np.bincount(injuries.slot[new], minlength=len(model.workshop_table))
        assert model.workshop_table.accident_cost == pytest.approx(hurt_at * rules.injury_cost_yuan)
    assert seen > 10


def test_insured_injured_workers_keep_their_pay_and_cost_their_workshop_nothing(tiny):
    model = WorkshopEconomy(risky(tiny, insured=True))
    insured_seen = 0
    for _ in range(model.params.run.months):
        model.step()
        injuries = model.injuries
        kept = injuries.person[injuries.insured]
        insured_seen += len(kept)
        working = kept[model.people.employer[kept] >= 0]
        assert (model.people.earnings[working] > 0).all()
        new_uninsured = ~injuries.insured & (
            injuries.months_left == model.params.workshops.injury_recovery_months
        )
        assert model.workshop_table.accident_cost.sum() == pytest.approx(
            new_uninsured.sum() * model.params.workshops.injury_cost_yuan
        )
    assert insured_seen > 10


def test_injuries_strike_at_the_scenario_rate_outside_the_home(tiny):
    scenario = risky(tiny, insured=False, months=18)
    model = WorkshopEconomy(scenario)
    new, at_risk = 0, 0
    for _ in range(scenario.run.months):
        employed = model.employed_now().copy()
        before = set(model.injuries.person.tolist())
        model.step()
        fresh = [p for p in model.injuries.person.tolist() if p not in before]
        assert all(
            model.workshop_table.form[model.people.employer[p]] != Form.OUTWORK for p in fresh
        )
        new += len(fresh)
        at_risk += int(
            (model.workshop_table.form[model.people.employer[employed]] != Form.OUTWORK).sum()
        )
    rate = scenario.workshops.injury_rate_per_worker_month
    assert new == pytest.approx(rate * at_risk, rel=0.35)


def test_insurance_moves_the_cost_of_injuries_off_workshops_and_injured_households(tiny):
    """Injury insurance acts through accident costs and the injured workers' income.

    Workshops are insured from the month after they are first staffed and certified, so
    injuries in a workshop's first month stay uninsured.
    """
    without = WorkshopEconomy(risky(tiny, insured=False, months=24))
    with_insurance = WorkshopEconomy(risky(tiny, insured=True, months=24))
    cost = {id(without): 0.0, id(with_insurance): 0.0}
    lost = {id(without): 0, id(with_insurance): 0}
    for _ in range(24):
        for model in (without, with_insurance):
            model.step()
            cost[id(model)] += model.workshop_table.accident_cost.sum()
            inj = model.injuries
            lost[id(model)] += int(
                (~inj.insured & (model.people.employer[inj.person] == inj.slot)).sum()
            )
    assert cost[id(with_insurance)] < 0.6 * cost[id(without)]
    assert lost[id(with_insurance)] < 0.6 * lost[id(without)]


def test_full_insurance_leaves_only_injuries_in_a_workshop_s_first_month_uninsured(tiny):
    model = WorkshopEconomy(risky(tiny, insured=True))
    recovery = model.params.workshops.injury_recovery_months
    covered = 0
    for _ in range(model.params.run.months):
        model.step()
        inj = model.injuries
        new = inj.months_left == recovery
        opened = model.workshop_table.opened_month[inj.slot[new & ~inj.insured]]
        assert (opened == model.month).all()
        covered += int((new & inj.insured).sum())
    assert covered > 10
