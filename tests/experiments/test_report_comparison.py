"""The report of a three-arm comparison: scenario once, changed keys, units, size on screen.

One `wsim compare` of the tiny county against two reforms (200 households, 6 months, 3
replicates) is reported once for the module; its tables are read back from the HTML.
The page is loaded in headless Chromium at 1366 x 768 (Debian's `/usr/bin/chromium`,
as the dashboard test) and a full-page screenshot kept in results/test-artefacts/.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from experiment_helpers import ROOT, TINY, Wsim, write_reform
from playwright.sync_api import sync_playwright
from test_report import assert_self_contained, made_report

from experiments.compare import DIFFERENCES

ARTEFACTS = ROOT / "results" / "test-artefacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
VIEWPORT = {"width": 1366, "height": 768}
SCREENS = 8  # the most screens of the viewport's height the report may take
FAR_PARK = """\
# The tiny county with its workshops further from the villages.
extends = "{tiny}"
name = "far_park"

[county]
park_distance_km_mean = 40.0  # source: seed 001, villages up to 40 km from the park
"""
COMPARE_SECTIONS = (
    "Summary by scenario (mean of replicates)",
    "Differences from tiny",
    "Cost-effectiveness against tiny (95% Fieller CI)",
    "Figures",
    "Scenario files",
    "Manifest",
)
DIFFERENCE_CAPTIONS = [
    "Shares (percentage points)",
    "Counts (households, household-months)",
    "Money (yuan)",
]
COUNTED = re.compile(r"\((households|household-months)\b")  # a heading of counts
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


@dataclass
class Shown:
    """A table of the page: its caption and rows of cell text, the header row first."""

    caption: str = ""
    rows: list[list[str]] = field(default_factory=list)


class Tables(HTMLParser):
    """Every table of a page (`Shown`), cell text unescaped."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: list[Shown] = []
        self._cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(Shown())
        elif tag == "tr":
            self.tables[-1].rows.append([])
        elif tag in ("td", "th", "caption"):
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._cell is None or tag not in ("td", "th", "caption"):
            return
        text, self._cell = "".join(self._cell), None
        if tag == "caption":
            self.tables[-1].caption = text
        else:
            self.tables[-1].rows[-1].append(text)


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory, wsim: Wsim) -> tuple[Path, str]:
    """The three-arm comparison's directory and its report."""
    base = tmp_path_factory.mktemp("three")
    far_park = base / "far_park.toml"
    far_park.write_text(FAR_PARK.format(tiny=TINY.as_posix()), encoding="utf-8")
    out = base / "out"
    size = ("--households", "200", "--months", "6", "--replicates", "3", "--workers", "1")
    result = wsim("compare", TINY, write_reform(base), far_park, *size, "--out", out)
    assert result.exit_code == 0, result.output
    return out, made_report(wsim, out)


def tables(page: str) -> list[Shown]:
    """The page's tables."""
    return Tables(page).tables


def captioned(page: str, caption: str, after: str) -> list[list[str]]:
    """The rows of the first table with `caption` after the heading `after`."""
    section = page[page.index(f"<h2>{after}</h2>") :]
    found = [t for t in tables(section) if t.caption == caption]
    assert found, caption
    return found[0].rows


def test_report_has_every_section_in_its_contents_figures_and_nothing_external(
    compared: tuple[Path, str],
) -> None:
    out, page = compared
    assert_self_contained(page, COMPARE_SECTIONS, images=10)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["git_sha"] in page


def test_the_first_arm_s_files_appear_once_collapsed_and_each_arm_as_its_changes(
    compared: tuple[Path, str],
) -> None:
    out, page = compared
    text = html.unescape(page)
    first, *others = json.loads((out / "manifest.json").read_text())["scenarios"]
    assert [Path(f["path"]).name for f in first["scenario_files"]] == [
        "tiny.toml",
        "default.toml",
        "baseline.toml",
    ]
    for file in first["scenario_files"]:
        assert text.count(file["text"]) == 1, file["path"]
    assert "<details><summary>tiny: tiny.toml and the 2 files it extends" in page
    assert "<details open" not in page
    expected = {
        "tiny_wage_60": [
            "policy.wage_subsidy.share_of_poor_wage_bill",
            "0.6",
            "share",
            "reform: three times the default",
        ],
        "far_park": [
            "county.park_distance_km_mean",
            "40",
            "km",
            "source: seed 001, villages up to 40 km from the park",
        ],
    }
    for arm in others:
        assert text.count(arm["scenario_files"][0]["text"]) == 1  # its own file, once
        rows = [r for t in tables(page) if t.rows[0][0] == "Key" for r in t.rows[1:]]
        key, value, unit, source = expected[arm["arm"]]
        found = [r for r in rows if r[0] == key]
        assert len(found) == 1 and found[0][2:] == [value, unit, source], rows
        assert found[0][1]  # the key's name in words
    assert "<h3>far_park: 1 key changed from tiny</h3>" in page


