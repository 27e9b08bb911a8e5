"""The one search every capacity-value metric shares, through the ``Metric`` protocol.

A metric is a family of per-year EENS curves on common random numbers: ``probe(c)`` gives each sample year's
EENS at capacity ``c`` (kW of a reference unit for ECC/EFC, kW of added load for ELCC), and ``target`` the per-year
EENS the curve must reach. ``sign`` says which way the curve goes (+1: EENS falls as ``c`` grows, -1: it rises),
so ``gap(c) = sign * (EENS(c) - target) / target`` falls through zero at the answer.

The search: ``gap(0) <= 0`` means a value of 0. With a slope (``probe`` returns minus dEENS/dc, the hours per
year still short where ``c`` helps) it is Newton from below: EENS(c) is monotone and convex on common random
numbers, so every step lands at or below the answer; an overshoot falls back to bisection. Without a slope it
bisects the bracket [0, capacity_max_kw]. A Newton answer is the crossing of the piecewise-linear mean curve
through the probes (the estimator the bootstrap resamples); a bisection answer is the last midpoint.

The confidence interval: a bootstrap over sample years of the paired per-year EENS at every probe (the same
resampled years at every probe and, through :func:`gplopt.sampling.bootstrap_indices`, at every point of a study);
for each resample the value is re-solved by interpolation between probes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from gplopt.capacity.spec import CapacityValueResult, CapacityValueSpec, Probe, Progress
from gplopt.metrics import MeanEstimate
from gplopt.montecarlo import Execution, SequentialMonteCarlo
from gplopt.sampling import bootstrap_indices
from gplopt.system import System


@dataclass
class Base:
    """What a metric's year pass gives the search (and the result), on ``years`` sample years."""
    target: np.ndarray             # per-year EENS the curve must reach
    eens_base: MeanEstimate        # reported as the EENS without the resource (ELCC: the target)
    eens_with: MeanEstimate        # reported as the EENS with it (ECC/EFC: the target)
    stopped_by: str = "years"
    v2g_kwh_per_year: MeanEstimate = field(default_factory=lambda: MeanEstimate(0.0, 0.0))
    load_reduction_kwh_per_year: MeanEstimate = field(default_factory=lambda: MeanEstimate(0.0, 0.0))
    charging_kwh_per_year: MeanEstimate = field(default_factory=lambda: MeanEstimate(0.0, 0.0))
    evaluated_day_fraction: float = 1.0

    @property
    def years(self) -> int:
        return int(self.target.size)


@dataclass(frozen=True)
class Run:
    """What a metric is built from: the system, the method, how to execute, the spec, the executor."""
    system: System
    mc: SequentialMonteCarlo
    execution: Execution
    spec: CapacityValueSpec
    ex: Executor
    progress: Progress | None = None

    def years_progress(self) -> Callable[[list[object], int, str], None] | None:
        progress = self.progress
        if progress is None:
            return None
        return lambda done, stop_at, _: progress("years", len(done), stop_at)


class Metric(Protocol):
    """A capacity-value metric: see the module text and docs/method.md, "Adding a capacity-value metric"."""
    name: str
    sign: int                      # +1: EENS falls as the capacity grows; -1: it rises
    zero_note: str                 # the note of a value of 0 (gap(0) <= 0)

    def base(self, mc: SequentialMonteCarlo) -> Base:
        """Run (or extend, keeping the years already run) the metric's year pass to the sample years ``mc``
        says, and return the per-year target on them."""
        ...

    def probe(self, c: float) -> tuple[np.ndarray, float | None]:
        """Per-year EENS at capacity ``c`` on the same years, and minus its slope (None: bisection only)."""
        ...


@dataclass
class Found:
    value: float
    converged: bool
    note: str
    curve: dict[float, np.ndarray]
    slopes: dict[float, float | None]
    probes: list[Probe]


def search(metric: Metric, spec: CapacityValueSpec, mc: SequentialMonteCarlo, progress: Progress | None = None,
           t0: float | None = None) -> CapacityValueResult:
    """The capacity value of ``metric`` on the sample years of ``mc``: its search, bootstrap CI and result."""
    t0 = time.perf_counter() if t0 is None else t0
    base = metric.base(mc)
    found = find(metric, float(base.target.mean()), spec, progress)
    return result(metric, spec, base, found, mc.seed, t0)


