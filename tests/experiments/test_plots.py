"""Figures of a run and of compared arms: files written (PNG by default, SVG on request, a
caption), each CSV holds exactly the plotted numbers, and confidence bands are t intervals
across replicates."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from experiment_helpers import REFORM_NAME, SCENARIOS
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.dates import ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.text import Text
from scipy import stats as scipy_stats

from experiments.compare import Comparison, cost_effectiveness, differences, plot_comparison
from experiments.figures import arms as compare_plots
from experiments.figures import run as plots
from experiments.figures import style
from experiments.figures import sweep as analysis_plots
from experiments.figures.run import (
    PLOTS,
    plot_activity,
    plot_income_sources,
    plot_poverty,
    plot_run,
    plot_spending,
)
from experiments.figures.style import MONTH_LABEL
from experiments.figures.sweep import plot_cost_effectiveness, plot_sensitivity
from experiments.intervals import DEFINED, UNDEFINED
from model.scenario import Scenario, load_scenario
from model.simulate import RunResult, simulate


@pytest.fixture(scope="module")
def figures(
    tiny_result: RunResult, tiny: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[Path]]:
    """Each plot of the tiny run, by function name: the paths it returned."""
    out = tmp_path_factory.mktemp("plots")
    return {plot.__name__: plot(tiny_result, tiny, out, formats=SVG_TOO) for plot in PLOTS}


SVG_TOO = ("png", "svg")


def by_suffix(paths: list[Path]) -> dict[str, Path]:
    """The paths a figure wrote, by suffix (``.png``, ``.svg``, ``.csv``, ``.txt``)."""
    return {p.suffix: p for p in paths}


def plotted(figures: dict[str, list[Path]], name: str) -> pd.DataFrame:
    return pd.read_csv(by_suffix(figures[name])[".csv"])


def by_month(table: pd.DataFrame, category: str, value: str) -> pd.DataFrame:
    """Long table -> one column per category (summed over other columns), months as rows."""
    return table.groupby(["month", category])[value].sum().unstack(category)


def assert_same_numbers(csv: pd.DataFrame, expected: pd.DataFrame) -> None:
    """The CSV's series equal `expected`'s; series left out of the CSV are zero throughout."""
    assert csv["month"].tolist() == expected.index.tolist()
    series = [c for c in csv.columns if c != "month"]
    assert series
    for column in series:
        np.testing.assert_allclose(csv[column], expected[column], rtol=1e-12, atol=0)
    left_out = expected.drop(columns=series)
    assert (left_out == 0).all().all()


def svg_texts(path: Path) -> str:
    return " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text()))


def test_each_plot_writes_the_formats_asked_for_data_csv_and_caption_with_one_stem(
    figures: dict[str, list[Path]],
) -> None:
    assert len(figures) == 4
    for paths in figures.values():
        assert [p.suffix for p in paths] == [".png", ".svg", ".csv", ".txt"]
        assert len({p.with_suffix("") for p in paths}) == 1
        assert paths[0].read_bytes().startswith(b"\x89PNG")
        assert "<svg" in paths[1].read_text()


def test_captions_name_the_scenario_and_seed_and_titles_do_not(
    figures: dict[str, list[Path]],
) -> None:
    for paths in figures.values():
        files = by_suffix(paths)
        assert "Scenario tiny, seed 7, replicate 0" in files[".txt"].read_text()
        assert "seed" not in svg_texts(files[".svg"])


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("plot_poverty", "share of people"),
        ("plot_income_sources", "yuan per person per month"),
        ("plot_activity", "people"),
        ("plot_spending", "(yuan)"),
    ],
)
def test_axes_are_labelled_with_units(
    figures: dict[str, list[Path]], name: str, label: str
) -> None:
    texts = svg_texts(by_suffix(figures[name])[".svg"])
    assert "2016" in texts  # calendar months on the x axis
    assert label in texts


def test_poverty_csv_holds_headcount_and_gap(
    figures: dict[str, list[Path]], tiny_result: RunResult
) -> None:
    csv = plotted(figures, "plot_poverty")
    expected = tiny_result.monthly.set_index("month")[["headcount", "poverty_gap"]]
    assert list(csv.columns) == ["month", "headcount", "poverty_gap"]
    assert_same_numbers(csv, expected)


def test_income_csv_holds_registered_poor_income_by_source(
    figures: dict[str, list[Path]], tiny_result: RunResult
) -> None:
    income = tiny_result.tables["income"]
    expected = by_month(income[income["group"] == "registered_poor"], "source", "yuan_per_capita")
    csv = plotted(figures, "plot_income_sources")
    assert_same_numbers(csv, expected)
    assert {"wages", "migrant"} <= set(csv.columns)


def test_activity_csv_holds_people_by_activity(
    figures: dict[str, list[Path]], tiny_result: RunResult
) -> None:
    activity = tiny_result.tables["activity"]
    csv = plotted(figures, "plot_activity")
    assert_same_numbers(csv, by_month(activity, "activity", "people"))
    people = activity.groupby("month")["people"].sum()
    assert csv.drop(columns="month").sum(axis=1).tolist() == people.tolist()


def test_spending_csv_is_cumulative_paid_and_ends_at_the_run_total(
    figures: dict[str, list[Path]], tiny_result: RunResult
) -> None:
    paid = by_month(tiny_result.tables["spending"], "instrument", "paid")
    csv = plotted(figures, "plot_spending")
    assert_same_numbers(csv, paid.cumsum())
    summary = tiny_result.summary.iloc[0]
    last = csv.drop(columns="month").iloc[-1]
    assert last.sum() == pytest.approx(summary["total_spending_yuan"], rel=1e-9)
    for instrument, total in last.items():
        assert total == pytest.approx(summary[f"spending_{instrument}_yuan"], rel=1e-9)


def test_figures_draw_exactly_the_numbers_in_their_csv(
    tiny_result: RunResult, tiny: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: dict[str, tuple[Figure, pd.DataFrame]] = {}
    save = style.save_figure

    def recording_save(fig: Figure, data: pd.DataFrame, stem: Path, **kwargs: Any) -> list[Path]:
        drawn[stem.name] = (fig, data)
        return save(fig, data, stem, **kwargs)

    for module in (plots, style):
        monkeypatch.setattr(module, "save_figure", recording_save)
    plot_run(tiny_result, tiny, tmp_path)
    fig, _ = drawn["poverty"]
    csv = pd.read_csv(tmp_path / "poverty.csv")
    for ax, column in zip(fig.axes, ["headcount", "poverty_gap"], strict=True):
        np.testing.assert_array_equal(ax.lines[0].get_ydata(), csv[column])
    for stem in ("income_sources", "activity", "spending"):
        fig, _ = drawn[stem]
        csv = pd.read_csv(tmp_path / f"{stem}.csv").set_index("month")
        tops = csv.cumsum(axis=1)
        areas = fig.axes[0].collections
        assert len(areas) == len(csv.columns)
        for area, column in zip(areas, tops.columns, strict=True):
            _, top = band_edges(area)  # by date: in month order
            np.testing.assert_allclose(top, tops[column], rtol=1e-12)


def test_stacked_areas_differ_by_hatch_not_colour_alone(figures: dict[str, list[Path]]) -> None:
    svg = by_suffix(figures["plot_income_sources"])[".svg"].read_text()
    series = len(plotted(figures, "plot_income_sources").columns) - 1
    assert len(re.findall(r"<pattern ", svg)) == series - 1  # the bottom area is plain


def test_run_without_spending_still_gets_every_figure(tmp_path: Path) -> None:
    baseline = load_scenario(SCENARIOS / "baseline.toml").with_overrides(households=200, months=2)
    paths = plot_spending(simulate(baseline), baseline, tmp_path)
    assert all(p.exists() for p in paths)
    assert list(pd.read_csv(by_suffix(paths)[".csv"]).columns) == ["month"]
    assert "Left out (zero or missing throughout): opening_subsidy" in paths[-1].read_text()


def test_plot_run_draws_all_four_figures_and_replicate_in_caption(
    tiny_result: RunResult, tiny: Scenario, tmp_path: Path
) -> None:
    paths = plot_run(tiny_result, tiny, tmp_path, replicate=3)
    assert len(paths) == 12  # PNG, CSV and caption of each
    assert {p.stem for p in paths} == {"poverty", "income_sources", "activity", "spending"}
    assert "seed 7, replicate 3" in (tmp_path / "spending.txt").read_text()
    assert [plot_poverty, plot_income_sources, plot_activity, plot_spending] == list(PLOTS)


# ---- figures comparing arms (scenarios or sweep arms)

Drawn = dict[str, tuple[Figure, list[Path]]]
UNITS = {  # stem: a label with units its SVG must show
    "poverty": "share of people",
    "flows": "households per year",
    "activity": "(people)",
    "employment_by_sex_carer": "share in off-farm work",
    "poor_income": "yuan per person per month",
    "workshops": "workshops",
    "jobs_quota": "(people)",
    "spending": "(yuan)",
    "cost_effectiveness": "yuan per extra net exit",
    "effects": "(yuan per person per month)",
}
BY_MONTH = ("poverty", "activity", "employment_by_sex_carer", "workshops", "jobs_quota")


def recording(drawn: Drawn) -> Callable[..., list[Path]]:
    """`save_figure` that also keeps each figure and its paths by stem."""

    def save(fig: Figure, data: pd.DataFrame, stem: Path, **kwargs: Any) -> list[Path]:
        paths = style.save_figure(fig, data, stem, **kwargs)
        drawn[stem.name] = (fig, paths)
        return paths

    return save


@pytest.fixture(scope="module")
def arm_figures(tiny_comparison: Comparison, tmp_path_factory: pytest.TempPathFactory) -> Drawn:
    """Every figure of the tiny comparison, by stem: the figure and its paths."""
    drawn: Drawn = {}
    with pytest.MonkeyPatch.context() as mp:
        for module in (compare_plots, analysis_plots):
            mp.setattr(module, "save_figure", recording(drawn))
        plot_comparison(
            tiny_comparison, differences(tiny_comparison), tmp_path_factory.mktemp("arm_plots")
        )
    return drawn


def csv_of(drawn: Drawn, stem: str) -> pd.DataFrame:
    return pd.read_csv(by_suffix(drawn[stem][1])[".csv"])


def figure_texts(fig: Figure) -> str:
    """Every text drawn on `fig`: titles, axis and tick labels, legends, notes."""
    fig.canvas.draw()
    texts = [t.get_text() for t in fig.findobj(Text) if t.get_visible()]
    return " ".join(texts).replace("\n", " ")


def month_axis(fig: Figure) -> bool:
    """Whether the bottom panel's x axis is time: calendar dates or the month index."""
    bottom = fig.axes[-1]
    dated = isinstance(bottom.xaxis.get_major_formatter(), ConciseDateFormatter)
    return dated or bottom.get_xlabel().replace("\n", " ") == MONTH_LABEL


