"""A sweep from spec to stored results: its manifest, pending runs, rounds and status.

`pending` is the single rule for what is left to run: the design's points times the
replicates of the current round, less the runs already done or failed. With adaptive
replicates a round is complete when all its runs are finished; the next round has as
many replicates as the widest point needs for the target 95% CI half-width of the named
output (at most ``max``). The rule reads only stored results, so `resume` and `status`
follow the same rounds as the sweep that was interrupted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.executors import Executor
from experiments.intervals import t_half_width
from experiments.provenance import git_sha, package_version
from experiments.sweep.design import sample
from experiments.sweep.runs import evaluate
from experiments.sweep.seeding import RunSetup, RunTask, tasks
from experiments.sweep.spec import Spec, load_spec
from experiments.sweep.store import DONE, FAILED, RunRecord, StoreError, SweepStore

PACKAGES = (
    "workshop-sim",
    "mesa",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "pydantic",
    "SALib",
    "dask",
    "distributed",
)


@dataclass(frozen=True)
class SweepStatus:
    """How far a sweep has got.

    Attributes:
        done: runs done.
        failed: runs that raised.
        pending: runs left in the current round (adaptive sweeps may add rounds).
        mean_seconds: mean wall time of a finished run (s; NaN before the first).
        workers: workers of the latest session.
        finished_utc: when the sweep completed (None if it has not).
    """

    done: int
    failed: int
    pending: int
    mean_seconds: float
    workers: int
    finished_utc: str | None

    @property
    def eta_seconds(self) -> float:
        """Estimated seconds to finish the pending runs at the latest worker count."""
        return self.pending * self.mean_seconds / self.workers if self.pending else 0.0


def spec_hash(spec: Spec) -> str:
    """SHA-256 of the parsed spec, the resolved base scenario and the reform files."""
    reforms = {
        lever.name: {name: path.read_text(encoding="utf-8") for name, path in lever.reforms.items()}
        for lever in spec.levers
        if lever.reforms
    }
    content = {
        "spec": spec.file.model_dump(mode="json"),
        "base": spec.base.model_dump(mode="json"),
        "reforms": reforms,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def start(spec: Spec, store: SweepStore, executor: str, workers: int) -> None:
    """Write a new manifest, or add a session to the manifest of this spec's sweep.

    Args:
        spec: the sweep's spec.
        store: its directory.
        executor: kind of executor (serial, processes, dask) of this session.
        workers: its workers (the status ETA assumes as many).

    Raises:
        StoreError: if the directory holds another spec's sweep or other files.
    """
    digest = spec_hash(spec)
    session = {
        "started_utc": _now(),
        "host": platform.node(),
        "code_version": git_sha(),
        "executor": executor,
        "workers": workers,
    }
    if store.check_usable(digest):
        manifest = store.manifest()
        manifest["sessions"].append(session)
        manifest["finished_utc"] = None
    else:
        manifest = {
            "experiment": spec.name,
            "spec_file": str(spec.path.resolve()),
            "spec_text": spec.text,
            "spec": spec.file.model_dump(mode="json"),
            "spec_hash": digest,
            "code_version": session["code_version"],
            "package_versions": {p: package_version(p) for p in PACKAGES},
            "python_version": platform.python_version(),
            "host": platform.node(),
            "started_utc": session["started_utc"],
            "finished_utc": None,
            "sessions": [session],
        }
    store.remove_temporary()
    store.write_manifest(manifest)


def open_sweep(directory: Path) -> tuple[SweepStore, Spec]:
    """A sweep directory and its spec, re-read from the manifest's copy of the text.

    Raises:
        StoreError: no sweep there, or its base scenario or reforms changed since.
        SpecError: the stored spec no longer validates.
    """
    store = SweepStore(directory)
    manifest = store.manifest()
    spec = load_spec(Path(manifest["spec_file"]), manifest["spec_text"])
    if spec_hash(spec) != manifest["spec_hash"]:
        raise StoreError(
            f"{directory}: the base scenario or a reform file of "
            f"{manifest['spec_file']} changed since the sweep started"
        )
    return store, spec


def pending(spec: Spec, store: SweepStore) -> list[RunTask]:
    """The runs left in the current round (empty when the sweep is complete)."""
    design, finished = sample(spec, spec.seed), store.finished()
    replicates = spec.file.replicates
    n = replicates.initial
    while True:
        todo = [t for t in tasks(design, range(n)) if t.run_id not in finished]
        if todo or replicates.count is not None:
            return todo
        wanted = next_round(spec, store, design, n)
        if wanted <= n:
            return []
        n = wanted


def next_round(spec: Spec, store: SweepStore, design: pd.DataFrame, n: int) -> int:
    """Replicates the next adaptive round needs (`n` when the target is met or at max)."""
    rule = spec.file.replicates
    assert rule.output is not None and rule.half_width is not None and rule.max is not None
    data = store.load(panel=False)
    ids = [t.run_id for t in tasks(design, range(n))]
    runs = data.runs[data.runs["run_id"].isin(ids) & (data.runs["status"] == DONE)]
    values = runs.join(data.values()[rule.output], on="run_id")
    columns = [c for c in design.columns if c != "arm"]
    by_point = values.groupby(columns, dropna=False)[rule.output].agg(["std", "count"])
    widths = t_half_width(by_point["std"].to_numpy(), by_point["count"].to_numpy())
    if n >= rule.max or not np.any(widths > rule.half_width):
        return n
    scale = widths * np.sqrt(by_point["count"].to_numpy()) / rule.half_width
    needed = int(np.nanmax(np.ceil(scale**2)))
    return min(rule.max, max(n + 1, needed))


def run_sweep(
    spec: Spec,
    store: SweepStore,
    executor: Executor,
    on_round: Callable[[int], None] | None = None,
    on_batch: Callable[[list[RunRecord]], None] | None = None,
    runs_per_task: int | None = None,
) -> None:
    """Run every pending run, round after round, then mark the sweep finished.

    Args:
        spec: the sweep's spec.
        store: its directory (started with `start`).
        executor: where runs are made (entered).
        on_round: called with the number of runs of each round before it runs.
        on_batch: called with each stored batch.
        runs_per_task: runs per executor task (default: see `runner.batches`).
    """
    setup = RunSetup.from_spec(spec)
    while todo := pending(spec, store):
        if on_round is not None:
            on_round(len(todo))
        evaluate(todo, setup, executor, store, on_batch, runs_per_task)
    manifest = store.manifest()
    manifest["finished_utc"] = _now()
    store.write_manifest(manifest)


def status(directory: Path) -> SweepStatus:
    """Counts of done, failed and pending runs and the mean run time so far."""
    store, spec = open_sweep(directory)
    manifest, runs = store.manifest(), store.load(panel=False).runs
    counts = runs["status"].value_counts() if len(runs) else pd.Series(dtype=int)
    seconds = float(runs["seconds"].mean()) if len(runs) else math.nan
    workers = manifest["sessions"][-1]["workers"]
    return SweepStatus(
        int(counts.get(DONE, 0)),
        int(counts.get(FAILED, 0)),
        len(pending(spec, store)),
        seconds,
        int(workers),
        manifest["finished_utc"],
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
