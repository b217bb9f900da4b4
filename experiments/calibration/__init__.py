"""Calibration: county scenarios fitted to the figures their seed articles publish.

`targets.toml` and `targets` (published figures and free parameters), `measures` (the
same quantities measured on a run), `replicates` (replicates of a scenario reduced to
measures), `fit` (the loss and the search), `calibrated_scenarios` (writing and checking
the calibrated scenario files).
"""
