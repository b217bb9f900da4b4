"""`wsim report`: one self-contained HTML file for a run, a comparison and a sweep."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import pytest
from experiment_helpers import TINY, Wsim
from sweep_helpers import FACTORIAL, UNCERTAIN, spec_of, sweep_serial

from experiments.report import REPORT

IMAGE = re.compile(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
RUN_SECTIONS = ("Summary", "Figures", "Scenario files", "Manifest")
SWEEP_SECTIONS = (
    "Effects against the baseline (paired, 95% t CI)",
    "Cost-effectiveness against the baseline (95% Fieller CI)",
    "Figures",
    "Sweep spec and scenario files",
    "Manifest",
)


def made_report(wsim: Wsim, directory: Path, *args: str | Path) -> str:
    """`wsim report DIR` (exit 0); the HTML it wrote."""
    result = wsim("report", directory, *args)
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip().removeprefix("report written to "))
    return path.read_text(encoding="utf-8")


def assert_self_contained(page: str, sections: tuple[str, ...], images: int) -> None:
    """Expected headings, each linked from the table of contents, at least `images`
    embedded PNGs, nothing fetched from elsewhere."""
    headings = [html.unescape(h) for h in re.findall(r"<h2>([^<]*)</h2>", page)]
    assert [h for h in headings if h in sections] == list(sections)
    anchors = re.findall(r'<section id="([^"]+)">\s*<h2>', page)
    contents = re.findall(r'<li><a href="#([^"]+)">([^<]*)</a></li>', page)
    assert [a for a, _ in contents] == anchors and len(set(anchors)) == len(headings)
    assert [html.unescape(h) for _, h in contents] == headings
    payloads = IMAGE.findall(page)
    assert len(payloads) >= images
    assert all(base64.b64decode(p).startswith(b"\x89PNG\r\n\x1a\n") for p in payloads)
    assert not EXTERNAL.search(page)
    assert "<script" not in page and "<link" not in page


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, wsim: Wsim) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    assert wsim("run", TINY, "--months", "6", "--out", out).exit_code == 0
    return out


def test_run_report_embeds_figures_summary_scenario_chain_and_manifest(
    run_dir: Path, wsim: Wsim
) -> None:
    page = made_report(wsim, run_dir)
    assert (run_dir / REPORT).exists()
    assert_self_contained(page, RUN_SECTIONS, images=4)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    text = html.unescape(page)
    assert manifest["git_sha"] and manifest["git_sha"] in text
    for file in manifest["scenario_files"]:  # tiny, default, baseline: as run, comments kept
        assert file["path"] in text and text.count(file["text"]) == 1
    assert "# source:" in text and "# assumption:" in text
    assert "<td>Net exits (households)</td>" in page and "poverty.csv" in page


def test_report_of_a_run_against_a_counterfactual_has_its_effects_and_warnings(
    wsim: Wsim, tmp_path: Path
) -> None:
    out = tmp_path / "vs"
    result = wsim(
        "run", TINY, "--months", "6", "--vs", "baseline", "--replicates", "2", "--workers",
        "1", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = made_report(wsim, out)
    sections = (
        "Summary",
        "Warnings",
        "Paired effects against baseline (2 replicates, 95% CI)",
        "Counterfactual scenario files: baseline",
        "Figures",
        "Scenario files",
        "Manifest",
    )
    assert_self_contained(page, sections, images=4)
    manifest = json.loads((out / "manifest.json").read_text())
    text = html.unescape(page)
    assert all(warning in text for warning in manifest["warnings"])
    assert "yuan per extra net exit" in page and "poor household-months averted" in page
    baseline = manifest["counterfactual"]["scenario_files"][0]
    assert baseline["text"] in text


def test_report_of_a_run_without_warnings_has_no_warnings_section(
    wsim: Wsim, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert wsim("run", TINY, "--months", "1", "--out", out).exit_code == 0
    assert json.loads((out / "manifest.json").read_text())["warnings"] == []
    assert "<h2>Warnings</h2>" not in made_report(wsim, out)


def test_report_out_option_writes_elsewhere(run_dir: Path, wsim: Wsim, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere" / "mine.html"
    page = made_report(wsim, run_dir, "--out", out)
    assert out.read_text(encoding="utf-8") == page


def test_sweep_report_draws_missing_figures_and_shows_the_analysis(
    tmp_path: Path, wsim: Wsim
) -> None:
    directory = tmp_path / "sweep"
    spec = spec_of(tmp_path, FACTORIAL)
    sweep_serial(spec, directory)
    assert not (directory / "plots").exists()
    page = made_report(wsim, directory)
    assert {p.stem for p in (directory / "plots").glob("*.png")} == {
        "poverty",
        "spending",
        "effects",
        "cost_effectiveness",
    }
    assert_self_contained(page, SWEEP_SECTIONS, images=4)
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["spec_hash"] in page
    assert spec.text in html.unescape(page) and "training=False" in page
    assert "Difference (outcome&#39;s unit)</th>" in page


def test_sensitivity_sweep_report_shows_the_indices(tmp_path: Path, wsim: Wsim) -> None:
    directory = tmp_path / "sweep"
    sweep_serial(spec_of(tmp_path, UNCERTAIN), directory)
    page = made_report(wsim, directory)
    assert_self_contained(page, ("Sensitivity: Sobol indices", "Figures", "Manifest"), images=1)
    assert (directory / "plots" / "sobol.png").exists()


def test_report_of_a_directory_without_a_manifest_is_refused(tmp_path: Path, wsim: Wsim) -> None:
    result = wsim("report", tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {tmp_path}: manifest.json: ")
    assert not (tmp_path / REPORT).exists()


def test_report_out_must_not_be_a_directory(run_dir: Path, wsim: Wsim, tmp_path: Path) -> None:
    result = wsim("report", run_dir, "--out", tmp_path)
    assert result.exit_code == 1 and "--out" in result.stderr
