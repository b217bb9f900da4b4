"""Every command of docs/user-guide.md runs, at a small scale, in a copy of the repository.

How the guide is read:

- Commands are the lines of its fenced ``sh`` blocks, one command per line. A line ending
  in a comment ``# not run by the tests: <reason>`` is not run; the test checks it gives
  a reason and that such lines stay few (servers and installs only).
- A fenced ``toml`` block whose first line is ``# file: <path>`` is written to that path
  before the commands after it run.

How the commands are run:

- In a temporary copy of the repository's code, scenarios, specs, notebook and Makefile,
  with ``.venv`` linked to this environment; the blocks and commands run in the guide's
  order, so later commands find what earlier ones wrote (all under the copy's
  ``results/``).
- At a small scale: ``--households N``, ``--months N`` and ``--replicates N`` become
  `HOUSEHOLDS`, `MONTHS` and `REPLICATES`; in written files, ``households = N``,
  ``months = N`` and ``count = N`` lines become the same; the copy of
  ``notebooks/explore.ipynb`` gets them in its parameters cell.
- ``make demo`` is replaced by the commands of its recipe in the Makefile (variables
  expanded from the Makefile's defaults) with ``--households`` and ``--months`` added to
  ``wsim run``: the real target would first install the environment.
- A line ending in ``# a server: the tests start it in the background`` (a Dask
  scheduler or worker) is started in the background in the copy and stopped at the end;
  in every command ``SCHEDULER_HOST`` becomes 127.0.0.1 and the scheduler's port 8786 a
  free port, and the command after a scheduler line waits until it accepts connections.
- ``.venv/bin/wsim ...`` runs in this process through `experiments.cli.main.app` (the
  function the ``wsim`` script calls), with the copy as working directory and shell
  globs expanded, which saves an interpreter start per command; every other command runs
  in ``bash`` in the copy.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.cli.main import app
from experiments.sweep.store import load as load_sweep

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "user-guide.md"
COPIED = (
    "model",
    "experiments",
    "scenarios",
    "notebooks",
    "tools",
    "app.py",
    "Makefile",
    "pyproject.toml",
)
HOUSEHOLDS, MONTHS, REPLICATES = 300, 12, 2
NOT_RUN = "# not run by the tests:"
MOST_NOT_RUN = 3  # Jupyter, the dashboard (driven by tests/dashboard/) and an install
SERVER = "# a server: the tests start it in the background"
SCHEDULER_HOST, SCHEDULER_PORT = "SCHEDULER_HOST", "8786"
SERVER_START_TIMEOUT_S = 30
WSIM = ".venv/bin/wsim"
FILE_MARK = re.compile(r"^# file: (\S+)\n")
FENCE = re.compile(r"^```(sh|toml)\n(.*?)^```", re.MULTILINE | re.DOTALL)
FLAGS = {"--households": HOUSEHOLDS, "--months": MONTHS, "--replicates": REPLICATES}
FILE_KEYS = {"households": HOUSEHOLDS, "months": MONTHS, "count": REPLICATES}
COMMAND_TIMEOUT_S = 300


@dataclass(frozen=True)
class Step:
    """A command to run (`command`) or a file to write (`path` and `text`)."""

    command: str = ""
    path: str = ""
    text: str = ""
    server: bool = False


def steps(markdown: str) -> Iterator[Step]:
    """The guide's commands and files, in order (commands not run left out)."""
    for kind, body in FENCE.findall(markdown):
        if kind == "toml":
            mark = FILE_MARK.match(body)
            if mark:
                yield Step(path=mark.group(1), text=body)
            continue
        for line in body.splitlines():
            if line.strip() and NOT_RUN not in line:
                yield Step(command=line.split("  #")[0].strip(), server=SERVER in line)


def small(text: str) -> str:
    """A command or file with its scale flags and [run]/[replicates] sizes made small."""
    for flag, value in FLAGS.items():
        text = re.sub(rf"{flag} \d+", f"{flag} {value}", text)
    for key, value in FILE_KEYS.items():
        text = re.sub(rf"^{key} = \d+", f"{key} = {value}", text, flags=re.MULTILINE)
    return text


