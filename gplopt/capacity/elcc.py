"""ELCC: the constant load that can be added to the system with the resource until its EENS returns to that
of the system without it. Extra load can make any day short, so every probe re-simulates full sample years on
the same seeds. Years are spread over the executor as one task per (probe, year); each task depends only on
(instance, seed, year, probe load), and the base years are run and stopped by ``run_years``, so the numbers
never depend on the worker count. The search (bisection: no slope) is the shared one of
:mod:`gplopt.capacity.search`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gplopt.capacity.dist_days import evaluate, segments_of
from gplopt.capacity.search import Base, Run
from gplopt.capacity.shortdays import cached_opf, drop_row
from gplopt.errors import GploptError
from gplopt.metrics import MeanEstimate
from gplopt.montecarlo import Execution, SequentialMonteCarlo, run_years
from gplopt.resources import without
from gplopt.sampling import sample_year
from gplopt.system import System


@dataclass(frozen=True)
class _Setup:
    system: System
    mc: SequentialMonteCarlo
    execution: Execution
    resource: str


def _base_year(setup: _Setup, y: int) -> float:
    """EENS of year ``y`` without the resource (the GPL with V2G off, or without the unit)."""
    system, mc = setup.system, setup.mc
    hist = sample_year(system, mc.seed, y)
    wo = without(system, setup.resource, mc.v2g)
    if wo.res_row is not None:
        hist = drop_row(hist, wo.res_row)
    return evaluate(wo.base_sys, hist, cached_opf(wo.base_sys, wo.base_sys.units, setup.execution.solver),
                    v2g=wo.v2g_base, use_certificate=setup.execution.use_certificate,
                    segs=segments_of(wo.base_sys, mc.seed, y), full=True).ens_kwh


def _base_years(setup: _Setup, years: list[int]) -> list[float]:
    return [_base_year(setup, y) for y in years]


def _probe_year(setup: _Setup, y: int, dl: float) -> float:
    """EENS of year ``y`` with the resource and ``dl`` kW of constant load added."""
    system, mc = setup.system, setup.mc
    sys_l = system.replace(load_kw=system.load_kw + dl)
    return evaluate(sys_l, sample_year(system, mc.seed, y), cached_opf(system, system.units, setup.execution.solver),
                    v2g=mc.v2g, use_certificate=setup.execution.use_certificate,
                    segs=segments_of(system, mc.seed, y)).ens_kwh


class ElccMetric:
    """ELCC of the resource: load added (kW) until the EENS with the resource returns to the EENS without it."""
    name = "elcc"
    sign = -1
    zero_note = "EENS with the resource >= without: ELCC 0"

    def __init__(self, run: Run) -> None:
        self.run = run
        self.setup = _Setup(system=run.system, mc=run.mc, execution=run.execution.inline(),
                            resource=run.spec.resource)
        self.years: list[float] = []
        self.first_year = run.mc.first_year
        self.cache: dict[float, np.ndarray] = {}

    def base(self, mc: SequentialMonteCarlo) -> Base:
        done = {mc.first_year + k: x for k, x in enumerate(self.years)}
        self.years, stopped_by = run_years(_base_years, self.setup, mc, self.run.execution, float,
                                           ex=self.run.ex, done=done, progress=self.run.years_progress())
        if len(self.years) < 2:
            raise GploptError("--years: must be >= 2 for a capacity value, got 1")
        self.first_year, self.cache = mc.first_year, {}
        with_resource = self.probe(0.0)[0]
        return Base(target=np.array(self.years), eens_base=MeanEstimate.of(self.years),
                    eens_with=MeanEstimate.of(with_resource), stopped_by=stopped_by)

    def probe(self, dl: float) -> tuple[np.ndarray, None]:
        if dl not in self.cache:
            years = range(self.first_year, self.first_year + len(self.years))
            futs = [self.run.ex.submit(_probe_year, self.setup, y, dl) for y in years]
            self.cache[dl] = np.array([f.result() for f in futs])
        return self.cache[dl], None
