"""``wsim run`` end to end at 10^6 households x 60 months: each stage's time and memory.

Run with ``make bench-run`` (``python benchmarks/bench_run.py --households N --months T``
for another size, ``--quick`` for a smoke run). Two measurements of the default scenario:

1. The run's stages, in a fresh process that calls ``wsim run``'s own command function:
   the imports ``wsim run`` makes, population synthesis, the starting state (the rest
   of building the model), month 1 (the policy's start: the initial workshops open and
   everyone able to work reconsiders), the other months, collecting the tables, the
   run's warnings, writing the tables, drawing the figures, the manifest and the
   terminal report; "other" is what lies between them (loading the scenario, the output
   folder). Each stage's wall and CPU seconds and the peak resident memory during it
   (Linux's VmHWM, reset at each stage); the total against `TARGET_S`; and the peak
   resident memory less the resident memory before the model was built, per household,
   against `BYTES_PER_HOUSEHOLD_TARGET`, naming the stage where the peak happened.
2. ``wsim run`` as a user runs it: the command in a subprocess, from the interpreter's
   start to its exit, the median of ``--repeats`` runs (wall and CPU seconds, the
   process's peak resident memory), against `TARGET_S`.

Each goal is printed MET or MISSED; the benchmark exits 0 either way. The machine may be
shared with other jobs: CPU seconds beside wall seconds show how much of a slow wall
time was waiting. Needs Linux (/proc).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "default.toml"
SIZE = (1_000_000, 60)  # households, months: the size of the goal
QUICK_SIZE = (20_000, 6)
TARGET_S = 15.0  # wsim run end to end at SIZE, tables and PNG figures included
BYTES_PER_HOUSEHOLD_TARGET = 500  # peak RSS less RSS before the model is built
KIB, MIB, GIB = 2**10, 2**20, 2**30  # bytes
BUILD = "starting state"  # building the model, synthesis taken out
# Stages timed by wrapping the function that does them: (module, attribute) -> stage.
# A stage nested in another (synthesis in building the model) is taken out of it.
WRAPPED = {
    ("model.simulate", "WorkshopEconomy"): BUILD,
    ("model.economy", "synthesise"): "synthesis",
    ("model.simulate", "collect_result"): "collecting tables",
    ("experiments.outputs", "run_warnings"): "warnings",
    ("experiments.outputs", "write_tables"): "tables",
    ("experiments.outputs", "plot_run"): "figures",
    ("experiments.outputs", "build_manifest"): "manifest",
    ("experiments.cli.main", "report"): "report",
}
FIRST_MONTH, LATER_MONTHS = "month 1", "months 2-T"
OTHER = "other"
# What ``wsim run`` imports before it runs (the command's own imports included).
IMPORTS = ("experiments.cli.main", "experiments.compare", "experiments.outputs", "model.simulate")
STAGE_ORDER = (
    "imports",
    "synthesis",
    BUILD,
    FIRST_MONTH,
    LATER_MONTHS,
    "collecting tables",
    "warnings",
    "tables",
    "figures",
    "manifest",
    "report",
    OTHER,
)


def memory_status(field_name: str) -> int:
    """A field of /proc/self/status in bytes (VmRSS: resident now; VmHWM: its peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) * KIB
    raise RuntimeError(f"/proc/self/status has no {field_name}: this benchmark needs Linux")


def reset_peak() -> None:
    """Start a new peak of resident memory (VmHWM) from the resident memory now."""
    Path("/proc/self/clear_refs").write_text("5")


@dataclass
class Stage:
    """One stage of a run: seconds of wall and CPU time, and peak resident memory.

    Attributes:
        name: what the stage does.
        wall_s: wall-clock seconds, summed over its parts (e.g. months 2 to T).
        cpu_s: CPU seconds of the process over the same time.
        peak_bytes: the process's peak resident memory during the stage (bytes).
    """

    name: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_bytes: int = 0


