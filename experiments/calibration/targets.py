"""The calibration targets file: published county figures and the free parameters fitted to them.

Layout (see ``experiments/calibration/targets.toml``)::

    [[target]]                  one per published figure
    county = "qingchuan"        scenario file stem
    name, value, unit, source, measure (a name in `experiments.calibration.measures`)
    tolerance = 0.15            relative, or tolerance_abs = 1.0 (absolute)
    used = true                 false (with a note) when the model cannot measure it

    [county.<name>]
    shared = ["<key>", ...]     shared parameters this county fits or reuses
    [county.<name>.free."<dotted scenario key>"]
    lower, upper, reason        bounds in the key's unit; set_from = "<target>" optional

    [shared."<dotted scenario key>"]
    lower, upper, reason, fitted_in = "<county>"

A free parameter must be marked ``free:`` or ``assumption:`` on the line that sets it in
the county's scenario files (the nearest file of the ``extends`` chain), or name with
``set_from`` the used target of its county from whose figure the file derived it by hand.
Every problem is reported as a `TargetsError` naming the file, the key and what was
expected.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.calibration.measures import UnknownMeasureError, measure
from experiments.provenance import REPO_ROOT
from model.scenario import InputFileError, Scenario, defining_comment, load_scenario, read_input

DEFAULT_TARGETS = Path(__file__).resolve().parent / "targets.toml"
DEFAULT_SCENARIOS = REPO_ROOT / "scenarios"

TARGET_FIELDS = {
    "county": str,
    "name": str,
    "value": float,
    "unit": str,
    "source": str,
    "measure": str,
    "used": bool,
    "tolerance": float,
    "tolerance_abs": float,
    "note": str,
}
TARGET_REQUIRED = ("county", "name", "value", "unit", "source", "measure", "used")
FREE_FIELDS = {"lower": float, "upper": float, "reason": str, "set_from": str}
SHARED_FIELDS = {**FREE_FIELDS, "fitted_in": str}
FREE_MARKERS = ("free:", "assumption")  # "assumption" alone marks some lines too


class TargetsError(ValueError):
    """A targets file that cannot be used: names the file, the key and what was expected."""

    def __init__(self, file: str | Path, key: str, expected: str) -> None:
        self.file, self.key, self.expected = str(file), key, expected
        super().__init__(f"{file}: {key}: {expected}")


@dataclass(frozen=True)
class Target:
    """A published figure and how the model measures it.

    Attributes:
        county: scenario file stem.
        name: short identifier, unique within the county.
        value: the published figure, in `unit`.
        unit: unit of the figure and of the measure.
        source: the seed's sentence (Chinese and English).
        measure: name of the measure in `experiments.calibration.measures`.
        used: whether the calibration fits and checks it.
        tolerance: accepted relative deviation, or None when `tolerance_abs` is given.
        tolerance_abs: accepted absolute deviation in `unit`, or None.
        note: why the target is unused, or how the figure maps onto the measure.
    """

    county: str
    name: str
    value: float
    unit: str
    source: str
    measure: str
    used: bool
    tolerance: float | None = None
    tolerance_abs: float | None = None
    note: str = ""

    @property
    def band(self) -> float:
        """Half-width of the accepted interval around `value`, in `unit`."""
        if self.tolerance_abs is not None:
            return self.tolerance_abs
        assert self.tolerance is not None  # exactly one is set (checked when loaded)
        return self.tolerance * abs(self.value)

    @property
    def tolerance_text(self) -> str:
        """The tolerance as written in the file: ``±15%`` or ``±1``."""
        if self.tolerance_abs is not None:
            return f"±{self.tolerance_abs:g}"
        return f"±{self.tolerance:.0%}"

    def deviation(self, simulated: float) -> float:
        """(simulated - value) / band: within tolerance when at most 1 in size (NaN if NaN)."""
        return (simulated - self.value) / self.band

    def within(self, simulated: float) -> bool:
        """Whether a simulated value lies within the tolerance (never for NaN)."""
        return bool(abs(self.deviation(simulated)) <= 1.0)


@dataclass(frozen=True)
class FreeParameter:
    """A scenario key the calibration may change, with its bounds.

    Attributes:
        key: dotted scenario key, e.g. ``workshops.park.entrants_per_month``.
        lower: lower bound, in the key's unit.
        upper: upper bound.
        reason: why the key is free and why these bounds.
        fitted_in: the county whose calibration fits it (for a shared parameter, the one
            named by ``fitted_in``; otherwise its own county).
        set_from: the target whose figure the scenario file derived the value from, if any.
    """

    key: str
    lower: float
    upper: float
    reason: str
    fitted_in: str
    set_from: str | None = None


@dataclass(frozen=True)
class CountyCalibration:
    """What calibrating one county involves.

    Attributes:
        name: county (scenario file stem).
        scenario: path of the county's scenario file.
        targets: every target of the county, used or not.
        free: parameters fitted in this county (its own and shared ones it fits).
        inherited: shared parameters fitted in another county and reused here.
    """

    name: str
    scenario: Path
    targets: tuple[Target, ...]
    free: tuple[FreeParameter, ...]
    inherited: tuple[FreeParameter, ...]

    @property
    def used_targets(self) -> tuple[Target, ...]:
        """The targets the calibration fits and checks."""
        return tuple(t for t in self.targets if t.used)


@dataclass(frozen=True)
class TargetsFile:
    """A validated targets file: each county's targets and free parameters."""

    path: Path
    counties: dict[str, CountyCalibration]

    def county(self, name: str) -> CountyCalibration:
        """The county called `name` (a scenario file stem).

        Raises:
            TargetsError: if the file has no ``[county.<name>]`` section.
        """
        if name not in self.counties:
            raise TargetsError(
                self.path,
                f"county.{name}",
                f"a [county.{name}] section with its targets; the file has {sorted(self.counties)}",
            )
        return self.counties[name]


