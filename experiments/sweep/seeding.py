"""Common random numbers: which runs a sweep makes and which random numbers each one sees.

A run is a (parameter point, replicate) pair. Its scenario is the base scenario with the
point's reforms and values applied and ``run.seed`` set to the spec's seed; the model
derives every random stream from (seed, replicate, stream name) only
(`model.streams.make_stream`), never from parameter values. So every arm of replicate
r sees the same households and the same shocks, and a difference between arms is the
policy's effect rather than sampling noise.

In a county sweep the point names its county too: the run's scenario is that county's,
with the county's own seed (`experiments.sweep.spec.county_seed`), so every arm of one
county and replicate sees the same households and shocks, and each county its own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.sweep.spec import COUNTY, NO_REFORM, Spec, run_values
from model.scenario import KeyValue, Scenario, apply_reforms

RUN_ID_LENGTH = 16  # hex digits of SHA-256: collisions are negligible below ~10^9 runs
ARM = "arm"  # column of an experiments table naming the lever setting
BASELINE = "baseline"  # the arm of the base scenario's own lever values


@dataclass(frozen=True)
class RunTask:
    """One run to make.

    Attributes:
        run_id: `run_id(point, replicate)` (with the arm in a county sweep: `tasks`).
        replicate: replicate index (fixes the random streams, with the spec's seed).
        arm: the lever setting's label.
        point: parameter column -> value (and ``county`` -> name in a county sweep).
    """

    run_id: str
    replicate: int
    arm: str
    point: dict[str, KeyValue]


@dataclass(frozen=True)
class RunSetup:
    """What a worker needs to build the scenario of any run of a sweep (picklable).

    Attributes:
        base: the base scenario with the spec's seed and run overrides.
        reforms: reform lever column -> reform name -> file.
        run: ``[run]`` values re-applied last (seed, households, months).
        monthly: monthly columns kept (``month`` first).
        summary: whether the run summary is kept.
        panel_every_months: months between household panel snapshots, or None when no
            panel is kept.
        counties: a county sweep's counties: name -> (base scenario, ``[run]`` values
            re-applied last), used for the points naming a county.
    """

    base: Scenario
    reforms: dict[str, dict[str, Path]]
    run: dict[str, Any]
    monthly: tuple[str, ...]
    summary: bool
    panel_every_months: int | None
    counties: dict[str, tuple[Scenario, dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: Spec) -> RunSetup:
        """The setup of a spec's runs."""
        reforms = {lever.column: lever.reforms for lever in spec.levers if lever.reforms}
        outputs = spec.file.outputs
        return cls(
            spec.base,
            reforms,
            run_values(spec.file, spec.seed, spec.base),
            spec.monthly_columns,
            outputs.summary,
            outputs.panel_every_months if outputs.panel else None,
            {county.name: (county.scenario, county.run) for county in spec.counties},
        )

    def scenario(self, point: Mapping[str, KeyValue]) -> Scenario:
        """The scenario of a parameter point.

        Its county's scenario (or the base), its reforms (in lever order), then its values.
        """
        county = point.get(COUNTY)
        base, run = (self.base, self.run) if county is None else self.counties[str(county)]
        files: list[str | Path] = [
            self.reforms[column][str(level)]
            for column, level in point.items()
            if column in self.reforms and level != NO_REFORM
        ]
        changes = {
            key: value for key, value in point.items() if key not in self.reforms and key != COUNTY
        }
        scenario = apply_reforms(base, files) if files else base
        return scenario.with_changes(changes, origin="sweep point").with_overrides(**run)


def run_id(point: Mapping[str, KeyValue], replicate: int, arm: str | None = None) -> str:
    """Deterministic id of a run: hash of the canonical JSON of its values and replicate.

    Args:
        point: the run's parameter values (and county).
        replicate: its replicate.
        arm: its arm, in a county sweep (where a county's own values may be an arm's
            levels: the arm and its baseline are then two runs of equal values).
    """
    text = json.dumps(
        {"point": dict(point), "replicate": replicate} | ({} if arm is None else {"arm": arm}),
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=False,
        default=_native,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:RUN_ID_LENGTH]


def tasks(design: pd.DataFrame, replicates: Iterable[int]) -> list[RunTask]:
    """The runs of every distinct point of a design for each replicate, replicate-major.

    Points repeated in a design (Morris trajectories may share one) are run once. In a
    county sweep's design (with a ``county`` column) every row is a run of its own: the
    run id holds the arm.
    """
    rows = list(zip(points(design), design[ARM], strict=True))
    by_arm = COUNTY in design.columns
    out: dict[str, RunTask] = {}
    for replicate in replicates:
        for point, arm in rows:
            task = RunTask(run_id(point, replicate, arm if by_arm else None), replicate, arm, point)
            out.setdefault(task.run_id, task)
    return list(out.values())


def points(design: pd.DataFrame) -> list[dict[str, KeyValue]]:
    """The parameter values of each row of an experiments table (its ``arm`` left out)."""
    return [{str(k): v for k, v in row.items() if k != ARM} for row in design.to_dict("records")]


def _native(value: Any) -> Any:
    """JSON form of numpy scalars (which json does not know)."""
    return value.item()
