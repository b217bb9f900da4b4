"""Figures, each saved as PNG (SVG on request) with its data as CSV and a caption beside it.

`style` (shared style and drawing helpers), `run` (a run or replicates of one scenario),
`arms` (arms compared across replicates), `sweep` (the analysis tables of a sweep),
`optimisation` (a budget search), `discovery` (a scenario discovery).
"""
