"""Figures of a single run: files written, and each CSV holds exactly the plotted numbers."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from experiment_helpers import SCENARIOS
from matplotlib.figure import Figure

from experiments import plots
from experiments.plots import (
    PLOTS,
    plot_activity,
    plot_income_sources,
    plot_poverty,
    plot_run,
    plot_spending,
)
from model.scenario import Scenario, load_scenario
from model.simulate import RunResult, simulate


@pytest.fixture(scope="module")
def figures(tiny_result: RunResult, tiny: Scenario,
            tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """Each plot of the tiny run, by function name: the paths it returned."""
    out = tmp_path_factory.mktemp("plots")
    return {plot.__name__: plot(tiny_result, tiny, out) for plot in PLOTS}


def plotted(figures: dict[str, list[Path]], name: str) -> pd.DataFrame:
    return pd.read_csv(figures[name][2])


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


def test_each_plot_writes_png_svg_and_data_csv_with_one_stem(
        figures: dict[str, list[Path]]) -> None:
    assert len(figures) == 4
    for paths in figures.values():
        assert [p.suffix for p in paths] == [".png", ".svg", ".csv"]
        assert len({p.with_suffix("") for p in paths}) == 1
        assert paths[0].read_bytes().startswith(b"\x89PNG")
        assert "<svg" in paths[1].read_text()


def test_titles_name_the_scenario_and_seed(figures: dict[str, list[Path]]) -> None:
    for paths in figures.values():
        assert "tiny (seed 7)" in svg_texts(paths[1])


@pytest.mark.parametrize(("name", "label"), [
    ("plot_poverty", "share of people"), ("plot_income_sources", "yuan per person per month"),
    ("plot_activity", "people"), ("plot_spending", "(yuan)")])
def test_axes_are_labelled_with_units(figures: dict[str, list[Path]], name: str,
                                      label: str) -> None:
    texts = svg_texts(figures[name][1])
    assert "month of the run" in texts
    assert label in texts


def test_poverty_csv_holds_headcount_and_gap(figures: dict[str, list[Path]],
                                            tiny_result: RunResult) -> None:
    csv = plotted(figures, "plot_poverty")
    expected = tiny_result.monthly.set_index("month")[["headcount", "poverty_gap"]]
    assert list(csv.columns) == ["month", "headcount", "poverty_gap"]
    assert_same_numbers(csv, expected)


def test_income_csv_holds_registered_poor_income_by_source(figures: dict[str, list[Path]],
                                                            tiny_result: RunResult) -> None:
    income = tiny_result.tables["income"]
    expected = by_month(income[income["group"] == "registered_poor"], "source",
                        "yuan_per_capita")
    csv = plotted(figures, "plot_income_sources")
    assert_same_numbers(csv, expected)
    assert {"wages", "migrant"} <= set(csv.columns)


def test_activity_csv_holds_people_by_activity(figures: dict[str, list[Path]],
                                               tiny_result: RunResult) -> None:
    activity = tiny_result.tables["activity"]
    csv = plotted(figures, "plot_activity")
    assert_same_numbers(csv, by_month(activity, "activity", "people"))
    people = activity.groupby("month")["people"].sum()
    assert csv.drop(columns="month").sum(axis=1).tolist() == people.tolist()


def test_spending_csv_is_cumulative_paid_and_ends_at_the_run_total(
        figures: dict[str, list[Path]], tiny_result: RunResult) -> None:
    paid = by_month(tiny_result.tables["spending"], "instrument", "paid")
    csv = plotted(figures, "plot_spending")
    assert_same_numbers(csv, paid.cumsum())
    summary = tiny_result.summary.iloc[0]
    last = csv.drop(columns="month").iloc[-1]
    assert last.sum() == pytest.approx(summary["total_spending_yuan"], rel=1e-9)
    for instrument, total in last.items():
        assert total == pytest.approx(summary[f"spending_{instrument}_yuan"], rel=1e-9)


def test_figures_draw_exactly_the_numbers_in_their_csv(
        tiny_result: RunResult, tiny: Scenario, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: dict[str, tuple[Figure, pd.DataFrame]] = {}
    save = plots.save_figure

    def recording_save(fig: Figure, data: pd.DataFrame, stem: Path) -> list[Path]:
        drawn[stem.name] = (fig, data)
        return save(fig, data, stem)

    monkeypatch.setattr(plots, "save_figure", recording_save)
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
            xy = np.asarray(area.get_paths()[0].vertices)
            top = pd.Series(xy[:, 1]).groupby(xy[:, 0]).max()
            np.testing.assert_allclose(top.loc[csv.index], tops[column], rtol=1e-12)


def test_stacked_areas_differ_by_hatch_not_colour_alone(
        figures: dict[str, list[Path]]) -> None:
    svg = figures["plot_income_sources"][1].read_text()
    series = len(plotted(figures, "plot_income_sources").columns) - 1
    assert len(re.findall(r"<pattern ", svg)) == series - 1  # the bottom area is plain


def test_run_without_spending_still_gets_every_figure(tmp_path: Path) -> None:
    baseline = load_scenario(SCENARIOS / "baseline.toml").with_overrides(households=200,
                                                                         months=2)
    paths = plot_spending(simulate(baseline), baseline, tmp_path)
    assert all(p.exists() for p in paths)
    assert list(pd.read_csv(paths[2]).columns) == ["month"]


def test_plot_run_draws_all_four_figures_and_replicate_in_title(
        tiny_result: RunResult, tiny: Scenario, tmp_path: Path) -> None:
    paths = plot_run(tiny_result, tiny, tmp_path, replicate=3)
    assert len(paths) == 12
    assert {p.stem for p in paths} == {"poverty", "income_sources", "activity", "spending"}
    assert "tiny (seed 7, replicate 3)" in svg_texts(tmp_path / "spending.svg")
    assert [plot_poverty, plot_income_sources, plot_activity, plot_spending] == list(PLOTS)
