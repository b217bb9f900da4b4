"""Budget allocation: the split of a yearly budget across instruments that helps most.

`experiments.optimisation.run.optimise(spec, out)` runs (or resumes) the search of an
optimisation spec (`experiments.optimisation.spec`) into a results directory: the runs go
to a sweep store there, and the search's tables and figures to its ``optimisation/``
folder. See docs/optimise.md. This package module holds only names other modules need
without loading the search (optuna).
"""

KIND = "optimisation"  # a search directory's manifest "kind"
OUTPUTS = "optimisation"  # folder of a search's tables and figures, in its directory
PLOTS = "plots"  # figures of a search, in its outputs folder
