"""Mistargeting of the registration at the start: inclusion and exclusion shares.

Run with ``python benchmarks/registration_targeting.py [--households N] [--replicates R]
[--sd 0 0.5 ...]``. Builds the default scenario's starting state (month 0) for each
error sd (`population.registration_income_error_sd`) and replicate, and prints, against
the income poverty line of the start:

- inclusion share: registered households whose income per person is at or above the line,
  over registered households;
- exclusion share: income-poor households not registered, over income-poor households;
- the poor share of households and the registered share (the quota);
- the same shares with one county-wide quota instead of village quotas (same incomes
  and errors), to show how much the village quotas add.

Only month 0 is built, so a run is quick.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from model.economy import WorkshopEconomy
from model.keyed import Purpose
from model.registration import register
from model.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def shares(registered: np.ndarray, poor: np.ndarray) -> tuple[float, float]:
    """(inclusion share, exclusion share) of a registration against income poverty."""
    inclusion = float(np.mean(~poor[registered])) if registered.any() else float("nan")
    exclusion = float(np.mean(~registered[poor])) if poor.any() else float("nan")
    return inclusion, exclusion


def measure(households: int, replicates: int, sds: list[float]) -> pd.DataFrame:
    """One row per error sd: mean shares over replicates."""
    base = load_scenario(ROOT / "scenarios" / "default.toml").with_overrides(households=households)
    rows = []
    for sd in sds:
        scenario = base.with_changes({"population.registration_income_error_sd": sd})
        for replicate in range(replicates):
            model = WorkshopEconomy(scenario, replicate=replicate)
            hh, poor = model.households, model.tracker.poor
            inclusion, exclusion = shares(hh.registered_poor, poor)
            noise = model.keyed.normals(Purpose.REGISTRATION, np.arange(len(hh)))
            county = register(
                model.tracker.per_capita,
                np.zeros(len(hh), dtype=np.int32),
                1,
                scenario.population.registered_poor_share,
                sd,
                noise,
            )
            county_inclusion, county_exclusion = shares(county, poor)
            rows.append(
                {
                    "sd": sd,
                    "replicate": replicate,
                    "poor_share": float(poor.mean()),
                    "registered_share": float(hh.registered_poor.mean()),
                    "inclusion": inclusion,
                    "exclusion": exclusion,
                    "county_inclusion": county_inclusion,
                    "county_exclusion": county_exclusion,
                    "disadvantaged_registered": float(hh.registered_poor[hh.disadvantaged].mean()),
                }
            )
    return pd.DataFrame(rows).groupby("sd").mean().drop(columns="replicate")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--replicates", type=int, default=3)
    parser.add_argument("--sd", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75, 1.0])
    args = parser.parse_args()
    with pd.option_context(
        "display.float_format", "{:.3f}".format, "display.width", 200, "display.max_columns", 20
    ):
        print(measure(args.households, args.replicates, args.sd))


if __name__ == "__main__":
    main()
