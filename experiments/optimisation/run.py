"""A search from start to finish: `optimise` runs or resumes it and writes its outputs."""

from __future__ import annotations

import platform
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from experiments.executors import Executor, Serial
from experiments.optimisation import KIND, OUTPUTS, PLOTS
from experiments.optimisation.check import out_of_sample
from experiments.optimisation.evaluation import Runner, run_setup
from experiments.optimisation.search import (
    OptimisationResult,
    Search,
    best_so_far,
    chosen,
    pareto_front,
    spec_digest,
)
from experiments.optimisation.spec import OptimiseSpec, load_optimise_spec
from experiments.outputs import staging
from experiments.provenance import git_sha
from experiments.sweep.store import StoreError, SweepStore


def optimise(
    spec: str | Path | OptimiseSpec,
    out: str | Path,
    executor: Executor | None = None,
    on_runs: Callable[[int], None] | None = None,
) -> OptimisationResult:
    """Run or resume a search and its out-of-sample check; write tables and figures.

    Args:
        spec: an optimisation spec file, or a loaded spec.
        out: the results directory (new, or this spec's earlier search to resume).
        executor: where runs are made [default: this process].
        on_runs: called with the number of runs stored after each batch.

    Raises:
        SpecError: an invalid spec. StoreError: `out` holds something else.
        OptimiseError: a run failed.
    """
    spec = spec if isinstance(spec, OptimiseSpec) else load_optimise_spec(spec)
    store = SweepStore(Path(out))
    with store.writer(), executor or Serial() as entered:  # one writer per directory
        _start(spec, store)
        runner = Runner(store, run_setup(spec), entered, on_runs)
        trace = Search(spec, runner).run()
        best = chosen(trace, spec)
        check, difference = (
            out_of_sample(spec, runner, best)
            if spec.file.check is not None
            else (pd.DataFrame(), pd.DataFrame())
        )
    result = OptimisationResult(
        trace,
        pd.DataFrame({"candidate": trace["candidate"], "best_score": best_so_far(trace, spec)}),
        best,
        pareto_front(trace, spec) if spec.file.objective.spending else pd.DataFrame(),
        check,
        difference,
        robustness_words(spec),
        store.directory / OUTPUTS,
    )
    write_outputs(result, spec)
    return result


def robustness_words(spec: OptimiseSpec) -> str:
    """How the score combines scenarios, and the outcome, in words."""
    objective, words = spec.file.objective, spec.outcome.words
    if objective.robustness == "quantile":
        return f"the {objective.quantile:g} quantile over scenarios of {words}"
    if objective.robustness == "regret":
        return f"the largest regret over scenarios against the best hand-designed arm, {words}"
    return f"the mean over scenarios of {words}"


def _start(spec: OptimiseSpec, store: SweepStore) -> None:
    """Write the manifest of a new search, or check that `store` holds this one."""
    digest = spec_digest(spec)
    if store.check_usable(digest):
        if store.manifest().get("kind") != KIND:
            raise StoreError(f"{store.directory}: holds a sweep, not a search")
        store.remove_temporary()
        return
    store.write_manifest(
        {
            "kind": KIND,
            "experiment": spec.name,
            "spec_file": str(spec.path.resolve()),
            "spec_text": spec.text,
            "spec_hash": digest,
            "code_version": git_sha(),
            "python_version": platform.python_version(),
        }
    )


def write_outputs(result: OptimisationResult, spec: OptimiseSpec) -> None:
    """Write the tables (CSV) and figures (``plots/``: PNG and SVG with their CSV) at once.

    They are written to a temporary folder beside the outputs folder, which then
    replaces it (`staging`): a failure leaves the earlier outputs as they were.
    """
    from experiments.figures.optimisation import plot_search

    tables: dict[str, pd.DataFrame] = {
        "trace": result.trace,
        "convergence": result.convergence,
        "chosen": result.chosen.to_frame().T,
        "pareto": result.pareto,
        "check": result.check,
        "check_difference": result.difference,
    }
    with staging(result.directory) as folder:
        for name, table in tables.items():
            if len(table):
                table.to_csv(folder / f"{name}.csv", index=False)
        plot_search(result, spec, folder / PLOTS)
