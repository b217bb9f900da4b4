"""Experimental designs: the parameter points of a sweep, SALib-shaped.

`sample(spec, seed)` returns the experiments table: one row per parameter point, one
column per lever (its dotted key, or its name for a reform lever) and per uncertainty
(its dotted key), and an ``arm`` label naming the lever setting. The base scenario's own
lever values form the ``baseline`` arm, present in every lever design (and, in a Latin
hypercube crossed with levers, at every uncertainty point), so each arm can be compared
with it pairwise.

Uncertainties are sampled on the unit cube (`unit_sample`, the array SALib's analyses
take) and mapped to their distributions by inverse CDFs.

A county sweep's table holds every row once per county (``county`` column first). Its
``baseline`` arm is each county's own scenario; every other arm sets its levers to the
same levels in every county, the other levers staying at each county's own values
(`spec.OWN`, replaced by the county's value here).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from experiments.sweep.seeding import ARM, BASELINE
from experiments.sweep.spec import COUNTY, OWN, LeverColumn, Spec, UncertaintyColumn
from model.streams import make_stream


def sample(spec: Spec, seed: int) -> pd.DataFrame:
    """The experiments table of a spec.

    Args:
        spec: the validated spec.
        seed: seed of the design's random numbers (usually ``spec.seed``).

    Returns:
        One row per parameter point: parameter columns (levers, then uncertainties) and
        ``arm``; for a county sweep, the county first and every point once per county
        (county-major). Sobol and Morris rows are in SALib's order.
    """
    arms = lever_arms(spec.levers, one_at_a_time=spec.file.design.method == "one_at_a_time")
    design = arms
    if spec.uncertainties:
        unit = unit_sample(spec, seed)
        points = pd.DataFrame(
            {u.column: to_values(u, unit[:, i]) for i, u in enumerate(spec.uncertainties)}
        )
        crossed = points.merge(arms, how="cross")  # point-major: every point gets every arm
        columns = [c.column for c in spec.levers] + [u.column for u in spec.uncertainties]
        design = crossed[[*columns, ARM]]
    return in_counties(spec, design) if spec.counties else design


def in_counties(spec: Spec, design: pd.DataFrame) -> pd.DataFrame:
    """A design run in each county of a county sweep: `OWN` levels replaced by its values."""
    own = [lever.column for lever in spec.levers if lever.base == OWN]
    tables = []
    for county in spec.counties:
        table = design.copy()
        for column in own:
            table[column] = table[column].mask(table[column] == OWN, county.scenario.value(column))
        tables.append(table.infer_objects().assign(**{COUNTY: county.name}))
    table = pd.concat(tables, ignore_index=True)
    return table[[COUNTY, *design.columns]]


def problem(spec: Spec) -> dict[str, Any]:
    """The SALib problem of the spec's uncertainties, on the unit cube."""
    return {
        "num_vars": len(spec.uncertainties),
        "names": [u.column for u in spec.uncertainties],
        "bounds": [[0.0, 1.0]] * len(spec.uncertainties),
    }


def unit_sample(spec: Spec, seed: int) -> np.ndarray:
    """Uncertainty points on the unit cube, one row per point (SALib order).

    Latin hypercube: `design.samples` rows; Sobol (Saltelli, second order):
    N * (2D + 2) rows; Morris: r * (D + 1) rows on a `design.levels` grid.
    """
    from SALib.sample import morris, sobol  # imported here: running a scenario needs none
    from scipy.stats import qmc

    design, rng = spec.file.design, make_stream(seed, "design")
    assert design.samples is not None  # checked by the spec for these methods
    if design.method == "latin_hypercube":
        return qmc.LatinHypercube(d=len(spec.uncertainties), rng=rng).random(design.samples)
    if design.method == "sobol":
        return sobol.sample(problem(spec), design.samples, calc_second_order=True, seed=rng)
    return morris.sample(problem(spec), design.samples, num_levels=design.levels, seed=rng)


def to_values(uncertainty: UncertaintyColumn, unit: np.ndarray) -> np.ndarray:
    """Map unit-cube coordinates to an uncertainty's values (inverse CDF).

    Uniform and log-uniform spread over the range; normal is truncated to it. Keys
    holding whole numbers get rounded values.
    """
    u = uncertainty.spec
    low, high = u.range
    if u.distribution == "uniform":
        values = low + unit * (high - low)
    elif u.distribution == "loguniform":
        values = np.exp(np.log(low) + unit * (np.log(high) - np.log(low)))
    else:
        assert u.mean is not None and u.sd is not None  # checked by the spec
        from scipy.stats import truncnorm  # imported here: running a scenario needs none

        a, b = (low - u.mean) / u.sd, (high - u.mean) / u.sd
        values = truncnorm(a, b, loc=u.mean, scale=u.sd).ppf(unit)
    return np.rint(values).astype(np.int64) if uncertainty.integer else values


def lever_arms(levers: tuple[LeverColumn, ...], one_at_a_time: bool = False) -> pd.DataFrame:
    """The lever settings of a design, baseline first, one row each with its arm label.

    Args:
        levers: the spec's levers (none: the baseline arm alone).
        one_at_a_time: each level different from the base, one lever at a time;
            otherwise every combination of levels (full factorial). The baseline is
            added if not among them. Crossed levers are left out of this choice: every
            setting of the others is run at each of their levels (base level first,
            unless it is `OWN`: a county sweep runs a crossed lever at its levels only).
    """
    if not levers:
        return pd.DataFrame({ARM: [BASELINE]})
    varied = [lever for lever in levers if not lever.crossed]
    base = {lever.column: lever.base for lever in varied}
    if one_at_a_time:
        rows = [
            {**base, lever.column: level}
            for lever in varied
            for level in lever.levels
            if level != lever.base
        ]
    else:
        rows = [
            dict(zip(base, combo, strict=True))
            for combo in itertools.product(*(lever.levels for lever in varied))
        ]
    table = pd.DataFrame([base, *rows], columns=list(base)).drop_duplicates(ignore_index=True)
    table = _crossed_levels(levers).merge(table, how="cross")[[c.column for c in levers]]
    table[ARM] = [arm_label(levers, row) for row in table.to_dict("records")]
    return table


def reference_arms(levers: tuple[LeverColumn, ...]) -> list[str]:
    """The arms the others are compared with.

    ``baseline`` and, with crossed levers, the base of the other levers at each level of
    the crossed ones.
    """
    references = _crossed_levels(levers).assign(
        **{lever.column: lever.base for lever in levers if not lever.crossed}
    )
    return [arm_label(levers, row) for row in references.to_dict("records")]


def _crossed_levels(levers: tuple[LeverColumn, ...]) -> pd.DataFrame:
    """Every combination of the crossed levers' levels, their base levels first (not `OWN`)."""
    crossed = [lever for lever in levers if lever.crossed]
    levels = [
        dict.fromkeys([lever.base, *lever.levels] if lever.base != OWN else lever.levels)
        for lever in crossed
    ]
    return pd.DataFrame(
        list(itertools.product(*levels)), columns=[lever.column for lever in crossed]
    )


def arm_label(levers: tuple[LeverColumn, ...], point: Mapping[Any, Any]) -> str:
    """``name=value`` of each lever away from its base value, or ``baseline``."""
    changed = [
        f"{lever.name}={point[lever.column]}"
        for lever in levers
        if point[lever.column] != lever.base
    ]
    return ",".join(changed) or BASELINE
