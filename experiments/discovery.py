"""Scenario discovery: the regions of the uncertain parameters where a policy fails.

A sweep over uncertainties (``[uncertainties.*]``, a Latin hypercube) gives one row per
uncertainty point: its parameter values and an outcome averaged over its replicates,
either one arm's level (the default policy's net exits) or the paired effect of one arm
against another (the arm's run minus the other arm's run of the same replicate, on the
same households and shocks, then averaged). A point **fails** when that value is below
(or above) a threshold. Three views then say where the failures are:

- **PRIM** (EMA Workbench's `Prim`): peels the box of all points, a small slice of one
  parameter's range at a time, keeping the slice that raises the share of failing points
  inside most, then pastes back what helps. Each step is a box on the **peeling
  trajectory** with its *coverage* (share of all failing points inside the box), its
  *density* (share of the points inside the box that fail), *mass* (share of all points
  inside) and the number of parameters it restricts. The chosen box is by default the
  first one whose density reaches a threshold (0.8: the most coverage among boxes dense
  enough), else the densest. Each limit of it
  has a *quasi-p value*: the one-sided binomial probability of the box's failure density
  if that limit were dropped (Bryant and Lempert 2010); a small value (below 0.05) says
  the limit matters, a large one that it could be noise.
- **CART** (a shallow scikit-learn decision tree): the same question as rules; its
  leaves that predict failure, with their coverage and density.
- **Feature scores** (EMA's extra-trees importances): which parameters tell failing from
  other points at all.

EMA Workbench and scikit-learn are imported inside the functions that use them, so
importing this module stays light.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from experiments.analysis.effects import arm_names, run_values
from experiments.api import SweepResults, column_unit, load, scenario_key_unit
from experiments.figures.discovery import plot_discovery
from experiments.outputs import staging
from experiments.provenance import code_version
from experiments.sweep.pairing import REPLICATE
from experiments.sweep.seeding import ARM, BASELINE
from experiments.sweep.spec import Spec, unknown_name

Direction = Literal["below", "above"]
DISCOVERY_DIR = "discovery"  # DIR/discovery/<failure>/ holds each discovery of a sweep
RESULT_FILE = "discovery.json"  # what was asked and found; marks a discovery folder
CART_RULES_FILE = "cart_rules.txt"
PLOTS = "plots"
TABLES = ("points", "trajectory", "box_limits", "cart_leaves", "feature_scores", "parameters")
MIN_DENSITY = 0.8  # share of failing points a chosen box must hold (Bryant and Lempert 2010)
CART_DEPTH = 4  # an interior box on two parameters takes four splits
CART_LEAF_SHARE = 0.05  # least share of points in a CART leaf: PRIM's least mass
CART_LEAF_MIN = 5  # and at least this many points
FEATURE_TREES = 100  # extra trees of the feature scores (EMA's default)
POINT, REPLICATES, FAILS = "point", "replicates", "fails"
DIFFERENCE = "_difference"  # suffix of an outcome's paired effect in the points table


class DiscoveryError(ValueError):
    """Inputs that give no discovery: names where, the option or key, and what was expected.

    Attributes:
        where: the sweep folder (or output folder) concerned, or ``""``.
        key: the argument at fault (``outcome``, ``effect_vs``, ``below``, ...), or ``""``
            when the data, not an argument, give nothing to discover.
        expected: what was expected, and what was found.
    """

    def __init__(self, where: str | Path, key: str, expected: str) -> None:
        self.where, self.key, self.expected = str(where), key, expected
        super().__init__(": ".join(part for part in (self.where, key, expected) if part))


@dataclass(frozen=True)
class Failure:
    """What failing means: an outcome of an arm (or its effect) beyond a threshold.

    Attributes:
        outcome: a spec outcome (summary column or kept monthly column, final month).
        direction: ``below``: a point fails when its value is below `threshold`;
            ``above``: when above.
        threshold: in the outcome's unit (of the effect, with `effect_vs`).
        arm: the arm whose outcome is read (``baseline``: the base scenario's policy).
        effect_vs: another arm: the value is then `arm` minus `effect_vs`, run by run on
            the same replicate, averaged over the replicates.
    """

    outcome: str
    direction: Direction
    threshold: float
    arm: str = BASELINE
    effect_vs: str | None = None

    @property
    def column(self) -> str:
        """The value's column in the points table (the outcome, or its paired difference)."""
        return self.outcome + (DIFFERENCE if self.effect_vs else "")

    def describe(self) -> str:
        """The value in words: ``net_exits of baseline minus policy=off``."""
        if self.effect_vs is None:
            return f"{self.outcome} of {self.arm}"
        return f"{self.outcome} of {self.arm} minus {self.effect_vs}"

    def statement(self) -> str:
        """The failure: ``net_exits of baseline below 250``."""
        return f"{self.describe()} {self.direction} {self.threshold:g}"

    def in_words(self) -> str:
        """The failure for titles: ``net exits of baseline below 250``."""
        return self.statement().replace(self.outcome, self.outcome.replace("_", " "), 1)

    def folder_name(self) -> str:
        """``<outcome>_<below|above>_<threshold>``, then ``_effect_vs_<arm>`` and the arm."""
        parts = [self.outcome, self.direction, f"{self.threshold:g}"]
        if self.effect_vs is not None:
            parts += ["effect_vs", self.effect_vs]
        if self.arm != BASELINE:
            parts += ["of", self.arm]
        return "_".join(_safe(part) for part in parts)

    def fails(self, values: np.ndarray) -> np.ndarray:
        """Which of `values` (in the outcome's unit) fail."""
        return values < self.threshold if self.direction == "below" else values > self.threshold


@dataclass(frozen=True)
class Discovery:
    """Where a policy fails, found in a sweep's uncertainty points.

    Attributes:
        failure: what failing means.
        unit: the unit of the outcome (and of its effect).
        parameters: one row per uncertain parameter: ``parameter`` (the spec's name),
            ``key`` (dotted scenario key), ``unit``, ``range_low``, ``range_high`` (the
            spec's range, in the key's unit) and ``label`` (name and unit in words).
        points: one row per uncertainty point: ``point``, each parameter's value, the
            value (`Failure.column`: mean over the point's ``replicates``) and ``fails``.
        trajectory: PRIM's peeling and pasting trajectory, one row per ``box``:
            ``points`` and ``failures`` inside, ``coverage``, ``density``, ``mass``
            (shares), ``restricted_dimensions`` (parameters restricted) and ``chosen``.
        chosen_box: the index of the chosen box on the trajectory.
        box_limits: one row per parameter: ``parameter``, ``key``, ``label``,
            ``restricted``, the chosen box's ``box_low`` and ``box_high``, the
            parameter's ``range_low`` and ``range_high`` (key's unit), and EMA's
            quasi-p values of each restricted limit, ``qp_low`` and ``qp_high`` (empty
            where the limit is not restricted).
        cart_rules: the decision tree as text (scikit-learn's ``export_text``).
        cart_leaves: the tree's leaves that predict failure: ``leaf``, ``rule``,
            ``points``, ``failures``, ``coverage``, ``density``.
        feature_scores: ``parameter``, ``key``, ``label``, ``score`` (extra-trees
            importance; the scores sum to 1) and ``rank`` (1 = most important).
        min_density: the density threshold the chosen box was picked with.
        sweep: the sweep folder, or None for a points table given directly.
    """

    failure: Failure
    unit: str
    parameters: pd.DataFrame
    points: pd.DataFrame
    trajectory: pd.DataFrame
    chosen_box: int
    box_limits: pd.DataFrame
    cart_rules: str
    cart_leaves: pd.DataFrame
    feature_scores: pd.DataFrame
    min_density: float
    sweep: Path | None = None

    @property
    def coverage(self) -> float:
        """Share of all failing points inside the chosen box."""
        return self._chosen("coverage")

    @property
    def density(self) -> float:
        """Share of the points inside the chosen box that fail."""
        return self._chosen("density")

    @property
    def mass(self) -> float:
        """Share of all points inside the chosen box."""
        return self._chosen("mass")

    def _chosen(self, column: str) -> float:
        """A column of the trajectory at the chosen box."""
        return float(self.trajectory[column].to_numpy()[self.chosen_box])

    @property
    def restricted(self) -> pd.DataFrame:
        """The chosen box's limits on the parameters it restricts."""
        return self.box_limits[self.box_limits["restricted"]].reset_index(drop=True)

    def summary(self) -> dict[str, Any]:
        """What was asked and found, as written to ``discovery.json``."""
        fails = self.points[FAILS]
        return {
            "failure": asdict(self.failure),
            "statement": self.failure.statement(),
            "unit": self.unit,
            "sweep": None if self.sweep is None else str(self.sweep),
            "points": len(fails),
            "failing_points": int(fails.sum()),
            "min_density": self.min_density,
            "chosen_box": self.chosen_box,
            "coverage": self.coverage,
            "density": self.density,
            "mass": self.mass,
            "restricted": list(self.restricted["parameter"]),
        }

    def save(self, out: str | Path) -> Path:
        """Write the tables (CSV), the tree's rules, ``discovery.json`` and the figures.

        The folder is built under a temporary name and renamed into place, so an error
        leaves nothing half-written; an earlier discovery folder at `out` is replaced.

        Raises:
            DiscoveryError: `out` holds other files than an earlier discovery's.
            OSError: the folder cannot be written.
        """
        out = Path(out)
        check_out(out)
        with staging(out) as tmp:
            for name in TABLES:
                getattr(self, name).to_csv(tmp / f"{name}.csv", index=False)
            (tmp / CART_RULES_FILE).write_text(self.cart_rules, encoding="utf-8")
            plot_discovery(
                self.points,
                self.trajectory,
                self.box_limits,
                self.feature_scores,
                (self.failure.column, self.value_label()),
                self.title(),
                tmp / PLOTS,
            )
            manifest = {**self.summary(), "code_version": code_version()}
            (tmp / RESULT_FILE).write_text(
                json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
        return out

    def title(self) -> str:
        """Figure title: the failure, the points and the sweep."""
        where = f" of sweep {self.sweep.name}" if self.sweep is not None else ""
        return (
            f"Where {self.failure.in_words()} ({self.unit}): "
            f"{int(self.points[FAILS].sum())} of {len(self.points)} points{where}"
        )

    def value_label(self) -> str:
        """The value of a point in words, with its unit (an axis label)."""
        outcome = self.failure.outcome
        words = self.failure.describe().replace(outcome, outcome.replace("_", " "), 1)
        return f"{words}, mean over replicates ({self.unit})"


def discover(
    folder: str | Path,
    outcome: str,
    *,
    below: float | None = None,
    above: float | None = None,
    effect_vs: str | None = None,
    arm: str = BASELINE,
    min_density: float = MIN_DENSITY,
    box: int | None = None,
    seed: int | None = None,
) -> Discovery:
    """Find where the policy of a sweep fails: PRIM, CART and feature scores.

    Args:
        folder: a finished sweep folder with uncertainties (``wsim sweep SPEC``).
        outcome: one of the spec's outcomes.
        below: a point fails when its value is below this (the outcome's unit).
        above: or above this (give exactly one of `below` and `above`).
        effect_vs: an arm: the value is then the paired effect `arm` minus `effect_vs`
            (replicate by replicate on the same seeds, then averaged), else `arm`'s level.
        arm: the arm whose outcome is read [default: ``baseline``, the spec's base].
        min_density: the chosen box is the first on PRIM's trajectory with at least this
            density (share of its points failing), else the densest; in (0, 1].
        box: choose this box of the trajectory instead (0 = all points).
        seed: seed of the trees (CART, feature scores) [default: the sweep's seed].

    Raises:
        experiments.ResultsError: `folder` is not a sweep folder.
        DiscoveryError: an unknown outcome or arm, no or two thresholds, a threshold
            that is not finite, a sweep without uncertainties, a box off the trajectory,
            or no point (or every point) failing: nothing to discover.
    """
    failure = failure_of(outcome, below, above, arm, effect_vs)
    check_choice(min_density, box)
    sweep = load(folder, "sweep", panel=False)
    points = outcome_by_point(sweep, outcome, arm, effect_vs)
    found = discover_points(
        points,
        parameters_of(sweep.spec),
        failure,
        min_density=min_density,
        box=box,
        seed=sweep.spec.seed if seed is None else seed,
        where=sweep.folder,
    )
    return replace(found, sweep=sweep.folder)


def failure_of(
    outcome: str,
    below: float | None,
    above: float | None,
    arm: str = BASELINE,
    effect_vs: str | None = None,
) -> Failure:
    """The failure definition, checked: one finite threshold, an effect against another arm.

    Raises:
        DiscoveryError: both or neither threshold, a threshold that is not finite, or
            `effect_vs` the same arm as `arm`.
    """
    given = {name: v for name, v in (("below", below), ("above", above)) if v is not None}
    if len(given) != 1:
        got = "both" if given else "neither"
        raise DiscoveryError("", "below/above", f"expected exactly one of them, got {got}")
    [(direction, threshold)] = given.items()
    if not math.isfinite(threshold):
        raise DiscoveryError("", direction, f"expected a finite number, got {threshold}")
    if effect_vs is not None and effect_vs == arm:
        raise DiscoveryError("", "effect_vs", f"expected another arm than {arm!r}, got it")
    return Failure(outcome, "below" if direction == "below" else "above", threshold, arm, effect_vs)


def check_choice(min_density: float, box: int | None) -> None:
    """Refuse a density threshold outside (0, 1] and a negative box index."""
    if not 0 < min_density <= 1:
        raise DiscoveryError("", "min_density", f"expected a share in (0, 1], got {min_density}")
    if box is not None and box < 0:
        raise DiscoveryError("", "box", f"expected a box index >= 0, got {box}")


def outcome_by_point(
    sweep: SweepResults, outcome: str, arm: str = BASELINE, effect_vs: str | None = None
) -> pd.DataFrame:
    """One row per uncertainty point: its parameters and the outcome, mean over replicates.

    Args:
        sweep: a sweep with uncertainties (`experiments.load`).
        outcome: one of the spec's outcomes.
        arm: the arm whose outcome is read.
        effect_vs: another arm: the value is `arm` minus `effect_vs` run by run (same
            replicate and uncertainty values), averaged over the replicates.

    Returns:
        ``point`` (0, 1, ... in the order of the parameter values), each parameter's value
        (columns named as the spec's uncertainties), the value (the outcome's name, with
        ``_difference`` appended for an effect; its unit) and ``replicates`` (runs, or
        pairs of runs, with a finite value behind the mean). Points without one are left
        out.

    Raises:
        DiscoveryError: a sweep without uncertainties, an unknown outcome or arm, or no
            point with a finite value.
    """
    spec, where = sweep.spec, sweep.folder
    check_names(spec, where, outcome, arm, effect_vs)
    columns = {u.column: u.name for u in spec.uncertainties}
    keys = [*columns, REPLICATE]
    values = run_values(sweep)
    runs = values.loc[values[ARM] == arm, [*keys, outcome]]
    column = outcome
    if effect_vs is not None:
        other = values.loc[values[ARM] == effect_vs, [*keys, outcome]]
        runs = runs.merge(other, on=keys, suffixes=("", "_vs"))
        column = outcome + DIFFERENCE
        runs[column] = runs[outcome] - runs[outcome + "_vs"]
    runs = runs[np.isfinite(runs[column].to_numpy(dtype=float))]
    if runs.empty:
        raise DiscoveryError(
            where, "", f"expected runs of {arm!r} with a finite {column}, got none"
        )
    points = runs.groupby(list(columns), sort=True).agg(
        **{column: (column, "mean"), REPLICATES: (column, "size")}
    )
    points = points.reset_index().rename(columns=columns)
    points.insert(0, POINT, np.arange(len(points)))
    return points


def check_names(
    spec: Spec, where: Path, outcome: str, arm: str, effect_vs: str | None = None
) -> None:
    """Refuse a sweep without uncertainties and an outcome or arm the sweep does not have.

    Raises:
        DiscoveryError: naming the argument, the name given and the known names.
    """
    if not spec.uncertainties:
        raise DiscoveryError(
            where,
            "",
            f"expected a sweep with uncertainties (a latin_hypercube design), found a "
            f"{spec.file.design.method} design without",
        )
    outcomes = list(spec.file.outputs.outcomes)
    if outcome not in outcomes:
        raise DiscoveryError(
            where,
            "outcome",
            f"expected one of the spec's outcomes, {unknown_name(outcome, outcomes)}",
        )
    arms = arm_names(spec)
    for key, name in (("arm", arm), ("effect_vs", effect_vs)):
        if name is not None and name not in arms:
            raise DiscoveryError(
                where, key, f"expected one of the sweep's arms, {unknown_name(name, arms)}"
            )


def parameters_of(spec: Spec) -> pd.DataFrame:
    """The spec's uncertain parameters: name, key, unit, range and a label in words."""
    rows = [
        {
            "parameter": u.name,
            "key": u.column,
            "unit": scenario_key_unit(u.column) or "",
            "range_low": u.spec.range[0],
            "range_high": u.spec.range[1],
        }
        for u in spec.uncertainties
    ]
    return with_labels(pd.DataFrame(rows))


def with_labels(parameters: pd.DataFrame) -> pd.DataFrame:
    """`parameters` with ``label``: the name in words and its unit.

    ``revision_rate`` in ``share/month`` reads ``revision rate (share/month)``.
    """
    words = parameters["parameter"].str.replace("_", " ")
    units = parameters["unit"].fillna("")
    labels = [f"{w} ({u})" if u and u != "-" else w for w, u in zip(words, units, strict=True)]
    return parameters.assign(label=labels)


def discover_points(
    points: pd.DataFrame,
    parameters: pd.DataFrame,
    failure: Failure,
    *,
    min_density: float = MIN_DENSITY,
    box: int | None = None,
    seed: int = 0,
    where: str | Path = "",
) -> Discovery:
    """PRIM, CART and feature scores on a table of points (`outcome_by_point`'s form).

    Args:
        points: one row per point: a column per parameter and `failure.column`.
        parameters: ``parameter``, ``key``, ``unit``, ``range_low``, ``range_high`` of
            each parameter (`parameters_of`); ``label`` is added if missing.
        failure: what failing means.
        min_density: see `discover`.
        box: see `discover`.
        seed: seed of the trees (CART, feature scores).
        where: the sweep folder, for messages.

    Raises:
        DiscoveryError: no point or every point fails, or `box` is off the trajectory.
    """
    check_choice(min_density, box)
    if "label" not in parameters:
        parameters = with_labels(parameters)
    fails = failure.fails(points[failure.column].to_numpy(dtype=float))
    check_crossing(fails, failure, where)
    points = points.assign(**{FAILS: fails})
    features = points[list(parameters["parameter"])]
    trajectory, limits = peel(features, fails)
    chosen = choose_box(trajectory, min_density, box)
    rules, leaves = cart(features, fails, seed)
    unit = column_unit(failure.outcome) or ""
    return Discovery(
        failure=failure,
        unit=unit,
        parameters=parameters,
        points=points,
        trajectory=trajectory.assign(chosen=trajectory["box"] == chosen),
        chosen_box=chosen,
        box_limits=box_table(limits[chosen], parameters),
        cart_rules=rules,
        cart_leaves=leaves,
        feature_scores=feature_scores(features, fails, parameters, seed),
        min_density=min_density,
    )


def check_crossing(fails: np.ndarray, failure: Failure, where: str | Path) -> None:
    """Refuse points of which none, or all, fail: there is no region to find."""
    if fails.any() and not fails.all():
        return
    which = "no point has" if not fails.any() else "every point has"
    holds = "" if not fails.any() else " (no point where it holds)"
    raise DiscoveryError(
        where,
        "",
        f"{which} {failure.statement()} (of {len(fails)} points, means over their "
        f"replicates): nothing to discover{holds}",
    )


def peel(
    features: pd.DataFrame, fails: np.ndarray
) -> tuple[pd.DataFrame, list[dict[str, tuple[float, float, float, float]]]]:
    """PRIM's trajectory (one box, EMA Workbench defaults) and each box's limits.

    Returns:
        The trajectory (``box``, ``points``, ``failures``, ``coverage``, ``density``,
        ``mass``, ``restricted_dimensions``) and, per box, each restricted parameter's
        (low, high, quasi-p of the low limit, of the high limit; NaN where that limit is
        the data's own).
    """
    prim = _ema_prim()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"ema_workbench\.")  # its pandas deprecations
        found = prim.Prim(features.reset_index(drop=True), fails.astype(int)).find_box()
    path = found.peeling_trajectory
    trajectory = pd.DataFrame(
        {
            "box": path["id"].astype(int),
            "points": path["n"].astype(int),
            "failures": path["k"].astype(int),
            "coverage": path["coverage"].astype(float),
            "density": path["density"].astype(float),
            "mass": path["mass"].astype(float),
            "restricted_dimensions": path["res_dim"].astype(int),
        }
    )
    limits = [
        {name: _limit(box_lim[name], p_values[name]) for name in p_values}
        for box_lim, p_values in zip(found.box_lims, found.p_values, strict=True)
    ]
    return trajectory, limits


def _limit(bounds: pd.Series, quasi_p: list[float]) -> tuple[float, float, float, float]:
    """A restricted parameter's (low, high, quasi-p low, quasi-p high); EMA's -1 as NaN."""
    qp_low, qp_high = (math.nan if qp < 0 else float(qp) for qp in quasi_p)
    low, high = bounds.to_numpy(dtype=float)
    return float(low), float(high), qp_low, qp_high


def _ema_prim() -> Any:
    """EMA Workbench's prim module, imported quietly (it warns about optional packages)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    return prim


def choose_box(trajectory: pd.DataFrame, min_density: float, box: int | None = None) -> int:
    """The chosen box: `box`, else the first with density >= `min_density`, else the densest.

    The first such box on the trajectory covers the most failures among those dense
    enough, and restricts the fewest parameters: later boxes buy density with coverage
    and limits that are often noise (see their quasi-p values).

    Raises:
        DiscoveryError: `box` is not on the trajectory.
    """
    last = len(trajectory) - 1
    if box is not None:
        if not 0 <= box <= last:
            raise DiscoveryError(
                "", "box", f"expected a box of the peeling trajectory, 0 to {last}, got {box}"
            )
        return box
    dense = np.flatnonzero(trajectory["density"].to_numpy() >= min_density)
    return int(dense[0]) if len(dense) else int(trajectory["density"].to_numpy().argmax())


def box_table(
    limits: Mapping[str, tuple[float, float, float, float]], parameters: pd.DataFrame
) -> pd.DataFrame:
    """The chosen box's limits beside each parameter's range, restricted ones first."""
    rows = []
    for p in parameters.to_dict("records"):
        low, high, qp_low, qp_high = limits.get(
            p["parameter"], (p["range_low"], p["range_high"], np.nan, np.nan)
        )
        rows.append(
            {
                "parameter": p["parameter"],
                "key": p["key"],
                "label": p["label"],
                "restricted": p["parameter"] in limits,
                "box_low": low,
                "box_high": high,
                "range_low": p["range_low"],
                "range_high": p["range_high"],
                "qp_low": qp_low,
                "qp_high": qp_high,
            }
        )
    table = pd.DataFrame(rows)
    return table.sort_values("restricted", ascending=False, kind="stable").reset_index(drop=True)


def cart(features: pd.DataFrame, fails: np.ndarray, seed: int) -> tuple[str, pd.DataFrame]:
    """A shallow decision tree: its rules as text and its leaves that predict failure.

    Depth at most `CART_DEPTH`, leaves of at least `CART_LEAF_SHARE` of the points (and
    `CART_LEAF_MIN`), seeded.

    Returns:
        The rules (``export_text``) and one row per failing leaf: ``leaf``, ``rule``
        (its limits on each parameter it splits), ``points``, ``failures``,
        ``coverage`` (share of all failing points in the leaf), ``density`` (share of
        the leaf's points failing).
    """
    from sklearn.tree import DecisionTreeClassifier, export_text

    leaf_size = max(CART_LEAF_MIN, math.ceil(CART_LEAF_SHARE * len(fails)))
    tree = DecisionTreeClassifier(
        max_depth=CART_DEPTH, min_samples_leaf=leaf_size, random_state=_tree_seed(seed)
    ).fit(features.to_numpy(dtype=float), fails)
    names = list(features.columns)
    rules = export_text(tree, feature_names=names, class_names=_class_names(tree))
    leaf_of = tree.apply(features.to_numpy(dtype=float))
    rows = []
    for leaf, bounds in leaf_bounds(tree.tree_, names).items():
        inside = leaf_of == leaf
        failures = int(fails[inside].sum())
        if failures * 2 <= inside.sum():  # the leaf predicts "holds"
            continue
        rows.append(
            {
                "leaf": leaf,
                "rule": rule_text(bounds),
                "points": int(inside.sum()),
                "failures": failures,
                "coverage": failures / int(fails.sum()),
                "density": failures / int(inside.sum()),
            }
        )
    leaves = pd.DataFrame(
        rows, columns=["leaf", "rule", "points", "failures", "coverage", "density"]
    )
    return rules, leaves.sort_values("coverage", ascending=False).reset_index(drop=True)


def _class_names(tree: Any) -> list[str]:
    """Names of the tree's classes in its order (False: holds, True: fails)."""
    return ["fails" if bool(c) else "holds" for c in tree.classes_]


def _tree_seed(seed: int) -> int:
    """A seed scikit-learn takes (0 to 2**32 - 1)."""
    return seed % 2**32


def leaf_bounds(structure: Any, names: list[str]) -> dict[int, dict[str, list[float]]]:
    """Each leaf of a fitted tree (``tree_``) and the [low, high] of each split parameter.

    A point goes left at a split when its value is <= the threshold.
    """
    leaves: dict[int, dict[str, list[float]]] = {}
    stack: list[tuple[int, dict[str, list[float]]]] = [(0, {})]
    while stack:
        node, bounds = stack.pop()
        left, right = structure.children_left[node], structure.children_right[node]
        if left == right:  # a leaf
            leaves[node] = bounds
            continue
        name, cut = names[structure.feature[node]], float(structure.threshold[node])
        low, high = bounds.get(name, [-math.inf, math.inf])
        stack.append((left, {**bounds, name: [low, min(high, cut)]}))
        stack.append((right, {**bounds, name: [max(low, cut), high]}))
    return leaves


def rule_text(bounds: Mapping[str, list[float]]) -> str:
    """A leaf's limits as text: ``0.2 < revision_rate <= 0.5 and inertia > 1.3``."""
    terms = []
    for name, (low, high) in bounds.items():
        if math.isfinite(low) and math.isfinite(high):
            terms.append(f"{low:.4g} < {name} <= {high:.4g}")
        elif math.isfinite(low):
            terms.append(f"{name} > {low:.4g}")
        else:
            terms.append(f"{name} <= {high:.4g}")
    return " and ".join(terms) or "all points"


def feature_scores(
    features: pd.DataFrame, fails: np.ndarray, parameters: pd.DataFrame, seed: int
) -> pd.DataFrame:
    """Extra-trees importance of each parameter for telling failing points apart (EMA).

    Returns:
        ``parameter``, ``key``, ``label``, ``score`` (the scores sum to 1) and ``rank``,
        most important first.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optional packages of EMA, and OOB scores of few points
        from ema_workbench.analysis.feature_scoring import get_ex_feature_scores
        from ema_workbench.analysis.scenario_discovery_util import RuleInductionType

        scores, _ = get_ex_feature_scores(
            features.reset_index(drop=True),
            fails.astype(int),
            mode=RuleInductionType.CLASSIFICATION,
            nr_trees=FEATURE_TREES,
            max_features=max(1, round(features.shape[1] / 3)),
            random_state=_tree_seed(seed),
        )
    score = scores.iloc[:, 0].rename("score").rename_axis("parameter").reset_index()
    table = parameters[["parameter", "key", "label"]].merge(score, on="parameter")
    table = table.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    return table.assign(rank=np.arange(1, len(table) + 1))


def check_out(out: Path) -> None:
    """Refuse an output folder holding anything but an earlier discovery.

    Raises:
        DiscoveryError: `out` is a file, or a non-empty folder without ``discovery.json``.
    """
    if out.exists() and not out.is_dir():
        raise DiscoveryError(out, "", "expected a folder path, found a file")
    if out.is_dir() and any(out.iterdir()) and not (out / RESULT_FILE).is_file():
        raise DiscoveryError(
            out,
            "",
            f"expected a new or empty folder or an earlier discovery folder (with "
            f"{RESULT_FILE}); it holds other files, which would be replaced",
        )


def _safe(part: str) -> str:
    """A part of a folder name without separators or spaces."""
    return "".join(c if c.isalnum() or c in "=.+-" else "_" for c in part)
