"""Speed and memory of the monthly step: nanoseconds per household-month, by scale and phase.

Run with `make bench` (or `python benchmarks/bench_step.py --sizes 10000 100000`; `--quick`
for a smoke run, `--long` adds 10^6 households x 120 months). Each size runs in a fresh
process, which builds the default scenario at that size, times `--months` monthly steps of
the full model (every phase, data collection included; population synthesis, the
starting state and month 1 excluded: month 1 is the policy's start, when the county's
workshops open and everyone able to work reconsiders, as in the starting rounds; its time
is printed beside the set-up's) and repeats; the median wall time is compared with the 100 ns
target, and the process's CPU time over the same steps is printed beside it. The
same process reports its memory per household (peak resident memory less the resident
memory before the model was built, over households) and the model's state bytes per
household (the People, Households and poverty-tracker arrays). Also printed: the scaling
ratio time(10^6) / time(10^5) (linear = 10), the model's time at 10^5 households with
the array versions of its compiled loops (`WSIM_NUMBA=0`, see `model/compiled/registry.py`), and the
idiomatic Mesa reference's time at 10^4 households beside the model's, with the ratio
(`reference_mesa.py`). A per-phase profile of the step at 10^5 households is written to
results/bench/.

The figures come from one machine, shared with other jobs: compare medians, and only
between runs on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from reference_mesa import SPEEDUP_TARGET, YARDSTICK_HOUSEHOLDS, ns_per_household_month

from model.economy import WorkshopEconomy
from model.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
TARGET_NS = 100.0  # full model, ns per household-month, at 10^5 and 10^6
STATE_BYTES_TARGET = 200.0  # state bytes per household
SCALING_TARGET = (9.0, 12.0)  # time(10^6) / time(10^5); linear scaling is 10
LONG_RUN = (1_000_000, 120)  # households, months
LONG_RUN_TARGET_S = 20.0
SIZES = (10_000, 100_000, 1_000_000)
LARGE = 1_000_000  # sizes from here on repeat `--repeats-large` times
PROFILE_HOUSEHOLDS = 100_000
QUICK = {"sizes": [2_000, 10_000], "months": 6, "repeats": 1}
KIB = 1024
PHASES = (
    "_age_people",
    "_apply_shocks",
    "_run_policy",
    "_update_workshops",
    "_revise_choices",
    "_match_labour",
    "_pay_month",
    "_update_poverty",
)


def scenario_at(households: int, months: int) -> Scenario:
    """The default scenario at a given scale, county scaled along so shares are kept."""
    base = load_scenario(ROOT / "scenarios" / "default.toml")
    return base.with_overrides(households=households, months=months)


@dataclass
class SizeRun:
    """What one size's process measured."""

    households: int
    months: int
    seconds: list[float]  # wall time of the monthly steps, one per repeat
    cpu_seconds: list[float]  # CPU time of this process over the same steps
    setup_seconds: float  # building the model (synthesis and starting state), last run
    start_seconds: float  # month 1, the policy's start (initial workshops, everyone revises)
    state_bytes: int  # People, Households and tracker arrays
    memory_bytes: int  # peak resident memory less the resident memory before

    @property
    def ns(self) -> float:
        """Median ns per household-month (wall time)."""
        return statistics.median(self.seconds) / (self.households * self.months) * 1e9

    @property
    def cpu_ns(self) -> float:
        """Median CPU ns per household-month (less sensitive to other jobs than wall time)."""
        return statistics.median(self.cpu_seconds) / (self.households * self.months) * 1e9


def resident_kib(field: str) -> int:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def state_bytes(model: WorkshopEconomy) -> int:
    """Bytes of the People, Households and poverty-tracker arrays (an array shared, once)."""
    parts = (model.people, model.households, model.tracker)
    arrays = {
        id(value): value
        for part in parts
        for value in vars(part).values()
        if isinstance(value, np.ndarray)
    }
    return sum(value.nbytes for value in arrays.values())


def measure(households: int, months: int, repeats: int) -> SizeRun:
    """Time `repeats` runs of `months` steps at one size (in this process)."""
    params = scenario_at(households, months)
    baseline = resident_kib("VmRSS")
    seconds, cpu_seconds, setup, policy_start = [], [], 0.0, 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        model = WorkshopEconomy(params)
        setup = time.perf_counter() - start
        model.step()  # month 1: the policy's start, timed apart (`start_month`)
        policy_start = time.perf_counter() - start - setup
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(months):
            model.step()
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - cpu_start)
        size = state_bytes(model)
        del model
    return SizeRun(
        households,
        months,
        seconds,
        cpu_seconds,
        setup,
        policy_start,
        size,
        (resident_kib("VmHWM") - baseline) * KIB,
    )


def measure_in_fresh_process(
    households: int, months: int, repeats: int, compiled: bool = True
) -> SizeRun:
    """`measure` in a new Python process, so that memory peaks of sizes do not mix.

    With `compiled` False the process runs the array versions of the compiled loops
    (`WSIM_NUMBA=0`, see `model.jit`).
    """
    env = {**os.environ, "WSIM_NUMBA": "1" if compiled else "0"}
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--measure",
            str(households),
            "--months",
            str(months),
            "--repeats",
            str(repeats),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    return SizeRun(**json.loads(out.splitlines()[-1]))


def report_array_versions(households: int, months: int, repeats: int, compiled_ns: float) -> None:
    """Time the array versions of the compiled loops at one size, beside the model's."""
    arrays = measure_in_fresh_process(households, months, repeats, compiled=False)
    print(
        f"array versions only (WSIM_NUMBA=0) at {households:,} households  "
        f"{arrays.ns:6.0f} ns/household-month  model {compiled_ns:.0f}  "
        f"compiled loops save {1 - compiled_ns / arrays.ns:.0%}"
    )


