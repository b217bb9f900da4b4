"""Optional parts of workshop-sim and the packages each needs (pip extras).

``pip install workshop-sim`` installs the model, the ``wsim`` command and the sweeps on
this machine's processes; the extras add what only some commands use. `require` turns
a missing package into one sentence naming the extra to install, before anything runs.
"""

from __future__ import annotations

from importlib.util import find_spec

# extra -> (what it is for, the import names it provides); pyproject.toml lists the
# distributions of each extra, tests/experiments/test_extras.py checks they agree
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "decision": ("wsim optimise and wsim discover", ("optuna", "ema_workbench", "sklearn")),
    "cluster": ("sweeps on a Dask cluster (--dask)", ("dask", "distributed")),
    "dashboard": ("the dashboard (app.py)", ("solara", "ipyvue", "ipyvuetify")),
}


class MissingExtraError(ImportError):
    """A command needs a package of an extra that is not installed."""


def missing(extra: str) -> list[str]:
    """The import names of `extra` that are not installed."""
    return [name for name in EXTRAS[extra][1] if not _installed(name)]


def _installed(name: str) -> bool:
    """Whether the top-level module `name` can be imported (without importing it)."""
    try:
        return find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules
        return False


def require(extra: str) -> None:
    """Raise `MissingExtraError` (naming the extra and how to install it) if any is missing."""
    absent = missing(extra)
    if absent:
        purpose = EXTRAS[extra][0]
        raise MissingExtraError(
            f"{purpose} need(s) {', '.join(absent)}, of the '{extra}' extra: "
            f"pip install 'workshop-sim[{extra}]' (make demo installs every extra)"
        )
