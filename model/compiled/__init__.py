"""Compiled kernels: the few loops numpy cannot make fast enough, compiled with numba.

Each kernel has an array twin, which stays the reference and the fallback: the two take
the same arguments and compute the same numbers with the same floating-point operations
in the same order. Each pair is declared once, by `twin` (`model.compiled.registry`), in
the model module that calls it, beside its array version; calling the twin runs the
compiled kernel unless the environment sets `WSIM_NUMBA=0` (or numba is missing), which
selects the array version. The pairs (twin: compiled kernel / array version, declared
in), each compared bit for bit by the test it names:

- `keyed_uniforms`: `keyed.keyed_uniforms` / `model.keyed._keyed_uniforms` (keyed)
- `keyed_selection`: `keyed.keyed_selection` / `model.keyed._keyed_selection` (keyed)
- `keyed_option_uniforms`: `keyed.keyed_option_uniforms` /
  `model.keyed._keyed_option_uniforms` (keyed)
- `keyed_pair_uniforms`: `keyed.keyed_pair_uniforms` / `model.keyed._keyed_pair_uniforms`
  (keyed)
- `logit_decisions`: `choice.logit_decisions` / `model.economy._decisions` (economy)
- `race`: `matching.race` / `model.labour_market._race` (labour_market)
- `hiring_order`: `matching.hiring_order` / `model.labour_market._hiring_order`
  (labour_market)
- `recompute_care`: `care.recompute_care` / `model.households._recompute_care`
  (households)
- `pay_workers`: `pay.pay_workers` / `model.pay._pay_workers` (pay)
- `credit_migrants`: `pay.credit_migrants` / `model.pay._credit_migrants` (pay)
- `recompute_farms`: `pay.recompute_farms` / `model.farming._recompute_farms` (farming)
- `fgt_sums`: `measures.fgt_sums` / `model.metrics._fgt_sums` (metrics)
- `poverty_month`: `measures.poverty_month` / `model.metrics._poverty_month` (metrics)
- `income_sums`: `measures.income_sums` / `model.households._income_sums` (households)
- `activity_census`: `measures.activity_census` /
  `model.collection._activity_census` (collection)
- `job_sums`: `measures.job_sums` / `model.collection._job_sums` (collection)

`twins()` returns them all; `tests/model/test_compiled_registry.py` fails for a kernel
that is not declared, for a twin without its equivalence test and for a twin missing
from this list.
"""

from model.compiled.registry import TWINS, Twin, enabled, jit, twin, twins

__all__ = ["TWINS", "Twin", "enabled", "jit", "twin", "twins"]