def t_stats(frame: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    """Mean and 95% t interval across replicates, computed here from scratch."""
    g = frame.groupby(keys)[value]
    mean, sd, n = g.mean(), g.std(ddof=1), g.count()
    half = scipy_stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n)
    return pd.DataFrame({"mean": mean, "ci_low": mean - half, "ci_high": mean + half})


def assert_matches(csv: pd.DataFrame, expected: pd.DataFrame, keys: list[str]) -> None:
    """Every CSV row equals the independently computed one with the same keys."""
    joined = csv.merge(expected.reset_index(), on=keys, how="left", suffixes=("", "_expected"))
    assert len(joined) == len(csv) and len(csv)
    for column in ("mean", "ci_low", "ci_high"):
        np.testing.assert_allclose(joined[column], joined[f"{column}_expected"], rtol=1e-9)


def band_edges(collection: Any) -> tuple[pd.Series, pd.Series]:
    """Lower and upper edge of a fill_between band, by x."""
    xy = np.asarray(collection.get_paths()[0].vertices)
    by_x = pd.Series(xy[:, 1]).groupby(xy[:, 0])
    return by_x.min(), by_x.max()


def whisker_ends(ax: Axes, horizontal: bool = False) -> np.ndarray:
    """Low and high end (columns) of every CI whisker drawn on `ax`, in drawing order."""
    axis = 0 if horizontal else 1
    segments = [
        s for c in ax.collections if isinstance(c, LineCollection) for s in c.get_segments()
    ]
    return np.array([(s[:, axis].min(), s[:, axis].max()) for s in segments])


