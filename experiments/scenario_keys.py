"""Dotted keys of a scenario: the number a key holds, and the line of the file that sets it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from experiments.outputs import extends_chain
from model.scenario import Scenario

_HEADER = re.compile(r"^\s*\[([^\[\]]+)\]")
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z0-9_.\"-]+)\s*=")


def scenario_value(scenario: Scenario, key: str) -> float | int:
    """The number at a dotted key of a scenario.

    Raises:
        KeyError: if the key is not in the scenario or not a number.
    """
    node: Any = scenario.model_dump()
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(key)
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, int | float):
        raise KeyError(key)
    return node


def defining_comment(scenario_path: Path, key: str) -> tuple[Path, str]:
    """The file of the `extends` chain that sets `key` (nearest first), and its comment.

    Returns:
        The file and the comment on the key's line (empty if it has none).

    Raises:
        KeyError: if no file of the chain sets the key.
    """
    for file in extends_chain(scenario_path):
        table = ""
        for line in file.read_text(encoding="utf-8").splitlines():
            header, assignment = _HEADER.match(line), _ASSIGNMENT.match(line)
            if header:
                table = header.group(1).strip()
            elif assignment and ".".join(filter(None, (table, assignment.group(1)))) == key:
                return file, line.partition("#")[2]
    raise KeyError(key)
