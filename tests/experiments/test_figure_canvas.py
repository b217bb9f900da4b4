"""Every figure the package draws fits its canvas and has no empty panel; figures are fit
for a paper: calendar dates, no all-zero panels, bands within physical bounds, missing
values as gaps, replicates as bands, run metadata in captions not titles, PNG by default.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from figure_helpers import Drawn, empty_panels, outside_canvas, recording, tidy, with_dates
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.dates import ConciseDateFormatter, num2date
from matplotlib.figure import Figure
from scipy import stats as scipy_stats

from experiments.compare import Comparison, differences, plot_comparison
from experiments.figures import arms
from experiments.figures.discovery import plot_discovery
from experiments.figures.optimisation import plot_search
from experiments.figures.run import plot_poverty, plot_run
from experiments.figures.style import (
    MONTH_LABEL,
    NONE_DRAWN,
    line_style,
    month_dates,
    save_figure,
    time_axis,
)
from experiments.figures.sweep import plot_cost_effectiveness, plot_effects, plot_sensitivity
from experiments.intervals import DEFINED, UNDEFINED
from experiments.optimisation.search import OptimisationResult
from model.scenario import Scenario
from model.simulate import RunResult, simulate

T_975_2 = scipy_stats.t.ppf(0.975, 2)  # t quantile of a 95% interval over 3 replicates
RUN_STEMS = ("poverty", "income_sources", "activity", "spending")
ARM_STEMS = (
    "poverty",
    "flows",
    "activity",
    "employment_by_sex_carer",
    "poor_income",
    "workshops",
    "jobs_quota",
    "spending",
    "cost_effectiveness",
    "effects",
)
OTHER_FIGURES = {
    "sweep/effects",
    "sweep/cost_effectiveness",
    "sweep/sobol",
    "sweep/morris",
    "search/convergence",
    "search/pareto",
    "search/check",
    "discovery/prim_trajectory",
    "discovery/prim_box_limits",
    "discovery/failures_scatter",
    "discovery/feature_scores",
}
DATE_TICK = re.compile(r"^(\d{4}|[A-Z][a-z]{2}|\d{4}-\d{2}|[A-Z][a-z]{2}-\d{2})$")


@pytest.fixture(scope="module")
def replicates(tiny: Scenario, tiny_result: RunResult) -> list[RunResult]:
    """Replicates 0..2 of the tiny scenario."""
    return [tiny_result, *(simulate(tiny, replicate=r) for r in (1, 2))]


def effects_table() -> pd.DataFrame:
    """Paired differences of two arms on three outcomes, one of them all zero."""
    return pd.DataFrame(
        {
            "arm": ["reform", "bigger"] * 3,
            "outcome": ["headcount"] * 2 + ["net_exits"] * 2 + ["re_entries"] * 2,
            "difference": [-0.02, -0.03, 12.0, 20.0, 0.0, 0.0],
            "ci_low": [-0.04, -0.05, 4.0, 9.0, 0.0, 0.0],
            "ci_high": [0.0, -0.01, 20.0, 31.0, 0.0, 0.0],
        }
    )


def cost_table() -> pd.DataFrame:
    """Fieller ratios of two arms against the reference, one undefined."""
    nan = float("nan")
    return pd.DataFrame(
        {
            "arm": ["clear", "unclear"] * 2,
            "per": ["extra net exit"] * 2 + ["poor household-month averted"] * 2,
            "yuan_per_unit": [5000.0, nan, 40.0, 55.0],
            "ci_low": [3000.0, nan, 20.0, 30.0],
            "ci_high": [9000.0, nan, 90.0, 120.0],
            "status": [DEFINED, UNDEFINED, DEFINED, DEFINED],
        }
    )


def sensitivity_table() -> pd.DataFrame:
    """Sobol and Morris indices of two inputs on two outcomes."""
    return pd.DataFrame(
        {
            "outcome": ["net_exits"] * 2 + ["headcount"] * 2,
            "input": ["a", "b"] * 2,
            "S1": [0.6, 0.1, 0.3, 0.2],
            "S1_conf": [0.05, 0.02, 0.04, 0.03],
            "ST": [0.7, 0.2, 0.5, 0.3],
            "ST_conf": [0.1, 0.03, 0.05, 0.04],
            "mu_star": [4.0, 1.5, 0.02, 0.01],
            "mu_star_conf": [0.5, 0.4, 0.01, 0.005],
            "sigma": [1.0, 2.0, 0.01, 0.02],
        }
    )


def draw_search(out: Path) -> None:
    """The figures of a small synthetic budget search."""
    trace = pd.DataFrame(
        {
            "candidate": range(8),
            "score": [1.0, 3.0, 2.0, 5.0, 4.0, 6.0, 5.5, 5.8],
            "spending_yuan": [1e5, 3e5, 2e5, 5e5, 2.5e5, 7e5, 4e5, 6e5],
        }
    )
    convergence = pd.DataFrame({"candidate": range(8), "best_score": trace["score"].cummax()})
    result = OptimisationResult(
        trace=trace,
        convergence=convergence,
        chosen=trace.iloc[6],
        pareto=trace.iloc[[0, 2, 4, 6, 5]],
        check=pd.DataFrame(
            {
                "policy": ["chosen mix", "hand: wage subsidy", "hand: training"],
                "gain": [12.0, 8.0, -1.0],
                "ci_low": [6.0, 2.0, -5.0],
                "ci_high": [18.0, 14.0, 3.0],
            }
        ),
        difference=pd.DataFrame(),
        robustness="mean over 2 scenarios less one standard deviation",
        directory=out,
    )
    spec = SimpleNamespace(
        name="small_mix",
        base=SimpleNamespace(name="default"),
        file=SimpleNamespace(seed=5),
        outcome=SimpleNamespace(words="extra net exits (households)"),
    )
    plot_search(result, spec, out)  # type: ignore[arg-type]


def draw_discovery(out: Path) -> None:
    """The figures of a small synthetic scenario discovery."""
    rng = np.random.default_rng(3)
    points = pd.DataFrame({"a": rng.uniform(0, 1, 60), "b": rng.uniform(10, 20, 60)})
    points["value"] = points["a"] * 10 - points["b"]
    points["fails"] = points["value"] < -12
    trajectory = pd.DataFrame(
        {
            "box": range(4),
            "coverage": [1.0, 0.9, 0.8, 0.6],
            "density": [0.3, 0.5, 0.7, 0.9],
            "restricted_dimensions": [0, 1, 1, 2],
            "chosen": [False, False, True, False],
        }
    )
    box_limits = pd.DataFrame(
        {
            "parameter": ["a", "b"],
            "label": ["wage elasticity (share)", "migrant wage (yuan per month)"],
            "restricted": [True, True],
            "box_low": [0.0, 14.0],
            "box_high": [0.4, 20.0],
            "range_low": [0.0, 10.0],
            "range_high": [1.0, 20.0],
            "qp_low": [float("nan"), 0.01],
            "qp_high": [0.002, float("nan")],
        }
    )
    scores = pd.DataFrame(
        {"parameter": ["a", "b"], "label": box_limits["label"], "score": [0.7, 0.3]}
    )
    plot_discovery(
        points,
        trajectory,
        box_limits,
        scores,
        ("value", "net exits (households)"),
        "Failing: fewer than -12 net exits, 60 points",
        out,
    )


def draw_dated_arms(comparison: Comparison, start: dt.date, out: Path) -> None:
    """The arm figures by month with the scenario's start passed (calendar dates)."""
    tables, label = comparison.tables, comparison.label
    arms.plot_poverty_by_arm(tables["monthly"].drop(columns="date"), label, out, start=start)
    arms.plot_flows_by_year(tables["monthly"].drop(columns="date"), label, out, start=start)
    arms.plot_activity_by_arm(tables["activity"], label, out, start=start)
    arms.plot_employment_by_sex_carer(tables["activity"], label, out, start=start)
    arms.plot_workshops_by_arm(tables["workshops"], label, out, start=start)
    arms.plot_jobs_and_quota(tables["monthly"], {"tiny": 0.3}, label, out, start=start)