@dataclass
class Stopwatch:
    """Times consecutive stages of this process: each lap ends one and starts the next.

    Attributes:
        stages: the stages by name, in the order first seen.
        open_stages: the stages entered and not yet left, innermost last (time between
            laps goes to the innermost, or to "other" outside every stage).
        rss_before_model: resident memory when building the model began (bytes).
    """

    stages: dict[str, Stage] = field(default_factory=dict)
    open_stages: list[str] = field(default_factory=list)
    rss_before_model: int = 0
    _wall: float = field(default_factory=time.perf_counter)
    _cpu: float = field(default_factory=time.process_time)

    def lap(self, name: str) -> None:
        """Add the time since the last lap, and the peak memory over it, to stage `name`."""
        wall, cpu, peak = time.perf_counter(), time.process_time(), memory_status("VmHWM")
        stage = self.stages.setdefault(name, Stage(name))
        stage.wall_s += wall - self._wall
        stage.cpu_s += cpu - self._cpu
        stage.peak_bytes = max(stage.peak_bytes, peak)
        reset_peak()
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a block as stage `name` (the time before it goes to the enclosing stage)."""
        self.lap(self.open_stages[-1] if self.open_stages else OTHER)
        self.open_stages.append(name)
        try:
            yield
        finally:
            self.open_stages.pop()
            self.lap(name)

    def wrap(self, function: Callable[..., Any], name: str) -> Callable[..., Any]:
        """`function` timed as stage `name` at each call."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            if name == BUILD:
                self.rss_before_model = memory_status("VmRSS")
            with self.stage(name):
                return function(*args, **kwargs)

        return timed

    def wrap_step(self, step: Callable[[Any], None]) -> Callable[[Any], None]:
        """A model's `step` timed as month 1 or as the later months."""

        def timed(model: Any) -> None:
            with self.stage(FIRST_MONTH if model.month == 0 else LATER_MONTHS):
                step(model)

        return timed


@dataclass
class RunMeasurement:
    """What one in-process ``wsim run`` measured.

    Attributes:
        households: simulated households.
        months: simulated months.
        stages: each stage, in `STAGE_ORDER`.
        rss_before_model: resident memory before the model was built (bytes).
        out: the output folder the run wrote.
    """

    households: int
    months: int
    stages: list[Stage]
    rss_before_model: int
    out: str

    @property
    def wall_s(self) -> float:
        """Wall seconds of the whole run, imports included."""
        return sum(s.wall_s for s in self.stages)

    @property
    def cpu_s(self) -> float:
        """CPU seconds of the whole run, imports included."""
        return sum(s.cpu_s for s in self.stages)

    @property
    def peak(self) -> Stage:
        """The stage with the highest peak resident memory."""
        return max(self.stages, key=lambda s: s.peak_bytes)

    @property
    def peak_bytes_per_household(self) -> float:
        """Peak resident memory less the memory before the model was built, per household."""
        return (self.peak.peak_bytes - self.rss_before_model) / self.households

    @classmethod
    def from_json(cls, text: str) -> RunMeasurement:
        """The measurement a `--measure` process printed as its last line."""
        data = json.loads(text)
        data["stages"] = [Stage(**s) for s in data["stages"]]
        return cls(**data)


def measure_in_process(scenario: Path, households: int, months: int, out: Path) -> RunMeasurement:
    """Run ``wsim run SCENARIO --households N --months T --out OUT`` here, timing its stages.

    Calls the command's own function (`experiments.cli.main.run`) with the functions of
    `WRAPPED` and the model's step timed; its terminal output is swallowed. Must run in
    a fresh process (the imports are timed).
    """
    watch = Stopwatch()
    reset_peak()
    with watch.stage("imports"):
        modules = {name: __import__(name, fromlist=["_"]) for name in IMPORTS}
    economy = __import__("model.economy", fromlist=["_"])
    with contextlib.ExitStack() as patches:
        for (module, attribute), name in WRAPPED.items():
            owner = __import__(module, fromlist=["_"])
            timed = watch.wrap(getattr(owner, attribute), name)
            patches.enter_context(mock.patch.object(owner, attribute, timed))
        step = watch.wrap_step(economy.WorkshopEconomy.step)
        patches.enter_context(mock.patch.object(economy.WorkshopEconomy, "step", step))
        words = io.StringIO()
        with contextlib.redirect_stdout(words), contextlib.redirect_stderr(words):
            modules["experiments.cli.main"].run(
                scenario, months=months, households=households, out=out
            )
    watch.lap(OTHER)
    stages = [watch.stages[name] for name in STAGE_ORDER if name in watch.stages]
    return RunMeasurement(households, months, stages, watch.rss_before_model, str(out))


def measure_in_child(
    scenario: Path, households: int, months: int, out: Path, script: Path = Path(__file__)
) -> RunMeasurement:
    """`measure_in_process` in a fresh Python process (this file with ``--measure``)."""
    command = [
        sys.executable,
        str(script),
        "--measure",
        "--scenario",
        str(scenario),
        "--households",
        str(households),
        "--months",
        str(months),
        "--out",
        str(out),
    ]
    done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return RunMeasurement.from_json(done.stdout.splitlines()[-1])


@dataclass(frozen=True)
class ProcessRun:
    """One command run in a subprocess: wall and CPU seconds, peak resident memory."""

    wall_s: float
    cpu_s: float
    max_rss_bytes: int