def test_no_cell_shows_a_fractional_count_of_households(compared: tuple[Path, str]) -> None:
    out, page = compared
    summary = pd.read_parquet(out / "tables" / "summary.parquet")
    means = summary.groupby("arm")[["net_exits", "poor_households_end"]].mean()
    assert (means % 1 != 0).any().any()  # the means would show fractions unrounded
    checked = 0
    for table in tables(page):
        header, *rows = table.rows
        for row in rows:
            counted = [c for h, c in zip(header, row, strict=True) if COUNTED.search(h)]
            cells = row[1:] if COUNTED.search(row[0]) else counted
            for cell in cells:
                assert all("." not in n for n in NUMBER.findall(cell)), (header, row)
                checked += 1
    assert checked > 40


def test_differences_come_as_tables_of_shares_counts_and_money(
    compared: tuple[Path, str],
) -> None:
    out, page = compared
    section = page[page.index("<h2>Differences from tiny</h2>") : page.index("<h2>Cost-")]
    assert [t.caption for t in tables(section)] == DIFFERENCE_CAPTIONS
    shares, counts, money = (
        captioned(page, c, "Differences from tiny") for c in DIFFERENCE_CAPTIONS
    )
    assert all(h.endswith("(percentage points)") for h in shares[0][1:])
    assert all(c.endswith(" pp") for row in shares[1:] for c in row[1:])
    assert all(COUNTED.search(h) for h in counts[0][1:])
    assert all("yuan" in h for h in money[0][1:]) and "yuan" not in " ".join(shares[0] + counts[0])
    assert not any("%" in c or "pp" in c for row in money[1:] for c in row[1:])
    stored = pd.read_csv(out / DIFFERENCES).set_index(["arm", "outcome"])
    spending = stored.loc[("far_park", "total_spending_yuan"), "difference"]
    headcount = stored.loc[("far_park", "headcount"), "difference"]
    far_park = {row[0]: row for row in money[1:]}["far_park"]
    assert far_park[money[0].index("Spending (yuan)")].startswith(f"{spending:+,.0f} [")
    points = round(headcount * 100, 1)
    shown = {row[0]: row[1] for row in shares[1:]}["far_park"]
    assert shown.startswith(f"{points:+.1f} [" if points else "0.0 [")


def test_cost_effectiveness_separates_gains_from_yuan(compared: tuple[Path, str]) -> None:
    _, page = compared
    after = "Cost-effectiveness against tiny (95% Fieller CI)"
    gains = captioned(page, "Counts (households, household-months)", after)
    money = captioned(page, "Money (yuan)", after)
    assert gains[0][1:] == [
        "Extra net exits (households)",
        "Poor household-months averted (household-months)",
    ]
    assert money[0][1:] == [
        "Extra spending (yuan)",
        "Yuan per extra net exit (yuan, 95% Fieller CI)",
        "Yuan per poor household-month averted (yuan, 95% Fieller CI)",
    ]
    assert [row[0] for row in money[1:]] == ["tiny_wage_60", "far_park"]


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"Debian's Chromium is not installed at {CHROMIUM}: `make browser` installs it "
    "(apt-get install chromium)",
)
def test_the_report_fits_in_eight_screens(compared: tuple[Path, str]) -> None:
    out, _ = compared
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto((out / "report.html").as_uri())
            height = page.evaluate("document.body.scrollHeight")
            page.screenshot(path=str(ARTEFACTS / "report_comparison.png"), full_page=True)
        finally:
            browser.close()
    assert height <= SCREENS * VIEWPORT["height"], height
    assert (ARTEFACTS / "report_comparison.png").stat().st_size > 0