def find(metric: Metric, tgt: float, spec: CapacityValueSpec, progress: Progress | None) -> Found:
    """Newton from below when the metric gives a slope, else bisection: the value where ``gap`` crosses 0."""
    f = Found(0.0, False, "", {}, {}, [])

    def probe(c: float) -> float:
        if c not in f.curve:
            f.curve[c], f.slopes[c] = metric.probe(c)
        e = MeanEstimate.of(f.curve[c])
        rel = (e.mean - tgt) / tgt if tgt > 0 else (0.0 if e.mean == 0 else np.inf)
        f.probes.append(Probe(capacity_kw=c, eens_kwh_per_year=e, rel_gap=float(rel)))
        if progress:
            progress("probes", len(f.probes), spec.max_probes)
        return float(metric.sign * rel)

    hi = spec.capacity_max_kw
    gap = probe(0.0)
    if gap <= 0:
        f.value, f.converged, f.note = 0.0, True, metric.zero_note
    elif f.slopes[0.0] is None:
        if probe(hi) > 0:
            f.value, f.note = hi, f"{metric.name.upper()} exceeds capacity_max_kw ({hi:g} kW)"
        else:
            f.value, f.converged = _bisect(f, probe, 0.0, hi, spec)
    else:
        _newton(f, probe, gap, tgt, spec)
    if not f.converged and not f.note:
        f.note = f"not converged in {spec.max_probes} probes"
    return f


def _newton(f: Found, probe: Callable[[float], float], gap: float, tgt: float, spec: CapacityValueSpec) -> None:
    """Newton from below on a decreasing convex curve (ECC, EFC): see the module text."""
    lo, hi, c = 0.0, spec.capacity_max_kw, 0.0
    while len(f.probes) < spec.max_probes:
        if gap <= spec.tolerance:
            f.value, f.converged = c, True
            break
        if not np.isfinite(gap):   # EENS with the resource is 0 on these years: no Newton step exists
            f.value, f.converged, f.note = _zero_target(probe, c, hi, spec.max_probes - len(f.probes))
            break
        slope = f.slopes[c] or 0.0
        if slope <= 0:
            f.note = "no hour left where the reference unit helps: capacity value unbounded"
            f.value = hi
            break
        c_next = c + gap * tgt / slope
        if c_next >= hi:
            if probe(hi) > 0:
                f.note = f"capacity value exceeds capacity_max_kw ({hi:g} kW): raise ecc_reference.capacity_max_kw"
                f.value = hi
                break
            c_next = 0.5 * (c + hi)
        lo = c
        c, gap = c_next, probe(c_next)
        if gap < -spec.tolerance:   # overshoot (the curve was not convex here): fall back to bisection
            f.value, f.converged = _bisect(f, probe, lo, c, spec)
            break
    else:
        f.value = c
    if f.converged and f.value > 0 and len(f.curve) > 1:
        # the crossing of the mean EENS curve (linear between probes): the estimator the CI bootstraps
        caps = np.array(sorted(f.curve))
        mean_curve = np.minimum.accumulate(np.array([f.curve[k].mean() for k in caps]))
        f.value = solve_monotone(caps, mean_curve, tgt, f.slopes.get(caps[-1]) or 0.0)


def _bisect(f: Found, probe: Callable[[float], float], a: float, b: float, spec: CapacityValueSpec
            ) -> tuple[float, bool]:
    """Bisection of [a, b] (gap > 0 at a, < 0 at b): (value, converged). Out of probes: b, unless the bracket
    has shrunk below 1e-3 kW."""
    while len(f.probes) < spec.max_probes:
        m = 0.5 * (a + b)
        g = probe(m)
        if abs(g) <= spec.tolerance or b - a < 1e-3:
            return m, True
        a, b = (m, b) if g > 0 else (a, m)
    return b, b - a < 1e-3


