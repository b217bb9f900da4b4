"""Execution: common random numbers, identical results on every executor, failures recorded."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sweep_helpers import (
    FACTORIAL,
    assert_same_results,
    spec_of,
    sweep_serial,
    write_spec,
    wsim,
)

from experiments import executors
from experiments.analysis import effects as analysis
from experiments.executors import Dask, Processes
from experiments.sweep import runs
from experiments.sweep.design import sample
from experiments.sweep.engine import run_sweep, start
from experiments.sweep.runs import TASKS_PER_WORKER, batches
from experiments.sweep.seeding import RunSetup, tasks
from experiments.sweep.store import SweepStore
from model.economy import WorkshopEconomy
from model.scenario import Scenario
from model.simulate import RunResult, simulate

WAGE = "policy.wage_subsidy.share_of_poor_wage_bill"
DASK_FAILS_WITHIN_S = 10  # the connect timeout (3 s) and the set-up around it
POPULATION = {
    "people": ("household", "age", "female", "health", "frail", "skill"),
    "households": ("village", "registered_poor", "resettled", "land_mu", "size"),
}


def population(model: WorkshopEconomy) -> dict[str, np.ndarray]:
    return {
        f"{table}.{field}": getattr(getattr(model, table), field)
        for table, fields in POPULATION.items()
        for field in fields
    }


def test_arms_differing_in_a_lever_share_population_and_seed(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, FACTORIAL)
    setup = RunSetup.from_spec(spec)
    points = sample(spec, spec.seed).drop(columns="arm").to_dict("records")
    base, other = (setup.scenario(p) for p in (points[0], points[-1]))
    assert base.policy != other.policy and base.run == other.run
    assert base.run.seed == spec.seed
    same = population(WorkshopEconomy(base, replicate=1))
    for name, array in population(WorkshopEconomy(other, replicate=1)).items():
        np.testing.assert_array_equal(array, same[name], err_msg=name)
    next_replicate = population(WorkshopEconomy(base, replicate=2))
    assert not np.array_equal(next_replicate["people.age"], same["people.age"])


def test_paired_ci_is_narrower_than_unpaired_on_the_same_runs(tmp_path: Path) -> None:
    body = FACTORIAL.replace("[true, false]", "[true]").replace("count = 2", "count = 8")
    spec = spec_of(tmp_path, body)
    data = sweep_serial(spec, tmp_path / "sweep")
    values = analysis.run_values(data)
    effects = analysis.effects(
        analysis.pairs(values, ["replicate"]), ["income_per_capita", "total_spending_yuan"]
    )
    assert len(effects) == 2 and (effects["n"] == 8).all()
    half = (effects["ci_high"] - effects["ci_low"]) / 2
    assert (half < effects["half_width_unpaired"]).all(), effects


def test_serial_two_processes_and_dask_give_identical_results(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, FACTORIAL)
    serial = sweep_serial(spec, tmp_path / "serial")
    assert len(serial.runs) == 4 * 2 and (serial.runs["status"] == "done").all()
    for name, executor in (("processes", Processes(2)), ("dask", Dask("local", 2))):
        store = SweepStore(tmp_path / name)
        with executor:
            start(spec, store, name, 2)
            run_sweep(spec, store, executor, runs_per_task=3)
        assert_same_results(serial, store.load())


def test_processes_start_a_fresh_pool_for_each_generation_of_tasks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pools: list[ThreadPoolExecutor] = []

    def pool(workers: int, mp_context: object, **_: object) -> ThreadPoolExecutor:
        pools.append(ThreadPoolExecutor(workers))
        return pools[-1]

    monkeypatch.setattr(executors, "MAX_TASKS_PER_CHILD", 2)  # generations of 2 x 2 tasks
    monkeypatch.setattr(executors, "ProcessPoolExecutor", pool)
    with Processes(2) as executor:
        assert sorted(executor.map(abs, range(-5, 5))) == sorted(map(abs, range(-5, 5)))
    assert len(pools) == 3 and all(p._shutdown for p in pools)


def test_a_run_that_raises_is_recorded_and_the_sweep_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fragile(params: Scenario, replicate: int = 0, **options: Any) -> RunResult:
        if params.policy.wage_subsidy.share_of_poor_wage_bill == 0.6:
            raise RuntimeError("wage subsidy too generous")
        return simulate(params, replicate, **options)

    monkeypatch.setattr(runs, "simulate", fragile)
    spec = spec_of(tmp_path, FACTORIAL)
    data = sweep_serial(spec, tmp_path / "sweep")
    assert data.runs["status"].value_counts().to_dict() == {"done": 4, "failed": 4}
    failed = data.runs[data.runs["status"] == "failed"]
    assert (failed[WAGE] == 0.6).all() and set(failed["replicate"]) == {0, 1}
    assert set(data.failures["run_id"]) == set(failed["run_id"])
    assert (data.failures["error"] == "RuntimeError: wage subsidy too generous").all()
    assert data.failures["traceback"].str.contains("in fragile").all()
    assert set(data.summary["run_id"]) == set(
        data.runs.loc[data.runs["status"] == "done", "run_id"]
    )


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("tcp://127.0.0.1:9", "Timed out trying to connect"),  # nothing listens: refused
        ("tcp://192.0.2.1:8786", "Timed out trying to connect"),  # TEST-NET-1: never answers
        ("nonsense", "missing port number"),
        ("tls://127.0.0.1:9", "TLS expects a `ssl_context`"),  # TLS without its set-up
    ],
)
def test_unreachable_dask_fails_fast_and_writes_nothing(
    tmp_path: Path, address: str, reason: str
) -> None:
    began = time.monotonic()
    result = wsim(
        "sweep", write_spec(tmp_path, FACTORIAL), "--out", tmp_path / "out", "--dask", address
    )
    assert time.monotonic() - began < DASK_FAILS_WITHIN_S
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"error: --dask {address}: could not reach a Dask scheduler within 3 s ("
    ), lines
    assert reason in lines[0]
    assert not (tmp_path / "out").exists()


def test_batches_amortise_start_up_but_stay_small(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, FACTORIAL.replace("count = 2", "count = 20"))
    todo = tasks(sample(spec, spec.seed), range(20))
    assert len(todo) == 80 and TASKS_PER_WORKER == 16
    assert [len(b) for b in batches(todo, 2)] == [3] * 26 + [2]  # 80 / (2 x 16) -> 3
    assert [len(b) for b in batches(todo[:10], 2)] == [1] * 10
    assert [len(b) for b in batches(todo * 4, 1)] == [8] * 40  # at most 8 a task
    assert [len(b) for b in batches(todo[:10], 2, runs_per_task=4)] == [4, 4, 2]
    assert [t for b in batches(todo, 3) for t in b] == todo
    assert pd.Series([t.run_id for t in todo]).is_unique
