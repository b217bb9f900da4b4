"""Specs, sweeps and a stand-in model shared by the sweep tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from experiment_helpers import TINY
from typer.testing import CliRunner, Result

from experiments.cli.sweep import register
from experiments.executors import Serial
from experiments.sweep.engine import run_sweep, start
from experiments.sweep.spec import Spec, load_spec
from experiments.sweep.store import SweepData, SweepStore

# Two levers on the tiny county (6 months): 2 x 2 factorial, the base (0.2, true) among them.
FACTORIAL = """
seed = 11
[run]
months = 6
[levers.wage]
key = "policy.wage_subsidy.share_of_poor_wage_bill"
values = [0.2, 0.6]
[levers.training]
key = "policy.training.enabled"
values = [true, false]
[design]
method = "factorial"
[replicates]
count = 2
[outputs]
monthly = ["headcount", "income_per_capita", "spending"]
outcomes = ["net_exits", "headcount"]
"""

UNCERTAIN = """
seed = 5
[run]
months = 3
[uncertainties.weight]
key = "choice.utility_per_1000_yuan"
range = [1.0, 4.0]
[uncertainties.revision]
key = "choice.revision_rate_per_month"
range = [0.05, 0.25]
[uncertainties.living_cost]
key = "incomes.migrant_living_cost_share"
range = [0.2, 0.5]
[design]
method = "sobol"
samples = 32
[replicates]
count = 1
[outputs]
monthly = ["headcount"]
outcomes = ["net_exits"]
"""


def write_spec(directory: Path, body: str, stem: str = "spec") -> Path:
    """A spec file on the tiny scenario: `base` first, then `body`."""
    path = directory / f"{stem}.toml"
    path.write_text(f'base = "{TINY.as_posix()}"\n{body}', encoding="utf-8")
    return path


def sweep_serial(spec: Spec, directory: Path) -> SweepData:
    """Run a whole sweep in this process and read it back."""
    store = SweepStore(directory)
    with Serial() as executor:
        start(spec, store, "serial", 1)
        run_sweep(spec, store, executor)
    return store.load()


def comparable(data: SweepData) -> dict[str, pd.DataFrame]:
    """The frames of a sweep that must not depend on how it ran (run times left out)."""
    return {
        "runs": data.runs.drop(columns="seconds"),
        "monthly": data.monthly,
        "summary": data.summary,
    }


def assert_same_results(a: SweepData, b: SweepData) -> None:
    """The two sweeps stored bit-identical runs, monthly and summary rows."""
    for name, frame in comparable(a).items():
        pd.testing.assert_frame_equal(frame, comparable(b)[name], obj=name, check_exact=True)


def wsim(*args: str | Path) -> Result:
    """Invoke the sweep commands in-process on an app of their own."""
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, [str(a) for a in args])


def spec_of(directory: Path, body: str) -> Spec:
    """The validated spec of `body` on the tiny scenario (written into `directory`)."""
    return load_spec(write_spec(directory, body))


def descendants(pid: int) -> list[int]:
    """Pids of the processes below `pid` (children, their children, ...), via psutil if
    installed, else /proc."""
    try:
        import psutil
    except ImportError:
        parents = {
            int(p.name): _parent(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit()
        }
        found, todo = [], [pid]
        while todo:
            children = [child for child, parent in parents.items() if parent == todo.pop()]
            found += children
            todo += children
        return found
    return [child.pid for child in psutil.Process(pid).children(recursive=True)]


def running(pid: int) -> bool:
    """Whether process `pid` runs (one that exited but is not reaped yet does not)."""
    try:
        import psutil
    except ImportError:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        return stat.rpartition(")")[2].split()[0] != "Z"
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _parent(pid: int) -> int | None:
    """The parent pid of `pid` from /proc (None if it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, IndexError, ValueError):
        return None
