"""Every example of docs/api.md runs, in order, in one namespace, at a small size.

How the examples are run:

- The fenced ``python`` blocks are executed in the order of the page, in one namespace,
  with a temporary folder as working directory: it links to the repository's
  ``scenarios/`` and holds a copy of ``experiments/specs/``, so the paths of the page
  (relative to the repository's top folder) resolve, and results go to its ``results/``.
- At a small size: ``households=N``, ``months=N`` and ``replicates=N`` arguments and
  ``"households": N``, ``"months": N`` and ``"count": N`` entries become `HOUSEHOLDS`,
  `MONTHS` and `REPLICATES`; in the copied spec files, the ``households = N``,
  ``months = N``, ``count = N`` and ``replicates = N`` lines become the same, and a
  budget search's ``evaluations = N`` and ``scenarios = N`` lines become `EVALUATIONS`
  and `SCENARIOS`.

After the examples, the namespace is checked against what the page says they give.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "api.md"
HOUSEHOLDS, MONTHS, REPLICATES = 300, 12, 2
EVALUATIONS, SCENARIOS = 4, 2  # a budget search's candidates and uncertainty scenarios
SIZES = {
    "households": HOUSEHOLDS,
    "months": MONTHS,
    "replicates": REPLICATES,
    "count": REPLICATES,
    "evaluations": EVALUATIONS,
    "scenarios": SCENARIOS,
}
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
ARGUMENT = re.compile(rf"\b({'|'.join(SIZES)})=\d[\d_]*")
ENTRY = re.compile(rf"\"({'|'.join(SIZES)})\": \d[\d_]*")
FILE_LINE = re.compile(rf"^({'|'.join(SIZES)}) = \d[\d_]*", re.MULTILINE)


def examples(markdown: str) -> list[str]:
    """The page's python blocks, in order."""
    return BLOCK.findall(markdown)


def small(code: str) -> str:
    """An example with its run sizes made small."""
    code = ARGUMENT.sub(lambda m: f"{m.group(1)}={SIZES[m.group(1)]}", code)
    return ENTRY.sub(lambda m: f'"{m.group(1)}": {SIZES[m.group(1)]}', code)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with the scenarios and small copies of the project's specs."""
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    specs = tmp_path / "experiments" / "specs"
    specs.mkdir(parents=True)
    for spec in (ROOT / "experiments" / "specs").glob("*.toml"):
        text = spec.read_text(encoding="utf-8")
        (specs / spec.name).write_text(
            FILE_LINE.sub(lambda m: f"{m.group(1)} = {SIZES[m.group(1)]}", text), encoding="utf-8"
        )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_examples_run_and_give_what_the_page_says(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = examples(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 10
    namespace: dict[str, object] = {}
    for code in blocks:
        exec(compile(small(code), str(PAGE), "exec"), namespace)  # noqa: S102

    import experiments

    result = namespace["result"]
    assert isinstance(result, experiments.RunResults)
    assert result.replicates == tuple(range(REPLICATES))
    assert (result.scenario.run.households, result.scenario.run.months) == (HOUSEHOLDS, MONTHS)
    assert result.scenario.policy.wage_subsidy.share_of_poor_wage_bill == 0.40
    assert (workdir / "results" / "api" / "wage_subsidy_40" / "manifest.json").is_file()
    against = namespace["against"]
    assert isinstance(against, experiments.RunResults) and against.effects is not None
    assert list(against.effects["outcome"]) == [
        "net_exits",
        "poor_household_months_averted",
        "poor_households_final_12_mean",
        "poor_households_end",
        "total_spending_yuan",
        "yuan_per_extra_net_exit",
        "yuan_per_poor_household_month_averted",
    ]
    assert (against.effects["n"] == REPLICATES).all()
    assert (workdir / "results" / "api" / "default_vs_baseline" / "paired_effects.csv").is_file()
    comparison = namespace["comparison"]
    assert isinstance(comparison, experiments.ComparisonResults)
    assert comparison.arms == ["baseline", "default", "wage_subsidy_40"]
    assert namespace["compared_again"].differences.equals(comparison.differences)
    assert len(namespace["swept_again"].runs) == 3 * REPLICATES  # the base and two levers
    policy_mix = namespace["policy_mix"]
    assert policy_mix.folder == Path("results/policy_mix")
    assert len(policy_mix.failures) == 0 and len(policy_mix.runs) == 10 * REPLICATES
    assert {"effects", "rates", "cost_effectiveness", "instruments"} <= set(namespace["tables"])
    search = namespace["search"]
    assert len(search.trace) == EVALUATIONS
    assert "optimised mix" in set(search.check["policy"])
    assert search.difference.loc[0, "verdict"] in ("better", "worse", "unclear")
    printed = capsys.readouterr().out
    assert (
        "results/api/compare: expected a sweep folder" in printed
        and "found a comparison folder" in printed
    )
    assert "changes to default.toml: policy.wage_subsidy.share: a key the scenario has" in printed


def test_sizes_in_code_and_spec_files_are_made_small() -> None:
    code = (
        'run("default", replicates=4, households=2000, months=48)\n'
        '{"run": {"households": 2_000, "months": 48}, "replicates": {"count": 5}}'
    )
    assert small(code) == (
        f'run("default", replicates={REPLICATES}, households={HOUSEHOLDS}, months={MONTHS})\n'
        f'{{"run": {{"households": {HOUSEHOLDS}, "months": {MONTHS}}}, '
        f'"replicates": {{"count": {REPLICATES}}}}}'
    )
    file = "households = 2000   # note\ncount = 5\nseed = 1\n"
    assert FILE_LINE.sub(lambda m: f"{m.group(1)} = 0", file) == (
        "households = 0   # note\ncount = 0\nseed = 1\n"
    )
