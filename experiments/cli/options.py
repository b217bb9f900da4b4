"""Defaults the ``wsim`` commands show in their help, kept here so the CLI imports fast.

Building the ``wsim`` app (every command and its help) must not import pandas, numpy,
scipy, mesa or the like: each command imports what it runs inside its function. The
defaults below are copies of constants of heavier modules (named beside each);
tests/experiments/test_cli_startup.py checks they are equal.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]  # experiments.provenance.REPO_ROOT

# experiments.calibration.targets.DEFAULT_TARGETS and DEFAULT_SCENARIOS
DEFAULT_TARGETS = REPO_ROOT / "experiments" / "calibration" / "targets.toml"
DEFAULT_SCENARIOS = REPO_ROOT / "scenarios"
BASELINE = "baseline"  # experiments.sweep.seeding.BASELINE: the base scenario's arm
MIN_DENSITY = 0.8  # experiments.discovery.MIN_DENSITY
RESULTS_DIR = Path("results")  # where results go by default
