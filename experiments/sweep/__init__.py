"""Sweeps: a spec's levers and uncertainties run over replicates and stored, resumably.

`spec` (the TOML file), `design` (its parameter points), `seeding` (which runs and which
random numbers each one sees), `runs` (runs on an executor, batch by batch), `store`
(manifest and parquet parts), `engine` (from spec to stored results: rounds, status),
`rerun` (redo one run and check it reproduces).
"""
