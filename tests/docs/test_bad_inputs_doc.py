"""docs/bad-inputs.md counts the catalogue of malformed files as it is."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "bad-inputs.md"
CATALOGUE = ROOT / "tests" / "bad_inputs"
ROW = re.compile(r"^\|[^|]+\| (\d+) \| `tests/bad_inputs/(\w+)/` \|", re.MULTILINE)


def test_the_page_counts_each_folder_of_the_catalogue() -> None:
    text = PAGE.read_text(encoding="utf-8")
    counted = {folder: int(count) for count, folder in ROW.findall(text)}
    actual = {p.name: len(list(p.glob("*.toml"))) for p in CATALOGUE.iterdir() if p.is_dir()}
    actual = {folder: n for folder, n in actual.items() if n}
    assert counted == actual
    assert f"{sum(actual.values())} files" in text
