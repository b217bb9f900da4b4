"""Imports point one way: from the command line down to the model, never back up.

Every module of `model` and `experiments` is given a layer by `LAYERS`; a module may
import modules of its own layer or of a lower one. Import statements are read with `ast`
(those inside functions and ``if TYPE_CHECKING:`` blocks too), so a violation is found
without running the code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("model", "experiments")

# Layers, lowest first. A name covers the module and everything below it, except the
# names in `PACKAGE_ONLY`, which cover the package's own __init__ only.
#   model: the simulation; it knows nothing of experiments.
#   extras: which optional packages (pip extras) are installed; imports nothing of ours.
#   executors, provenance, intervals, sweep, calibration, optimisation: running many
#       simulations and recording what ran (they may use each other, not the analysis).
#       `intervals` (the t interval of a mean over replicates) sits here, not in the
#       analysis, because adaptive replicates, calibration's targets and a budget
#       search's check need it too.
#   analysis: statistics and tables of stored results.
#   figures: plots of runs, comparisons, sweeps and searches.
#   outputs, compare, optimisation.run: a run's, a comparison's or a budget search's
#       results folder (tables, figures, manifest).
#   report, dashboard, api, discovery, experiments: what a user reads or calls.
#   cli: the ``wsim`` command, on top of everything; nothing else imports it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("model",),
    ("experiments.extras",),
    (
        "experiments.executors",
        "experiments.provenance",
        "experiments.intervals",
        "experiments.sweep",
        "experiments.calibration",
        "experiments.optimisation",
    ),
    ("experiments.analysis",),
    ("experiments.figures",),
    ("experiments.outputs", "experiments.compare", "experiments.optimisation.run"),
    (
        "experiments.report",
        "experiments.dashboard",
        "experiments.api",
        "experiments.discovery",
        "experiments",
    ),
    ("experiments.cli",),
)
PACKAGE_ONLY = frozenset({"experiments"})


@dataclass(frozen=True)
class Import:
    """A module named by an import statement, and the line of that statement."""

    module: str
    line: int


def module_name(path: Path) -> str:
    """Dotted name of a source file under `ROOT` (a package is named by its __init__)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files() -> list[Path]:
    """Every Python file of the layered packages."""
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


KNOWN = frozenset(module_name(p) for p in source_files())


def layer(module: str) -> int | None:
    """Index in `LAYERS` of the most specific name covering `module` (None: not layered)."""
    covering = [
        (len(name), index)
        for index, names in enumerate(LAYERS)
        for name in names
        if module == name or (name not in PACKAGE_ONLY and module.startswith(name + "."))
    ]
    return max(covering)[1] if covering else None


def imports(source: str, module: str, is_package: bool = False) -> list[Import]:
    """The modules of `PACKAGES` that `source` (the module `module`) imports, anywhere in it.

    ``from package import name`` names the sub-module ``package.name`` when there is one;
    relative imports are resolved against `module`.
    """
    found = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = ".".join(filter(None, (anchor, base)))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append(Import(sub if sub in KNOWN else base, node.lineno))
    return [i for i in dict.fromkeys(found) if i.module.split(".")[0] in PACKAGES]


def violations(source: str, module: str, file: str, is_package: bool = False) -> list[str]:
    """One message per import of `source` that reaches a higher layer than `module`'s."""
    own = layer(module)
    assert own is not None, f"{file}: module {module} has no layer in LAYERS"
    messages = []
    for imported in imports(source, module, is_package):
        target = layer(imported.module)
        if target is not None and target > own:
            messages.append(
                f"{file}:{imported.line}: {module} (layer {own}) imports "
                f"{imported.module} (layer {target}, higher)"
            )
    return messages


@pytest.mark.parametrize("path", source_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down_the_layers(path: Path) -> None:
    found = violations(
        path.read_text(encoding="utf-8"),
        module_name(path),
        str(path.relative_to(ROOT)),
        path.name == "__init__.py",
    )
    assert not found, "\n".join(found)


def test_every_module_has_a_layer() -> None:
    assert [m for m in sorted(KNOWN) if layer(m) is None] == []


def test_the_model_is_below_everything_and_the_cli_above() -> None:
    assert layer("model.simulate") == 0
    assert layer("experiments.cli.main") == len(LAYERS) - 1
    assert layer("experiments") == layer("experiments.report")
    assert layer("experiments.sweep.engine") == layer("experiments.calibration.fit")


@pytest.mark.parametrize(
    ("module", "source", "offending"),
    [
        (
            "model.simulate",
            "import numpy\n\ndef f():\n    from experiments.outputs import write_run\n",
            "model/simulate.py:4: model.simulate (layer 0) imports experiments.outputs",
        ),
        (
            "experiments.report",
            "from experiments.cli.sweep import format_value\n",
            "experiments/report.py:1: experiments.report (layer 6) imports experiments.cli.sweep",
        ),
        (
            "experiments.sweep.engine",
            "from ..analysis import effects\n",
            "experiments/sweep/engine.py:1: experiments.sweep.engine (layer 2) imports "
            "experiments.analysis.effects",
        ),
        (
            "experiments.dashboard",
            "if True:\n    from experiments import cli\n",
            "experiments/dashboard.py:2: experiments.dashboard (layer 6) imports experiments.cli",
        ),
        (
            "experiments.figures.arms",
            "import experiments.compare as compare\n",
            "experiments/figures/arms.py:1: experiments.figures.arms (layer 4) imports "
            "experiments.compare",
        ),
    ],
)
def test_an_upward_import_is_named_with_its_line(module: str, source: str, offending: str) -> None:
    file = module.replace(".", "/") + ".py"
    [message] = violations(source, module, file)
    assert message.startswith(offending)


def test_imports_of_the_same_or_a_lower_layer_pass() -> None:
    source = (
        "from experiments.sweep.spec import Spec\nfrom model.scenario import Scenario\n"
        "import numpy\nfrom . import effects\n"
    )
    assert violations(source, "experiments.analysis.decision_rules", "x.py") == []