def ci_of(rows: pd.DataFrame) -> np.ndarray:
    return rows[["ci_low", "ci_high"]].to_numpy()


def test_every_arm_figure_writes_png_csv_and_a_caption_with_arms_and_seed(
    arm_figures: Drawn,
) -> None:
    assert set(arm_figures) == set(UNITS)
    for stem, (fig, paths) in arm_figures.items():
        assert [p.suffix for p in paths] == [".png", ".csv", ".txt"]
        assert {p.stem for p in paths} == {stem}
        assert paths[0].read_bytes().startswith(b"\x89PNG")
        caption = paths[2].read_text()
        assert "tiny vs tiny_wage_60" in caption and "seed 7" in caption, stem
        texts = figure_texts(fig)
        assert "seed 7" not in texts, stem
        assert UNITS[stem] in texts, stem
        assert month_axis(fig) == (stem in BY_MONTH), stem


def test_poverty_bands_are_t_intervals_across_replicates_and_match_the_artists(
    arm_figures: Drawn, tiny_comparison: Comparison
) -> None:
    csv = csv_of(arm_figures, "poverty")
    long = tiny_comparison.tables["monthly"].melt(
        id_vars=["arm", "replicate", "month"],
        value_vars=["headcount", "poverty_gap"],
        var_name="measure",
    )
    assert_matches(
        csv, t_stats(long, ["arm", "measure", "month"], "value"), ["arm", "measure", "month"]
    )
    fig, _ = arm_figures["poverty"]
    for ax, measure in zip(fig.axes, ["headcount", "poverty_gap"], strict=True):
        arms = csv[csv["measure"] == measure].groupby("arm", sort=False)
        assert len(ax.lines) == len(ax.collections) == 2
        for line, band, (_, rows) in zip(ax.lines, ax.collections, arms, strict=True):
            np.testing.assert_array_equal(line.get_ydata(), rows["mean"])
            low, high = band_edges(band)  # by date: in month order, clipped to shares
            np.testing.assert_allclose(low, rows["ci_low"].clip(0, 1), rtol=1e-12)
            np.testing.assert_allclose(high, rows["ci_high"].clip(0, 1), rtol=1e-12)
    hatches = [band.get_hatch() for band in fig.axes[0].collections]
    dashes = [line.get_linestyle() for line in fig.axes[0].lines]
    assert len(set(hatches)) == len(set(dashes)) == 2  # arms apart in greyscale


