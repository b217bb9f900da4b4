"""Sweep specifications: base scenario, levers, uncertainties, design, replicates, outputs.

A spec is a TOML file (``experiments/specs/*.toml``) validated like a scenario: unknown
keys, empty lever lists, bad ranges, unknown outputs, lever keys the base scenario does
not have and designs that cannot apply are rejected with one `SpecError` naming the spec
file, the key and what was expected, before anything runs or is written.

A **county sweep** names several counties (``[counties]``: county name -> scenario file)
instead of one ``base``. Every arm runs in every county; a lever's base level is then
each county's own value (`OWN`), and its levels are set in every county. Each county
draws its random numbers from its own seed (`county_seed`), and all run the same
calendar months.

Vocabulary (EMA Workbench): **levers** are policy settings (a dotted scenario key with a
list of values, or named reform files); **uncertainties** are parameter ranges with a
distribution; **outcomes** are the outputs the analysis reports on.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from model.scenario import (
    InputFileError,
    KeyValue,
    Scenario,
    ScenarioError,
    apply_reforms,
    load_scenario,
    read_input,
)
from model.simulate import simulate
from model.streams import make_stream

NO_REFORM = "none"  # level of a reform lever in the base scenario
OWN = "<each county's own>"  # base level of a key lever in a county sweep (never stored)
COUNTY = "county"  # column of a county sweep's runs naming the county
NATIONAL = "national"  # the sum over a county sweep's counties, in its analysis
PROBE_HOUSEHOLDS = 20  # a one-month run this small lists the model's output columns
MAX_RUNS = 1_000_000  # runs of one sweep: far beyond any on one machine, before memory runs out
MIN_SAMPLES = {"sobol": 8, "morris": 2}  # fewer give no usable index (Sobol N = 1: S1 = ST = 2)
RUN_KEYS = "run."  # the [run] table sets these for every run: no lever or uncertainty may


class SpecError(ValueError):
    """A spec that cannot be used: names the file, the key and what was expected."""

    def __init__(self, file: str | Path, key: str, expected: str) -> None:
        self.file, self.key, self.expected = str(file), key, expected
        super().__init__(f"{file}: {key}: {expected}")


class Block(BaseModel):
    """Base of every spec table: unknown keys are errors, numbers finite, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class RunOverrides(Block):
    """`[run]` values replacing the base scenario's."""

    households: int | None = Field(None, gt=0, description="simulated households")
    months: int | None = Field(None, gt=0, description="simulated months")


