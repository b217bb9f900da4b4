"""Speed of the monthly step: nanoseconds per household-month, by scale and by phase.

Run with `make bench` (or `python benchmarks/bench_step.py --sizes 10000 100000`).
Times only the monthly steps (not population synthesis), repeats each size and reports
the median; prints the ratio to the 1 microsecond-per-household-month target and the
scaling ratio between consecutive sizes (linear scaling = the size ratio). A per-phase
profile of the step at the largest size is written to results/bench/.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from model.economy import WorkshopEconomy
from model.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
TARGET_NS = 1000.0  # target for the simulation core: 1 microsecond per household-month
PHASES = ("_age_people", "_apply_shocks", "_run_policy", "_update_workshops",
          "_revise_choices", "_match_labour", "_pay_month", "_update_poverty")


def scenario_at(households: int, months: int) -> Scenario:
    """The default scenario at a given scale, county scaled along so shares are kept."""
    base = load_scenario(ROOT / "scenarios" / "default.toml")
    return base.with_overrides(households=households, months=months)


def time_steps(params: Scenario, months: int) -> float:
    """Seconds for `months` monthly steps (set-up excluded)."""
    model = WorkshopEconomy(params)
    start = time.perf_counter()
    for _ in range(months):
        model.step()
    return time.perf_counter() - start


def profile_phases(params: Scenario, months: int) -> dict[str, float]:
    """Share of step time spent in each named phase (plus data collection)."""
    model = WorkshopEconomy(params)
    spent = dict.fromkeys((*PHASES, "collect"), 0.0)
    for name in PHASES:
        _wrap(model, name, spent)
    collect = model.datacollector.collect

    def timed_collect(m: WorkshopEconomy) -> None:
        t = time.perf_counter()
        collect(m)
        spent["collect"] += time.perf_counter() - t

    model.datacollector.collect = timed_collect  # type: ignore[method-assign]
    for _ in range(months):
        model.step()
    total = sum(spent.values())
    return {k: v / total for k, v in spent.items()}


def _wrap(model: WorkshopEconomy, name: str, spent: dict[str, float]) -> None:
    original = getattr(model, name)

    def timed(*args: object) -> object:
        t = time.perf_counter()
        out = original(*args)
        spent[name] += time.perf_counter() - t
        return out

    setattr(model, name, timed)


def main() -> None:
    """Time each size, print ns per household-month, write the phase profile."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        params = scenario_at(n, args.months)
        runs = [time_steps(params, args.months) for _ in range(args.repeats)]
        ns = statistics.median(runs) / (n * args.months) * 1e9
        rows.append((n, ns))
        print(f"{n:>10,} households  {ns:8.0f} ns/household-month  "
              f"target {TARGET_NS:.0f}  ratio {ns / TARGET_NS:5.2f}  "
              f"(median of {args.repeats}: {', '.join(f'{r:.2f}s' for r in runs)})")
    for (n0, ns0), (n1, ns1) in zip(rows, rows[1:], strict=False):
        print(f"scaling {n1:,}/{n0:,}: time ratio {ns1 * n1 / (ns0 * n0):.1f} "
              f"(linear = {n1 / n0:.0f})")
    shares = profile_phases(scenario_at(args.sizes[-1], args.months), args.months)
    out = ROOT / "results" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "phase_profile.json").write_text(json.dumps(shares, indent=2))
    ranked = sorted(shares.items(), key=lambda item: -item[1])
    print(f"phase shares at {args.sizes[-1]:,}:",
          ", ".join(f"{name.strip('_')} {share:.0%}" for name, share in ranked))


if __name__ == "__main__":
    main()
