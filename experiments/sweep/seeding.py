"""Common random numbers: which runs a sweep makes and which random numbers each one sees.

A run is a (parameter point, replicate) pair. Its scenario is the base scenario with the
point's reforms and values applied and ``run.seed`` set to the spec's seed; the model
derives every random stream from (seed, replicate, stream name) only
(`model.streams.make_stream`), never from parameter values. So every arm of replicate
r sees the same households and the same shocks, and a difference between arms is the
policy's effect rather than sampling noise.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.sweep.spec import NO_REFORM, Spec
from model.scenario import KeyValue, Scenario, apply_reforms

RUN_ID_LENGTH = 16  # hex digits of SHA-256: collisions are negligible below ~10^9 runs
ARM = "arm"  # column of an experiments table naming the lever setting
BASELINE = "baseline"  # the arm of the base scenario's own lever values


@dataclass(frozen=True)
class RunTask:
    """One run to make.

    Attributes:
        run_id: `run_id(point, replicate)`.
        replicate: replicate index (fixes the random streams, with the spec's seed).
        arm: the lever setting's label.
        point: parameter column -> value.
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
    """

    base: Scenario
    reforms: dict[str, dict[str, Path]]
    run: dict[str, int]
    monthly: tuple[str, ...]
    summary: bool
    panel_every_months: int | None

    @classmethod
    def from_spec(cls, spec: Spec) -> RunSetup:
        """The setup of a spec's runs."""
        reforms = {lever.column: lever.reforms for lever in spec.levers if lever.reforms}
        run = {"seed": spec.seed, **spec.file.run.model_dump(exclude_none=True)}
        outputs = spec.file.outputs
        return cls(
            spec.base,
            reforms,
            run,
            spec.monthly_columns,
            outputs.summary,
            outputs.panel_every_months if outputs.panel else None,
        )

    def scenario(self, point: Mapping[str, KeyValue]) -> Scenario:
        """The scenario of a parameter point: reforms (in lever order), then values."""
        files: list[str | Path] = [
            self.reforms[column][str(level)]
            for column, level in point.items()
            if column in self.reforms and level != NO_REFORM
        ]
        changes = {key: value for key, value in point.items() if key not in self.reforms}
        scenario = apply_reforms(self.base, files) if files else self.base
        return scenario.with_changes(changes, origin="sweep point").with_overrides(**self.run)


def run_id(point: Mapping[str, KeyValue], replicate: int) -> str:
    """Deterministic id of a run: hash of the canonical JSON of its values and replicate."""
    text = json.dumps(
        {"point": dict(point), "replicate": replicate},
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=False,
        default=_native,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:RUN_ID_LENGTH]


def tasks(design: pd.DataFrame, replicates: Iterable[int]) -> list[RunTask]:
    """The runs of every distinct point of a design for each replicate, replicate-major.

    Points repeated in a design (Morris trajectories may share one) are run once.
    """
    rows = list(zip(points(design), design[ARM], strict=True))
    out: dict[str, RunTask] = {}
    for replicate in replicates:
        for point, arm in rows:
            task = RunTask(run_id(point, replicate), replicate, arm, point)
            out.setdefault(task.run_id, task)
    return list(out.values())


def points(design: pd.DataFrame) -> list[dict[str, KeyValue]]:
    """The parameter values of each row of an experiments table (its ``arm`` left out)."""
    return [{str(k): v for k, v in row.items() if k != ARM} for row in design.to_dict("records")]


def _native(value: Any) -> Any:
    """JSON form of numpy scalars (which json does not know)."""
    return value.item()