def test_flows_are_yearly_sums_with_t_intervals_drawn_as_bars_and_whiskers(
    arm_figures: Drawn, tiny_comparison: Comparison
) -> None:
    monthly = tiny_comparison.tables["monthly"]
    simulated = monthly[monthly["month"] >= 1].assign(year=lambda m: m["date"].str[:4])
    yearly = simulated.groupby(["arm", "replicate", "year"])[
        ["exits", "entries", "re_entries"]
    ].sum()
    long = yearly.reset_index().melt(id_vars=["arm", "replicate", "year"], var_name="measure")
    csv = csv_of(arm_figures, "flows").astype({"year": str})
    assert_matches(
        csv, t_stats(long, ["arm", "measure", "year"], "value"), ["arm", "measure", "year"]
    )
    fig, paths = arm_figures["flows"]
    totals = long.groupby("measure", sort=False)["value"].sum()
    shown = [flow for flow in ["exits", "entries", "re_entries"] if totals[flow] > 0]
    left_out = {"exits": "gross exits", "entries": "entries", "re_entries": "re-entries"}
    for flow in set(left_out) - set(shown):
        assert left_out[flow] in paths[-1].read_text().split("Left out")[1]
    for ax, flow in zip(fig.axes, shown, strict=True):
        rows = csv[csv["measure"] == flow]
        assert [p.get_height() for p in ax.patches] == pytest.approx(rows["mean"].tolist())
        np.testing.assert_allclose(whisker_ends(ax), ci_of(rows), rtol=1e-12)


