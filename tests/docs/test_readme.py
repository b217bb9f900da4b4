"""The README's repository layout: short, and true to the tree."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYOUT_LINES_MAX = 10  # the layout must fit on one screen of the README


def layout_block() -> list[str]:
    """The lines of the fenced block under '## Repository layout'."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Repository layout", 1)[1]
    return section.split("```", 2)[1].strip("\n").splitlines()


def test_layout_fits_in_ten_lines():
    assert 0 < len(layout_block()) <= LAYOUT_LINES_MAX


def test_every_path_the_layout_names_exists():
    named = {
        m
        for line in layout_block()
        for m in re.findall(r"([\w.-]+/|[\w-]+\.(?:py|md|ipynb))", line)
    }
    folders = {"model/", "scenarios/", "experiments/", "tests/", "docs/", "benchmarks/"}
    assert folders <= named
    bases = [
        ROOT,
        ROOT / "model",
        ROOT / "experiments",
        ROOT / "docs",
        ROOT / "notebooks",
        ROOT / "scenarios",
        ROOT / "tools",
        ROOT / "tests",
    ]
    missing = [n for n in named if not any((base / n.rstrip("/")).exists() for base in bases)]
    assert not missing, f"the README layout names paths that do not exist: {missing}"
