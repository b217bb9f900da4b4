"""The dashboard in headless Chromium: set the run size, move a lever, run, compare.

At a laptop's 1366 x 768 the tests also check that every text (the figures' included)
is at least 11 CSS px, that Run and Compare are in view without scrolling, that the
figures are dated and banded, that the paired effect has an interval (or says
"unclear") and that the CSV download holds the numbers shown. Screenshots are kept in
results/test-artefacts/.

The app runs as `solara run app.py` on a free loopback port, reading a scenario folder
made for the test: copies of baseline.toml and default.toml, a small county (default
policy, 4,000 households at real scale, so a run of 400 has workshops) and a file that
fails validation. Playwright drives Debian's Chromium (`/usr/bin/chromium`; `make
browser` installs it).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from experiments.compare import without_policy
from experiments.dashboard import (
    CHARTS,
    DEFAULT_REPLICATES,
    DOWNLOAD_COLUMNS,
    FIGURE_DPI,
    NO_INTERVAL,
    band,
    chart_data,
    chart_figure,
    configure,
    replicate_runs,
)
from model.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 90  # a cold start imports solara, matplotlib and the model
SERVER_STOP_TIMEOUT_S = 10
POLL_S = 0.25
UI_TIMEOUT_MS = 60_000  # page load, replicates of 400 households for 12 months, a redraw
HOUSEHOLDS, MONTHS, REPLICATES = 400, 12, DEFAULT_REPLICATES
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}  # the commonest laptop screen
MIN_FONT_PX = 11  # smallest readable text at that size
SCREENSHOTS = ROOT / "results" / "test-artefacts"
SMALL_COUNTY = """\
extends = "default.toml"
name = "small_county"

[run]
months = 12

[county]
households = 4000   # scale 0.1 at 400 households: workshops open from the start
"""
BROKEN = """\
extends = "baseline.toml"
name = "broken"

[policy.wage_subsidy]
share_of_poor_wage_bill = 1.5   # a share above 1: rejected
"""

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"Debian's Chromium is not installed at {CHROMIUM}: `make browser` installs it "
    "(apt-get install chromium)",
)


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_answers(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Poll `url` until it answers 200; fail with the server's log if it dies or is slow."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"solara exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=POLL_S * 4) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(POLL_S)
    pytest.fail(f"solara did not answer at {url} in {SERVER_START_TIMEOUT_S} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def scenario_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scenarios")
    for name in ("baseline.toml", "default.toml"):
        shutil.copy(ROOT / "scenarios" / name, folder / name)
    (folder / "small_county.toml").write_text(SMALL_COUNTY, encoding="utf-8")
    (folder / "broken.toml").write_text(BROKEN, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def app_url(scenario_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("solara") / "server.log"
    env = {
        **os.environ,
        "WSIM_SCENARIO_DIR": str(scenario_dir),
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
    }
    command = [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(ROOT / "app.py"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--production",
        "--no-open",
    ]
    with open(log, "wb") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_answers(url, server, log)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, app_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    page.goto(app_url)
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_visible()
    try:
        yield page
    finally:
        context.close()


def choose_scenario(page: Page, name: str) -> None:
    page.get_by_role("button", name="Scenario").click()
    page.get_by_role("option", name=name).click()


def set_number(page: Page, label: str, value: int) -> None:
    field = page.get_by_role("textbox", name=label)
    field.fill(str(value))
    field.press("Enter")


def run_and_wait(page: Page, number: int) -> None:
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator(".run-status")).to_contain_text(f"Run {number}:")
    expect(page.locator(".run-status")).to_contain_text(f"month {MONTHS} of {MONTHS}")
    expect(page.locator(".run-status")).to_contain_text("done")


FIGURE_DIGEST = """async img => {
    const data = await (await fetch(img.src)).arrayBuffer();
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    return Array.from(hash, b => b.toString(16).padStart(2, "0")).join("");
}"""


def headcount_figure(page: Page, previous: str | None = None) -> str:
    """SHA-256 of the headcount figure's image, once it differs from `previous`."""
    image = page.locator(".headcount-figure img")
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    while (digest := image.evaluate(FIGURE_DIGEST)) == previous:
        if time.monotonic() > deadline:
            pytest.fail("the headcount figure did not change")
        page.wait_for_timeout(POLL_S * 1000)
    return str(digest)


def test_moving_the_quota_slider_changes_the_run_and_baseline_overlays(page: Page) -> None:
    expect(page.get_by_text("press Run")).to_be_visible()
    choose_scenario(page, "small_county.toml")
    set_number(page, "Households", HOUSEHOLDS)
    set_number(page, "Replicates", 1)  # one replicate: the quickest run, no intervals
    expect(page.get_by_role("textbox", name="Months")).to_have_value(str(MONTHS))

    run_and_wait(page, 1)
    expect(page.locator(".run-status")).to_contain_text("replicate 1 of 1")
    expect(page.locator(".run-status")).to_contain_text(f"{HOUSEHOLDS:,} households")
    headcount = page.locator(".numbers tr", has_text="Poverty headcount")
    first_headcount, first_figure = headcount.inner_text(), headcount_figure(page)

    quota = page.get_by_role("slider", name="% of staff poor")
    quota.focus()
    quota.press("End")
    expect(quota).to_have_attribute("aria-valuenow", "100")
    run_and_wait(page, 2)
    expect(headcount).not_to_have_text(first_headcount)
    second_figure = headcount_figure(page, previous=first_figure)

    page.get_by_role("button", name="Compare with baseline").click()
    expect(page.locator(".baseline-status")).to_contain_text("no policy")
    expect(page.locator(".baseline-status")).to_contain_text("done")
    expect(page.locator(".numbers")).to_contain_text("Difference")
    ratio = page.locator(".effects tr", has_text="Extra yuan per extra net exit")
    expect(ratio).to_contain_text(NO_INTERVAL)
    headcount_figure(page, previous=second_figure)  # the baseline is drawn on it
    screenshot(page, "compare")
    assert second_figure != first_figure


