"""The experiment layer: running scenarios, storing, analysing and plotting results.

The Python interface for notebooks (`experiments.api`, docs/api.md) is available here:
``experiments.run_scenario``, ``compare_scenarios``, ``run_sweep``, ``load``, ``arm``,
``spec_from_dict``, their result classes, the executors ``Serial``, ``Processes``
and ``Dask``, ``discover`` (where a sweep's policy fails, `experiments.discovery`) and
``optimise`` (the best split of a yearly budget, `experiments.optimisation`).
Each name is imported on first use, so ``import experiments`` (which the ``wsim``
command does first) loads none of pandas, scipy, matplotlib or numba.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from experiments.api import (
        ComparisonResults,
        ResultsError,
        RunResults,
        SweepResults,
        arm,
        compare_scenarios,
        load,
        run_scenario,
        run_sweep,
        spec_from_dict,
    )
    from experiments.discovery import DiscoveryError, discover
    from experiments.executors import Dask, Processes, Serial
    from experiments.optimisation.evaluation import OptimiseError
    from experiments.optimisation.run import optimise

__all__ = [  # no name of a submodule: importing it would replace the name's value
    "ComparisonResults",
    "Dask",
    "DiscoveryError",
    "OptimiseError",
    "Processes",
    "ResultsError",
    "RunResults",
    "Serial",
    "SweepResults",
    "arm",
    "compare_scenarios",
    "discover",
    "load",
    "optimise",
    "run_scenario",
    "run_sweep",
    "spec_from_dict",
]
_EXECUTORS = ("Dask", "Processes", "Serial")
_DISCOVERY = ("DiscoveryError", "discover")
_HOMES = {  # exported name -> the module defining it
    **dict.fromkeys(__all__, "experiments.api"),
    **dict.fromkeys(_EXECUTORS, "experiments.executors"),
    **dict.fromkeys(_DISCOVERY, "experiments.discovery"),
    "OptimiseError": "experiments.optimisation.evaluation",
    "optimise": "experiments.optimisation.run",
}


def __getattr__(name: str) -> Any:
    """Import an exported name from its module on first use (PEP 562)."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
