"""The experiment layer: running scenarios, storing, analysing and plotting results."""

from experiments.sweep.store import load

__all__ = ["load"]
