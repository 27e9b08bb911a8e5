"""``capacity_value``: the metric named by the spec, searched on the sample years the method gives, with the
stopping rule on the value's own precision (``SequentialMonteCarlo.ecc_rel_precision``).

The precision rule: with ``ecc_rel_precision = r`` (and no fixed ``years``), the value is first found on
``min_years`` sample years, then on n_(k+1) = min(max_years, n_k + max(2, ceil(n_k / 2))) years (the years
already run are kept; only the new ones are simulated, and the search re-runs on all of them) until the CI's
half-width is at most r x the value, or ``max_years`` is reached. The sequence of year counts depends on the
method only, so the answer is the same for any number of workers or batch size.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

from gplopt.capacity.metrics import METRICS
from gplopt.capacity.search import Metric, Run, search
from gplopt.capacity.spec import CapacityValueResult, CapacityValueSpec, Progress
from gplopt.montecarlo import Execution, SequentialMonteCarlo
from gplopt.parallel import make_executor
from gplopt.system import System


def capacity_value(system: System, mc: SequentialMonteCarlo | None = None,
                   spec: CapacityValueSpec | None = None, progress: Progress | None = None, *,
                   execution: Execution | None = None) -> CapacityValueResult:
    """ECC / EFC / ELCC of the resource, with its bracket, every probe and a bootstrap CI."""
    t0 = time.perf_counter()
    mc = mc or SequentialMonteCarlo.from_settings(system.settings.simulation)
    execution = execution or Execution(batch_years=system.settings.simulation.batch_years)
    spec = spec or CapacityValueSpec.from_system(system)
    ex = make_executor(execution.workers, scheduler=execution.scheduler)
    try:
        metric = METRICS[spec.metric](Run(system=system, mc=mc, execution=execution, spec=spec, ex=ex,
                                          progress=progress))
        return to_precision(metric, spec, mc, progress, t0)
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


def next_years(n: int, mc: SequentialMonteCarlo) -> int:
    return min(mc.max_years, n + max(2, math.ceil(n / 2)))


def precise(cv: CapacityValueResult, rel: float) -> bool:
    return cv.half_width_kw <= rel * cv.value_kw


def to_precision(metric: Metric, spec: CapacityValueSpec, mc: SequentialMonteCarlo, progress: Progress | None,
                 t0: float) -> CapacityValueResult:
    """The metric's value on the years of ``mc``, or under the precision rule (module text) when it is set."""
    rel = mc.ecc_rel_precision
    if rel is None or mc.years is not None:
        return search(metric, spec, mc, progress, t0)
    n = mc.min_years
    cv = search(metric, spec, replace(mc, years=n), progress, t0)
    while not precise(cv, rel) and n < mc.max_years:
        n = next_years(n, mc)
        cv = search(metric, spec, replace(mc, years=n), progress, t0)
    cv.stopped_by = "ecc_rel_precision" if precise(cv, rel) else "max_years"
    return cv