@pytest.fixture(scope="module")
def every_figure(
    tiny: Scenario,
    tiny_result: RunResult,
    replicates: list[RunResult],
    tiny_comparison: Comparison,
    tmp_path_factory: pytest.TempPathFactory,
) -> Drawn:
    """Every figure of the package, by ``folder/stem``: a run, replicates (paper style), a
    comparison (as `wsim compare` draws it, and with dates from the start), the sweep's
    analysis figures, a budget search and a scenario discovery."""
    out = tmp_path_factory.mktemp("canvas")
    with recording() as drawn:
        plot_run(tiny_result, tiny, out / "run")
        plot_run(replicates, tiny, out / "replicates", paper=True)
        plot_comparison(tiny_comparison, differences(tiny_comparison), out / "compare")
        draw_dated_arms(tiny_comparison, tiny.run.start, out / "dated")
        plot_effects(effects_table(), "baseline", "sweep s (seed 1)", out / "sweep")
        plot_cost_effectiveness(cost_table(), "baseline", "sweep s (seed 1)", out / "sweep")
        for method in ("sobol", "morris"):
            plot_sensitivity(sensitivity_table(), method, "sweep s (seed 1)", out / "sweep")
        draw_search(out / "search")
        draw_discovery(out / "discovery")
    return drawn


