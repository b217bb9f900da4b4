"""A sweep from spec to stored results: its manifest, pending runs, rounds and status.

`pending` is the single rule for what is left to run: the design's points times the
replicates of the current round, less the runs already done or failed. With adaptive
replicates a round is complete when all its runs are finished; the next round has as
many replicates as the widest arm needs for the target 95% CI half-width of its
**paired effect** on the named output (the arm's run minus its reference run of the
same replicate, `experiments.sweep.pairing`: the effect the analysis reports), at most
``max``. A sweep that stops at ``max`` with a wider interval says so (`AdaptiveCheck`:
in the manifest, `status` and the analysis). The rule reads only stored results, so
`resume` and `status` follow the same rounds as the sweep that was interrupted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.executors import Executor
from experiments.intervals import t_half_width
from experiments.provenance import git_sha, package_version
from experiments.sweep.design import sample
from experiments.sweep.pairing import BASE, REPLICATE, sweep_pairs
from experiments.sweep.runs import evaluate
from experiments.sweep.seeding import ARM, RunSetup, RunTask, tasks
from experiments.sweep.spec import COUNTY, Spec, load_spec
from experiments.sweep.store import (
    DONE,
    FAILED,
    RUN_ID,
    Repair,
    RunRecord,
    StoreError,
    SweepData,
    SweepStore,
)

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
        adaptive: where adaptive replicates stopped, once no run is pending (None for a
            fixed replicate count or while runs are pending).
    """

    done: int
    failed: int
    pending: int
    mean_seconds: float
    workers: int
    finished_utc: str | None
    adaptive: AdaptiveCheck | None

    @property
    def eta_seconds(self) -> float:
        """Estimated seconds to finish the pending runs at the latest worker count."""
        return self.pending * self.mean_seconds / self.workers if self.pending else 0.0


@dataclass(frozen=True)
class AdaptiveCheck:
    """Where an adaptive sweep's paired effects stand after its latest round.

    Attributes:
        output: the outcome whose paired effect is targeted.
        target: the target 95% CI half-width (unit of `output`).
        max: the most replicates the rule allows.
        replicates: replicates per point of the latest round.
        widest: the widest half-width of any arm's paired effect at those replicates
            (unit of `output`; NaN when no arm has two pairs).
    """

    output: str
    target: float
    max: int
    replicates: int
    widest: float

    @property
    def reached(self) -> bool:
        """Every arm's paired effect is at least as precise as the target."""
        return bool(self.widest <= self.target)

    @property
    def note(self) -> str:
        """The outcome in words, e.g. ``net_exits: target half-width 2 not reached ...``."""
        target = f"{self.output}: target half-width {self.target:g}"
        if self.reached:
            return f"{target} reached at {self.replicates} replicates: widest {self.widest:.4g}"
        if self.replicates < self.max:
            return (
                f"{target} not reached yet at {self.replicates} of at most {self.max} "
                f"replicates: widest {self.widest:.4g} (the sweep is not complete)"
            )
        return f"{target} not reached at max {self.max} replicates: reached {self.widest:.4g}"

    def record(self) -> dict[str, Any]:
        """The check for the manifest (JSON-ready: a NaN widest half-width is None)."""
        fields = asdict(self)
        if math.isnan(self.widest):
            fields["widest"] = None
        return {**fields, "reached": self.reached, "note": self.note}


def spec_hash(spec: Spec) -> str:
    """SHA-256 of the parsed spec, the resolved base (or counties') scenarios and the reforms."""
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
    if spec.counties:
        content["counties"] = {c.name: c.scenario.model_dump(mode="json") for c in spec.counties}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def start(spec: Spec, store: SweepStore, executor: str, workers: int) -> Repair:
    """Write a new manifest, or add a session to the manifest of this spec's sweep.

    Under the directory's lock (`SweepStore.writer`): removes temporary files of
    writers no longer running and, when the sweep resumes, sets aside batches with a part
    that does not read and removes orphan parts (`SweepStore.repair`).

    Args:
        spec: the sweep's spec.
        store: its directory.
        executor: kind of executor (serial, processes, dask) of this session.
        workers: its workers (the status ETA assumes as many).

    Returns:
        What the repair did (nothing for a new sweep).

    Raises:
        StoreError: if the directory holds another spec's sweep, a folder of another
            kind, a malformed manifest or other files, or another process writes it.
    """
    session = {
        "started_utc": _now(),
        "host": platform.node(),
        "code_version": git_sha(),
        "executor": executor,
        "workers": workers,
    }
    with store.writer():
        resumed = store.check_usable(spec_hash(spec))
        manifest = _resumed(store, session) if resumed else _new_manifest(spec, session)
        store.remove_temporary()
        repair = store.repair() if resumed else Repair()
        store.write_manifest(manifest)
    return repair


def _resumed(store: SweepStore, session: dict[str, Any]) -> dict[str, Any]:
    """The manifest of the sweep in `store` with a new session, not finished."""
    manifest = store.sweep_manifest()
    manifest["sessions"].append(session)
    manifest["finished_utc"] = None
    return manifest


def _new_manifest(spec: Spec, session: dict[str, Any]) -> dict[str, Any]:
    """The manifest of a new sweep of `spec`, its first session `session`.

    A county sweep's also names each county's scenario file, seed and households.
    """
    manifest = {
        "experiment": spec.name,
        "spec_file": str(spec.path.resolve()),
        "spec_text": spec.text,
        "spec": spec.file.model_dump(mode="json"),
        "spec_hash": spec_hash(spec),
        "code_version": session["code_version"],
        "package_versions": {p: package_version(p) for p in PACKAGES},
        "python_version": platform.python_version(),
        "host": platform.node(),
        "started_utc": session["started_utc"],
        "finished_utc": None,
        "sessions": [session],
    }
    if spec.counties:
        manifest["counties"] = {
            c.name: {
                "scenario_file": str(c.path),
                "seed": c.scenario.run.seed,
                "households": c.scenario.run.households,
            }
            for c in spec.counties
        }
    return manifest


