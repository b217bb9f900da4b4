"""notebooks/explore.ipynb runs top to bottom at a tiny scale and shows what it promises.

The notebook is executed with nbclient on the `python3` kernel of this interpreter, in a
temporary directory; a cell after its "parameters" cell sets a tiny run size and points
its outputs there, so nothing is written under results/. It works through the Python
interface (`experiments`), never by starting commands.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import ipykernel.kernelspec
import nbformat
import pytest
from jupyter_client.kernelspec import NoSuchKernel
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"
KERNEL = "python3"
HOUSEHOLDS, MONTHS, REPLICATES = 1_000, 12, 2  # a workshop or two: effects are not all 0
ARMS = ("no policy", "default policy", "wage subsidy 40%")
SWEEP_ARMS = 3  # the base and its two levers, one at a time
CELL_TIMEOUT_S = 300
COMMANDS = re.compile(
    r"\bsubprocess\b|\bos\.(system|popen|exec\w*)\b|^\s*[!%]", re.MULTILINE
)  # what starts a command from a notebook


def tagged(notebook: nbformat.NotebookNode, tag: str) -> nbformat.NotebookNode:
    return next(c for c in notebook.cells if tag in c.metadata.get("tags", []))


def text_of(cell: nbformat.NotebookNode) -> str:
    """Everything a cell printed or displayed as plain text."""
    return "\n".join(
        out.get("text", "") or out.get("data", {}).get("text/plain", "") for out in cell.outputs
    )


def runs_this_interpreter(kernel: str) -> bool:
    try:
        command = KernelManager(kernel_name=kernel).format_kernel_cmd()
    except NoSuchKernel:
        return False
    return os.path.abspath(command[0]) == os.path.abspath(sys.executable)


@pytest.fixture
def kernel_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """`python3` running this interpreter: the environment's spec, else one made here."""
    if not runs_this_interpreter(KERNEL):
        prefix = tmp_path / "kernel"
        ipykernel.kernelspec.install(prefix=str(prefix), kernel_name=KERNEL)
        monkeypatch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    assert runs_this_interpreter(KERNEL)
    return KERNEL


def test_notebook_is_stored_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)


def test_notebook_starts_no_command() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "import experiments" in code
    assert COMMANDS.search(code) is None, COMMANDS.search(code)


def test_notebook_runs_and_compares_and_sweeps(tmp_path: Path, kernel_name: str) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    output = tmp_path / "output"
    parameters = notebook.cells.index(tagged(notebook, "parameters"))
    notebook.cells.insert(
        parameters + 1,
        nbformat.v4.new_code_cell(
            f"HOUSEHOLDS, MONTHS, REPLICATES = {HOUSEHOLDS}, {MONTHS}, {REPLICATES}\n"
            f"SCENARIOS = Path({str(ROOT / 'scenarios')!r})\n"
            f"OUTPUT = Path({str(output)!r})"
        ),
    )
    client = NotebookClient(
        notebook,
        kernel_name=kernel_name,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()

    comparison = text_of(tagged(notebook, "comparison"))
    assert all(arm in comparison for arm in ARMS), comparison
    against = text_of(tagged(notebook, "against"))
    assert "net exits (households)" in against and "yuan per extra net exit" in against
    runs = SWEEP_ARMS * REPLICATES
    assert f"Loaded {runs} runs ({runs} done, 0 failed)" in text_of(tagged(notebook, "sweep-runs"))
    assert (output / "comparison" / "plots" / "spending.png").is_file()
    assert (output / "comparison" / "manifest.json").is_file()
    assert any(output.glob("sweep_*/manifest.json"))
