"""Deciding, racing and hiring in parts bounds memory and changes no result."""

import numpy as np
import pandas as pd
import pytest
from model_helpers import months, variant

import model.economy as economy
import model.labour_market as labour_market
from model.economy import WorkshopEconomy
from model.labour_market import workshop_parts


def run_tables(scenario) -> dict[str, pd.DataFrame]:
    model = WorkshopEconomy(scenario)
    list(months(model, scenario.run.months))
    collector = model.datacollector
    tables = {name: collector.get_table_dataframe(name) for name in ("poverty", "jobs")}
    tables["headline"] = collector.get_model_vars_dataframe()
    tables["people"] = pd.DataFrame(
        {"activity": model.people.activity, "employer": model.people.employer}
    )
    return tables


def test_small_parts_give_the_results_of_one_part(with_cooperatives, monkeypatch):
    scenario = variant(with_cooperatives, households=600, months=8)
    whole = run_tables(scenario)
    monkeypatch.setattr(economy, "CHOICE_CHUNK", 7)
    monkeypatch.setattr(labour_market, "RACE_PAIRS", 13)
    monkeypatch.setattr(labour_market, "HIRE_PART", 5)
    parted = run_tables(scenario)
    assert whole["headline"]["jobs_filled"].iloc[-1] > 20  # hiring was exercised
    for name, table in whole.items():
        pd.testing.assert_frame_equal(parted[name], table, check_exact=True)


@pytest.mark.parametrize("size", [1, 3, 4, 100])
def test_workshop_parts_hold_whole_workshops_in_ascending_order(size):
    target = np.array([2, -1, 0, 2, 1, 1, 4, -1, 0, 2, 3, 1])
    parts = workshop_parts(target, 5, size)
    joined = np.concatenate(parts)
    assert sorted(joined.tolist()) == np.flatnonzero(target >= 0).tolist()
    slots = [set(target[part].tolist()) for part in parts]
    for k, part in enumerate(parts):
        assert (np.diff(part) > 0).all()  # positions ascend within a part
        assert len(part) <= size or len(slots[k]) == 1  # larger only for one workshop
        for other in slots[k + 1 :]:
            assert not slots[k] & other  # a workshop's applicants stay together


def test_freed_memory_is_released_after_the_build_and_the_policys_start(tiny, monkeypatch):
    released = []
    monkeypatch.setattr(economy, "release_freed_memory", lambda: released.append(1))
    model = WorkshopEconomy(variant(tiny, months=3))
    assert len(released) == 1  # after synthesis and the starting rounds
    list(months(model, 3))
    assert len(released) == 2  # after month 1 only


def test_glibc_trim_is_found_on_linux():
    from model.memory import _trim

    assert _trim() is not None  # the machines this runs on use glibc
