"""Synthesis draws the same population, array for array, as it always has.

The digests were taken from the implementation before synthesis was rewritten to build
its arrays in place (people laid out by household as they are drawn, no sorting): the
same stream must give the same households, people and villages, bit for bit and dtype
for dtype, so every run's results and the regression fixtures stay as they were.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from model import population
from model.population import synthesise
from model.scenario import Scenario, load_scenario
from model.streams import make_stream

ROOT = Path(__file__).resolve().parents[2]

# Households of which half draw nobody (no adult, no elderly member, no child): each
# gets one elderly member, so the rule is exercised at every size.
HALF_EMPTY = {
    f"population.{group}.{key}": value
    for group in ("poor", "nonpoor")
    for key, value in (
        ("adults_probs", [0.5, 0.5, 0.0, 0.0, 0.0]),
        ("elderly_probs", [0.5, 0.5, 0.0]),
        ("young_children_mean", 0.0),
        ("school_children_mean", 0.0),
    )
}

# (scenario file, households, seed, replicate, changes): digest of the population
DIGESTS: dict[tuple[str, int, int, int, str], str] = {
    ("default", 1, 0, 0, ""): "475170303aecc23e",
    ("default", 57, 3, 0, ""): "66dc323473acf97b",
    ("default", 5000, 0, 1, ""): "3ce5fd57afc40f7c",
    ("default", 20000, 11, 0, ""): "aad2efebb2c3e1fe",
    ("qingchuan", 3000, 5, 0, ""): "4e13e37a3c9759b1",
    ("community_factory", 3000, 2, 0, ""): "4263195e69cce7de",
    ("tiny", 400, 1, 2, ""): "c605281ca2e59556",
    ("tiny", 2000, 9, 0, "half_empty"): "d32689448596f40c",
    ("default", 400000, 4, 0, ""): "1b1c6058c034a6f6",  # more members than a draw chunk
}
CHANGES: dict[str, dict[str, Any]] = {"": {}, "half_empty": HALF_EMPTY}


def scenario_of(name: str, households: int, seed: int, changes: str) -> Scenario:
    """A scenario file of the project (or the tiny fixture) at a size and seed."""
    path = ROOT / ("tests/fixtures/tiny.toml" if name == "tiny" else f"scenarios/{name}.toml")
    changed = load_scenario(path).with_changes(CHANGES[changes])
    return changed.with_overrides(households=households, seed=seed)


def population_digest(scenario: Scenario, replicate: int) -> str:
    """SHA-256 (first 16 hex digits) of every array of a synthesised population.

    Each array of the people, the households and the geography, in name order, with its
    name, dtype and shape.
    """
    seed = scenario.run.seed
    households, people, geography = synthesise(scenario, make_stream(seed, "population", replicate))
    digest = hashlib.sha256()
    for owner in (people, households, geography):
        for name, value in sorted(vars(owner).items()):
            array = np.asarray(value)
            digest.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


@pytest.mark.parametrize("chunk", [population.DRAW_CHUNK, 997])
@pytest.mark.parametrize(("name", "households", "seed", "replicate", "changes"), list(DIGESTS))
def test_synthesis_draws_the_population_it_always_drew(
    name, households, seed, replicate, changes, chunk, monkeypatch
):
    # members draw in chunks: any chunk size gives the draws of one call for all members
    monkeypatch.setattr(population, "DRAW_CHUNK", chunk)
    scenario = scenario_of(name, households, seed, changes)
    expected = DIGESTS[(name, households, seed, replicate, changes)]
    assert population_digest(scenario, replicate) == expected
