"""Analysis of stored runs: paired effects, intervals, cost per exit, sensitivity, robustness.

`effects` (effects, rates, cost per net exit, Sobol and Morris indices of a sweep),
`decision_rules` (do the conclusions survive a change of decision rule), `formatting`
(the tables for reading, in the terminal and the report).
"""