def profile_phases(params: Scenario, months: int) -> dict[str, float]:
    """Milliseconds per month spent in each named phase (plus data collection)."""
    model = WorkshopEconomy(params)
    spent = dict.fromkeys((*PHASES, "collect"), 0.0)
    for name in PHASES:
        _wrap(model, name, spent)
    collect = model.datacollector.collect

    def timed_collect(m: WorkshopEconomy) -> None:
        t = time.perf_counter()
        collect(m)
        spent["collect"] += time.perf_counter() - t

    model.datacollector.collect = timed_collect  # type: ignore[method-assign, assignment]
    model.step()  # month 1, the policy's start, is not a typical month
    spent.update(dict.fromkeys(spent, 0.0))
    for _ in range(months):
        model.step()
    return {name: seconds / months * 1e3 for name, seconds in spent.items()}


def _wrap(model: WorkshopEconomy, name: str, spent: dict[str, float]) -> None:
    original = getattr(model, name)

    def timed(*args: object) -> object:
        t = time.perf_counter()
        out = original(*args)
        spent[name] += time.perf_counter() - t
        return out

    setattr(model, name, timed)


def report_size(run: SizeRun) -> None:
    """Print one size's speed and memory."""
    print(
        f"{run.households:>10,} households  {run.ns:6.0f} ns/household-month  "
        f"target {TARGET_NS:.0f}  ratio {run.ns / TARGET_NS:5.2f}  "
        f"(median of {len(run.seconds)}: {', '.join(f'{s:.2f}s' for s in run.seconds)}; "
        f"set-up {run.setup_seconds:.1f}s, month 1 {run.start_seconds:.2f}s)"
    )
    print(f"{'':>22}CPU {run.cpu_ns:6.0f} ns/household-month (this process's CPU time)")
    print(
        f"{'':>22}memory {run.memory_bytes / run.households:6.0f} B/household  "
        f"state {run.state_bytes / run.households:5.0f} B/household "
        f"(target {STATE_BYTES_TARGET:.0f})"
    )


def report_long_run() -> None:
    """Wall time of the long run (10^6 households x 120 months), in a fresh process."""
    households, months = LONG_RUN
    run = measure_in_fresh_process(households, months, 1)
    total = run.setup_seconds + run.start_seconds + run.seconds[0]
    print(
        f"{households:,} households x {months} months: {total:.1f}s "
        f"(set-up {run.setup_seconds:.1f}s, steps {run.seconds[0]:.1f}s, "
        f"{run.ns:.0f} ns/household-month, CPU {run.cpu_ns:.0f}; "
        f"target {LONG_RUN_TARGET_S:.0f}s)"
    )


def main() -> None:
    """Time each size in its own process, print the figures, write the phase profile."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--repeats-large", type=int, default=3, help=f"repeats at {LARGE:,} households and more"
    )
    parser.add_argument(
        "--long",
        action="store_true",
        help=f"also time {LONG_RUN[0]:,} households x {LONG_RUN[1]} months",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, one short run")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(asdict(measure(args.measure, args.months, args.repeats))))
        return
    if args.quick:
        args.sizes, args.months, args.repeats = QUICK["sizes"], QUICK["months"], QUICK["repeats"]
    print("Figures from one machine shared with other jobs (medians of repeated runs).")
    runs = {}
    for n in args.sizes:
        repeats = args.repeats_large if n >= LARGE else args.repeats
        runs[n] = measure_in_fresh_process(n, args.months, repeats)
        report_size(runs[n])
    rows = [(n, run.ns) for n, run in runs.items()]
    for (n0, ns0), (n1, ns1) in zip(rows, rows[1:], strict=False):
        cpu = runs[n1].cpu_ns * n1 / (runs[n0].cpu_ns * n0)
        print(
            f"scaling {n1:,}/{n0:,}: time ratio {ns1 * n1 / (ns0 * n0):.1f}, CPU {cpu:.1f} "
            f"(linear = {n1 / n0:.0f}; target {SCALING_TARGET[0]:.0f} to "
            f"{SCALING_TARGET[1]:.0f} for 10x)"
        )
    if args.long:
        report_long_run()
    profiled = max((n for n in args.sizes if n <= PROFILE_HOUSEHOLDS), default=args.sizes[0])
    report_array_versions(profiled, args.months, args.repeats, runs[profiled].ns)
    ms = profile_phases(scenario_at(profiled, args.months), args.months)
    out = ROOT / "results" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    total = sum(ms.values())
    shares = {name: value / total for name, value in ms.items()}
    (out / "phase_profile.json").write_text(
        json.dumps(
            {"households": profiled, "months": args.months, "ms_per_month": ms, "shares": shares},
            indent=2,
        )
    )
    ranked = sorted(shares.items(), key=lambda item: -item[1])
    print(
        f"phase shares at {profiled:,} ({total:.1f} ms/month):",
        ", ".join(f"{name.strip('_')} {share:.0%}" for name, share in ranked),
    )
    full_ns = dict(rows).get(YARDSTICK_HOUSEHOLDS)
    if full_ns is not None:
        reference_ns = ns_per_household_month(
            scenario_at(YARDSTICK_HOUSEHOLDS, args.months), args.repeats
        )
        print(
            f"idiomatic Mesa reference at {YARDSTICK_HOUSEHOLDS:,} households  "
            f"{reference_ns:8.0f} ns/household-month  model {full_ns:.0f}  "
            f"reference / model {reference_ns / full_ns:.1f}x (target >= {SPEEDUP_TARGET:.0f}x)"
        )


if __name__ == "__main__":
    main()
