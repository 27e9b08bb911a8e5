"""The capacity-value metrics by name (``METRICS``): ECC (paper Steps 7-8), EFC and ELCC.

ECC and EFC are the capacity of a reference unit (two-state, ``ecc_reference``; for EFC perfectly reliable)
that gives the system *without* the resource the EENS of the system *with* it. Both run on the paired short-day
re-evaluation of :mod:`gplopt.capacity.shortdays`: the system without the resource once in full, then only its
short days with the resource and at every probe. ELCC (:mod:`gplopt.capacity.elcc`) adds constant load instead.
Each is a :class:`gplopt.capacity.search.Metric`; the search, the CI and the stopping rules are shared.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gplopt.capacity.elcc import ElccMetric
from gplopt.capacity.search import Base, Metric, Run
from gplopt.capacity.shortdays import Setup, ShortYear, add_reserve, first_pass_years, probe_year
from gplopt.metrics import MeanEstimate
from gplopt.montecarlo import SequentialMonteCarlo, run_years
from gplopt.resources import without


class ShortDayMetric:
    """ECC or EFC of the resource on the paired short-day re-evaluation."""
    sign = 1
    zero_note = "EENS without the resource <= with it: capacity value 0 (paper Step 7)"

    def __init__(self, run: Run, name: str = "ecc") -> None:
        self.name, self.run = name, run
        system, mc, spec = run.system, run.mc, run.spec
        wo = without(system, spec.resource, mc.v2g)
        ref_bus = wo.ref_bus if spec.ref_bus is None else spec.ref_bus
        self.setup = Setup(system=system, base_sys=wo.base_sys, res_row=wo.res_row, v2g_base=wo.v2g_base,
                           probe_units=add_reserve(wo.base_sys.units, ref_bus), mc=mc,
                           execution=run.execution.inline(), spec=spec, reference_always_up=name == "efc")
        self.years: list[ShortYear] = []

    def base(self, mc: SequentialMonteCarlo) -> Base:
        done = {mc.first_year + k: x for k, x in enumerate(self.years)}
        self.years, stopped_by = run_years(first_pass_years, self.setup, mc, self.run.execution,
                                           lambda x: x.base_ens, ex=self.run.ex, done=done,
                                           progress=self.run.years_progress())
        ys, n = self.years, len(self.years)
        return Base(target=np.array([x.with_ens for x in ys]), eens_base=MeanEstimate.of([x.base_ens for x in ys]),
                    eens_with=MeanEstimate.of([x.with_ens for x in ys]), stopped_by=stopped_by,
                    v2g_kwh_per_year=MeanEstimate.of([x.v2g for x in ys]),
                    load_reduction_kwh_per_year=MeanEstimate.of([x.lr for x in ys]),
                    charging_kwh_per_year=MeanEstimate.of([x.charging for x in ys]),
                    evaluated_day_fraction=sum(x.days.size for x in ys) / max(n * (self.run.system.hours // 24), 1))

    def probe(self, c: float) -> tuple[np.ndarray, float]:
        """Per-year EENS with the reference unit at ``c`` kW, and the mean number of hours per year still short
        while the reference unit is up (minus the slope dEENS/dC)."""
        ys, n = self.years, len(self.years)
        if c == 0.0:
            return (np.array([x.base_ens for x in ys]),
                    sum(int(np.count_nonzero((x.base_ens_h > 0) & x.ref_up)) for x in ys) / max(n, 1))
        futs = [self.run.ex.submit(probe_year, self.setup, x, c) if x.days.size else None for x in ys]
        got = [f.result() if f is not None else (0.0, 0) for f in futs]
        return np.array([g[0] for g in got]), sum(g[1] for g in got) / max(n, 1)


METRICS: dict[str, Callable[[Run], Metric]] = {
    "ecc": lambda run: ShortDayMetric(run, "ecc"),
    "efc": lambda run: ShortDayMetric(run, "efc"),
    "elcc": lambda run: ElccMetric(run),
}
