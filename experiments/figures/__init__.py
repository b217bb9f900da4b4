"""Figures, each saved with its data as CSV beside it.

`style` (shared style and drawing helpers), `run` (one run), `arms` (arms compared
across replicates), `sweep` (the analysis tables of a sweep).
"""
