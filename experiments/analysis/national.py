"""The national view of a county sweep: each arm's runs added up over the counties.

A county sweep runs every arm in every county on the same replicates, so the runs of one
arm and replicate (and crossed levels) across the counties make one national run: its
counts of households, people, workers and workshops and its yuan are the sums of the
counties'. A share or a mean per person (the poverty headcount, gap and severity, income
per person) is recomputed from those sums, each county's value weighted by its people
(the model's population is fixed, so ``people`` of the run summary is the weight of
every month), never averaged over counties. A value that is neither (the mean length of
a poverty spell, income gains per person of households with and without a workshop job,
the poverty line, the run length) has no national value here and is left out, as is
every arm and replicate some county has no done run for.

The national runs are then analysed like a county's (`experiments.analysis.effects`):
their paired effects, Fieller ratios and rankings use the same intervals.
"""

from __future__ import annotations

import re

import pandas as pd

from experiments.sweep.seeding import ARM

ADDED = frozenset(
    {
        # run summary: households, people, household-months and yuan
        "households",
        "people",
        "poor_households_start",
        "poor_households_end",
        "gross_exits",
        "gross_entries",
        "re_entries",
        "net_exits",
        "stayed_out_12_months",
        "poor_household_months",
        "poor_households_final_12_mean",
        "total_spending_yuan",
        # monthly, read at the final month: households, people, workshops and yuan
        "poor_households",
        "exits",
        "entries",
        "spending",
        "budget_remaining",
        "workshops_open",
        "jobs_filled",
        "poor_workers",
        "workshop_applicants",
        "workshop_refused",
        "trainees",
        "insured_workers",
        "loans_issued_yuan",
    }
)  # national value = the sum over the counties
SPENDING_ON = re.compile(r"spending_\w+_yuan")  # summary spending on one instrument: added
PER_PERSON = ("headcount", "poverty_gap", "severity", "income_per_capita")  # people-weighted
PEOPLE = "people"


def national_values(values: pd.DataFrame, keys: list[str], counties: int) -> pd.DataFrame:
    """The runs of each arm added up over the counties.

    Args:
        values: one row per done run of a county sweep: ``arm``, `keys` and its scalar
            outcomes (`experiments.analysis.effects.run_values`).
        keys: the columns one national run shares across counties (the replicate and the
            crossed levers' levels).
        counties: the sweep's number of counties; a group with fewer done runs is left out.

    Returns:
        One row per arm and `keys` (sorted by them): the `ADDED` and ``spending_*_yuan``
        columns summed (their units), and the `PER_PERSON` columns (when the runs have
        ``people``) as the people-weighted mean over the counties (their units).
    """
    group = [ARM, *keys]
    added = [c for c in values.columns if c in ADDED or SPENDING_ON.fullmatch(c)]
    per_person = [c for c in PER_PERSON if c in values.columns and PEOPLE in values.columns]
    weighted = values[per_person].mul(values[PEOPLE], axis=0) if per_person else None
    frame = pd.concat([values[group], values[added], weighted], axis=1)
    grouped = frame.groupby(group, sort=True, dropna=False)
    sums = grouped.sum().loc[grouped.size() == counties]
    for column in per_person:
        sums[column] = sums[column] / sums[PEOPLE]
    return sums.reset_index()[[*group, *added, *per_person]]
