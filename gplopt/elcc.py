"""ELCC: the constant load that can be added to the system with the resource until its EENS returns to that
of the system without it. Extra load can make any day short, so every probe re-simulates full sample years on
the same seeds. Years are spread over ``mc.workers`` (or a Dask scheduler) as one task per (probe, year);
each task depends only on (instance, seed, year, probe load), and the stopping rule is applied to the base
years in year order, so the numbers never depend on the worker count."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace

import numpy as np

from gplopt.adequacy import evaluate_year
from gplopt.capacity_value import (
    CapacityValueResult,
    CapacityValueSpec,
    Probe,
    Progress,
    _cached_opf,
    _solve_monotone,
    drop_row,
    stopped_years,
)
from gplopt.errors import GploptError
from gplopt.metrics import MeanEstimate
from gplopt.parallel import make_executor
from gplopt.reliability import SequentialMonteCarlo
from gplopt.resources import without
from gplopt.sampling import sample_year
from gplopt.system import System


@dataclass(frozen=True)
class _Setup:
    system: System
    mc: SequentialMonteCarlo
    resource: str


def _base_year(setup: _Setup, y: int) -> float:
    """EENS of year ``y`` without the resource (the GPL with V2G off, or without the unit)."""
    system, mc = setup.system, setup.mc
    hist = sample_year(system, mc.seed, y)
    wo = without(system, setup.resource, mc.v2g)
    if wo.res_row is not None:
        hist = drop_row(hist, wo.res_row)
    return evaluate_year(wo.base_sys, hist, _cached_opf(wo.base_sys, wo.base_sys.units, mc.solver),
                         v2g=wo.v2g_base).ens_kwh


def _probe_year(setup: _Setup, y: int, dl: float) -> float:
    """EENS of year ``y`` with the resource and ``dl`` kW of constant load added."""
    system, mc = setup.system, setup.mc
    sys_l = system.replace(load_kw=system.load_kw + dl)
    return evaluate_year(sys_l, sample_year(system, mc.seed, y), _cached_opf(system, system.units, mc.solver),
                         v2g=mc.v2g).ens_kwh


def _base_years(setup: _Setup, ex: Executor, progress: Progress | None) -> np.ndarray:
    return np.array(stopped_years(ex, _base_year, setup, setup.mc, float, progress))


def elcc(system: System, mc: SequentialMonteCarlo, spec: CapacityValueSpec, progress: Progress | None,
         t0: float | None = None) -> CapacityValueResult:
    """ELCC by bisection on the added load, with a bootstrap CI over sample years."""
    t0 = time.perf_counter() if t0 is None else t0
    setup = _Setup(system=system, mc=replace(mc, workers=1), resource=spec.resource)
    ex = make_executor(mc.workers, scheduler=mc.scheduler)
    try:
        base_arr = _base_years(setup, ex, progress)
        n = base_arr.size
        if n < 2:
            raise GploptError("--years: must be >= 2 for a capacity value, got 1")
        years = range(mc.first_year, mc.first_year + n)

        def per_year_at(dl: float) -> np.ndarray:
            futs = [ex.submit(_probe_year, setup, y, dl) for y in years]
            return np.array([f.result() for f in futs])

        return _bisect_load(spec, mc, base_arr, per_year_at, progress, t0)
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


def _bisect_load(spec: CapacityValueSpec, mc: SequentialMonteCarlo, base_arr: np.ndarray,
                 per_year_at: Callable[[float], np.ndarray],
                 progress: Progress | None, t0: float) -> CapacityValueResult:
    n = base_arr.size
    tgt = float(base_arr.mean())
    curve: dict[float, np.ndarray] = {}
    probes: list[Probe] = []

    def probe(c: float) -> float:
        curve[c] = per_year_at(c)
        e = MeanEstimate.of(curve[c])
        gap = (tgt - e.mean) / tgt if tgt > 0 else 0.0
        probes.append(Probe(capacity_kw=c, eens_kwh_per_year=e, rel_gap=float(-gap)))
        if progress:
            progress("probes", len(probes), spec.max_probes)
        return float(gap)   # > 0: still more reliable than the base, add more load

    lo, hi = 0.0, spec.capacity_max_kw
    value, converged, note = 0.0, False, ""
    if probe(0.0) <= 0:
        note = "EENS with the resource >= without: ELCC 0"
        converged = True
    elif probe(hi) > 0:
        note = f"ELCC exceeds capacity_max_kw ({hi:g} kW)"
        value = lo = hi
    else:
        while len(probes) < spec.max_probes:
            mid = 0.5 * (lo + hi)
            gap = probe(mid)
            lo, hi = (mid, hi) if gap > 0 else (lo, mid)
            if abs(gap) <= spec.tolerance or hi - lo < 1e-3:
                value, converged = mid, True
                break
    # bootstrap: EENS(load) is non-decreasing; solve on negated curve
    caps = np.array(sorted(curve))
    mat = np.array([curve[c] for c in caps])
    rng = np.random.default_rng(np.random.SeedSequence(mc.seed, spawn_key=(2**31 - 1, 98)))
    idx = rng.integers(0, n, size=(spec.n_boot, n))
    boot = np.array([_solve_monotone(caps, -np.maximum.accumulate(mat[:, i].mean(axis=1)),
                                     -base_arr[i].mean()) for i in idx]) if value > 0 else np.zeros(1)
    a = (1 - spec.ci_level) / 2
    if not converged and not note:
        note = f"not converged in {spec.max_probes} probes"
    return CapacityValueResult(
        metric="elcc", resource=spec.resource, value_kw=float(value), lower_kw=lo, upper_kw=hi,
        ci_low_kw=float(np.quantile(boot, a)), ci_high_kw=float(np.quantile(boot, 1 - a)),
        ci_level=spec.ci_level, eens_base=MeanEstimate.of(base_arr), eens_with=MeanEstimate.of(curve[0.0]),
        probes=probes, years=n, converged=converged, note=note, v2g_kwh_per_year=MeanEstimate(0.0, 0.0),
        load_reduction_kwh_per_year=MeanEstimate(0.0, 0.0), seconds=time.perf_counter() - t0,
        evaluated_day_fraction=1.0, boot_values=boot)
