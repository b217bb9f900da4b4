"""County sweeps: several counties as one sweep, on a Dask cluster by address or serially.

Two small counties (the tiny county and a lowland county that already pays the hiring
bonus), a lever switching the hiring bonus on, two replicates: every county x arm x
replicate is a run of its own, the same rows whatever runs them, and the national
analysis adds the counties' runs up.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from experiment_helpers import TINY
from sweep_helpers import assert_same_results, wsim

from experiments import provenance
from experiments.analysis.effects import analyze
from experiments.analysis.national import ADDED
from experiments.intervals import t_half_width
from experiments.report import write_report
from experiments.sweep.engine import open_sweep
from experiments.sweep.spec import COUNTY, NATIONAL, county_seed, load_spec
from experiments.sweep.store import RUN_ID, SweepData, load

SEED = 11
ARMS = ["baseline", "hiring_bonus=True"]
COUNTIES = {"upland": 400, "lowland": 300}  # households at households_share = 0.1
REPLICATES = [0, 1]
HIRING_BONUS = "policy.hiring_bonus.enabled"
DASK_SWEEP_S = 30  # the 8 runs on the cluster take about 5 s on 2 cores
SPEC = """
seed = {seed}
{bases}
[run]
months = 6
{size}
[levers.hiring_bonus]
key = "{lever}"
values = [true]
[design]
method = "one_at_a_time"
[replicates]
count = 2
[outputs]
monthly = ["headcount", "poor_households", "income_per_capita", "spending"]
outcomes = ["net_exits", "poor_household_months", "headcount"]
"""


def write_lowland(directory: Path) -> Path:
    """A second county: the tiny county's households at 3,000 real ones, hiring bonus on."""
    path = directory / "lowland.toml"
    path.write_text(
        f'extends = "{TINY.as_posix()}"\nname = "lowland"\n'
        "[county]\nhouseholds = 3000\n[policy.hiring_bonus]\nenabled = true\n",
        encoding="utf-8",
    )
    return path


def write_counties_spec(directory: Path, upland: Path = TINY) -> Path:
    """The two-county spec in `directory` (the lowland county's file beside it)."""
    lowland = write_lowland(directory)
    bases = f'[counties]\nupland = "{upland.as_posix()}"\nlowland = "{lowland.as_posix()}"'
    body = SPEC.format(seed=SEED, bases=bases, size="households_share = 0.1", lever=HIRING_BONUS)
    path = directory / "counties.toml"
    path.write_text(body, encoding="utf-8")
    return path


def baseline_monthly(data: SweepData, county: str | None = None) -> pd.DataFrame:
    """The monthly rows of a sweep's baseline runs (of `county`), by replicate and month."""
    runs = data.runs[data.runs["arm"] == "baseline"]
    if county is not None:
        runs = runs[runs[COUNTY] == county]
    rows = data.monthly.merge(runs[[RUN_ID, "replicate"]], on=RUN_ID)
    return rows.sort_values(["replicate", "month"]).drop(columns=RUN_ID).reset_index(drop=True)


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_counties_spec(tmp_path_factory.mktemp("spec"))


