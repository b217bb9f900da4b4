"""Paired runs: each run of an arm beside its reference arm's run of the same replicate.

An arm's run and its reference run share the replicate, the uncertainty values, the
crossed levers' levels and, in a county sweep, the county, so they saw the same
households and shocks (common random numbers) and their difference is the arm's effect.
The adaptive replicate rule (`experiments.sweep.engine`) and the analysis
(`experiments.analysis.effects`) pair runs the same way.
"""

from __future__ import annotations

import pandas as pd

from experiments.sweep.design import reference_arms
from experiments.sweep.seeding import ARM, BASELINE
from experiments.sweep.spec import COUNTY, Spec

BASE = "_baseline"  # suffix of the reference run's values in a pairs frame
REPLICATE = "replicate"


def pair_keys(spec: Spec) -> list[str]:
    """Columns a run shares with its reference run.

    The replicate, the county (of a county sweep), the uncertainties and the crossed levers.
    """
    return [
        REPLICATE,
        *([COUNTY] if spec.counties else []),
        *(u.column for u in spec.uncertainties),
        *(lever.column for lever in spec.levers if lever.crossed),
    ]


def pairs(
    values: pd.DataFrame, keys: list[str], reference: str | list[str] = BASELINE
) -> pd.DataFrame:
    """Each run of another arm beside its `reference` arm's run (columns suffixed `BASE`).

    Args:
        values: one row per run: ``arm``, `keys` and numeric outcomes.
        keys: columns a run and its reference run share (`pair_keys`).
        reference: the arm the others are paired with (the baseline of a sweep), or the
            arms, one per level of the crossed levers (`design.reference_arms`).
    """
    outcomes = [
        c for c in values.columns if pd.api.types.is_numeric_dtype(values[c]) and c not in keys
    ]
    is_reference = values[ARM].isin([reference] if isinstance(reference, str) else reference)
    baseline = values.loc[is_reference, [*keys, *outcomes]]
    others = values[~is_reference]
    return others.merge(baseline, on=keys, suffixes=("", BASE))


def sweep_pairs(spec: Spec, values: pd.DataFrame) -> pd.DataFrame:
    """The runs of a sweep's arms beside their reference runs (`pairs` with the spec's keys)."""
    return pairs(values, pair_keys(spec), reference_arms(spec.levers))