def test_activity_areas_stack_the_mean_people_of_each_arm(
    arm_figures: Drawn, tiny_comparison: Comparison
) -> None:
    activity = tiny_comparison.tables["activity"]
    per_run = activity.groupby(["arm", "replicate", "month", "activity"])["people"].sum()
    expected = per_run.groupby(["arm", "month", "activity"]).mean().unstack("activity")
    csv = csv_of(arm_figures, "activity").set_index(["arm", "month"])
    assert_same_numbers(csv.loc["tiny"].reset_index(), expected.loc["tiny"])
    people = activity.groupby(["arm", "replicate", "month"])["people"].sum()
    np.testing.assert_allclose(
        csv.sum(axis=1), people.groupby(["arm", "month"]).mean().loc[csv.index], rtol=1e-12
    )
    fig, _ = arm_figures["activity"]
    for ax, arm in zip(fig.axes, ["tiny", REFORM_NAME], strict=True):
        tops = csv.loc[arm].cumsum(axis=1)
        for area, column in zip(ax.collections, tops.columns, strict=True):
            _, top = band_edges(area)  # in month order
            np.testing.assert_allclose(top, tops[column], rtol=1e-12)


def test_off_farm_share_by_sex_and_care_is_recomputed(
    arm_figures: Drawn, tiny_comparison: Comparison
) -> None:
    activity = tiny_comparison.tables["activity"]
    off_farm = ~activity["activity"].isin(["not_working", "farming"])
    keys = ["arm", "replicate", "sex", "carer", "month"]
    counts = (
        activity.assign(off=activity["people"] * off_farm).groupby(keys)[["off", "people"]].sum()
    )
    share = (counts["off"] / counts["people"]).rename("share").reset_index()
    csv = csv_of(arm_figures, "employment_by_sex_carer")
    assert set(zip(csv["sex"], csv["carer"], strict=True)) == {
        ("male", False),
        ("male", True),
        ("female", False),
        ("female", True),
    }
    assert_matches(
        csv,
        t_stats(share, ["arm", "sex", "carer", "month"], "share"),
        ["arm", "sex", "carer", "month"],
    )
    assert csv["mean"].between(0, 1).all()


def test_poor_income_bars_stack_the_final_year_by_source(
    arm_figures: Drawn, tiny_comparison: Comparison
) -> None:
    income = tiny_comparison.tables["income"]
    poor = income[(income["group"] == "registered_poor") & (income["month"] >= 1)]
    per_run = poor.groupby(["arm", "replicate", "source"])["yuan_per_capita"].mean()
    expected = per_run.groupby(["arm", "source"]).mean().unstack("source")
    csv = csv_of(arm_figures, "poor_income").set_index("arm")
    assert csv.index.tolist() == ["tiny", REFORM_NAME]
    assert_same_numbers(csv.rename_axis("month").reset_index(), expected.rename_axis("month"))
    fig, _ = arm_figures["poor_income"]
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == pytest.approx(csv.to_numpy().T.ravel().tolist())