@pytest.fixture(scope="module")
def serial(spec_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The county sweep run in this process (`--workers 1`): its directory."""
    out = tmp_path_factory.mktemp("serial") / "sweep"
    result = wsim("sweep", spec_file, "--out", out, "--workers", "1")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A Dask cluster of two worker processes on loopback: its scheduler address."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as local:
        yield local.scheduler_address


def cells(data: SweepData) -> list[tuple[str, str, int]]:
    """(county, arm, replicate) of every done run, sorted."""
    done = data.runs[data.runs["status"] == "done"]
    return sorted(zip(done[COUNTY], done["arm"], done["replicate"], strict=True))


def every_cell() -> list[tuple[str, str, int]]:
    return sorted((c, a, r) for c in COUNTIES for a in ARMS for r in REPLICATES)


def test_a_county_sweep_on_a_dask_cluster_by_address_stores_the_serial_rows(
    spec_file: Path, serial: Path, cluster: str, tmp_path: Path
) -> None:
    assert cluster.startswith("tcp://127.0.0.1:")
    began = time.monotonic()
    result = wsim("sweep", spec_file, "--out", tmp_path / "dask", "--dask", cluster)
    assert result.exit_code == 0, result.output
    assert time.monotonic() - began < DASK_SWEEP_S
    on_dask = load(tmp_path / "dask")
    assert cells(on_dask) == every_cell()
    assert_same_results(load(serial), on_dask)
    store, _ = open_sweep(tmp_path / "dask")
    session = store.sweep_manifest()["sessions"][-1]
    assert (session["executor"], session["workers"]) == ("dask", 2)


def test_workers_running_other_code_are_refused_before_anything_is_written(
    spec_file: Path, cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = provenance.package_version("workshop-sim")
    # this process says it runs another version; the workers answer for themselves
    monkeypatch.setattr(provenance, "package_version", lambda package: "0.0.0-other")
    result = wsim("sweep", spec_file, "--out", tmp_path / "out", "--dask", cluster)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: --dask {cluster}: worker tcp://127.0.0.1:"), lines
    assert f"runs workshop-sim {installed} " in lines[0]
    assert "this process 0.0.0-other " in lines[0]
    assert lines[0].endswith("install the same commit on every worker (docs/cluster.md)")
    assert not (tmp_path / "out").exists()


def test_every_county_arm_and_replicate_is_a_run_of_its_own(serial: Path) -> None:
    data = load(serial)
    assert cells(data) == every_cell()
    assert data.runs[RUN_ID].is_unique
    sizes = data.summary.merge(data.runs, on=RUN_ID).groupby(COUNTY)["households"].unique()
    assert {county: list(size) for county, size in sizes.items()} == {
        county: [households] for county, households in COUNTIES.items()
    }
    runs = data.runs.set_index([COUNTY, "arm", "replicate"]).sort_index()
    # the lowland county already pays the hiring bonus: the arm is its baseline again, a
    # run of its own with the same values and (same seed and replicate) the same rows
    lowland = runs.loc["lowland"]
    assert lowland[HIRING_BONUS].all()
    for replicate in REPLICATES:
        own, arm = (lowland.loc[(a, replicate), RUN_ID] for a in ARMS)
        assert own != arm
        for table in (data.monthly, data.summary):
            rows = [table[table[RUN_ID] == i].drop(columns=RUN_ID) for i in (own, arm)]
            pd.testing.assert_frame_equal(*(r.reset_index(drop=True) for r in rows))
    upland = runs.loc["upland"]
    assert list(upland[HIRING_BONUS]) == [False, False, True, True]  # baseline, then the arm


def test_each_county_draws_the_random_numbers_of_its_own_seed(serial: Path, tmp_path: Path) -> None:
    lowland = write_lowland(tmp_path)
    alone = tmp_path / "lowland_alone.toml"  # the lowland county on its own, at its seed
    alone.write_text(
        SPEC.format(
            seed=county_seed(SEED, "lowland"),
            bases=f'base = "{lowland.as_posix()}"',
            size=f"households = {COUNTIES['lowland']}",
            lever=HIRING_BONUS,
        ),
        encoding="utf-8",
    )
    result = wsim("sweep", alone, "--out", tmp_path / "alone", "--workers", "1")
    assert result.exit_code == 0, result.output
    swept = load(serial)
    pd.testing.assert_frame_equal(
        baseline_monthly(swept, "lowland"), baseline_monthly(load(tmp_path / "alone"))
    )
    assert county_seed(SEED, "upland") != county_seed(SEED, "lowland")
    upland = baseline_monthly(swept, "upland")["poor_households"]
    assert not upland.equals(baseline_monthly(swept, "lowland")["poor_households"])


def test_national_rows_are_the_sums_of_the_county_rows(spec_file: Path, serial: Path) -> None:
    data = load(serial)
    tables = analyze(load_spec(spec_file), data)
    runs = data.runs.join(data.values(), on=RUN_ID)
    keys = ["arm", "replicate"]
    national = tables["national"].set_index(keys).sort_index()
    assert list(national.index) == sorted((a, r) for a in ARMS for r in REPLICATES)
    counts = [c for c in national.columns if c in ADDED or c.startswith("spending_")]
    assert {"households", "net_exits", "poor_household_months", "poor_households"} <= set(counts)
    summed = runs.groupby(keys)[counts].sum()
    pd.testing.assert_frame_equal(national[counts], summed, check_dtype=False)
    assert (national["households"] == sum(COUNTIES.values())).all()
    # shares from the sums: the counties' headcounts weighted by their people
    poor_people = (runs["headcount"] * runs["people"]).groupby([runs[k] for k in keys]).sum()
    np.testing.assert_allclose(national["headcount"], poor_people / summed["people"], rtol=1e-12)
    averaged = runs.groupby(keys)["headcount"].mean()
    assert not np.allclose(national["headcount"], averaged, rtol=1e-9, atol=0)
    # the national effect is the sum of the county effects, its interval the t interval
    # of the national paired differences
    effects = tables["effects"].set_index([COUNTY, "outcome"])
    exits = effects.xs("net_exits", level="outcome")["difference"]
    assert exits[NATIONAL] == pytest.approx(exits["upland"] + exits["lowland"], abs=1e-9)
    difference = national.loc[ARMS[1], "net_exits"] - national.loc[ARMS[0], "net_exits"]
    half = float(t_half_width(difference.std(ddof=1), len(difference)))
    row = effects.loc[(NATIONAL, "net_exits")]
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(
        (difference.mean() - half, difference.mean() + half)
    )
    assert set(tables["rates"][COUNTY]) == {*COUNTIES, NATIONAL}


def test_a_resumed_county_sweep_ends_with_the_uninterrupted_rows(
    serial: Path, tmp_path: Path
) -> None:
    cut = tmp_path / "cut"
    shutil.copytree(serial, cut)
    parts = sorted((cut / "runs").glob("part-*.parquet"))
    assert len(parts) == len(every_cell())  # one run a part with one worker
    for part in parts[::2]:
        for table in ("runs", "monthly", "summary"):
            (cut / table / part.name).unlink()
    assert len(cells(load(cut))) == len(every_cell()) // 2
    result = wsim("resume", cut, "--workers", "1")
    assert result.exit_code == 0, result.output
    assert_same_results(load(serial), load(cut))


def test_a_missing_county_file_is_one_error_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = write_counties_spec(tmp_path, upland=tmp_path / "nowhere.toml")
    monkeypatch.chdir(tmp_path)
    result = wsim("sweep", spec, "--out", tmp_path / "out", "--workers", "1")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {spec}: counties.upland: a valid scenario file ("), lines
    assert "nowhere.toml: (file): an existing file" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counties.toml", "lowland.toml"]


def test_a_county_sweep_report_draws_the_national_effects(serial: Path, tmp_path: Path) -> None:
    copy = tmp_path / "sweep"
    shutil.copytree(serial, copy)
    write_report(copy)
    effects = copy / "plots" / "effects.png"
    assert effects.exists()
    caption = effects.with_suffix(".txt").read_text(encoding="utf-8")
    assert "national sum of 2 counties" in caption
    assert not (copy / "plots" / "poverty_by_arm.png").exists()  # monthly series are per county
    html = (copy / "report.html").read_text(encoding="utf-8")
    assert "lowland.toml" in html and "tiny.toml" in html  # both counties' scenario files