def test_bad_input_shows_the_reason_not_a_traceback(page: Page) -> None:
    choose_scenario(page, "broken.toml")
    expect(page.get_by_text("share_of_poor_wage_bill")).to_be_visible()

    choose_scenario(page, "default.toml")
    set_number(page, "Households", 5)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("households: expected 100 to 200,000, got 5")).to_be_visible()
    assert "Traceback" not in page.locator("body").inner_text()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"dashboard_{name}.png")


SMALL_TEXT = """min => {
    const small = [];
    for (const el of document.querySelectorAll("body *")) {
        const own = Array.from(el.childNodes).some(
            n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
        const style = getComputedStyle(el), box = el.getBoundingClientRect();
        if (!own || style.visibility === "hidden" || box.width === 0 || box.height === 0) continue;
        if (parseFloat(style.fontSize) < min)
            small.push(`${el.tagName}.${el.className} ${style.fontSize}: ${el.textContent}`);
    }
    return small;
}"""
IMAGE_SIZE = "img => [img.naturalWidth, img.getBoundingClientRect().width]"


def in_view(page: Page, name: str) -> bool:
    box = page.get_by_role("button", name=name, exact=True).bounding_box()
    assert box is not None
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= VIEWPORT["width"]
        and box["y"] + box["height"] <= VIEWPORT["height"]
    )


def smallest_font_pt(figure: Figure) -> float:
    """The smallest font of any text drawn on the figure (points)."""
    figure.canvas.draw()
    return min(float(t.get_fontsize()) for t in figure.findobj(Text) if t.get_text().strip())


def local_figures(scenario_dir: Path) -> dict[str, Figure]:
    """The page's figures of the test's run, drawn here: two replicates, with the baseline."""
    chosen = configure(scenario_dir / "small_county.toml", HOUSEHOLDS, MONTHS, {})
    counterfactual = without_policy(chosen, load_scenario(scenario_dir / "baseline.toml"))
    *_, run = replicate_runs(chosen, 2, refresh_seconds=math.inf)
    *_, base = replicate_runs(counterfactual, 2, refresh_seconds=math.inf)
    return {c.name: chart_figure(c, band(chart_data(c, run, base), c.bounds)) for c in CHARTS}


def download(page: Page) -> pd.DataFrame:
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the numbers shown (CSV)").click()
    return pd.read_csv(info.value.path(), keep_default_na=False, na_values=[""])


def test_on_a_laptop_screen_text_is_readable_and_the_numbers_shown_download(
    page: Page, scenario_dir: Path
) -> None:
    assert in_view(page, "Run") and in_view(page, "Compare with baseline")
    screenshot(page, "start")
    choose_scenario(page, "small_county.toml")
    set_number(page, "Households", HOUSEHOLDS)
    expect(page.get_by_role("textbox", name="Replicates")).to_have_value(str(REPLICATES))
    page.get_by_role("button", name="Compare with baseline").click()
    for status in (".run-status", ".baseline-status"):
        expect(page.locator(status)).to_contain_text(f"replicate {REPLICATES} of {REPLICATES}")
        expect(page.locator(status)).to_contain_text(f"month {MONTHS} of {MONTHS} (2016-12), done")
    expect(page.locator(".effects")).to_contain_text(f"{REPLICATES} replicate pairs")
    assert in_view(page, "Run") and in_view(page, "Compare with baseline")
    screenshot(page, "compared")

    assert page.evaluate(SMALL_TEXT, MIN_FONT_PX) == []
    for name, figure in local_figures(scenario_dir).items():
        natural, shown = page.locator(f".{name}-figure img").evaluate(IMAGE_SIZE)
        assert natural == round(figure.get_figwidth() * FIGURE_DPI), name  # the same figure
        font_px = smallest_font_pt(figure) * FIGURE_DPI / 72 * shown / natural
        assert font_px >= MIN_FONT_PX, f"{name}: {font_px:.1f} px"

    exits = page.locator(".effects tr", has_text="Extra net exits").inner_text().split()
    assert re.fullmatch(r"[+-][\d,]+", exits[-1]) and re.fullmatch(r"[+-][\d,]+", exits[-2])
    ratio = page.locator(".effects tr", has_text="Extra yuan per extra net exit").inner_text()
    assert re.search(r"exit\s+[\d,]+\s+[\d,]+\s+[\d,]+$", ratio) or ratio.endswith("unclear")

    table = download(page)
    assert list(table.columns) == DOWNLOAD_COLUMNS
    headline = table[table["table"] == "headline"]
    shown = page.locator(".numbers td").all_inner_texts()
    assert shown == [
        cell
        for measure, rows in headline.groupby("measure", sort=False)
        for cell in [measure, *rows["text"]]
    ]
    headcount = table[table["table"] == "headcount"]
    assert set(headcount["date"]) == {f"2016-{m:02d}" for m in range(1, 13)} | {"2015-12"}
    replicates = headcount[headcount["statistic"] == "replicate"]
    assert replicates.groupby(["column", "month"]).size().eq(REPLICATES).all()
    drawn = headcount[headcount["statistic"] != "replicate"]
    final = drawn[drawn["month"] == MONTHS].pivot(
        index="column", columns="statistic", values="value"
    )
    assert (final["ci_low"] < final["mean"]).all() and (final["mean"] < final["ci_high"]).all()
    assert len(final) == 2  # the scenario and no policy, each with its band
    page.locator(".spending-figure").scroll_into_view_if_needed()
    screenshot(page, "figures")