def open_sweep(directory: Path) -> tuple[SweepStore, Spec]:
    """A sweep directory and its spec, re-read from the manifest's copy of the text.

    Raises:
        StoreError: no sweep there (a folder of another kind is named), a manifest of
            the wrong shape (names the key), or its base scenario or reforms changed since.
        SpecError: the stored spec no longer validates.
    """
    store = SweepStore(directory)
    manifest = store.sweep_manifest()
    spec = load_spec(Path(manifest["spec_file"]), manifest["spec_text"])
    if spec_hash(spec) != manifest["spec_hash"]:
        raise StoreError(
            f"{directory}: the base scenario, a county's scenario or a reform file of "
            f"{manifest['spec_file']} changed since the sweep started"
        )
    return store, spec


def pending(spec: Spec, store: SweepStore) -> list[RunTask]:
    """The runs left in the current round (empty when the sweep is complete)."""
    return current_round(spec, store)[1]


def current_round(spec: Spec, store: SweepStore) -> tuple[int, list[RunTask]]:
    """Replicates per point of the current round, and its runs not yet finished."""
    design, finished = sample(spec, spec.seed), store.finished()
    replicates = spec.file.replicates
    n = replicates.initial
    while True:
        todo = [t for t in tasks(design, range(n)) if t.run_id not in finished]
        if todo or replicates.count is not None:
            return n, todo
        wanted = next_round(spec, store.load(panel=False), n)
        if wanted <= n:
            return n, []
        n = wanted


def paired_precision(spec: Spec, data: SweepData, replicates: int) -> pd.DataFrame:
    """Precision of each arm's paired effect on the adaptive output over replicates 0..n-1.

    Returns:
        One row per arm point (arm, county if any, and uncertainty values if any):
        ``count`` of pairs
        of done runs and ``half_width`` of the 95% t interval of the mean paired
        difference (unit of the output; NaN below two pairs).
    """
    output = spec.file.replicates.output
    assert output is not None  # an adaptive rule names its output (Replicates)
    runs = data.runs[(data.runs["status"] == DONE) & (data.runs[REPLICATE] < replicates)]
    paired = sweep_pairs(spec, runs.join(data.values()[[output]], on=RUN_ID))
    difference = paired[output] - paired[output + BASE]
    county = [COUNTY] if spec.counties else []
    point = [paired[c] for c in (ARM, *county, *(u.column for u in spec.uncertainties))]
    table = difference.groupby(point, dropna=False).agg(["std", "count"])
    return pd.DataFrame(
        {"count": table["count"], "half_width": t_half_width(table["std"], table["count"])}
    )


def next_round(spec: Spec, data: SweepData, n: int) -> int:
    """Replicates the next adaptive round needs (`n` when the target is met or at max)."""
    rule = spec.file.replicates
    assert rule.half_width is not None and rule.max is not None  # adaptive (Replicates)
    precision = paired_precision(spec, data, n)
    widths, counts = precision["half_width"].to_numpy(), precision["count"].to_numpy()
    if n >= rule.max or not np.any(widths > rule.half_width):
        return n
    scale = widths * np.sqrt(counts) / rule.half_width
    needed = int(np.nanmax(np.ceil(scale**2)))
    return min(rule.max, max(n + 1, needed))


def adaptive_check(spec: Spec, data: SweepData, replicates: int) -> AdaptiveCheck | None:
    """Where the adaptive rule stands at `replicates` per point (None: a fixed count)."""
    rule = spec.file.replicates
    if rule.output is None or rule.half_width is None or rule.max is None:
        return None
    widths = paired_precision(spec, data, replicates)["half_width"]
    widest = float(widths.max()) if widths.notna().any() else math.nan
    return AdaptiveCheck(rule.output, rule.half_width, rule.max, replicates, widest)


def stopped(spec: Spec, store: SweepStore) -> AdaptiveCheck | None:
    """Where adaptive replicates stopped (None: a fixed count, or runs still pending)."""
    replicates, todo = current_round(spec, store)
    return None if todo else adaptive_check(spec, store.load(panel=False), replicates)


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

    Raises:
        StoreError: another process writes the directory (refused before any run), or
            a part cannot be written or read.
    """
    setup = RunSetup.from_spec(spec)
    with store.writer():
        while todo := pending(spec, store):
            if on_round is not None:
                on_round(len(todo))
            evaluate(todo, setup, executor, store, on_batch, runs_per_task)
        manifest = store.sweep_manifest()
        manifest["finished_utc"] = _now()
        check = stopped(spec, store)
        if check is not None:
            manifest["adaptive"] = check.record()
        store.write_manifest(manifest)


def status(directory: Path) -> SweepStatus:
    """Done, failed and pending runs, mean run time, where adaptive replicates stopped."""
    store, spec = open_sweep(directory)
    manifest, data = store.sweep_manifest(), store.load(panel=False)
    runs = data.runs
    counts = runs["status"].value_counts() if len(runs) else pd.Series(dtype=int)
    seconds = float(runs["seconds"].mean()) if len(runs) else math.nan
    workers = manifest["sessions"][-1]["workers"]
    replicates, todo = current_round(spec, store)
    return SweepStatus(
        int(counts.get(DONE, 0)),
        int(counts.get(FAILED, 0)),
        len(todo),
        seconds,
        int(workers),
        manifest["finished_utc"],
        None if todo else adaptive_check(spec, data, replicates),
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
