"""The shipped county scenarios and reforms: they load, they are at real scale, reforms are
small diffs that compose, and a scale-down keeps the county's shares."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from experiments.cli.main import app
from model.economy import WorkshopEconomy
from model.scenario import ScenarioError, apply_reforms, load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
SHIPPED = sorted(SCENARIOS.rglob("*.toml"))
COUNTIES = ("suichuan", "qingchuan", "pengxi", "community_factory")
REFORMS = sorted((SCENARIOS / "reforms").glob("*.toml"))


def flatten(table: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in table.items():
        if isinstance(value, dict) and not any(isinstance(k, int) for k in value):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_every_shipped_scenario_loads(path):
    assert load_scenario(path).name


def test_wsim_validate_passes_on_every_shipped_file():
    result = CliRunner().invoke(app, ["validate", *map(str, SHIPPED)])
    assert result.exit_code == 0, result.output
    for path in SHIPPED:
        assert path.name in result.output


@pytest.mark.parametrize("county", COUNTIES)
def test_county_runs_at_real_scale(county):
    params = load_scenario(SCENARIOS / f"{county}.toml")
    assert params.run.households == params.county.households
    assert params.scale == 1.0


@pytest.mark.parametrize("reform", REFORMS, ids=lambda p: p.stem)
def test_reform_is_a_small_diff_of_its_base(reform):
    extends = tomllib.loads(reform.read_text(encoding="utf-8"))["extends"]
    base = flatten(load_scenario(reform.parent / extends).model_dump())
    changed = flatten(load_scenario(reform).model_dump())
    diff = {k for k in base if base[k] != changed[k]} - {"name", "description"}
    # how a longer run extends the by-year tables is data, not part of the reform
    diff = {k for k in diff if not k.endswith("_beyond_table")}
    assert 1 <= len(diff) <= 2, diff
    assert all(k.startswith(("policy.", "run.")) for k in diff)


def test_two_reforms_compose():
    base = load_scenario(SCENARIOS / "qingchuan.toml")
    both = apply_reforms(
        base, [SCENARIOS / "reforms" / "no_training.toml", SCENARIOS / "reforms" / "quota_50.toml"]
    )
    assert both.policy.training.enabled is False
    assert both.policy.certification.poor_share_min == 0.5
    assert both.policy.hiring_bonus == base.policy.hiring_bonus


def test_reform_naming_an_unknown_key_is_rejected(tmp_path):
    reform = tmp_path / "bad_reform.toml"
    reform.write_text('extends = "x.toml"\n[policy.training]\nplaces_per_mont = 3\n')
    base = load_scenario(SCENARIOS / "qingchuan.toml")
    with pytest.raises(ScenarioError) as err:
        apply_reforms(base, [reform])
    assert err.value.file == str(reform)
    assert err.value.key == "policy.training.places_per_mont"
    assert "places_per_month" in str(err.value)


def test_scale_down_keeps_the_county_shares():
    full = load_scenario(SCENARIOS / "qingchuan.toml")
    small = full.with_overrides(households=full.run.households // 5)
    models = [WorkshopEconomy(p) for p in (full, small)]
    hh = [m.households for m in models]
    registered = [h.registered_poor.mean() for h in hh]
    per_village = [len(h) / m.geography.n_villages for h, m in zip(hh, models, strict=True)]
    size = [h.size.mean() for h in hh]
    assert registered[1] == pytest.approx(registered[0], abs=0.01)
    assert per_village[1] == pytest.approx(per_village[0], rel=0.05)
    assert size[1] == pytest.approx(size[0], rel=0.03)
    assert small.scale == pytest.approx(0.2, rel=1e-3)
    funds = [
        next(i for i in m.policy.instruments if i.name == "equity").uninvested_yuan for m in models
    ]
    assert funds[1] == pytest.approx(0.2 * funds[0], rel=1e-3)


def test_wsim_run_composes_reforms_and_rejects_a_bad_one(tmp_path):
    out = tmp_path / "both"
    args = [
        "run",
        str(SCENARIOS / "qingchuan.toml"),
        "--households",
        "2000",
        "--months",
        "2",
        "--reform",
        str(SCENARIOS / "reforms" / "no_training.toml"),
        "--reform",
        str(SCENARIOS / "reforms" / "quota_50.toml"),
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    assert '"poor_share_min": 0.5' in manifest
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy.training]\nplaces_per_mont = 3\n")
    failed = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "never"), "--reform", str(bad)])
    assert failed.exit_code == 1
    assert "bad.toml" in failed.output and "places_per_mont" in failed.output
    assert not (tmp_path / "never").exists()
