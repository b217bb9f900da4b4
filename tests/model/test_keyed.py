"""Keyed random numbers: uniform, independent across keys, the same wherever the key is."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from twins import run_both

from model.keyed import (
    KeyedDraws,
    Purpose,
    keyed_option_uniforms,
    keyed_pair_uniforms,
    keyed_selection,
    keyed_uniforms,
    poisson_quantile,
)

KEYED = KeyedDraws(seed=11, replicate=2)


@settings(max_examples=40, deadline=None)
@given(prefix=st.integers(0, 2**64 - 1), entities=st.lists(st.integers(0, 2**62), max_size=200))
def test_keyed_uniforms_twins_are_identical(prefix, entities):
    u, _ = run_both(keyed_uniforms, np.uint64(prefix), np.array(entities, dtype=np.int64))
    assert u.shape == (len(entities),) and ((u > 0) & (u < 1)).all()


@settings(max_examples=40, deadline=None)
@given(
    prefix=st.integers(0, 2**64 - 1),
    pairs=st.lists(st.tuples(st.integers(0, 2**40), st.integers(0, 2**46)), max_size=200),
)
def test_keyed_pair_uniforms_twins_are_identical(prefix, pairs):
    first = np.array([p for p, _ in pairs], dtype=np.int64)
    second = np.array([s for _, s in pairs], dtype=np.int64)
    u, _ = run_both(keyed_pair_uniforms, np.uint64(prefix), first, second)
    assert u.shape == (len(pairs),) and ((u > 0) & (u < 1)).all()


@settings(max_examples=40, deadline=None)
@given(
    prefix=st.integers(0, 2**64 - 1),
    share=st.floats(0, 1),
    people=st.lists(st.tuples(st.booleans(), st.sampled_from([0.0, 0.5, 1.0])), max_size=300),
)
def test_keyed_selection_twins_are_identical(prefix, share, people):
    forced = np.array([f for f, _ in people], dtype=bool)
    capacity = np.array([c for _, c in people], dtype=np.float32)
    chosen, _ = run_both(keyed_selection, np.uint64(prefix), share, forced, capacity)
    assert chosen.dtype == np.int64 and (capacity[chosen] > 0).all()
    assert set(np.flatnonzero(forced & (capacity > 0))) <= set(chosen.tolist())


@settings(max_examples=40, deadline=None)
@given(
    prefix=st.integers(0, 2**64 - 1),
    entities=st.lists(st.integers(0, 2**40), max_size=200),
    options=st.integers(1, 9),
)
def test_keyed_option_uniforms_twins_are_identical(prefix, entities, options):
    e = np.array(entities, dtype=np.int64)
    u, _ = run_both(keyed_option_uniforms, np.uint64(prefix), e, options)
    assert u.shape == (len(entities), options)
    flat = keyed_uniforms(np.uint64(prefix), (e[:, None] * options + np.arange(options)).ravel())
    np.testing.assert_array_equal(u.ravel(), flat)


def test_a_selection_draws_each_entity_at_the_share():
    n, share = 200_000, 0.1
    chosen = KEYED.selection(Purpose.REVISE, share, np.zeros(n, bool), np.ones(n), month=4)
    assert abs(len(chosen) / n - share) < 4 * np.sqrt(share * (1 - share) / n)
    u = KEYED.uniforms(Purpose.REVISE, np.arange(n), month=4)
    np.testing.assert_array_equal(chosen, np.flatnonzero(u < share))


def test_uniforms_are_uniform_on_the_open_interval():
    u = KEYED.uniforms(Purpose.CHOICE, np.arange(200_000), month=3)
    assert u.min() > 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_an_entitys_draw_does_not_depend_on_the_others_drawn_with_it():
    everyone = KEYED.uniforms(Purpose.REVISE, np.arange(1000), month=5)
    some = np.array([998, 3, 500])
    np.testing.assert_array_equal(KEYED.uniforms(Purpose.REVISE, some, month=5), everyone[some])


def test_every_part_of_the_key_gives_unrelated_numbers():
    entities = np.arange(50_000)
    base = KEYED.uniforms(Purpose.HIRE, entities, month=4, index=1)
    variants = [
        KeyedDraws(seed=12, replicate=2).uniforms(Purpose.HIRE, entities, 4, 1),
        KeyedDraws(seed=11, replicate=3).uniforms(Purpose.HIRE, entities, 4, 1),
        KEYED.uniforms(Purpose.PICK, entities, 4, 1),
        KEYED.uniforms(Purpose.HIRE, entities, 5, 1),
        KEYED.uniforms(Purpose.HIRE, entities, 4, 2),
        KEYED.uniforms(Purpose.HIRE, entities + 1, 4, 1),
    ]
    for other in variants:
        assert abs(stats.pearsonr(base, other).statistic) < 0.02
    np.testing.assert_array_equal(
        KeyedDraws(seed=11, replicate=2).uniforms(Purpose.HIRE, entities, 4, 1), base
    )


def test_pair_uniforms_differ_by_either_entity():
    people, firms = np.repeat(np.arange(300), 300), np.tile(np.arange(300), 300)
    u = KEYED.pair_uniforms(Purpose.PICK, people, firms, 1)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    swapped = KEYED.pair_uniforms(Purpose.PICK, firms, people, 1)
    assert abs(stats.pearsonr(u, swapped).statistic) < 0.02


def test_normals_and_poisson_counts_follow_their_distributions():
    z = KEYED.normals(Purpose.ORDERS, np.arange(100_000), month=2)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    means = np.array([2.5, 0.0, 2.5, 2.5, 2.5])
    counts = np.array([KEYED.poisson(Purpose.CANDIDATES, means, month) for month in range(2000)])
    assert counts.dtype == np.int64 and (counts[:, 1] == 0).all()  # a mean of 0: none
    drawn = counts[:, means > 0]
    assert abs(drawn.mean() - 2.5) < 0.1 and abs(drawn.var() - 2.5) < 0.25


@settings(max_examples=60, deadline=None)
@given(
    u=st.lists(st.floats(1e-12, 1 - 1e-12), min_size=1, max_size=50),
    mean=st.floats(1e-300, 500.0),
)
def test_poisson_quantile_is_scipys_poisson_ppf(u, mean):
    u = np.array(u)
    expected = stats.poisson.ppf(u, mean)
    np.testing.assert_array_equal(poisson_quantile(u, np.full(len(u), mean)), expected)


def test_stochastic_round_is_floor_or_ceil_and_unbiased():
    rounded = np.array(
        [KEYED.stochastic_round(2.3, Purpose.TRAINING_PLACES, m) for m in range(20_000)]
    )
    assert set(rounded) == {2, 3}
    assert abs(rounded.mean() - 2.3) < 0.02
    assert KEYED.stochastic_round(4.0, Purpose.TRAINING_PLACES, 1) == 4


def test_by_priority_picks_a_uniform_subset_and_more_places_only_add():
    candidates = np.arange(100, 120)
    picks = np.concatenate(
        [KEYED.by_priority(Purpose.TRAINING, candidates, 5, m) for m in range(4000)]
    )
    assert len(set(picks)) == 20
    assert stats.chisquare(np.bincount(picks - 100)).pvalue > 1e-3
    few = KEYED.by_priority(Purpose.TRAINING, candidates, 3, month=7)
    more = KEYED.by_priority(Purpose.TRAINING, candidates, 8, month=7)
    np.testing.assert_array_equal(more[:3], few)  # in order of priority
    # a candidate who drops out leaves the others' order unchanged
    fewer = KEYED.by_priority(Purpose.TRAINING, candidates[candidates != few[0]], 2, month=7)
    np.testing.assert_array_equal(fewer, few[1:])
    assert len(KEYED.by_priority(Purpose.TRAINING, candidates, 0, month=7)) == 0
    assert len(KEYED.by_priority(Purpose.TRAINING, candidates, 50, month=7)) == 20
