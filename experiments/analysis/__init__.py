"""Analysis of stored runs: paired effects, intervals, cost-effectiveness, rankings, robustness.

`effects` (effects, rates, yuan per extra net exit and per poor household-month averted
with Fieller intervals, rankings, Sobol and Morris indices of a sweep), `ranking` (how
often each arm ranks first under paired bootstrap resampling of the replicates),
`decision_rules` (do the conclusions survive a change of decision rule), `formatting`
(the tables for reading, in the terminal and the report).
"""