def _typed(file: Path, key: str, value: Any, kind: type) -> Any:
    """`value` checked against `kind` (ints accepted as floats)."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (isinstance(value, float) and not math.isfinite(value)):
        raise TargetsError(file, key, f"a {kind.__name__}, got {value!r}")
    if isinstance(value, str) and not value.strip():
        raise TargetsError(file, key, "a non-empty string")
    return value


def _fields(
    file: Path, key: str, table: Any, spec: dict[str, type], required: tuple[str, ...]
) -> dict[str, Any]:
    """A table's fields, typed; unknown and missing fields are errors."""
    if not isinstance(table, dict):
        raise TargetsError(file, key, "a table")
    for name in table:
        if name not in spec:
            raise TargetsError(file, f"{key}.{name}", f"one of the known fields {sorted(spec)}")
    for name in required:
        if name not in table:
            raise TargetsError(file, f"{key}.{name}", "a value (the field is required)")
    return {name: _typed(file, f"{key}.{name}", v, spec[name]) for name, v in table.items()}


def _target(file: Path, index: int, raw: Any) -> Target:
    name = raw.get("name") if isinstance(raw, dict) else None
    key = f"target '{name}'" if isinstance(name, str) else f"target[{index}]"
    target = Target(**_fields(file, key, raw, TARGET_FIELDS, TARGET_REQUIRED))
    if (target.tolerance is None) == (target.tolerance_abs is None):
        raise TargetsError(
            file,
            f"{key}.tolerance",
            "exactly one of tolerance (relative) and tolerance_abs (absolute)",
        )
    if target.band <= 0:
        raise TargetsError(file, f"{key}.tolerance", "a tolerance > 0 (on a non-zero value)")
    try:
        measure(target.measure)
    except UnknownMeasureError as err:
        raise TargetsError(file, f"{key}.measure", str(err)) from None
    if not target.used and not target.note.strip():
        raise TargetsError(file, f"{key}.note", "a note saying why the target is unused")
    return target


def _parameter(file: Path, key: str, name: str, raw: Any, county: str | None) -> FreeParameter:
    """A county's free parameter (`county` given) or a shared one (naming `fitted_in`)."""
    spec, required = (FREE_FIELDS, ()) if county else (SHARED_FIELDS, ("fitted_in",))
    fields = _fields(file, key, raw, spec, ("lower", "upper", "reason", *required))
    if fields["lower"] > fields["upper"]:
        raise TargetsError(
            file,
            f"{key}.lower",
            f"lower <= upper, got lower {fields['lower']:g} > upper {fields['upper']:g}",
        )
    return FreeParameter(**{"fitted_in": county, **fields, "key": name})


def load_targets(path: Path, scenarios: Path) -> TargetsFile:
    """Read and validate a targets file.

    Args:
        path: the targets TOML file.
        scenarios: directory of the county scenario files (``<county>.toml``).

    Returns:
        The validated targets, by county.

    Raises:
        TargetsError: naming the file, the first offending key and what was expected.
        ScenarioError: if a county's scenario file is invalid.
    """
    data = _read(path)
    targets = [_target(path, i, raw) for i, raw in enumerate(_list(path, data, "target"))]
    counties = _table(path, data, "county")
    shared = {
        name: _parameter(path, f'shared."{name}"', name, raw, None)
        for name, raw in _table(path, data, "shared").items()
    }
    _check_target_names(path, targets, counties)
    result = {
        name: _county(path, name, raw, targets, shared, scenarios) for name, raw in counties.items()
    }
    _check_shared(path, shared, counties)
    _check_order(path, result)
    return TargetsFile(path, result)


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_input(path, "a targets file"))
    except InputFileError as err:
        raise TargetsError(path, "(file)", str(err)) from None
    except tomllib.TOMLDecodeError as err:
        raise TargetsError(path, "(syntax)", f"valid TOML: {err}") from None