def _zero_target(probe: Callable[[float], float], lo: float, hi: float, budget: int) -> tuple[float, bool, str]:
    """The smallest capacity with zero EENS, by bisection, when the target EENS is 0 on the sample years."""
    if budget < 1 or probe(hi) > 0:
        return hi, False, (f"EENS with the resource is 0 on these sample years but not with {hi:g} kW of the "
                           "reference unit: run more years or raise ecc_reference.capacity_max_kw")
    a, b = lo, hi
    for _ in range(budget - 1):
        if b - a <= 1e-3 * max(hi, 1.0):
            break
        m = 0.5 * (a + b)
        a, b = (m, b) if probe(m) > 0 else (a, m)
    return b, True, ("EENS with the resource is 0 on these sample years: ECC is the smallest capacity that also "
                     "gives EENS 0 (resolve it with more years)")


def result(metric: Metric, spec: CapacityValueSpec, base: Base, found: Found, seed: int,
           t0: float) -> CapacityValueResult:
    """The result of a search: value, bracket, bootstrap CI, probes and the base pass's figures."""
    caps = sorted(found.curve)
    tail = (found.slopes.get(caps[-1]) or 0.0) if caps else 0.0
    boot = (bootstrap(found.curve, base.target, metric.sign, spec.n_boot, seed, tail) if found.value > 0
            else np.zeros(spec.n_boot))
    a = (1 - spec.ci_level) / 2
    ci_low, ci_high = (float(np.quantile(boot, a)), float(np.quantile(boot, 1 - a))) if boot.size else (0, 0)
    short = [p.capacity_kw for p in found.probes if metric.sign * p.rel_gap >= 0]
    past = [p.capacity_kw for p in found.probes if metric.sign * p.rel_gap < 0]
    return CapacityValueResult(
        metric=metric.name, resource=spec.resource, value_kw=float(found.value),
        lower_kw=float(max(short)) if short else 0.0, upper_kw=float(min(past)) if past else None,
        ci_low_kw=ci_low, ci_high_kw=ci_high, ci_level=spec.ci_level, eens_base=base.eens_base,
        eens_with=base.eens_with, probes=found.probes, years=base.years, converged=found.converged,
        note=found.note, v2g_kwh_per_year=base.v2g_kwh_per_year,
        load_reduction_kwh_per_year=base.load_reduction_kwh_per_year, seconds=time.perf_counter() - t0,
        evaluated_day_fraction=base.evaluated_day_fraction, boot_values=boot,
        charging_kwh_per_year=base.charging_kwh_per_year, stopped_by=base.stopped_by)


def bootstrap(curve: dict[float, np.ndarray], target: np.ndarray, sign: int, n_boot: int, seed: int,
              tail_slope: float = 0.0) -> np.ndarray:
    """Values of bootstrap resamples of the sample years (paired: the same years at every probe)."""
    caps = np.array(sorted(curve))
    mat = sign * np.array([curve[c] for c in caps])     # (probes, years), non-increasing in capacity
    idx = bootstrap_indices(seed, target.size, n_boot)
    means = mat[:, idx].mean(axis=2)                   # (probes, boot)
    tg = sign * target[idx].mean(axis=1)               # (boot,)
    out = np.empty(n_boot)
    for b in range(n_boot):
        out[b] = solve_monotone(caps, np.minimum.accumulate(means[:, b]), tg[b], tail_slope)
    return out


def solve_monotone(caps: np.ndarray, eens: np.ndarray, target: float, tail_slope: float = 0.0) -> float:
    """Capacity where the non-increasing piecewise-linear EENS(capacity) crosses ``target``; beyond the last
    probe, the line of slope ``-tail_slope`` (kWh/yr per kW) continues it."""
    if eens[0] <= target:
        return 0.0
    below = np.flatnonzero(eens <= target)
    if below.size == 0:
        if tail_slope > 0:
            return float(caps[-1] + (eens[-1] - target) / tail_slope)
        return float(caps[-1])
    j = int(below[0])
    c0, c1, e0, e1 = caps[j - 1], caps[j], eens[j - 1], eens[j]
    return float(c0 + (e0 - target) / (e0 - e1) * (c1 - c0)) if e0 > e1 else float(c1)