def run_process(command: list[str]) -> ProcessRun:
    """Run `command` to its end (it must succeed) and measure it (its own rusage)."""
    began = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    errors = child.stderr.read().decode() if child.stderr else ""
    if child.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({child.returncode}): {errors}")
    return ProcessRun(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * KIB)


def wsim() -> list[str]:
    """The ``wsim`` command beside this interpreter, else ``python -m experiments.cli``."""
    script = Path(sys.executable).with_name("wsim")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "experiments.cli"]


def verdict(met: bool) -> str:
    """MET or MISSED."""
    return "MET" if met else "MISSED"


def print_stages(measured: RunMeasurement) -> None:
    """Each stage's wall and CPU seconds and peak resident memory, then the totals."""
    print(f"{'stage':<18} {'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>13}")
    for stage in measured.stages:
        print(
            f"{stage.name:<18} {stage.wall_s:8.2f} {stage.cpu_s:8.2f} "
            f"{stage.peak_bytes / MIB:13,.0f}"
        )
    print(f"{'total':<18} {measured.wall_s:8.2f} {measured.cpu_s:8.2f}")


def print_memory(measured: RunMeasurement, target: float | None) -> None:
    """The peak resident memory per household (against `target` if given) and its stage."""
    before, peak = measured.rss_before_model, measured.peak
    per_household = measured.peak_bytes_per_household
    goal = "" if target is None else f"; goal <= {target:,.0f}: {verdict(per_household <= target)}"
    print(
        f"peak resident memory {peak.peak_bytes / MIB:,.0f} MiB, in stage '{peak.name}'; "
        f"less {before / MIB:,.0f} MiB before the model was built: "
        f"{per_household:,.0f} bytes per household{goal}"
    )


def report_cli(scenario: Path, households: int, months: int, repeats: int) -> None:
    """Time ``wsim run`` end to end in a subprocess, `repeats` times; print the median."""
    with tempfile.TemporaryDirectory() as folder:
        command = [
            *wsim(),
            "run",
            str(scenario),
            "--households",
            str(households),
            "--months",
            str(months),
            "--out",
            str(Path(folder) / "run"),
        ]
        runs = [run_process(command) for _ in range(repeats)]
    wall = statistics.median(r.wall_s for r in runs)
    print(
        f"wsim run end to end (subprocess, median of {repeats}): {wall:.2f} s wall "
        f"(fastest {min(r.wall_s for r in runs):.2f}), "
        f"{statistics.median(r.cpu_s for r in runs):.2f} s CPU, "
        f"max RSS {max(r.max_rss_bytes for r in runs) / GIB:.2f} GiB; "
        f"goal < {TARGET_S:g} s: {verdict(wall < TARGET_S)}"
    )


def main() -> None:
    """Measure the stages in a fresh process, then the command end to end."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=SIZE[0], help="[%(default)s]")
    parser.add_argument("--months", type=int, default=SIZE[1], help="[%(default)s]")
    parser.add_argument("--scenario", type=Path, default=SCENARIO, help="[default.toml]")
    parser.add_argument("--repeats", type=int, default=3, help="end-to-end runs of wsim run")
    parser.add_argument("--no-cli", action="store_true", help="skip the end-to-end runs")
    parser.add_argument(
        "--quick", action="store_true", help=f"smoke run: {QUICK_SIZE[0]:,} x {QUICK_SIZE[1]}"
    )
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:  # in the child process
        measured = measure_in_process(args.scenario, args.households, args.months, args.out)
        print(json.dumps(asdict(measured)))
        return
    households, months = QUICK_SIZE if args.quick else (args.households, args.months)
    repeats = 1 if args.quick else args.repeats
    name = args.scenario.relative_to(ROOT) if args.scenario.is_relative_to(ROOT) else args.scenario
    print(f"wsim run {name} --households {households:,} --months {months}")
    with tempfile.TemporaryDirectory() as folder:
        measured = measure_in_child(args.scenario, households, months, Path(folder) / "run")
    print("stages, in a fresh process calling the command's function:")
    print_stages(measured)
    at_size = (households, months) == SIZE
    print(
        f"in-process total {measured.wall_s:.2f} s"
        + (f"; goal < {TARGET_S:g} s: {verdict(measured.wall_s < TARGET_S)}" if at_size else "")
    )
    print_memory(measured, BYTES_PER_HOUSEHOLD_TARGET if at_size else None)
    if not args.no_cli:
        report_cli(args.scenario, households, months, repeats)


if __name__ == "__main__":
    main()
