"""Monthly data collection: headline model reporters and tidy long tables.

The headline (one row per month) comes from named reporter functions; breakdowns
(poverty by subgroup, people by activity x sex x carer, income by source, workshops by
form and status, spending by instrument) are Mesa DataCollector tables, one row per
month and category. A month's breakdown is counted on integer codes into a block of
columns; the collector's tables are filled from the blocks when a table is read.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd

from model.compiled import measures as compiled_measures
from model.compiled import twin
from model.households import SOURCE_NAMES, Households, People
from model.metrics import Groups
from model.scenario import ACTIVITY_NAMES, INSTRUMENTS
from model.workshops import FORM_FIELDS, MONTHS_PER_YEAR, Form, Status, Workshop

if TYPE_CHECKING:
    from model.economy import WorkshopEconomy

POVERTY_GROUPS = ("all", "registered_poor", "care_load", "resettled", "has_disabled", "no_labour")
TABLES = {
    "poverty": ["month", "group", "fgt0", "fgt1", "fgt2", "people"],
    "activity": ["month", "activity", "sex", "carer", "people"],
    "income": ["month", "group", "source", "yuan_per_capita"],
    "workshops": [
        "month",
        "form",
        "status",
        "count",
        "capacity",
        "jobs_filled",
        "poor_workers",
        "certified",
    ],
    "spending": ["month", "instrument", "due", "paid"],
    "jobs": [
        "month",
        "form",
        "jobs_filled",
        "poor_workers",
        "earnings_yuan_per_month",
        "poor_gain_yuan_per_year",
    ],
}
INCOME_GROUPS = ("all", "registered_poor")

# Activity-table categories: code = activity * 4 + female * 2 + carer.
SEXES_X_CARER = 4
ACTIVITY_CODES = len(ACTIVITY_NAMES) * SEXES_X_CARER
CATEGORY_ACTIVITY = [ACTIVITY_NAMES[c // SEXES_X_CARER] for c in range(ACTIVITY_CODES)]
CATEGORY_SEX = ["female" if (c // 2) % 2 else "male" for c in range(ACTIVITY_CODES)]
CATEGORY_CARER = [bool(c % 2) for c in range(ACTIVITY_CODES)]
# Workshop-table categories: code = form * len(Status) + status.
WORKSHOP_CODES = len(Form) * len(Status)
CATEGORY_FORM = [FORM_FIELDS[Form(c // len(Status))] for c in range(WORKSHOP_CODES)]
CATEGORY_STATUS = [Status(c % len(Status)).name.lower() for c in range(WORKSHOP_CODES)]

Block = dict[str, Sequence[Any] | np.ndarray]


def poverty_groups(households: Households) -> Groups:
    """The poverty subgroups of households, and their people."""
    hh = households
    masks = {
        "all": np.ones(len(hh), dtype=bool),
        "registered_poor": hh.registered_poor,
        "care_load": hh.care_need,
        "resettled": hh.resettled,
        "has_disabled": hh.has_disabled,
        "no_labour": ~hh.has_labour,
    }
    return Groups.of(masks, hh.size)


def poverty_by_group(model: WorkshopEconomy) -> dict[str, tuple[float, float, float]]:
    """FGT 0/1/2 of each subgroup this month.

    Measured by the poverty tracker in its monthly pass (`PovertyTracker.fgt`): asked for
    each month, the same groups cost nothing more after the first month they are asked for.
    """
    return model.tracker.fgt(model.poverty_groups, model.poverty_line)


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
    return int(np.count_nonzero(m.poor))


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
    return float(m.ledger.total.sum() / m.poverty_groups.people["all"])


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
    """Workshops open or idle (not closed): the workshop agents."""
    return len(m.agents_by_type.get(Workshop, ()))


def jobs_filled(m: WorkshopEconomy) -> int:
    """People employed by workshops, outwork included."""
    return int(m.staff.workers.sum())


def poor_workers(m: WorkshopEconomy) -> int:
    """Registered-poor people employed by workshops, outwork included."""
    return int(m.staff.poor_workers.sum())


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


REPORTERS = (
    month,
    date,
    headcount,
    poverty_gap,
    severity,
    poor_households,
    exits,
    entries,
    re_entries,
    income_per_capita,
    poverty_line,
    spending,
    budget_remaining,
    workshops_open,
    jobs_filled,
    poor_workers,
    poor_share_of_jobs,
    workshop_applicants,
    workshop_refused,
    trainees,
    insured_workers,
    loans_issued_yuan,
)


class ActivityCensus:
    """People able to work by activity x sex x carer, counted from the changes each month.

    Each person's category code (activity * 4 + female * 2 + carer, past the last category
    for those unable to work) is kept; a month's counts move only for changed codes, found
    in one pass over the people (`activity_census`). Sex never changes, and capacity and
    the carer flags change only by being replaced with new arrays (`households.update_care`
    makes new ones): while `People` holds the arrays of the last count, only the activity
    is read (a byte a person instead of seven).
    """

    def __init__(self) -> None:
        self.codes = np.empty(0, dtype=np.int8)
        self.counts = np.zeros(CENSUS_CODES, dtype=np.int64)
        self.counted: tuple[weakref.ref[np.ndarray], ...] = ()  # female, carer, capacity

    def count(self, people: People) -> np.ndarray:
        """People per category (the `ACTIVITY_CODES` categories of the activity table)."""
        if len(self.codes) != len(people):  # everyone starts uncounted
            self.codes = np.full(len(people), UNCOUNTED, dtype=np.int8)
            self.counts = np.zeros(CENSUS_CODES, dtype=np.int64)
            self.counts[UNCOUNTED] = len(people)
            self.counted = ()
        traits = (people.female, people.carer, people.capacity)
        unchanged = len(self.counted) == len(traits) and all(
            ref() is now for ref, now in zip(self.counted, traits, strict=True)
        )
        activity_census(
            people.activity,
            people.female,
            people.carer,
            people.capacity,
            self.codes,
            self.counts,
            ACTIVITY_CODES,
            unchanged,
        )
        self.counted = tuple(weakref.ref(a) for a in traits)  # not kept alive
        return self.counts[:ACTIVITY_CODES].copy()


# Census codes: the activity table's categories, the same for people unable to work, and
# one for people not counted yet.
UNCOUNTED = 2 * ACTIVITY_CODES
CENSUS_CODES = UNCOUNTED + 1


def _activity_census(
    activity: np.ndarray,
    female: np.ndarray,
    carer: np.ndarray,
    capacity: np.ndarray,
    codes: np.ndarray,
    counts: np.ndarray,
    unable: int,
    activity_only: bool,
) -> None:
    """Move each person whose category changed from the old category's count to the new.

    The twin of `model.compiled.measures.activity_census` (same arguments; `codes` and
    `counts` updated in place alike).
    """
    code = activity * np.int8(SEXES_X_CARER)
    if activity_only:  # sex and carer are the lowest two bits of the last code
        code += codes & np.int8(SEXES_X_CARER - 1)
        code += (codes >= unable).view(np.int8) * np.int8(unable)
    else:
        code += female.view(np.int8) * np.int8(2)
        code += carer.view(np.int8)
        code += (capacity <= 0).view(np.int8) * np.int8(unable)
    changed = np.flatnonzero(code != codes)
    n = len(counts)
    counts += np.bincount(code[changed], minlength=n) - np.bincount(codes[changed], minlength=n)
    codes[changed] = code[changed]


activity_census = twin(
    compiled_measures.activity_census,
    _activity_census,
    test="tests/model/test_compiled_measures.py::test_activity_census_twins_are_identical",
)


class EconomyCollector(mesa.DataCollector):
    """DataCollector of the headline reporters and the breakdown tables.

    Each month's breakdown is kept as a block of columns; a table's rows are appended
    to the collector's table when the table is read.
    """

    def __init__(self) -> None:
        super().__init__(model_reporters={f.__name__: f for f in REPORTERS}, tables=TABLES)
        self.blocks: dict[str, list[Block]] = {name: [] for name in TABLES}
        self.census = ActivityCensus()

    def collect(self, model: WorkshopEconomy) -> None:
        """Collect the headline reporters and the breakdown tables for this month."""
        super().collect(model)
        for table, block in (
            ("poverty", _poverty_block(model)),
            ("activity", _activity_block(model, self.census)),
            ("income", _income_block(model)),
            ("workshops", _workshop_block(model)),
            ("spending", _spending_block(model)),
            ("jobs", _jobs_block(model)),
        ):
            self.blocks[table].append(block)

    def get_table_dataframe(self, table_name: str) -> pd.DataFrame:
        """The long table `table_name`, one row per month and category."""
        columns = self.tables[table_name]
        for block in self.blocks[table_name]:
            for key, values in block.items():
                columns[key].extend(values.tolist() if isinstance(values, np.ndarray) else values)
        self.blocks[table_name].clear()
        return super().get_table_dataframe(table_name)


def make_collector() -> EconomyCollector:
    """A fresh collector for one run."""
    return EconomyCollector()


def _poverty_block(m: WorkshopEconomy) -> Block:
    groups = list(m.poverty)
    measures = list(m.poverty.values())
    return {
        "month": [m.month] * len(groups),
        "group": groups,
        "fgt0": [p[0] for p in measures],
        "fgt1": [p[1] for p in measures],
        "fgt2": [p[2] for p in measures],
        "people": [m.poverty_groups.people[g] for g in groups],
    }


def _activity_block(m: WorkshopEconomy, census: ActivityCensus) -> Block:
    """People able to work by activity x sex x carer."""
    return {
        "month": [m.month] * ACTIVITY_CODES,
        "activity": CATEGORY_ACTIVITY,
        "sex": CATEGORY_SEX,
        "carer": CATEGORY_CARER,
        "people": census.count(m.people),
    }


def _income_block(m: WorkshopEconomy) -> Block:
    # summed in the ledger's pass for its total, the registered households as well
    totals = m.ledger.source_sums(m.households.registered_poor)
    per_capita = [
        t / max(m.poverty_groups.people[g], 1) for g, t in zip(INCOME_GROUPS, totals, strict=True)
    ]
    n = len(SOURCE_NAMES)
    return {
        "month": [m.month] * (n * len(INCOME_GROUPS)),
        "group": [g for g in INCOME_GROUPS for _ in SOURCE_NAMES],
        "source": SOURCE_NAMES * len(INCOME_GROUPS),
        "yuan_per_capita": np.concatenate(per_capita),
    }


def _workshop_block(m: WorkshopEconomy) -> Block:
    t = m.workshop_table
    code = t.form.astype(np.intp) * len(Status) + t.status
    open_ = t.is_open

    def count(weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(code, weights, WORKSHOP_CODES).astype(np.int64)

    return {
        "month": [m.month] * WORKSHOP_CODES,
        "form": CATEGORY_FORM,
        "status": CATEGORY_STATUS,
        "count": count(),
        "capacity": count(t.capacity),
        "jobs_filled": count(t.workers * open_),
        "poor_workers": count(t.poor_workers * open_),
        "certified": count(t.certified),
    }


def _jobs_block(m: WorkshopEconomy) -> Block:
    """Jobs by workshop form, mean earnings, and the income gain of registered-poor workers.

    The gain is this month's earnings minus the earnings in the month before the
    worker's first workshop job, times 12 (yuan per year), averaged over poor workers
    whose before-job month is known.
    """
    n_forms = len(Form)
    p = m.people
    jobs, poor_jobs, earned, gain_sum, gain_n = job_sums(
        m.employed_now(),
        p.employer,
        m.workshop_table.form,
        m.registered_person,
        p.earnings,
        p.earnings_before_job,
        n_forms,
    )
    yearly = MONTHS_PER_YEAR * gain_sum / np.where(gain_n > 0, gain_n, np.nan)
    mean_earnings = earned / np.where(jobs > 0, jobs, np.nan)
    return {
        "month": [m.month] * n_forms,
        "form": [FORM_FIELDS[f] for f in Form],
        "jobs_filled": jobs,
        "poor_workers": poor_jobs,
        "earnings_yuan_per_month": mean_earnings,
        "poor_gain_yuan_per_year": yearly,
    }


def _job_sums(
    employed: np.ndarray,
    employer: np.ndarray,
    form: np.ndarray,
    registered: np.ndarray,
    earnings: np.ndarray,
    earnings_before_job: np.ndarray,
    n_forms: int,
) -> tuple[np.ndarray, ...]:
    """Jobs, poor workers, earnings, poor workers' known gains and their number, by form.

    The twin of `model.compiled.measures.job_sums` (same arguments and results): sums add
    in the order of `employed`.
    """
    forms = form.astype(np.intp)[employer[employed]]
    poor = registered[employed]
    earned = earnings[employed]
    gain = (earned - earnings_before_job[employed]).astype(np.float64)
    known = np.flatnonzero(poor & ~np.isnan(gain))  # indices: faster than a boolean mask
    known_forms = forms[known]
    return (
        np.bincount(forms, minlength=n_forms),
        np.bincount(forms, poor, n_forms).astype(np.int64),
        # bincount of nothing gives integer zeros
        np.bincount(forms, earned, n_forms).astype(np.float64, copy=False),
        np.bincount(known_forms, gain[known], n_forms).astype(np.float64, copy=False),
        np.bincount(known_forms, minlength=n_forms),
    )


job_sums = twin(
    compiled_measures.job_sums,
    _job_sums,
    test="tests/model/test_compiled_measures.py::test_job_sums_twins_are_identical",
)


def _spending_block(m: WorkshopEconomy) -> Block:
    b = m.policy.budget
    return {
        "month": [m.month] * len(INSTRUMENTS),
        "instrument": list(INSTRUMENTS),
        "due": [b.due[name] for name in INSTRUMENTS],
        "paid": [b.paid[name] for name in INSTRUMENTS],
    }