def make_recipe(target: str) -> list[str]:
    """The commands of a Makefile target, its variables expanded, echo lines left out."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    variables = dict(re.findall(r"^(\w+)\s*[:?]?=\s*(.*?)\s*$", makefile, re.MULTILINE))
    body = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert body, f"no target {target} in the Makefile"
    commands = [
        line.strip() for line in body.group(1).splitlines() if not line.strip().startswith("@")
    ]
    return [re.sub(r"\$\((\w+)\)", lambda m: variables[m.group(1)], c) for c in commands]


def demo_commands() -> list[str]:
    """`make demo` without the install, at the small scale."""
    scale = f" --households {HOUSEHOLDS} --months {MONTHS}"
    return [c + scale if c.startswith(f"{WSIM} run ") else c for c in make_recipe("demo")]


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of what the guide's commands use, with `.venv` linked to this environment."""
    copy = tmp_path_factory.mktemp("guide")
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=ignore)
        else:
            shutil.copy2(source, copy / name)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    shrink_notebook(copy / "notebooks" / "explore.ipynb")
    return copy


def shrink_notebook(path: Path) -> None:
    """Set the notebook's run size (its parameters cell) to the small scale."""
    notebook = nbformat.read(path, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    for name, value in (("HOUSEHOLDS", HOUSEHOLDS), ("MONTHS", MONTHS), ("REPLICATES", REPLICATES)):
        cell.source, found = re.subn(
            rf"^{name} = [\d_]+", f"{name} = {value}", cell.source, flags=re.MULTILINE
        )
        assert found == 1, f"{name} not set in the notebook's parameters cell"
    nbformat.write(notebook, path)


def run(command: str, where: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run one command of the guide in the copy; fail with its output if it fails."""
    if command.startswith(f"{WSIM} "):
        monkeypatch.chdir(where)
        args = [
            a
            for arg in shlex.split(command)[1:]
            for a in (sorted(glob.glob(arg)) if "*" in arg else [arg])
        ]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, f"{command}\n{result.output}\n{result.exception!r}"
        return
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, server: subprocess.Popen[bytes]) -> None:
    """Return once something accepts connections on loopback `port`."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert server.poll() is None, f"{server.args} exited with {server.returncode}"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"nothing listens on port {port} after {SERVER_START_TIMEOUT_S} s")


@pytest.fixture
def servers() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Background servers the guide starts; each is stopped (its process group) at the end."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for server in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=SERVER_START_TIMEOUT_S)


def test_every_command_of_the_guide_runs(
    repository: Path, monkeypatch: pytest.MonkeyPatch, servers: list[subprocess.Popen[bytes]]
) -> None:
    ran = []
    port = str(free_port())
    for step in steps(GUIDE.read_text(encoding="utf-8")):
        if step.path:
            target = repository / step.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(small(step.text), encoding="utf-8")
            continue
        local = (
            small(step.command).replace(SCHEDULER_HOST, "127.0.0.1").replace(SCHEDULER_PORT, port)
        )
        if step.server:
            servers.append(
                subprocess.Popen(
                    ["bash", "-c", local],
                    cwd=repository,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
            if len(servers) == 1:
                wait_for_port(int(port), servers[0])
            ran.append(step.command)
            continue
        commands = demo_commands() if step.command == "make demo" else [local]
        for command in commands:
            run(command, repository, monkeypatch)
        ran.append(step.command)
    assert len(ran) >= 18 and len(servers) == 2
    results = repository / "results"
    for made in (
        "demo/report.html",
        "qingchuan_5000/report.html",
        "default_vs_baseline/paired_effects.csv",
        "default_vs_baseline/report.html",
        "compare-default-my_wage_subsidy_40/report.html",
        "my_training/analysis/summary.md",
        "my_training_dask/manifest.json",
        "my_training_cluster/manifest.json",
        "notebook",
    ):
        assert (results / made).exists(), made
    cluster = load_sweep(results / "my_training_cluster")
    local_runs = load_sweep(results / "my_training")
    pd.testing.assert_frame_equal(cluster.summary, local_runs.summary, check_exact=True)


def test_commands_not_run_are_few_and_say_why() -> None:
    lines = [
        line
        for kind, body in FENCE.findall(GUIDE.read_text(encoding="utf-8"))
        if kind == "sh"
        for line in body.splitlines()
        if NOT_RUN in line
    ]
    assert 0 < len(lines) <= MOST_NOT_RUN
    for line in lines:
        reason = line.split(NOT_RUN, 1)[1].strip()
        assert reason.startswith(("starts a server", "installs packages")), line


def test_make_demo_is_replaced_by_its_recipe() -> None:
    commands = demo_commands()
    assert commands[0].startswith(f"{WSIM} run scenarios/default.toml --out results/demo")
    assert commands[0].endswith(f"--households {HOUSEHOLDS} --months {MONTHS}")
    assert commands[1] == f"{WSIM} report results/demo"