def _list(path: Path, data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list) or not value:
        raise TargetsError(path, key, "one or more [[target]] tables")
    return value


def _table(path: Path, data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise TargetsError(path, key, "a table")
    return value


def _check_target_names(path: Path, targets: list[Target], counties: dict[str, Any]) -> None:
    seen: set[tuple[str, str]] = set()
    for t in targets:
        if t.county not in counties:
            raise TargetsError(
                path,
                f"target '{t.name}'.county",
                f"a county with a [county.{t.county}] section; known: {sorted(counties)}",
            )
        if (t.county, t.name) in seen:
            raise TargetsError(path, f"target '{t.name}'.name", f"a name unique in {t.county}")
        seen.add((t.county, t.name))


def _county(
    path: Path,
    name: str,
    raw: Any,
    targets: list[Target],
    shared: dict[str, FreeParameter],
    scenarios: Path,
) -> CountyCalibration:
    key = f"county.{name}"
    _fields(path, key, raw, {"free": dict, "shared": list}, ())
    scenario_path = scenarios / f"{name}.toml"
    if not scenario_path.is_file():
        raise TargetsError(path, key, f"a county with a scenario file, {scenario_path} not found")
    own = tuple(t for t in targets if t.county == name)
    free = [
        _parameter(path, f'{key}.free."{k}"', k, v, name) for k, v in raw.get("free", {}).items()
    ]
    for k in raw.get("shared", []):
        if k not in shared:
            raise TargetsError(path, f"{key}.shared", f"keys declared in [shared], got {k!r}")
        if any(p.key == k for p in free):
            raise TargetsError(path, f'{key}.free."{k}"', "a key not also listed as shared")
    reused = [shared[k] for k in raw.get("shared", [])]
    scenario = load_scenario(scenario_path)
    for p in (*free, *reused):
        where = f'{key}.free."{p.key}"' if p in free else f'shared."{p.key}"'
        _check_key(path, where, scenario, p.key)
        if p.fitted_in == name:
            _check_marked(path, where, scenario_path, p, own)
    return CountyCalibration(
        name,
        scenario_path,
        own,
        tuple(p for p in (*free, *reused) if p.fitted_in == name),
        tuple(p for p in reused if p.fitted_in != name),
    )


def _check_shared(path: Path, shared: dict[str, FreeParameter], counties: dict[str, Any]) -> None:
    for p in shared.values():
        if p.key not in counties.get(p.fitted_in, {}).get("shared", []):
            raise TargetsError(
                path,
                f'shared."{p.key}".fitted_in',
                f"a county that lists the key in its shared list, got {p.fitted_in!r}",
            )


def _check_order(path: Path, counties: dict[str, CountyCalibration]) -> None:
    """Counties must be calibratable one after another: no cycle of reused shared keys."""
    needs = {c.name: {p.fitted_in for p in c.inherited} for c in counties.values()}
    done: set[str] = set()
    while len(done) < len(needs):
        ready = {name for name, deps in needs.items() if name not in done and deps <= done}
        if not ready:
            raise TargetsError(
                path,
                "shared",
                "counties that can be calibrated one after "
                f"another; {sorted(set(needs) - done)} reuse each other's fits",
            )
        done |= ready


def _check_key(path: Path, where: str, scenario: Scenario, key: str) -> None:
    try:
        scenario.number(key)
    except KeyError:
        raise TargetsError(
            path, where, f"a numeric key of the scenario {scenario.name!r}, '{key}' is not one"
        ) from None


def _check_marked(
    path: Path, where: str, scenario_path: Path, p: FreeParameter, targets: tuple[Target, ...]
) -> None:
    """A free key must be marked free/assumption, or say which target it was set from."""
    if p.set_from is not None:
        if not any(t.name == p.set_from and t.used for t in targets):
            raise TargetsError(
                path, f"{where}.set_from", f"a used target of {p.fitted_in}, got {p.set_from!r}"
            )
        return
    try:
        file, comment = defining_comment(scenario_path, p.key)
    except KeyError:
        file, comment = scenario_path, ""
    if not any(marker in comment for marker in FREE_MARKERS):
        raise TargetsError(
            path,
            where,
            f"a key marked 'free:' or 'assumption' in the scenario "
            f"files, or set_from naming a target; {file.name} says "
            f"'#{comment}'",
        )
