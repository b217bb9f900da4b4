"""Memory over long runs: resident memory after month 12 against month 120 and the end.

Run with `make bench-memory` (or `python benchmarks/bench_memory.py --households 1000000
--months 120` for one run). By default two runs of the default scenario, each in its own
process: 30 years (360 months) at 5,000 households, and 10^6 households for 120 months.
For each it prints the resident set size (RSS) after month 12, month 120 and the final
month, the ratios to month 12, and the peak memory of the run per household (printed for
runs of at least `PEAK_MIN_HOUSEHOLDS`, where fixed costs no longer dominate). Exits 1 if
RSS grows from month 12 by more than `GROWTH_TOLERANCE`, or if the peak per household
exceeds `model.scenario.BYTES_PER_HOUSEHOLD`.

The runs pin glibc's mmap threshold (`PINNED_MALLOC`), so every large array is mapped
and returned when freed and RSS follows the memory in use: with glibc's default, freed
arrays raise the threshold and later ones come from the heap, which adds 4-6% by month
120 (and jitters by as much from one month to the next) before levelling off.
`--default-malloc` measures with glibc's default instead, as users run it: that is how
`BYTES_PER_HOUSEHOLD` is measured. Needs Linux (/proc).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench_step import scenario_at

from model.economy import WorkshopEconomy
from model.scenario import BYTES_PER_HOUSEHOLD
from model.simulate import simulate

EARLY_MONTH, LATE_MONTH = 12, 120  # RSS after these months is compared
# RSS may grow by at most 5% from month 12: the collected monthly tables add about 12 kB a
# month (+2.6% over 30 years at 5,000 households, +1% by month 120 at 10^6), while a leak
# of half a byte per household a month would add 9% by month 120 at 10^6 households.
GROWTH_TOLERANCE = 0.05
PEAK_MIN_HOUSEHOLDS = 100_000  # below, the peak per household is mostly fixed costs
CASES = (("30 years", 5_000, 360), ("10^6 households", 1_000_000, 120))
MIB = 2**20  # bytes
KIB = 1024  # bytes: the unit of ru_maxrss on Linux
PINNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(128 * KIB)}  # glibc's initial threshold, fixed


def rss_bytes() -> int:
    """Resident set size of this process now (bytes), after a garbage collection."""
    gc.collect()
    resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Measurement:
    """RSS of one run (bytes) after each checkpoint month, and its peak growth.

    Attributes:
        rss: month -> RSS after that month (bytes).
        peak_growth: peak RSS during the run less RSS before it (bytes).
    """

    rss: dict[int, int]
    peak_growth: int


def measure(households: int, months: int) -> Measurement:
    """Run the default scenario and record RSS after months 12, 120 and the last."""
    params = scenario_at(households, months)
    checkpoints = {EARLY_MONTH, min(LATE_MONTH, months), months}
    rss: dict[int, int] = {}
    before = rss_bytes()

    def record(model: WorkshopEconomy) -> None:
        if model.month in checkpoints:
            rss[model.month] = rss_bytes()

    simulate(params, on_month=record)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * KIB
    return Measurement(rss, peak - before)


def report(name: str, households: int, months: int) -> bool:
    """Measure one run, print its memory and say whether it stayed within bounds."""
    measured = measure(households, months)
    early = measured.rss[EARLY_MONTH]
    malloc = "pinned" if PINNED_MALLOC.keys() <= os.environ.keys() else "glibc default"
    print(f"{name}: {households:,} households x {months} months (mmap threshold: {malloc})")
    ok = True
    for month, rss in sorted(measured.rss.items()):
        growth = rss / early - 1
        within = growth <= GROWTH_TOLERANCE
        ok &= within
        print(
            f"  RSS after month {month:>4}: {rss / MIB:9,.1f} MiB  (x{rss / early:.3f} of "
            f"month {EARLY_MONTH}{'' if within else ', GROWS'})"
        )
    if households >= PEAK_MIN_HOUSEHOLDS:
        per_household = measured.peak_growth / households
        ok &= per_household <= BYTES_PER_HOUSEHOLD
        print(
            f"  peak {per_household:,.0f} bytes per household "
            f"(model.scenario.BYTES_PER_HOUSEHOLD = {BYTES_PER_HOUSEHOLD:,})"
        )
    print(
        f"  {'ok' if ok else 'FAILED'}: growth from month {EARLY_MONTH} within "
        f"{GROWTH_TOLERANCE:.0%}"
        + (
            f", peak within {BYTES_PER_HOUSEHOLD:,} bytes per household"
            if households >= PEAK_MIN_HOUSEHOLDS
            else ""
        )
    )
    return ok


def main() -> int:
    """Measure the default cases, or the run --households/--months, each in its own process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, help="one run of this many households")
    parser.add_argument(
        "--months",
        type=int,
        default=LATE_MONTH,
        help=f"months of that run (more than {EARLY_MONTH})",
    )
    parser.add_argument(
        "--default-malloc", action="store_true", help="measure with glibc's default mmap threshold"
    )
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.months <= EARLY_MONTH:
        parser.error(f"--months: expected more than {EARLY_MONTH}, got {args.months}")
    if args.measure:  # in the child process
        return 0 if report("run", args.households, args.months) else 1
    cases = CASES if args.households is None else (("run", args.households, args.months),)
    env = dict(os.environ) if args.default_malloc else {**os.environ, **PINNED_MALLOC}
    failed = 0
    for name, households, months in cases:
        print(f"# {name}", flush=True)
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--measure",
                "--households",
                str(households),
                "--months",
                str(months),
            ],
            env=env,
            check=False,
        )
        failed += done.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
