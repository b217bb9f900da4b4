"""docs/ODD.md documents every scenario key, and every key it names exists.

The keys of the schema are the dotted paths from `model.scenario.Scenario` down to each
field that is not itself a section (a pydantic model): ``run.months``,
``policy.wage_subsidy.share_of_poor_wage_bill``, ``choice.option_constants`` (a table
keyed by activity is one key), and the top-level ``name`` and ``description``.

A key is documented when ODD.md writes it in backticks, e.g. ```run.months```. Sections
of one model class used under several names may be documented once with a placeholder
for the name (`PLACEHOLDERS`): the five workshop forms as ``workshops.<form>.…`` and the
two household profiles as ``population.<profile>.…``; writing a form's own key
(``workshops.park.pay_yuan_per_month``) documents it too.

The other way round, every backticked dotted name in ODD.md whose first part is a
section of the scenario (``run``, ``county``, ``population``, ``incomes``, ``poverty``,
``choice``, ``workshops``, ``policy``, ``shocks``) must be a key or a section of the
schema, in either spelling. So adding a key to the schema without describing it, or
renaming one and leaving the old name in the text, fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from model.scenario import HouseholdProfile, Scenario, WorkshopForm, Workshops

ROOT = Path(__file__).resolve().parents[2]
ODD = ROOT / "docs" / "ODD.md"
PLACEHOLDERS: dict[type[BaseModel], str] = {WorkshopForm: "<form>", HouseholdProfile: "<profile>"}
SECTIONS = [
    name
    for name, field in Scenario.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
]
KEY = re.compile(rf"`((?:{'|'.join(SECTIONS)})(?:\.[A-Za-z0-9_<>]+)+)`")
TOP_LEVEL = re.compile(r"`([a-z_]+)`")
FORMS = [name for name, field in Workshops.model_fields.items() if field.annotation is WorkshopForm]


def schema_keys(
    model: type[BaseModel] = Scenario, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], str]]:
    """(parts of each key, the key with placeholders), walking sections recursively."""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from schema_keys(annotation, (*prefix, name))
        else:
            yield (*prefix, name), _generic((*prefix, name))


def _generic(parts: tuple[str, ...]) -> str:
    """The key with each placeholder section's name replaced by its placeholder."""
    model: type[BaseModel] = Scenario
    spelled = []
    for part in parts:
        annotation = model.model_fields[part].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            spelled.append(PLACEHOLDERS.get(annotation, part))
            model = annotation
        else:
            spelled.append(part)
    return ".".join(spelled)


def spellings() -> dict[str, str]:
    """Every accepted spelling of every key and section -> the key (or section) it names."""
    names: dict[str, str] = {}
    for parts, generic in schema_keys():
        generic_parts = generic.split(".")
        for end in range(1, len(parts) + 1):
            names[".".join(parts[:end])] = ".".join(parts[:end])
            names[".".join(generic_parts[:end])] = ".".join(parts[:end])
    return names


def undocumented(text: str) -> list[str]:
    """The scenario keys `text` does not name in backticks (in either spelling)."""
    named = set(KEY.findall(text)) | set(TOP_LEVEL.findall(text))
    return sorted(
        ".".join(parts)
        for parts, generic in schema_keys()
        if ".".join(parts) not in named and generic not in named
    )


def test_every_scenario_key_is_documented() -> None:
    missing = undocumented(ODD.read_text(encoding="utf-8"))
    assert not missing, f"scenario keys not documented in docs/ODD.md: {missing}"


def test_a_key_left_out_of_the_text_is_reported() -> None:
    text = ODD.read_text(encoding="utf-8")
    assert undocumented(text.replace("`choice.aspiration_yuan_per_month`", "")) == [
        "choice.aspiration_yuan_per_month"
    ]
    without_forms = text.replace("`workshops.<form>.orders.volatility`", "")
    assert undocumented(without_forms) == [
        f"workshops.{form}.orders.volatility" for form in sorted(FORMS)
    ]


def test_every_key_written_in_the_odd_exists() -> None:
    known = spellings()
    unknown = sorted(
        {key for key in KEY.findall(ODD.read_text(encoding="utf-8")) if key not in known}
    )
    assert not unknown, f"docs/ODD.md names keys the schema does not have: {unknown}"


def test_the_placeholder_rule_covers_the_repeated_sections() -> None:
    generic = {g for _, g in schema_keys()}
    assert "workshops.<form>.orders.mean_load" in generic
    assert "population.<profile>.adults_probs" in generic
    assert len({".".join(p) for p, _ in schema_keys()}) > len(generic)


def test_each_submodel_links_its_module() -> None:
    text = ODD.read_text(encoding="utf-8")
    for module in sorted((ROOT / "model").glob("*.py")):
        if module.name != "__init__.py":
            assert f"](../model/{module.name})" in text, f"no link to model/{module.name}"
