"""The optimisation spec: what `wsim optimise` searches, for which outcome, how robustly.

A TOML file (see `experiments/specs/budget_mix.toml` and docs/optimise.md):

- ``base``, ``seed``, ``[run]`` as a sweep spec's;
- ``[objective]``: the outcome to raise against the county without a workshop policy
  (`OUTCOMES`), how candidates are compared over uncertain parameters (``robustness``:
  the mean over scenarios, a lower ``quantile``, or the largest ``regret`` against the
  best hand-designed arm of each scenario) and whether spending is a second objective
  (a Pareto front of outcome against cost);
- ``[budget]``: the fixed yearly budget and the instruments it is split across
  (`policy.allocation`), with floors an instrument must receive;
- ``[settings.*]``: instrument settings searched within a range (dotted scenario keys);
- ``[uncertainties.*]``: as a sweep spec's, sampled by Latin hypercube;
- ``[evaluation]``: uncertainty scenarios and replicates each candidate runs on;
- ``[search]``: the number of candidates, how many run at once, the sampler;
- ``[check]``: the hand-designed arms (a sweep spec with levers) and the fresh
  scenarios and replicates of the out-of-sample check.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from experiments.sweep.spec import (
    Block,
    RunOverrides,
    Spec,
    SpecError,
    Uncertainty,
    UncertaintyColumn,
    base_scenario,
    load_spec,
    numeric_range,
    parse_spec,
    read_spec_text,
    uncertainty_column,
    unknown_name,
)
from model.scenario import INSTRUMENTS, Scenario


@dataclass(frozen=True)
class Outcome:
    """An outcome the search raises: a summary column and the sign of a gain.

    Attributes:
        column: the run summary's column.
        sign: 1 when a gain is candidate - counterfactual, -1 when counterfactual -
            candidate (fewer poor household-months is a gain).
        words: the gain in words, with its unit.
    """

    column: str
    sign: int
    words: str


OUTCOMES = {
    "poor_household_months_averted": Outcome(
        "poor_household_months", -1, "poor household-months averted"
    ),
    "net_exits": Outcome("net_exits", 1, "extra net exits (households)"),
    "poor_households_final_year_fewer": Outcome(
        "poor_households_final_12_mean", -1, "fewer poor households in the final year"
    ),
}
Robustness = Literal["mean", "quantile", "regret"]
SPENDING = "total_spending_yuan"
BUDGET_KEY = "policy.budget_yuan_per_year"
ALLOCATION_KEY = "policy.allocation"


class Objective(Block):
    """What the search raises and how it weighs uncertain scenarios."""

    outcome: str = Field(
        "poor_household_months_averted", description="gain against no workshop policy"
    )
    robustness: Robustness = Field(
        "mean",
        description="mean over scenarios, a lower quantile, or the largest regret "
        "against the best hand-designed arm of each scenario",
    )
    quantile: float = Field(0.1, gt=0.0, lt=1.0, description="the quantile of robustness=quantile")
    spending: bool = Field(False, description="also minimise spending: a Pareto front")


class BudgetSplit(Block):
    """The fixed yearly budget and the instruments it is split across."""

    yuan_per_year: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="yearly budget (yuan) [default: the base's]"
    )
    instruments: list[str] = Field(min_length=1, description="instruments given a share")
    minimum_yuan_per_year: dict[str, float] = Field(
        {}, description="yuan a year an instrument must receive at least"
    )

    @field_validator("minimum_yuan_per_year")
    @classmethod
    def _finite_floors(cls, floors: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in floors.items() if not 0.0 <= v < float("inf")}
        if bad:
            raise ValueError(f"finite amounts >= 0, got {bad}")
        return floors


class Setting(Block):
    """An instrument setting searched within a range."""

    key: str = Field(description="dotted scenario key of a number")
    range: tuple[float, float] = Field(description="[low, high] in the key's unit")
    log: bool = Field(False, description="search on a log scale (low > 0)")

    @field_validator("range")
    @classmethod
    def _finite_and_ordered(cls, bounds: tuple[float, float]) -> tuple[float, float]:
        if not all(abs(b) < float("inf") for b in bounds):
            raise ValueError("finite bounds")
        if not bounds[0] < bounds[1]:
            raise ValueError("[low, high] with low < high")
        return bounds

    @model_validator(mode="after")
    def _log_needs_positive(self) -> Setting:
        if self.log and self.range[0] <= 0:
            raise ValueError("a log-scale range needs low > 0")
        return self


class Evaluation(Block):
    """The runs each candidate is judged on (common to every candidate)."""

    scenarios: int = Field(4, ge=1, le=1000, description="uncertainty scenarios (Latin hypercube)")
    replicates: int = Field(2, ge=1, le=1000, description="replicates per scenario")


class Search(Block):
    """How many candidates, how many at once, drawn by which sampler."""

    evaluations: int = Field(ge=1, le=100_000, description="candidates evaluated in all")
    batch: int = Field(4, ge=1, le=1000, description="candidates proposed and run at once")
    sampler: Literal["tpe", "random", "nsga2"] = Field(
        "tpe", description="optuna sampler (seeded by the spec's seed)"
    )


class Check(Block):
    """The out-of-sample check: the chosen mix against hand-designed arms on fresh runs."""

    hand_arms: str = Field(description="sweep spec with levers, relative to this file")
    scenarios: int = Field(
        16, ge=2, le=1000, description="fresh uncertainty scenarios (the interval's units)"
    )
    replicates: int = Field(1, ge=1, le=1000, description="fresh replicates per scenario")
    first_replicate: int = Field(
        1000, ge=0, description="first replicate of the check (the search's are 0..S*R-1)"
    )


class OptimiseFile(Block):
    """The TOML file as written."""

    name: str | None = Field(None, pattern=r"^\w[\w.-]*$", description="experiment name")
    description: str = ""
    base: str = Field(description="base scenario file, relative to the spec file")
    seed: int = Field(ge=0, description="root seed of every run and of the sampler")
    run: RunOverrides = Field(default_factory=lambda: RunOverrides.model_validate({}))
    objective: Objective = Field(default_factory=lambda: Objective.model_validate({}))
    budget: BudgetSplit
    settings: dict[str, Setting] = {}
    uncertainties: dict[str, Uncertainty] = {}
    evaluation: Evaluation = Field(default_factory=lambda: Evaluation.model_validate({}))
    search: Search
    check: Check | None = None


@dataclass(frozen=True)
class SettingColumn:
    """A searched setting: its name in the spec, dotted key and whether it is whole."""

    name: str
    key: str
    setting: Setting
    integer: bool


@dataclass(frozen=True)
class OptimiseSpec:
    """A validated optimisation spec with its base scenario and hand-designed arms."""

    path: Path
    text: str
    file: OptimiseFile
    base: Scenario
    yuan_per_year: float
    settings: tuple[SettingColumn, ...]
    uncertainties: tuple[UncertaintyColumn, ...]
    hand: Spec | None

    @property
    def name(self) -> str:
        """Experiment name (results go to ``results/<name>/`` by default)."""
        return self.file.name or self.path.stem

    @property
    def outcome(self) -> Outcome:
        """The outcome the search raises."""
        return OUTCOMES[self.file.objective.outcome]

    @property
    def floors(self) -> dict[str, float]:
        """The least share of the budget each allocated instrument receives."""
        floors = self.file.budget.minimum_yuan_per_year
        return {i: floors.get(i, 0.0) / self.yuan_per_year for i in self.file.budget.instruments}


def load_optimise_spec(path: str | Path, text: str | None = None) -> OptimiseSpec:
    """Read and validate an optimisation spec against its base scenario.

    Raises:
        SpecError: naming the file, the first offending key and what was expected.
    """
    path = Path(path)
    text = read_spec_text(path) if text is None else text
    file = parse_spec(path, text, OptimiseFile)
    base = base_scenario(path, file)
    _check_objective(path, file)
    yuan = _check_budget(path, file, base)
    settings = tuple(_setting(path, base, name, s) for name, s in file.settings.items())
    uncertainties = tuple(
        uncertainty_column(path, base, name, u) for name, u in file.uncertainties.items()
    )
    _check_keys(path, settings, uncertainties)
    hand = _hand_arms(path, file, base)
    return OptimiseSpec(path, text, file, base, yuan, settings, uncertainties, hand)


def _check_objective(path: Path, file: OptimiseFile) -> None:
    objective = file.objective
    if objective.outcome not in OUTCOMES:
        raise SpecError(
            path,
            "objective.outcome",
            "an outcome, " + unknown_name(objective.outcome, list(OUTCOMES)),
        )
    if objective.robustness == "regret" and file.check is None:
        raise SpecError(
            path,
            "objective.robustness",
            "hand-designed arms ([check] hand_arms) to measure regret against",
        )


def _check_budget(path: Path, file: OptimiseFile, base: Scenario) -> float:
    """The yearly budget (yuan), after checking the instruments and their floors."""
    split = file.budget
    for i, name in enumerate(split.instruments):
        if name not in INSTRUMENTS:
            raise SpecError(
                path, f"budget.instruments.{i}", "an instrument, " + unknown_name(name, INSTRUMENTS)
            )
    if len(set(split.instruments)) < len(split.instruments):
        raise SpecError(path, "budget.instruments", "each instrument once")
    for name in split.minimum_yuan_per_year:
        if name not in split.instruments:
            raise SpecError(
                path,
                f"budget.minimum_yuan_per_year.{name}",
                "an instrument of budget.instruments, " + unknown_name(name, split.instruments),
            )
    yuan = split.yuan_per_year or base.policy.budget_yuan_per_year
    if yuan <= 0:
        raise SpecError(path, "budget.yuan_per_year", f"a budget above 0, got {yuan}")
    committed = sum(split.minimum_yuan_per_year.values())
    if committed > yuan:
        raise SpecError(
            path,
            "budget.minimum_yuan_per_year",
            f"floors within the yearly budget of {yuan:,.0f} yuan, got {committed:,.0f} in all "
            "(an infeasible budget: the instruments must be paid more than there is)",
        )
    return float(yuan)


def _setting(path: Path, base: Scenario, name: str, s: Setting) -> SettingColumn:
    where = f"settings.{name}"
    if s.key == BUDGET_KEY or s.key.startswith(ALLOCATION_KEY):
        raise SpecError(path, f"{where}.key", "a setting other than the budget and its split")
    integer = isinstance(numeric_range(path, base, where, s.key, s.range), int)
    if integer and round(s.range[0]) >= round(s.range[1]):
        raise SpecError(path, f"{where}.range", "at least two whole numbers")
    return SettingColumn(name, s.key, s, integer)


def _check_keys(
    path: Path, settings: tuple[SettingColumn, ...], uncertainties: tuple[UncertaintyColumn, ...]
) -> None:
    named = [(f"settings.{s.name}.key", s.key) for s in settings]
    named += [(f"uncertainties.{u.name}.key", u.column) for u in uncertainties]
    keys = [key for _, key in named]
    for where, key in named:
        if keys.count(key) > 1:
            raise SpecError(path, where, f"a key no other setting or uncertainty sets, got {key}")


def _hand_arms(path: Path, file: OptimiseFile, base: Scenario) -> Spec | None:
    """The hand-designed arms' sweep spec, checked to share this spec's base."""
    if file.check is None:
        return None
    try:
        hand = load_spec(path.parent / file.check.hand_arms)
    except SpecError as err:
        raise SpecError(path, "check.hand_arms", f"a valid sweep spec ({err})") from err
    if hand.uncertainties or not hand.levers:
        raise SpecError(path, "check.hand_arms", "a sweep spec with levers and no uncertainties")
    ours = base.with_overrides(**hand.base.run.model_dump()).model_dump()
    if hand.base.model_dump() != ours:
        raise SpecError(
            path,
            "check.hand_arms",
            f"a sweep spec on the same base scenario ({file.base}), got {hand.file.base}",
        )
    return hand