class SweepRun(RunOverrides):
    """A sweep's `[run]`: also a common start, or each county's households as a share."""

    start: dt.date | None = Field(None, description="first simulated month of every run")
    households_share: float | None = Field(
        None,
        gt=0,
        le=1,
        description="simulated households as a share of the county's real households "
        "(county.households; at least 1 household), instead of households",
    )

    @model_validator(mode="after")
    def _one_size(self) -> SweepRun:
        if self.households is not None and self.households_share is not None:
            raise ValueError("households or households_share, not both")
        return self

    @model_serializer(mode="wrap")
    def _added_keys_when_given(self, dump: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The fields, `start` and `households_share` left out when not given.

        So the parsed spec (and so the hash) of a sweep that does not use them is as it
        was before they existed: such sweeps still resume.
        """
        return _without_none(dump(self), self, ("start", "households_share"))


class Lever(Block):
    """A policy setting: a dotted scenario key with values, or named reform files."""

    key: str | None = Field(None, description="dotted scenario key, e.g. policy.training.enabled")
    values: list[KeyValue] | None = Field(None, min_length=1, description="values of the key")
    reforms: dict[str, str] | None = Field(
        None, min_length=1, description="reform name -> TOML file (relative to the spec)"
    )
    crossed: bool = Field(
        False,
        description="run every arm of the other levers at each "
        "of this lever's values, and compare each arm with the other "
        "levers' base at the same value",
    )

    @field_validator("values", mode="before")
    @classmethod
    def _finite_values(cls, values: Any) -> Any:
        if isinstance(values, list) and any(
            isinstance(v, float) and not math.isfinite(v) for v in values
        ):
            raise ValueError("finite numbers")
        return values

    @model_validator(mode="after")
    def _one_kind(self) -> Lever:
        if (self.key is None) != (self.values is None) or (self.key is None) == (
            self.reforms is None
        ):
            raise ValueError("either key and values, or reforms")
        if self.reforms is not None and NO_REFORM in self.reforms:
            raise ValueError(f"reform names other than '{NO_REFORM}' (the base scenario)")
        return self


class Uncertainty(Block):
    """A parameter range: uniform, log-uniform, or normal truncated to the range."""

    key: str = Field(description="dotted scenario key of a number")
    range: tuple[float, float] = Field(description="[low, high] in the key's unit")
    distribution: Literal["uniform", "loguniform", "normal"] = "uniform"
    mean: float | None = Field(None, description="mean of a normal distribution")
    sd: float | None = Field(None, gt=0, description="standard deviation of a normal")

    @field_validator("range")
    @classmethod
    def _ordered(cls, bounds: tuple[float, float]) -> tuple[float, float]:
        if not bounds[0] < bounds[1]:
            raise ValueError("[low, high] with low < high")
        return bounds

    @model_validator(mode="after")
    def _parameters_fit(self) -> Uncertainty:
        if self.distribution == "loguniform" and self.range[0] <= 0:
            raise ValueError("a loguniform range needs low > 0")
        if (self.distribution == "normal") != (self.mean is not None and self.sd is not None):
            raise ValueError("mean and sd for a normal distribution, and only for it")
        return self


Method = Literal["factorial", "one_at_a_time", "latin_hypercube", "sobol", "morris"]
LEVER_METHODS = ("factorial", "one_at_a_time")


class Design(Block):
    """How parameter points are chosen."""

    method: Method
    samples: int | None = Field(
        None,
        gt=0,
        description="Latin hypercube points, Sobol base "
        "sample N (a power of 2) or Morris trajectories r",
    )
    levels: int = Field(4, ge=2, multiple_of=2, description="Morris grid levels")


class Replicates(Block):
    """A fixed number of replicates, or adaptive until a CI is narrow enough."""

    count: int | None = Field(None, gt=0, description="fixed replicates per parameter point")
    output: str | None = Field(
        None,
        description="outcome whose paired effect (arm - baseline of the same "
        "replicate) has its 95% CI half-width targeted",
    )
    half_width: float | None = Field(
        None, gt=0, description="target half-width of every arm's paired effect (its unit)"
    )
    min: int = Field(3, ge=2, description="replicates of the first adaptive round")
    max: int | None = Field(None, gt=0, description="most replicates per point")

    @model_validator(mode="after")
    def _fixed_or_adaptive(self) -> Replicates:
        adaptive = [v is not None for v in (self.output, self.half_width, self.max)]
        if any(adaptive) == (self.count is not None) or any(adaptive) != all(adaptive):
            raise ValueError("either count, or output, half_width and max")
        if self.max is not None and self.max < self.min:
            raise ValueError(f"max >= min ({self.min}), got {self.max}")
        return self

    @property
    def initial(self) -> int:
        """Replicates of every point in the first round."""
        return self.count or self.min


class Outputs(Block):
    """What each run keeps, and the outcomes the analysis reports on."""

    monthly: list[str] = Field(
        ["headcount", "poor_households", "income_per_capita", "spending"],
        description="monthly columns kept (month added)",
    )
    summary: bool = Field(True, description="keep the one-row run summary")
    panel: bool = Field(
        False, description="household panel: one row per household every panel_every_months months"
    )
    panel_every_months: int = Field(
        12,
        gt=0,
        description="months between panel snapshots (month 0 and the final month are always kept)",
    )
    outcomes: list[str] = Field(
        ["net_exits", "gross_exits", "headcount"],
        min_length=1,
        description="summary columns or kept monthly columns (their "
        "final month) reported by the analysis",
    )

    @model_serializer(mode="wrap")
    def _interval_with_panel_only(self, dump: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The fields, `panel_every_months` left out when there is no panel.

        Without a panel the interval changes nothing, so leaving it out keeps the parsed
        spec (and so the spec hash) of a sweep without a panel as it was before panels
        could be stored: such sweeps still resume.
        """
        fields: dict[str, Any] = dump(self)
        if not self.panel:
            fields.pop("panel_every_months", None)
        return fields


class SpecFile(Block):
    """The TOML file as written."""

    name: str | None = Field(
        None,
        pattern=r"^\w[\w.-]*$",
        description="experiment name (a directory name) [default: the file's stem]",
    )
    description: str = ""
    base: str | None = Field(None, description="base scenario file, relative to the spec file")
    counties: dict[str, str] | None = Field(
        None,
        min_length=1,
        description="instead of base: county name -> its scenario file (relative to the "
        "spec file); every arm runs in every county",
    )
    seed: int = Field(ge=0, description="root seed of every run (common random numbers)")
    run: SweepRun = Field(default_factory=lambda: SweepRun.model_validate({}))
    levers: dict[str, Lever] = {}
    uncertainties: dict[str, Uncertainty] = {}
    design: Design
    replicates: Replicates
    outputs: Outputs = Field(default_factory=lambda: Outputs.model_validate({}))

    @model_serializer(mode="wrap")
    def _counties_when_given(self, dump: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The fields, `counties` left out for a one-base spec (its hash is as before)."""
        return _without_none(dump(self), self, ("counties",))


def _without_none(fields: dict[str, Any], block: Block, names: tuple[str, ...]) -> dict[str, Any]:
    """`fields` without the keys of `names` whose value in `block` is None."""
    return {k: v for k, v in fields.items() if k not in names or getattr(block, k) is not None}


@dataclass(frozen=True)
class LeverColumn:
    """A lever as a column of the experiments table.

    Attributes:
        name: the lever's name in the spec.
        column: its dotted key, or its name for a reform lever.
        levels: its values (as the scenario stores them) or reform names.
        base: its value in the base scenario (`NO_REFORM` for a reform lever).
        reforms: reform name -> file, for a reform lever.
        crossed: every arm of the other levers is run at each of its levels, and
            compared with the other levers' base at the same level.
    """

    name: str
    column: str
    levels: tuple[KeyValue, ...]
    base: KeyValue
    reforms: dict[str, Path] | None = None
    crossed: bool = False


@dataclass(frozen=True)
class UncertaintyColumn:
    """An uncertainty as a column of the experiments table (`column` is its dotted key)."""

    name: str
    column: str
    spec: Uncertainty
    base: float
    integer: bool


@dataclass(frozen=True)
class CountyBase:
    """One county of a county sweep.

    Attributes:
        name: its name in the spec's ``[counties]`` (its runs' ``county`` column).
        path: its scenario file (resolved).
        run: the ``[run]`` values every run of the county gets, re-applied after its
            reforms and values: its seed (`county_seed`) and the spec's households (or
            share of the county's), months and start.
        scenario: its scenario with `run` applied.
    """

    name: str
    path: Path
    run: dict[str, Any]
    scenario: Scenario


@dataclass(frozen=True)
class Spec:
    """A validated spec with its base scenario (run overrides applied).

    Attributes:
        base: the base scenario; in a county sweep the first county's (each county's is
            in `counties`).
        counties: the counties of a county sweep, in the spec's order (empty otherwise).
    """

    path: Path
    text: str
    file: SpecFile
    base: Scenario
    levers: tuple[LeverColumn, ...]
    uncertainties: tuple[UncertaintyColumn, ...]
    monthly_columns: tuple[str, ...]
    counties: tuple[CountyBase, ...] = ()

    @property
    def name(self) -> str:
        """Experiment name (results go to ``results/<name>/`` by default)."""
        return self.file.name or self.path.stem

    @property
    def seed(self) -> int:
        """Root seed of every run."""
        return self.file.seed


def load_spec(path: str | Path, text: str | None = None) -> Spec:
    """Read and validate a spec file against its base scenario (or each county's).

    Args:
        path: the spec file (relative paths in it are resolved from its directory).
        text: the file's text, if already read (e.g. from a sweep's manifest).

    Raises:
        SpecError: naming the spec file, the first offending key and what was expected.
    """
    path = Path(path)
    if text is None:
        text = read_spec_text(path)
    file = parse_spec(path, text, SpecFile)
    counties = county_bases(path, file)
    base = counties[0].scenario if counties else base_scenario(path, file)
    owners: list[tuple[str | None, Scenario]] = [(_words(c), c.scenario) for c in counties]
    owners = owners or [(None, base)]
    levers = tuple(_lever(path, owners, name, lever) for name, lever in file.levers.items())
    uncertainties = tuple(
        uncertainty_column(path, base, name, u) for name, u in file.uncertainties.items()
    )
    _check_design(path, file)
    _check_columns(path, levers, uncertainties)
    _check_size(path, file, levers)
    monthly = _check_outputs(path, file, base)
    return Spec(path, text, file, base, levers, uncertainties, monthly, counties)


def county_bases(path: Path, file: SpecFile) -> tuple[CountyBase, ...]:
    """The counties of a county sweep, each with its seed and `[run]` values (none: a base).

    Raises:
        SpecError: neither or both of base and ``[counties]``; a county named
            `NATIONAL`, two counties of one file, a county file that is not a valid
            scenario or does not run with ``[run]``; counties whose runs would not cover
            the same calendar months.
    """
    one_of = (
        "base (a scenario file, relative to the spec file) or [counties] (county name = "
        "scenario file)"
    )
    if file.base is None and file.counties is None:
        raise SpecError(path, "base", f"a base scenario: {one_of}")
    if file.base is not None and file.counties is not None:
        raise SpecError(path, "counties", f"either {one_of}, not both")
    if file.counties is None:
        return ()
    counties: list[CountyBase] = []
    for name, scenario_file in file.counties.items():
        where = f"counties.{name}"
        if name == NATIONAL:
            raise SpecError(
                path, where, f"a county name other than '{NATIONAL}' (the sum over the counties)"
            )
        resolved = (path.parent / scenario_file).resolve()
        twice = [c.name for c in counties if c.path == resolved]
        if twice:
            raise SpecError(
                path,
                where,
                f"a scenario file no other county names, got {scenario_file} "
                f"(also counties.{twice[0]})",
            )
        try:
            scenario = load_scenario(resolved)
        except ScenarioError as err:
            raise SpecError(path, where, f"a valid scenario file ({err})") from err
        run, scenario = _with_run(path, file, scenario, county_seed(file.seed, name), name)
        counties.append(CountyBase(name, resolved, run, scenario))
    _check_calendar(path, counties)
    return tuple(counties)


def county_seed(seed: int, county: str) -> int:
    """The root seed of a county's runs in a county sweep of `seed`.

    Drawn from the ``county <name>`` stream of the spec's seed: each county sees random
    numbers of its own, like a separate place, whichever other counties the sweep holds.
    """
    return int(make_stream(seed, f"county {county}").integers(2**63))


def _check_calendar(path: Path, counties: list[CountyBase]) -> None:
    """Refuse counties whose runs start or last differently (their sums would mix months)."""
    first = counties[0]
    for county in counties[1:]:
        for key in ("start", "months"):
            mine, theirs = getattr(county.scenario.run, key), getattr(first.scenario.run, key)
            if mine != theirs:
                raise SpecError(
                    path,
                    f"run.{key}",
                    f"the same {key} in every county (the national sums add the same "
                    f"calendar months), got {theirs} in {first.name!r} and {mine} in "
                    f"{county.name!r}: set {key} in [run]",
                )


def planned_runs(file: SpecFile, levers: tuple[LeverColumn, ...]) -> int:
    """Runs the spec asks for at most: its points times its (largest) replicates and counties.

    Counted from the design's rules, before any design is drawn, so an absurd spec is
    refused without sampling it.
    """
    design, k = file.design, len(file.uncertainties)
    one_at_a_time = 1 + sum(len(lever.levels) for lever in levers)
    factorial = math.prod(len(lever.levels) + 1 for lever in levers)
    arms = one_at_a_time if design.method == "one_at_a_time" else factorial
    samples = design.samples or 1
    points = {
        "factorial": factorial,
        "one_at_a_time": one_at_a_time,
        "latin_hypercube": samples * arms,
        "sobol": samples * (2 * k + 2),
        "morris": samples * (k + 1),
    }[design.method]
    counties = len(file.counties or [file.base])
    return points * (file.replicates.max or file.replicates.initial) * counties


def _check_size(path: Path, file: SpecFile, levers: tuple[LeverColumn, ...]) -> None:
    runs = planned_runs(file, levers)
    if runs > MAX_RUNS:
        raise SpecError(
            path,
            "design",
            f"at most {MAX_RUNS:,} runs (points x replicates), got {runs:,}: "
            "fewer samples, levels or replicates",
        )


def read_spec_text(path: Path) -> str:
    """A spec file's text (SpecError if it is not a readable UTF-8 file: `read_input`)."""
    try:
        return read_input(path, "a spec file")
    except InputFileError as err:
        raise SpecError(path, "(file)", str(err)) from None