def test_workshops_by_form_and_status_leave_out_forms_never_seen(
    arm_figures: Drawn, tiny_comparison: Comparison
) -> None:
    workshops = tiny_comparison.tables["workshops"]
    csv = csv_of(arm_figures, "workshops")
    seen = workshops.groupby("form")["count"].sum()
    assert set(csv["form"]) == set(seen[seen > 0].index)
    assert_matches(
        csv,
        t_stats(workshops, ["arm", "form", "status", "month"], "count"),
        ["arm", "form", "status", "month"],
    )
    fig, _ = arm_figures["workshops"]
    cells = workshops.groupby(["form", "status"])["count"].sum()
    assert sorted(ax.get_title() for ax in fig.axes) == sorted(
        f"{form}, {status}" for form, status in cells[cells > 0].index
    )  # form x status panels with any workshop


def test_jobs_figure_draws_the_quota_of_the_scenario(
    arm_figures: Drawn, tiny_comparison: Comparison
) -> None:
    quota = tiny_comparison.arms[0].scenario.policy.certification.poor_share_min
    csv = csv_of(arm_figures, "jobs_quota")
    on_share = csv["measure"] == "poor_share_of_jobs"
    assert (csv.loc[on_share, "quota_share"] == quota).all()
    assert csv.loc[~on_share, "quota_share"].isna().all()
    monthly = tiny_comparison.tables["monthly"]
    no_jobs = monthly["jobs_filled"] == 0
    assert_matches(
        csv,
        t_stats(
            monthly.assign(poor_share_of_jobs=monthly["poor_share_of_jobs"].mask(no_jobs)).melt(
                id_vars=["arm", "replicate", "month"],
                value_vars=["jobs_filled", "poor_share_of_jobs"],
                var_name="measure",
            ),
            ["arm", "measure", "month"],
            "value",
        ),
        ["arm", "measure", "month"],
    )
    fig, _ = arm_figures["jobs_quota"]
    flat = [
        line
        for line in fig.axes[1].lines
        if len(set(line.get_ydata())) == 1 and list(line.get_xdata()) == [0, 1]
    ]  # axhline: axes coordinates along x
    assert [line.get_ydata()[0] for line in flat] == [quota]


def test_spending_bars_stack_mean_spending_by_instrument_to_the_total(
    arm_figures: Drawn, tiny_comparison: Comparison
) -> None:
    summary = tiny_comparison.tables["summary"]
    csv = csv_of(arm_figures, "spending").set_index("arm")
    means = summary.groupby("arm").mean(numeric_only=True)
    for instrument in csv.columns:
        np.testing.assert_allclose(
            csv[instrument], means.loc[csv.index, f"spending_{instrument}_yuan"]
        )
    np.testing.assert_allclose(csv.sum(axis=1), means.loc[csv.index, "total_spending_yuan"])
    fig, _ = arm_figures["spending"]
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == pytest.approx(csv.to_numpy().T.ravel().tolist())


def test_effects_dots_and_whiskers_are_the_paired_differences(
    arm_figures: Drawn, tiny_comparison: Comparison
) -> None:
    csv = csv_of(arm_figures, "effects")
    expected = differences(tiny_comparison)[list(csv.columns)]
    numbers = expected[["difference", "ci_low", "ci_high"]].fillna(0).ne(0).any(axis=1)
    drawn = expected[expected["outcome"].isin(expected.loc[numbers, "outcome"])]  # not all 0
    pd.testing.assert_frame_equal(csv, drawn.reset_index(drop=True), check_dtype=False)
    fig, _ = arm_figures["effects"]
    assert len(fig.axes) == csv["outcome"].nunique()
    for ax, (_, rows) in zip(fig.axes, csv.groupby("outcome", sort=False), strict=True):
        dots = [line for line in ax.lines if line.get_marker() == "o"]
        assert list(dots[0].get_xdata()) == pytest.approx(rows["difference"].tolist())
        np.testing.assert_allclose(whisker_ends(ax, horizontal=True), ci_of(rows), rtol=1e-12)