def test_every_figure_fits_its_canvas_and_has_no_empty_panel(every_figure: Drawn) -> None:
    expected = {
        *(f"{folder}/{stem}" for folder in ("run", "replicates") for stem in RUN_STEMS),
        *(f"compare/{stem}" for stem in ARM_STEMS),
        *OTHER_FIGURES,
    }
    assert expected <= set(every_figure)
    problems = {
        name: outside_canvas(fig) + [f"empty panel {i}" for i in empty_panels(fig)]
        for name, fig in every_figure.items()
    }
    assert {name: p for name, p in problems.items() if p} == {}


def test_legends_lie_off_every_panel(every_figure: Drawn) -> None:
    overlapping = []
    for name, fig in every_figure.items():
        fig.canvas.draw()
        legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
        for legend in legends:
            box = legend.get_window_extent()
            hits = [i for i, ax in enumerate(fig.axes) if box.overlaps(ax.get_window_extent())]
            if hits:
                overlapping.append((name, hits))
    assert overlapping == []


def panel_titles(fig: Figure) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


WORKSHOP_FORMS, WORKSHOP_STATUSES = ("factory", "park"), ("open", "idle")


def planted_workshops(count: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    """Workshops by form and status: `count[form, status][replicate]` from month 1 on, 0
    at month 0 and for every cell not in `count`."""

    def values(form: str, status: str, replicate: int, month: int, **_: Any) -> dict[str, float]:
        return {"count": count.get((form, status), [0.0] * 3)[replicate] if month else 0.0}

    return tidy(values, form=WORKSHOP_FORMS, status=WORKSHOP_STATUSES)


def test_an_all_zero_panel_is_dropped_and_named_in_the_caption(tmp_path: Path) -> None:
    workshops = planted_workshops(
        {
            ("factory", "open"): [3, 4, 5],
            ("park", "open"): [1, 1, 2],
            ("factory", "idle"): [1, 0, 0],
        }
    )
    with recording(keep_files=True) as drawn:
        paths = arms.plot_workshops_by_arm(workshops, "planted (seed 1)", tmp_path)
    fig = drawn[f"{tmp_path.name}/workshops"]
    assert panel_titles(fig) == ["factory, open", "park, open", "factory, idle"]
    caption = paths[-1].read_text()
    assert paths[-1].suffix == ".txt"
    assert "Left out (zero or missing throughout): park, idle." in caption
    csv = pd.read_csv(paths[1])
    assert ("park", "idle") not in set(zip(csv["form"], csv["status"], strict=True))


def test_a_figure_with_nothing_to_draw_says_so_in_one_panel(tmp_path: Path) -> None:
    with recording() as drawn:
        arms.plot_workshops_by_arm(planted_workshops({}), "planted (seed 1)", tmp_path)
    fig = drawn[f"{tmp_path.name}/workshops"]
    assert len(fig.axes) == 1
    assert [t.get_text() for t in fig.axes[0].texts] == [NONE_DRAWN]


def bands(ax: Axes) -> list[np.ndarray]:
    """The vertices (x, y) of each confidence band on `ax`."""
    return [
        np.asarray(c.get_paths()[0].vertices)
        for c in ax.collections
        if isinstance(c, PolyCollection)
    ]


def test_a_count_band_is_clipped_at_zero(tmp_path: Path) -> None:
    workshops = planted_workshops({("factory", "open"): [0, 0, 3]})  # mean 1, t CI below 0
    with recording() as drawn:
        arms.plot_workshops_by_arm(workshops, "planted (seed 1)", tmp_path)
    (ax,) = drawn[f"{tmp_path.name}/workshops"].axes
    half = T_975_2 * np.std([0, 0, 3], ddof=1) / np.sqrt(3)
    for vertices in bands(ax):
        simulated = vertices[:, 0] > vertices[:, 0].min()  # month 0 has no spread
        assert vertices[:, 1].min() == 0.0
        assert vertices[simulated, 1].max() == pytest.approx(1 + half)
        assert sorted(set(vertices[simulated, 1].round(9))) == [0.0, round(1 + half, 9)]


def test_a_share_band_is_clipped_at_one(tmp_path: Path) -> None:
    monthly = tidy(
        lambda replicate, **_: {"headcount": [0.97, 1.0, 1.0][replicate], "poverty_gap": 0.2}
    )
    with recording() as drawn:
        arms.plot_poverty_by_arm(monthly, "planted (seed 1)", tmp_path)
    ax = drawn[f"{tmp_path.name}/poverty"].axes[0]
    tops = [v[:, 1].max() for v in bands(ax)]
    assert tops == [1.0, 1.0]
    assert ax.lines[0].get_ydata()[1] == pytest.approx(0.99)


def test_the_poor_share_of_an_arm_without_jobs_is_a_gap_not_zero(tmp_path: Path) -> None:
    def jobs(arm: str, replicate: int, month: int, **_: Any) -> dict[str, float]:
        filled = 10.0 + replicate if arm == "reform" and month else 0.0
        return {
            "jobs_filled": filled,
            "poor_share_of_jobs": 0.3 + 0.01 * replicate if filled else 0.0,
        }

    with recording() as drawn:
        arms.plot_jobs_and_quota(tidy(jobs), {"baseline": None, "reform": 0.3}, "x", tmp_path)
    share_panel = drawn[f"{tmp_path.name}/jobs_quota"].axes[1]
    baseline, reform = (
        line for line in share_panel.lines if line.get_label() in ("baseline", "reform")
    )
    assert np.isnan(np.asarray(baseline.get_ydata(), dtype=float)).all()
    reform_y = np.asarray(reform.get_ydata(), dtype=float)
    assert np.isnan(reform_y[0]) and reform_y[1:] == pytest.approx([0.31] * 12)


def test_months_count_from_the_start_the_month_before_it_is_the_starting_state() -> None:
    dates = month_dates([0, 1, 12, 13], dt.date(2016, 1, 15))
    assert [str(d) for d in dates] == ["2015-12-01", "2016-01-01", "2016-12-01", "2017-01-01"]
    frame = with_dates(pd.DataFrame({"month": [0, 1, 2]}))
    assert [str(d)[:10] for d in time_axis(frame)] == ["2015-12-01", "2016-01-01", "2016-02-01"]
    assert list(time_axis(frame.drop(columns="date"))) == [0, 1, 2]


def date_labels(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.get_xticklabels() if t.get_text()]


def test_run_figures_have_calendar_months_on_the_x_axis(every_figure: Drawn) -> None:
    for folder in ("run", "replicates"):
        for stem in RUN_STEMS:
            fig = every_figure[f"{folder}/{stem}"]
            fig.canvas.draw()
            bottom = fig.axes[-1]
            assert isinstance(bottom.xaxis.get_major_formatter(), ConciseDateFormatter), stem
            labels = date_labels(bottom)
            assert labels and all(DATE_TICK.match(label) for label in labels), labels
            assert "2016" in labels
    x = every_figure["run/poverty"].axes[0].lines[0].get_xdata()
    assert [num2date(v).date() for v in np.asarray(x, dtype="datetime64[D]").astype(float)[:2]] == [
        dt.date(2015, 12, 1),
        dt.date(2016, 1, 1),
    ]


def test_arm_figures_date_months_from_the_start_or_the_date_column_else_index_them(
    every_figure: Drawn,
) -> None:
    for stem in ("poverty", "activity", "employment_by_sex_carer", "workshops", "jobs_quota"):
        axes = every_figure[f"dated/{stem}"].axes
        assert all(isinstance(ax.xaxis.get_major_formatter(), ConciseDateFormatter) for ax in axes)
    # as `wsim compare` draws them: dated from the first arm's start, tables with a date
    # column (monthly) or without one (activity) alike
    for stem in ("poverty", "activity", "workshops"):
        ax = every_figure[f"compare/{stem}"].axes[-1]
        assert isinstance(ax.xaxis.get_major_formatter(), ConciseDateFormatter)
        assert ax.get_xlabel().replace("\n", " ") != MONTH_LABEL


def test_png_only_by_default_svg_on_request(
    tiny_result: RunResult, tiny: Scenario, tmp_path: Path
) -> None:
    default = plot_poverty(tiny_result, tiny, tmp_path / "default")
    assert [p.suffix for p in default] == [".png", ".csv", ".txt"]
    assert not list((tmp_path / "default").glob("*.svg"))
    both = plot_poverty(tiny_result, tiny, tmp_path / "both", formats=("png", "svg"))
    assert [p.suffix for p in both] == [".png", ".svg", ".csv", ".txt"]
    assert both[0].read_bytes().startswith(b"\x89PNG")
    assert "<svg" in both[1].read_text()
    with pytest.raises(ValueError, match="bogus"):
        save_figure(Figure(), pd.DataFrame(), tmp_path / "x", formats=("bogus",))


def figure_words(fig: Figure) -> str:
    return " ".join([t.get_text() for t in fig.texts] + [ax.get_title() for ax in fig.axes])


@pytest.mark.parametrize("paper", [False, True])
def test_titles_hold_no_run_metadata_and_the_caption_does(
    tiny_result: RunResult, tiny: Scenario, tmp_path: Path, paper: bool
) -> None:
    with recording(keep_files=True) as drawn:
        paths = plot_run(tiny_result, tiny, tmp_path, replicate=3, paper=paper)
    for stem in RUN_STEMS:
        words = figure_words(drawn[f"{tmp_path.name}/{stem}"])
        assert "seed" not in words and "tiny" not in words and "replicate" not in words
        assert (words.strip() == "") == paper, words
        caption = (tmp_path / f"{stem}.txt").read_text()
        assert "Scenario tiny, seed 7, replicate 3, 400 simulated households." in caption
        assert "Months 2015-12 to 2016-12." in caption
    assert len(paths) == 12


def test_replicates_draw_the_mean_with_a_t_band(
    every_figure: Drawn, replicates: list[RunResult]
) -> None:
    headcounts = np.array([r.monthly["headcount"].to_numpy() for r in replicates])
    mean = headcounts.mean(axis=0)
    half = T_975_2 * headcounts.std(axis=0, ddof=1) / np.sqrt(3)
    ax = every_figure["replicates/poverty"].axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), mean, rtol=1e-12)
    (band,) = bands(ax)
    low, high = np.clip(mean - half, 0, 1), np.clip(mean + half, 0, 1)
    by_x = pd.Series(band[:, 1]).groupby(band[:, 0])
    np.testing.assert_allclose(by_x.min().to_numpy(), low, rtol=1e-9)
    np.testing.assert_allclose(by_x.max().to_numpy(), high, rtol=1e-9)
    people = np.array(
        [r.tables["activity"].groupby("month")["people"].sum().to_numpy() for r in replicates]
    )
    activity = every_figure["replicates/activity"].axes[0]
    total = bands(activity)[-1]  # drawn over the stacked areas
    assert len(bands(activity)) == len(activity.get_legend().get_texts()) + 1
    top = pd.Series(total[:, 1]).groupby(total[:, 0]).max().to_numpy()
    spread = T_975_2 * people.std(axis=0, ddof=1) / np.sqrt(3)
    np.testing.assert_allclose(top, people.mean(axis=0) + spread, rtol=1e-9)


def test_lines_differ_in_colour_dash_and_marker_and_lie_above_their_bands(
    every_figure: Drawn,
) -> None:
    styles = [line_style(i) for i in range(8)]
    assert len({s["color"] for s in styles}) == 8
    assert len({(s["linestyle"], s["marker"]) for s in styles}) == 8
    assert any(len(set(to_rgb(s["color"]))) > 1 for s in styles)  # not greys only
    ax = every_figure["compare/poverty"].axes[0]
    tiny, reform = ax.lines[:2]
    assert tiny.get_color() != reform.get_color()
    assert tiny.get_linestyle() != reform.get_linestyle()
    assert tiny.get_marker() != reform.get_marker()
    assert min(line.get_zorder() for line in ax.lines) > max(c.get_zorder() for c in ax.collections)