def parse_spec[B: Block](path: Path, text: str, block: type[B]) -> B:
    """The TOML text of a spec file validated as `block` (a sweep's or a search's).

    Raises:
        SpecError: invalid TOML, or the first key that does not validate.
    """
    try:
        return block.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as err:
        raise SpecError(path, "(syntax)", f"valid TOML: {err}") from err
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise SpecError(path, where, describe_error(first)) from err


def describe_error(error: Any) -> str:
    """What a pydantic error says was expected, in the words of a `SpecError`."""
    if error["type"] == "extra_forbidden":
        return "a known key" + _suggest(str(error["loc"][-1]), _known_keys(error["loc"][:-1]))
    if error["type"] == "too_short":
        return "a non-empty list or table"
    got = error.get("input")
    shown = "" if isinstance(got, dict) else f", got {got!r}"
    return error["msg"].removeprefix("Value error, ") + shown


def _known_keys(parents: tuple[Any, ...]) -> list[str]:
    """Field names of the spec table at `parents` (dict entries skipped by name)."""
    model: Any = SpecFile
    for part in parents:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            continue  # a lever or uncertainty name: stay on the dict's value type
        model = field.annotation
        args = get_args(model)
        model = args[-1] if args else model
    return list(getattr(model, "model_fields", {}))


