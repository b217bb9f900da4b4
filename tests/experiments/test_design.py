"""Designs: sizes, bounds, stratification and the baseline arm of every lever design."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sweep_helpers import FACTORIAL, UNCERTAIN, spec_of

from experiments.sweep.design import reference_arms, sample, unit_sample
from experiments.sweep.seeding import ARM, BASELINE

WAGE, TRAINING = "policy.wage_subsidy.share_of_poor_wage_bill", "policy.training.enabled"
LHS = UNCERTAIN.replace('"sobol"', '"latin_hypercube"').replace("samples = 32", "samples = 20")


def test_factorial_has_every_combination_and_labels_the_base_one(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, FACTORIAL.replace("[0.2, 0.6]", "[0.2, 0.4, 0.6]"))
    design = sample(spec, spec.seed)
    assert len(design) == 3 * 2
    assert list(design.columns) == [WAGE, TRAINING, ARM]
    assert design.iloc[0].to_dict() == {WAGE: 0.2, TRAINING: True, ARM: BASELINE}
    assert set(design[ARM]) == {
        BASELINE,
        "wage=0.4",
        "wage=0.6",
        "training=False",
        "wage=0.4,training=False",
        "wage=0.6,training=False",
    }


def test_factorial_adds_the_baseline_when_the_base_is_not_a_level(tmp_path: Path) -> None:
    spec = spec_of(
        tmp_path, FACTORIAL.replace("[0.2, 0.6]", "[0.4, 0.6]").replace("[true, false]", "[false]")
    )
    design = sample(spec, spec.seed)
    assert len(design) == 2 * 1 + 1
    assert design[ARM].tolist() == [BASELINE, "wage=0.4,training=False", "wage=0.6,training=False"]


def test_one_at_a_time_moves_one_lever_from_the_base(tmp_path: Path) -> None:
    body = FACTORIAL.replace('"factorial"', '"one_at_a_time"').replace(
        "[0.2, 0.6]", "[0.2, 0.4, 0.6]"
    )
    design = sample(spec_of(tmp_path, body), 0)
    assert design[ARM].tolist() == [BASELINE, "wage=0.4", "wage=0.6", "training=False"]
    changed = (design[[WAGE, TRAINING]] != design.iloc[0][[WAGE, TRAINING]]).sum(axis=1)
    assert changed.tolist() == [0, 1, 1, 1]


def test_latin_hypercube_is_within_bounds_and_stratified(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, LHS)
    design = sample(spec, spec.seed)
    assert len(design) == 20 and (design[ARM] == BASELINE).all()
    for u in spec.uncertainties:
        low, high = u.spec.range
        values = design[u.column].to_numpy()
        assert ((values >= low) & (values <= high)).all()
        strata = np.floor((values - low) / (high - low) * 20).astype(int)
        assert sorted(strata) == list(range(20))  # one point in each of the 20 strata


def test_latin_hypercube_crossed_with_levers_gives_each_point_a_baseline(tmp_path: Path) -> None:
    body = LHS + FACTORIAL[FACTORIAL.index("[levers.wage]") : FACTORIAL.index("[design]")]
    spec = spec_of(tmp_path, body.replace("samples = 20", "samples = 5"))
    design = sample(spec, spec.seed)
    assert len(design) == 5 * 4
    per_point = design.groupby([u.column for u in spec.uncertainties])[ARM].apply(set)
    assert len(per_point) == 5
    assert all(BASELINE in arms and len(arms) == 4 for arms in per_point)


def test_sobol_has_n_times_2d_plus_2_rows(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, UNCERTAIN)
    assert len(sample(spec, spec.seed)) == 32 * (2 * 3 + 2)


def test_morris_has_r_times_d_plus_1_rows_on_the_grid(tmp_path: Path) -> None:
    spec = spec_of(
        tmp_path,
        UNCERTAIN.replace('"sobol"', '"morris"').replace("samples = 32", "samples = 6\nlevels = 4"),
    )
    unit = unit_sample(spec, spec.seed)
    assert unit.shape == (6 * (3 + 1), 3)
    assert set(np.round(unit.ravel() * 3, 9)) <= {0.0, 1.0, 2.0, 3.0}
    steps = np.count_nonzero(np.diff(unit.reshape(6, 4, 3), axis=1), axis=2)
    assert (steps == 1).all()  # each step of a trajectory moves one input


def test_distributions_map_the_unit_cube(tmp_path: Path) -> None:
    body = (
        LHS.replace("samples = 20", "samples = 400")
        .replace("range = [1.0, 4.0]", 'range = [1.0, 4.0]\ndistribution = "loguniform"')
        .replace(
            "range = [0.2, 0.5]",
            'range = [0.2, 0.5]\ndistribution = "normal"\nmean = 0.3\nsd = 0.05',
        )
    )
    spec = spec_of(tmp_path, body)
    design = sample(spec, spec.seed)
    weight, living = (
        design["choice.utility_per_1000_yuan"],
        design["incomes.migrant_living_cost_share"],
    )
    assert np.median(np.log(weight)) == pytest.approx(np.log(2.0), abs=0.02)  # log-midpoint
    assert living.between(0.2, 0.5).all() and living.mean() == pytest.approx(0.3, abs=0.01)


def test_whole_number_keys_get_whole_numbers(tmp_path: Path) -> None:
    body = LHS.replace("choice.revision_rate_per_month", "policy.training.places_per_month")
    design = sample(spec_of(tmp_path, body.replace("[0.05, 0.25]", "[10, 60]")), 0)
    assert design["policy.training.places_per_month"].dtype == np.int64


def test_same_seed_same_design_other_seed_other_design(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, LHS)
    pd.testing.assert_frame_equal(sample(spec, 3), sample(spec, 3))
    assert not sample(spec, 3).equals(sample(spec, 4))


CROSSED = (
    FACTORIAL.replace('"factorial"', '"one_at_a_time"')
    + """
[levers.rule]
key = "choice.rule"
values = ["income_max", "satisficing"]
crossed = true
"""
)


def test_a_crossed_lever_runs_every_arm_at_each_of_its_levels(tmp_path: Path) -> None:
    design = sample(spec_of(tmp_path, CROSSED), 0)
    assert (
        design["choice.rule"].tolist() == ["logit"] * 3 + ["income_max"] * 3 + ["satisficing"] * 3
    )
    assert design[ARM].tolist() == [
        BASELINE,
        "wage=0.6",
        "training=False",
        "rule=income_max",
        "wage=0.6,rule=income_max",
        "training=False,rule=income_max",
        "rule=satisficing",
        "wage=0.6,rule=satisficing",
        "training=False,rule=satisficing",
    ]


def test_each_level_of_a_crossed_lever_has_its_own_reference_arm(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, CROSSED)
    assert reference_arms(spec.levers) == [BASELINE, "rule=income_max", "rule=satisficing"]
    assert reference_arms(spec_of(tmp_path, FACTORIAL).levers) == [BASELINE]
