"""Monthly data collection: headline model reporters and tidy long tables.

The headline (one row per month) comes from named reporter functions; breakdowns
(poverty by subgroup, people by activity x sex x carer, income by source, workshops by
form and status, spending by instrument) are Mesa DataCollector tables, one row per
month and category.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from model.households import SOURCE_NAMES
from model.metrics import fgt_of_group, fgt_terms
from model.scenario import ACTIVITY_NAMES, INSTRUMENTS
from model.workshops import FORM_FIELDS, MONTHS_PER_YEAR, Form, Status

if TYPE_CHECKING:
    from model.economy import WorkshopEconomy

POVERTY_GROUPS = ("all", "registered_poor", "care_load", "resettled", "has_disabled",
                  "no_labour")
TABLES = {
    "poverty": ["month", "group", "fgt0", "fgt1", "fgt2", "people"],
    "activity": ["month", "activity", "sex", "carer", "people"],
    "income": ["month", "group", "source", "yuan_per_capita"],
    "workshops": ["month", "form", "status", "count", "capacity", "jobs_filled",
                  "poor_workers", "certified"],
    "spending": ["month", "instrument", "due", "paid"],
    "jobs": ["month", "form", "jobs_filled", "poor_workers", "earnings_yuan_per_month",
             "poor_gain_yuan_per_year"],
}


def group_masks(model: WorkshopEconomy) -> dict[str, np.ndarray]:
    """Household masks of the poverty subgroups."""
    hh = model.households
    return {"all": np.ones(len(hh), dtype=bool), "registered_poor": hh.registered_poor,
            "care_load": hh.care_need, "resettled": hh.resettled,
            "has_disabled": hh.has_disabled, "no_labour": ~hh.has_labour}


def poverty_by_group(model: WorkshopEconomy) -> dict[str, tuple[float, float, float]]:
    """FGT 0/1/2 of each subgroup this month."""
    terms = fgt_terms(model.tracker.per_capita, model.poverty_line, model.households.size)
    return {g: fgt_of_group(terms, mask) for g, mask in group_masks(model).items()}


# ---- headline reporters (one value per month)

def month(m: WorkshopEconomy) -> int:
    """Month index (1 = the scenario's start month)."""
    return m.month


def date(m: WorkshopEconomy) -> str:
    """Calendar month, YYYY-MM."""
    return m.date.strftime("%Y-%m")


def headcount(m: WorkshopEconomy) -> float:
    """FGT0: share of people in poor households."""
    return m.poverty["all"][0]


def poverty_gap(m: WorkshopEconomy) -> float:
    """FGT1: mean normalised poverty gap."""
    return m.poverty["all"][1]


def severity(m: WorkshopEconomy) -> float:
    """FGT2: mean squared normalised gap."""
    return m.poverty["all"][2]


def poor_households(m: WorkshopEconomy) -> int:
    """Households below the line."""
    return int(m.poor.sum())


def exits(m: WorkshopEconomy) -> int:
    """Households that left poverty this month."""
    return m.flows.exits


def entries(m: WorkshopEconomy) -> int:
    """Households that fell into poverty this month."""
    return m.flows.entries


def re_entries(m: WorkshopEconomy) -> int:
    """Entries of households that had exited before."""
    return m.flows.re_entries


def income_per_capita(m: WorkshopEconomy) -> float:
    """Mean household income per person this month (yuan)."""
    return float(m.ledger.total.sum() / m.households.size.sum())


def poverty_line(m: WorkshopEconomy) -> float:
    """Poverty line this year (yuan per person per year)."""
    return m.poverty_line


def spending(m: WorkshopEconomy) -> float:
    """Policy spending paid this month (yuan)."""
    return sum(m.policy.budget.paid.values())


def budget_remaining(m: WorkshopEconomy) -> float:
    """Unspent policy budget after this month's payments (yuan)."""
    return m.policy.budget.remaining


def workshops_open(m: WorkshopEconomy) -> int:
    """Workshops open or idle (not closed)."""
    return len(m.workshops)


def jobs_filled(m: WorkshopEconomy) -> int:
    """People employed by workshops, outwork included."""
    return int((m.people.employer >= 0).sum())


def poor_workers(m: WorkshopEconomy) -> int:
    """Registered-poor people employed by workshops, outwork included."""
    return int(((m.people.employer >= 0) & m.registered_person).sum())


def poor_share_of_jobs(m: WorkshopEconomy) -> float:
    """Registered-poor workers as a share of workshop jobs filled (0 when none)."""
    jobs = jobs_filled(m)
    return poor_workers(m) / jobs if jobs else 0.0


def workshop_applicants(m: WorkshopEconomy) -> int:
    """People who applied for a workshop place this month."""
    return m.applicants


def workshop_refused(m: WorkshopEconomy) -> int:
    """Applicants no workshop could take this month (all pools)."""
    return 0 if m.queue is None else int(m.queue.sum())


def loans_issued_yuan(m: WorkshopEconomy) -> float:
    """Principal of the guaranteed loans granted so far (yuan, cumulative)."""
    return m.policy.loans_issued_yuan


def trainees(m: WorkshopEconomy) -> int:
    """People who started a course this month."""
    return len(m.trainees)


def insured_workers(m: WorkshopEconomy) -> int:
    """Workers whose injury insurance the county paid this month."""
    return m.insured_workers


REPORTERS = (month, date, headcount, poverty_gap, severity, poor_households, exits, entries,
             re_entries, income_per_capita, poverty_line, spending, budget_remaining,
             workshops_open, jobs_filled, poor_workers, poor_share_of_jobs,
             workshop_applicants, workshop_refused, trainees, insured_workers,
             loans_issued_yuan)


class EconomyCollector(mesa.DataCollector):
    """DataCollector that also appends this month's rows to the breakdown tables."""

    def __init__(self) -> None:
        super().__init__(model_reporters={f.__name__: f for f in REPORTERS}, tables=TABLES)

    def collect(self, model: WorkshopEconomy) -> None:
        """Collect the headline reporters and the breakdown tables for this month."""
        super().collect(model)
        for table, rows in (("poverty", _poverty_rows(model)), ("activity", _activity_rows(model)),
                            ("income", _income_rows(model)), ("workshops", _workshop_rows(model)),
                            ("spending", _spending_rows(model)), ("jobs", _jobs_rows(model))):
            columns = self.tables[table]
            for row in rows:
                for key, value in row.items():
                    columns[key].append(value)


def make_collector() -> EconomyCollector:
    """A fresh collector for one run."""
    return EconomyCollector()


def _poverty_rows(m: WorkshopEconomy) -> list[dict]:
    people = {g: int(m.households.size[mask].sum()) for g, mask in group_masks(m).items()}
    return [{"month": m.month, "group": g, "fgt0": p[0], "fgt1": p[1], "fgt2": p[2],
             "people": people[g]} for g, p in m.poverty.items()]


def _activity_rows(m: WorkshopEconomy) -> list[dict]:
    p = m.people
    able = np.flatnonzero(p.capacity > 0)
    code = p.activity[able].astype(np.int64) * 4 + p.female[able] * 2 + p.carer[able]
    counts = np.bincount(code, minlength=len(ACTIVITY_NAMES) * 4)
    return [{"month": m.month, "activity": ACTIVITY_NAMES[c // 4],
             "sex": "female" if (c // 2) % 2 else "male", "carer": bool(c % 2),
             "people": int(counts[c])} for c in range(len(counts))]


def _income_rows(m: WorkshopEconomy) -> list[dict]:
    rows = []
    by_source = m.ledger.by_source
    for group, mask in (("all", slice(None)), ("registered_poor", m.households.registered_poor)):
        people = max(int(m.households.size[mask].sum()), 1)
        totals = by_source[:, mask].sum(axis=1)
        rows += [{"month": m.month, "group": group, "source": name,
                  "yuan_per_capita": float(totals[i] / people)}
                 for i, name in enumerate(SOURCE_NAMES)]
    return rows


def _workshop_rows(m: WorkshopEconomy) -> list[dict]:
    rows = []
    for form in Form:
        for status in Status:
            shops = [w for w in m.workshop_slots if w.form == form and w.status == status]
            rows.append({
                "month": m.month, "form": FORM_FIELDS[form], "status": status.name.lower(),
                "count": len(shops), "capacity": sum(w.capacity for w in shops),
                "jobs_filled": sum(w.accounts.workers for w in shops if w.is_open),
                "poor_workers": sum(w.accounts.poor_workers for w in shops if w.is_open),
                "certified": sum(w.certified for w in shops)})
    return rows


def _jobs_rows(m: WorkshopEconomy) -> list[dict]:
    """Jobs by workshop form, mean earnings, and the income gain of registered-poor workers.

    The gain is this month's earnings minus the earnings in the month before the
    worker's first workshop job, times 12 (yuan per year), averaged over poor workers
    whose before-job month is known.
    """
    p = m.people
    employed = np.flatnonzero(p.employer >= 0)
    forms = np.array([w.form for w in m.workshop_slots], dtype=np.int64)[p.employer[employed]]
    poor = m.registered_person[employed]
    gain = (p.earnings[employed] - p.earnings_before_job[employed]).astype(np.float64)
    known = poor & ~np.isnan(gain)
    n_forms = len(Form)
    jobs = np.bincount(forms, minlength=n_forms)
    poor_jobs = np.bincount(forms, poor, n_forms)
    gain_sum = np.bincount(forms[known], gain[known], n_forms)
    gain_n = np.bincount(forms[known], minlength=n_forms)
    yearly = MONTHS_PER_YEAR * gain_sum / np.where(gain_n > 0, gain_n, np.nan)
    earnings = np.bincount(forms, p.earnings[employed], n_forms) / np.where(jobs > 0, jobs,
                                                                            np.nan)
    return [{"month": m.month, "form": FORM_FIELDS[f], "jobs_filled": int(jobs[f]),
             "poor_workers": int(poor_jobs[f]), "earnings_yuan_per_month": float(earnings[f]),
             "poor_gain_yuan_per_year": float(yearly[f])} for f in Form]


def _spending_rows(m: WorkshopEconomy) -> list[dict]:
    b = m.policy.budget
    return [{"month": m.month, "instrument": name, "due": b.due[name], "paid": b.paid[name]}
            for name in INSTRUMENTS]