def _suggest(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown_name(name: str, known: Sequence[str]) -> str:
    """What an unknown name should have been: ``got 'x' (did you mean 'y'?); known: ...``."""
    return f"got {name!r}{_suggest(name, list(known))}; known: {', '.join(known)}"


def base_scenario(path: Path, file: SpecFile | Any) -> Scenario:
    """The spec's base scenario with its seed and `[run]` overrides applied."""
    assert file.base is not None  # a search requires it; a sweep without it has counties
    try:
        base = load_scenario(path.parent / file.base)
    except ScenarioError as err:
        raise SpecError(path, "base", f"a valid scenario file ({err})") from err
    return _with_run(path, file, base, file.seed)[1]


def run_values(file: SpecFile | Any, seed: int, scenario: Scenario) -> dict[str, Any]:
    """The `[run]` values every run of `scenario` gets: `seed` and the spec's run size.

    A ``households_share`` becomes ``households``: that share of the scenario's real
    households (``county.households``), rounded, at least 1.
    """
    values: dict[str, Any] = {"seed": seed, **file.run.model_dump(exclude_none=True)}
    share = values.pop("households_share", None)
    if share is not None:
        values["households"] = max(1, round(share * scenario.county.households))
    return values


def _with_run(
    path: Path, file: SpecFile | Any, scenario: Scenario, seed: int, county: str | None = None
) -> tuple[dict[str, Any], Scenario]:
    """`run_values` of a scenario, and the scenario with them applied.

    Raises:
        SpecError: at the `[run]` key the scenario refuses (naming the county, if any).
    """
    run = run_values(file, seed, scenario)
    try:
        return run, scenario.with_overrides(**run)
    except ValidationError as err:
        first = err.errors()[0]
        key = str(first["loc"][-1])
        if key == "households" and getattr(file.run, "households_share", None) is not None:
            key = "households_share"
        where = "" if county is None else f" (in county {county!r})"
        raise SpecError(path, f"run.{key}", describe_error(first) + where) from err


def _leaf_keys(node: dict[Any, Any], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        keys += _leaf_keys(value, f"{dotted}.") if isinstance(value, dict) else [dotted]
    return keys


def missing_key(
    path: Path, where: str, base: Scenario, key: str, words: str | None = None
) -> SpecError:
    """The error for a key the base scenario (or the county `words` names) lacks.

    Suggests the closest key the scenario has.
    """
    known = _leaf_keys(base.model_dump())
    return SpecError(
        path,
        where,
        f"a key of {words or 'the base scenario'} holding one value" + _suggest(key, known),
    )


def _words(county: CountyBase) -> str:
    """A county in an error message: its name and scenario file."""
    return f"county {county.name!r} ({county.path})"


def _lever(
    path: Path, owners: list[tuple[str | None, Scenario]], name: str, lever: Lever
) -> LeverColumn:
    """A lever checked against each scenario it applies to.

    Args:
        path: the spec file.
        owners: the base scenario (described as None), or each county's, described in
            words (`_words`); a key lever's base level is then `OWN`.
        name: the lever's name in the spec.
        lever: the lever as written.
    """
    if lever.reforms is not None:
        files = {level: (path.parent / file).resolve() for level, file in lever.reforms.items()}
        for level, file in files.items():
            for words, scenario in owners:
                try:
                    apply_reforms(scenario, [file])
                except ScenarioError as err:
                    raise SpecError(
                        path,
                        f"levers.{name}.reforms.{level}",
                        f"a reform that applies to {words or 'the base'} ({err})",
                    ) from err
        return LeverColumn(name, name, tuple(files), NO_REFORM, files, lever.crossed)
    assert lever.key is not None and lever.values is not None  # by Lever._one_kind
    key = lever.key
    if key.startswith(RUN_KEYS):
        raise SpecError(path, f"levers.{name}.key", _run_key_refused(key))
    found: list[tuple[tuple[KeyValue, ...], KeyValue]] = []
    for words, scenario in owners:
        try:
            levels = tuple(scenario.with_changes({key: v}).value(key) for v in lever.values)
            found.append((levels, scenario.value(key)))
        except (ScenarioError, KeyError) as err:
            if isinstance(err, KeyError) or (err.key == key and "key the scenario" in err.expected):
                raise missing_key(path, f"levers.{name}.key", scenario, key, words) from err
            where = "" if words is None else f" (in {words})"
            raise SpecError(path, f"levers.{name}.values", err.expected + where) from err
    levels, base = found[0]
    county_sweep = owners[0][0] is not None
    return LeverColumn(name, key, levels, OWN if county_sweep else base, crossed=lever.crossed)


def uncertainty_column(path: Path, base: Scenario, name: str, u: Uncertainty) -> UncertaintyColumn:
    """The uncertainty `name` checked against the base scenario (its key and bounds)."""
    if u.key.startswith(RUN_KEYS):
        raise SpecError(path, f"uncertainties.{name}.key", _run_key_refused(u.key))
    value = numeric_range(path, base, f"uncertainties.{name}", u.key, u.range)
    return UncertaintyColumn(name, u.key, u, float(value), isinstance(value, int))


def numeric_range(
    path: Path, base: Scenario, where: str, key: str, bounds: tuple[float, float]
) -> int | float:
    """The base's value of a numeric key whose range `bounds` the scenario accepts.

    Raises:
        SpecError: at ``<where>.key`` for a key the base lacks or that holds no number,
            at ``<where>.range`` for a bound the scenario refuses (whole-number keys
            take rounded bounds).
    """
    try:
        value = base.value(key)
    except KeyError as err:
        raise missing_key(path, f"{where}.key", base, key) from err
    if isinstance(value, bool | str):
        raise SpecError(path, f"{where}.key", f"a numeric key, got {value!r}")
    for bound in bounds:
        try:
            base.with_changes({key: round(bound) if isinstance(value, int) else bound})
        except ScenarioError as err:
            raise SpecError(path, f"{where}.range", err.expected) from err
    return value


def _run_key_refused(key: str) -> str:
    return (
        f"a key outside [run], got {key}: the seed, size, start and months of every run "
        "come from the spec's [run] table and seed (one sweep per run setting)"
    )


def _check_design(path: Path, file: SpecFile) -> None:
    method, samples = file.design.method, file.design.samples
    if method in LEVER_METHODS:
        if not file.levers or file.uncertainties:
            raise SpecError(
                path,
                "design.method",
                f"{method} needs levers and no uncertainties "
                "(use latin_hypercube to cross levers with uncertainties)",
            )
        if samples is not None:
            raise SpecError(path, "design.samples", f"no samples for {method}")
        return
    if not file.uncertainties:
        raise SpecError(path, "design.method", f"{method} needs [uncertainties]")
    if file.counties is not None:
        raise SpecError(
            path,
            "design.method",
            f"factorial or one_at_a_time in a county sweep (levers only), got {method}: "
            "sensitivity indices and scenario discovery are of one scenario (run one "
            "sweep per county)",
        )
    if method != "latin_hypercube" and file.levers:
        raise SpecError(
            path,
            "design.method",
            f"{method} takes uncertainties only, no levers (run one sweep per lever setting)",
        )
    if samples is None:
        raise SpecError(path, "design.samples", f"a number of samples for {method}")
    if file.replicates.output is not None and not file.levers:
        raise SpecError(
            path,
            "replicates.output",
            "adaptive replicates target the paired effect of an arm against the "
            "baseline: a design with levers (or a fixed count)",
        )
    if method == "sobol" and samples & (samples - 1):
        raise SpecError(path, "design.samples", f"a power of 2 for sobol, got {samples}")
    if samples < MIN_SAMPLES.get(method, 1):
        raise SpecError(
            path,
            "design.samples",
            f"at least {MIN_SAMPLES[method]} for {method} (fewer give no usable index), "
            f"got {samples}",
        )


def _check_columns(
    path: Path, levers: tuple[LeverColumn, ...], uncertainties: tuple[UncertaintyColumn, ...]
) -> None:
    named = [(f"levers.{c.name}", c.column) for c in levers]
    named += [(f"uncertainties.{u.name}", u.column) for u in uncertainties]
    columns = [column for _, column in named]
    for where, column in named:
        if columns.count(column) > 1:
            raise SpecError(
                path, where, f"a key no other lever or uncertainty sets, got {column} twice"
            )


def _check_outputs(path: Path, file: SpecFile, base: Scenario) -> tuple[str, ...]:
    probe = simulate(base.with_overrides(households=PROBE_HOUSEHOLDS, months=1))
    monthly_known = [c for c in probe.monthly.columns if c != "month"]
    for i, name in enumerate(file.outputs.monthly):
        if name not in monthly_known:
            raise SpecError(
                path, f"outputs.monthly.{i}", "a monthly column" + _suggest(name, monthly_known)
            )
    kept = tuple(dict.fromkeys(["month", *file.outputs.monthly]))
    known = [*(probe.summary.columns if file.outputs.summary else []), *kept[1:]]
    named = [(f"outputs.outcomes.{i}", n) for i, n in enumerate(file.outputs.outcomes)]
    if file.replicates.output is not None:
        named.append(("replicates.output", file.replicates.output))
    for where, name in named:
        if name not in known:
            raise SpecError(
                path,
                where,
                "a summary column (with summary = true) or a kept monthly column, "
                + unknown_name(name, known),
            )
    return kept