def assert_cost_figure_holds(fig: Figure, csv: pd.DataFrame) -> None:
    """Per panel (gain): a bar and a whisker per defined ratio, "undefined" for the rest."""
    assert len(fig.axes) == csv["per"].nunique()
    for ax, (_, rows) in zip(fig.axes, csv.groupby("per", sort=False), strict=True):
        defined = rows[rows["status"] == DEFINED]
        assert [p.get_height() for p in ax.patches] == pytest.approx(
            defined["yuan_per_unit"].tolist()
        )
        ends = whisker_ends(ax)
        np.testing.assert_allclose(ends.reshape(-1, 2), ci_of(defined).reshape(-1, 2), rtol=1e-12)
        words = [t.get_text() for t in ax.texts]
        assert words == ["undefined"] * int((rows["status"] != DEFINED).sum())


def test_cost_effectiveness_bars_and_whiskers_hold_the_fieller_table(
    arm_figures: Drawn, tiny_comparison: Comparison
) -> None:
    csv = csv_of(arm_figures, "cost_effectiveness").fillna({"status": ""})
    expected = cost_effectiveness(tiny_comparison)
    assert csv["arm"].tolist() == [REFORM_NAME] * 2
    assert csv["per"].tolist() == ["extra net exit", "poor household-month averted"]
    assert csv["status"].tolist() == expected["status"].tolist()
    fig, _ = arm_figures["cost_effectiveness"]
    assert_cost_figure_holds(fig, csv)


def test_an_undefined_cost_is_drawn_as_the_word_not_a_bar(tmp_path: Path) -> None:
    nan = float("nan")
    cost = pd.DataFrame(
        {
            "arm": ["clear", "unclear"] * 2,
            "per": ["extra net exit"] * 2 + ["poor household-month averted"] * 2,
            "yuan_per_unit": [5000.0, nan, 40.0, 55.0],
            "ci_low": [3000.0, nan, 20.0, 30.0],
            "ci_high": [9000.0, nan, 90.0, 120.0],
            "status": [DEFINED, UNDEFINED, DEFINED, DEFINED],
        }
    )
    drawn: Drawn = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(analysis_plots, "save_figure", recording(drawn))
        paths = plot_cost_effectiveness(cost, "base", "sweep s (seed 1)", tmp_path, formats=SVG_TOO)
    csv = pd.read_csv(by_suffix(paths)[".csv"])
    assert csv["status"].tolist() == cost["status"].tolist()
    assert csv["yuan_per_unit"].isna().tolist() == [False, True, False, False]
    assert_cost_figure_holds(drawn["cost_effectiveness"][0], csv)
    assert "undefined" in svg_texts(by_suffix(paths)[".svg"])


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_sensitivity_bars_hold_each_index_and_its_interval(method: str, tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "outcome": ["net_exits"] * 2,
            "input": ["a", "b"],
            "S1": [0.6, 0.1],
            "S1_conf": [0.05, 0.02],
            "ST": [0.7, 0.2],
            "ST_conf": [0.1, 0.03],
            "mu": [4.0, -1.0],
            "mu_star": [4.0, 1.5],
            "mu_star_conf": [0.5, 0.4],
            "sigma": [1.0, 2.0],
        }
    )
    paths = plot_sensitivity(table, method, "sweep s (seed 1)", tmp_path)
    csv = pd.read_csv(by_suffix(paths)[".csv"])
    value, conf = ("S1", "S1_conf") if method == "sobol" else ("mu_star", "mu_star_conf")
    first = csv[csv["index"] == csv["index"].iloc[0]]
    np.testing.assert_allclose(first["mean"], table[value])
    np.testing.assert_allclose(first["ci_high"] - first["mean"], table[conf])
    assert "sweep s (seed 1)" in by_suffix(paths)[".txt"].read_text()
    assert len(csv) == 4


def test_line_styles_of_sixteen_arms_are_distinct() -> None:
    styles = {tuple(style.line_style(i).values()) for i in range(16)}
    assert len(styles) == 16
