"""National scale on one machine: ``wsim run`` at 10^7 households x 60 months.

Run with ``make bench-national`` (``--quick`` for a smoke run at a small size,
``--out DIR`` for another output folder). The default scenario (a Suichuan-like county)
scaled to 10^7 households: the county's villages, workshops, entrants, course places and
budgets scale with it (`model.scenario.Scenario.scale`), so the run is a thousand such
counties side by side, about a third of China's 29.5 million households registered as
poor in 2014 (the State Council Leading Group Office of Poverty Alleviation and
Development's count of 建档立卡 households). It is a test of size, not a national
calibration: the scenario's parameters stay the county's.

First a pilot run at 2 x 10^6 households, from which the time and the peak resident
memory at 10^7 are extrapolated (the stages that grow with households times 5, the
others as they are); if the extrapolated peak would not fit in the memory available now
(/proc/meminfo's MemAvailable, less a margin), the full run is not started. Then the
full run, in a fresh process calling ``wsim run``'s own command function
(`bench_run.measure_in_process`), writing its tables, figures and manifest to
results/bench/national/ as ``wsim run`` writes them. Printed: each stage's wall and CPU
seconds and peak resident memory, the total time against `TARGET_S` and the process's
peak resident memory against `TARGET_BYTES`, each MET or MISSED (a benchmark: it exits 0
either way). Needs Linux (/proc).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench_run import (
    ROOT,
    SCENARIO,
    RunMeasurement,
    measure_in_child,
    print_memory,
    print_stages,
    verdict,
)

NATIONAL = (10_000_000, 60)  # households, months
PILOT_SHARE = 0.2  # the pilot run's households, as a share of the full run's
QUICK = (20_000, 6)
TARGET_S = 120.0  # the whole run, imports, tables and figures included
TARGET_BYTES = 6 * 10**9  # the process's peak resident memory (6 GB)
MEMORY_MARGIN = 0.85  # the full run starts if its extrapolated peak is within this share
# of the memory available: other processes on the machine may grow meanwhile
OUT = ROOT / "results" / "bench" / "national"
# Stages whose cost does not grow with households (the tables are months x categories).
FIXED_STAGES = frozenset(
    {"imports", "warnings", "tables", "figures", "manifest", "report", "other"}
)
GB = 10**9  # bytes


def available_bytes() -> int:
    """Memory available to a new process now (/proc/meminfo's MemAvailable, bytes)."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("/proc/meminfo has no MemAvailable: this benchmark needs Linux")


def extrapolated(pilot: RunMeasurement, households: int) -> tuple[float, int]:
    """Seconds and peak resident memory (bytes) of a run of `households`, from a pilot.

    Stages in `FIXED_STAGES` take what they took; the others, and the memory above what
    the process held before the model was built, grow in proportion to households.
    """
    ratio = households / pilot.households
    seconds = sum(s.wall_s if s.name in FIXED_STAGES else s.wall_s * ratio for s in pilot.stages)
    grown = pilot.peak.peak_bytes - pilot.rss_before_model
    return seconds, pilot.rss_before_model + round(grown * ratio)


def main() -> None:
    """Pilot, extrapolate, check the memory, then the national run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=NATIONAL[0], help="[%(default)s]")
    parser.add_argument("--months", type=int, default=NATIONAL[1], help="[%(default)s]")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder [{OUT}]")
    parser.add_argument("--no-pilot", action="store_true", help="run without the pilot")
    parser.add_argument(
        "--quick", action="store_true", help=f"smoke run: {QUICK[0]:,} x {QUICK[1]}"
    )
    args = parser.parse_args()
    households, months = QUICK if args.quick else (args.households, args.months)
    available = available_bytes()
    print(
        f"national scale: {SCENARIO.relative_to(ROOT)} at {households:,} households x "
        f"{months} months; {available / GB:.1f} GB of memory available"
    )
    if not args.no_pilot:
        pilot_size = max(1, round(households * PILOT_SHARE))
        with tempfile.TemporaryDirectory() as folder:
            pilot = measure_in_child(SCENARIO, pilot_size, months, Path(folder) / "pilot")
        seconds, peak = extrapolated(pilot, households)
        print(
            f"pilot at {pilot_size:,} households: {pilot.wall_s:.1f} s, peak "
            f"{pilot.peak.peak_bytes / GB:.2f} GB; extrapolated to {households:,}: "
            f"{seconds:.0f} s, peak {peak / GB:.1f} GB"
        )
        if peak > MEMORY_MARGIN * available:
            print(
                f"not run: its peak would be {peak / GB:.1f} GB, more than "
                f"{MEMORY_MARGIN:.0%} of the {available / GB:.1f} GB available"
            )
            return
    measured = measure_in_child(SCENARIO, households, months, args.out)
    print_stages(measured)
    peak = measured.peak.peak_bytes
    print(
        f"total {measured.wall_s:.1f} s (goal < {TARGET_S:g} s: "
        f"{verdict(measured.wall_s < TARGET_S)}); peak resident memory {peak / GB:.2f} GB "
        f"(goal < {TARGET_BYTES / GB:g} GB: {verdict(peak < TARGET_BYTES)})"
    )
    print_memory(measured, None)
    tables = sorted(p.name for p in (args.out / "tables").glob("*.parquet"))
    print(f"tables written to {args.out / 'tables'}/: {', '.join(tables)} (parquet + CSV)")


if __name__ == "__main__":
    main()
