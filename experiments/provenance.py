"""Which code made a result: versions of workshop-sim, Python and packages, and the git commit.

Every manifest (of a run, a comparison or a sweep) records them, so a result can be
traced back to the code and environment that made it.
"""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
VERSION_KEY = "workshop_sim_version"  # key of workshop-sim's version in `code_version`
PACKAGES = ("numpy", "mesa", "pandas", "pyarrow", "matplotlib", "pydantic")
GIT_TIMEOUT_S = 10


def package_version(package: str) -> str | None:
    """Installed version of a distribution package (None if it is not installed)."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def code_version() -> dict[str, Any]:
    """Versions of workshop-sim, Python and the main packages (`PACKAGES`), and the commit."""
    return {
        VERSION_KEY: package_version("workshop-sim"),
        "python_version": platform.python_version(),
        "package_versions": {name: package_version(name) for name in PACKAGES},
        "git_sha": git_sha(),
    }


def git_sha() -> str | None:
    """Commit of the code's git repository (``+dirty`` if changed), or None if unknown."""
    try:
        sha = _git("rev-parse", "HEAD")
        dirty = bool(_git("status", "--porcelain"))
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}+dirty" if dirty else sha


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=GIT_TIMEOUT_S,
    )
    return done.stdout.strip()
