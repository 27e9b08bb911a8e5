"""Capacity value of a resource: ECC (paper Steps 7-8), EFC and ELCC, by bisection on common random numbers.

The resource is the GPL's V2G by default (the system *without* it is the same system with V2G off: the PEVs
still charge and owners still reduce load), or a named unit (``resource="gas_turbine"``: the system without
it drops that unit).

Common random numbers and short days: every probe reuses the same sample years. Because every PEV leaves by
midnight, days are independent; a reserve unit (the ECC reference unit, dispatched only when short) or the
resource itself can only lower shortfall; so a day that was not short in the system without the resource is
unchanged by either. The system without the resource is simulated once in full; the system with it and
every probe re-evaluate only the days that were short. The answer is exactly that of full re-simulation.

The confidence interval comes from a bootstrap over sample years of the paired per-year ENS at every probe:
for each resample the capacity is re-solved by interpolation between probes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from gplopt.adequacy import day_hours, evaluate_year, lot_buses
from gplopt.errors import InstanceError
from gplopt.metrics import MeanEstimate, stopping_year
from gplopt.parallel import make_executor
from gplopt.reliability import SequentialMonteCarlo
from gplopt.resources import lot_selection, without
from gplopt.sampling import UNIT, History, sample_year, unit_key, unit_up
from gplopt.system import System, Units

if TYPE_CHECKING:
    from gplopt.network.opf import SheddingOPF

Metric = Literal["ecc", "efc", "elcc"]
REFERENCE_ID = "ecc_reference"


@dataclass(frozen=True)
class CapacityValueSpec:
    metric: Metric = "ecc"
    resource: str = "gpl"          # a lot id, "gpls" (all lots; "gpl" too unless a lot is so named), a unit id
    tolerance: float = 0.01        # |EENS_V - EENS_with| / EENS_with
    capacity_max_kw: float = 2000.0
    ref_mttf_h: float = 1250.0
    ref_mttr_h: float = 60.0
    ref_bus: int | None = None     # bus index; None = the GPL bus (or the resource unit's bus)
    n_boot: int = 400
    ci_level: float = 0.90
    max_probes: int = 40

    @classmethod
    def from_system(cls, system: System, **kw: Any) -> CapacityValueSpec:
        r = system.instance.ecc_reference
        bus = system.network.index(r.bus) if r.bus is not None else None
        base: dict[str, Any] = dict(tolerance=r.tolerance, capacity_max_kw=r.capacity_max_kw,
                                    ref_mttf_h=r.mttf_h, ref_mttr_h=r.mttr_h, ref_bus=bus)
        base.update({k: v for k, v in kw.items() if v is not None})
        spec = cls(**base)
        if spec.metric not in ("ecc", "efc", "elcc"):
            raise InstanceError("--metric", "one of ecc, efc, elcc", spec.metric)
        lot_selection(system, spec.resource)   # a lot id, 'gpls' or a unit id, else a clear error
        return spec


@dataclass(frozen=True)
class Probe:
    capacity_kw: float
    eens_kwh_per_year: MeanEstimate
    rel_gap: float                 # (EENS_probe - EENS_target) / EENS_target

    def to_dict(self) -> dict[str, Any]:
        return {"capacity_kw": self.capacity_kw, "eens_kwh_per_year": self.eens_kwh_per_year.to_dict(),
                "rel_gap": self.rel_gap}


@dataclass
class CapacityValueResult:
    metric: str
    resource: str
    value_kw: float
    lower_kw: float                # largest probe whose EENS is still above the target
    upper_kw: float | None         # smallest probe below the target (None: none probed)
    ci_low_kw: float
    ci_high_kw: float
    ci_level: float
    eens_base: MeanEstimate        # without the resource (ELCC: with it, before extra load)
    eens_with: MeanEstimate        # the target
    probes: list[Probe]
    years: int
    converged: bool
    note: str
    v2g_kwh_per_year: MeanEstimate
    load_reduction_kwh_per_year: MeanEstimate
    seconds: float
    evaluated_day_fraction: float
    charging_kwh_per_year: MeanEstimate = field(default_factory=lambda: MeanEstimate(0.0, 0.0))
    boot_values: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric, "resource": self.resource, "value_kw": self.value_kw,
            "lower_kw": self.lower_kw, "upper_kw": self.upper_kw, "ci_low_kw": self.ci_low_kw,
            "ci_high_kw": self.ci_high_kw, "ci_level": self.ci_level,
            "eens_base_kwh_per_year": self.eens_base.to_dict(),
            "eens_with_kwh_per_year": self.eens_with.to_dict(),
            "probes": [p.to_dict() for p in self.probes], "years": self.years, "converged": self.converged,
            "note": self.note, "v2g_kwh_per_year": self.v2g_kwh_per_year.to_dict(),
            "load_reduction_kwh_per_year": self.load_reduction_kwh_per_year.to_dict(),
            "charging_kwh_per_year": self.charging_kwh_per_year.to_dict(),
            "seconds": self.seconds, "evaluated_day_fraction": self.evaluated_day_fraction,
        }


# ------------------------------------------------------------------------------------------ restriction
def restrict_history(hist: History, days: np.ndarray) -> History:
    """The history of ``days`` only, laid end to end (a shorter 'year')."""
    idx = day_hours(days)
    return History(year=hist.year, unit_up=hist.unit_up[:, idx], unit_avail_kw=hist.unit_avail_kw[:, idx],
                   lots=tuple(None if d is None else d.on_days(days) for d in hist.lots))


def restrict_system(system: System, days: np.ndarray) -> System:
    idx = day_hours(days)
    table = None if system.bus_load_kw is None else system.bus_load_kw[idx]
    return system.replace(load_kw=system.load_kw[idx], bus_load_kw=table)


def add_reserve(units: Units, bus: int) -> Units:
    """``units`` plus the reference unit (kind 'reserve': runs only when the system is short)."""
    return Units(
        ids=units.ids + (REFERENCE_ID,), kind=units.kind + ("reserve",),
        bus=np.append(units.bus, bus), capacity_kw=np.append(units.capacity_kw, 0.0),
        mttf_h=np.append(units.mttf_h, 1.0), mttr_h=np.append(units.mttr_h, 1.0),
        q_max_kvar=np.append(units.q_max_kvar, 0.0), wind=units.wind + ((0.0,) * 5,),
        avail_low=np.append(units.avail_low, 1.0), avail_high=np.append(units.avail_high, 1.0),
        avail_resample=units.avail_resample + ("hour",), avail_event_h=np.append(units.avail_event_h, 1.0))


def with_row(hist: History, up: np.ndarray, avail: np.ndarray) -> History:
    return replace(hist, unit_up=np.vstack([hist.unit_up, up[None, :]]),
                   unit_avail_kw=np.vstack([hist.unit_avail_kw, avail[None, :]]))


def drop_row(hist: History, i: int) -> History:
    keep = [k for k in range(hist.unit_up.shape[0]) if k != i]
    return replace(hist, unit_up=hist.unit_up[keep], unit_avail_kw=hist.unit_avail_kw[keep])


@dataclass
class _Year:
    base_ens: float
    with_ens: float
    days: np.ndarray
    hist: History                  # base-system history of the short days
    ref_up: np.ndarray             # reference unit up/down on those hours
    base_ens_h: np.ndarray         # base hourly ENS on those hours
    known: tuple[np.ndarray, np.ndarray]  # base GPL-bus load and screen result on those hours
    v2g: float
    lr: float
    charging: float                # with the resource, whole year


def _opf(system: System, units: Units, solver: str) -> SheddingOPF | None:
    if system.network.copper_plate:
        return None
    from gplopt.network.opf import SheddingOPF  # Pyomo is imported only when a network needs it

    return SheddingOPF(system.network, units, tuple(lot_buses(system)), solver)


Progress = Callable[[str, int, int], None]


def capacity_value(system: System, mc: SequentialMonteCarlo | None = None,
                   spec: CapacityValueSpec | None = None, progress: Progress | None = None
                   ) -> CapacityValueResult:
    """ECC / EFC / ELCC of the resource, with its bracket, every probe and a bootstrap CI."""
    t0 = time.perf_counter()
    mc = mc or SequentialMonteCarlo.from_instance(system.instance)
    spec = spec or CapacityValueSpec.from_system(system)
    if spec.metric == "elcc":
        from gplopt.elcc import elcc

        return elcc(system, mc, spec, progress, t0)
    # the two systems
    wo = without(system, spec.resource, mc.v2g)
    base_sys, res_row, v2g_base = wo.base_sys, wo.res_row, wo.v2g_base
    ref_bus = wo.ref_bus if spec.ref_bus is None else spec.ref_bus
    probe_units = add_reserve(base_sys.units, ref_bus)
    setup = _Setup(system=system, base_sys=base_sys, res_row=res_row, v2g_base=v2g_base,
                   probe_units=probe_units, mc=replace(mc, workers=1), spec=spec)
    ex = make_executor(mc.workers, scheduler=mc.scheduler)
    years: list[_Year] = []
    try:
        years = stopped_years(ex, _first_pass, setup, mc, lambda x: x.base_ens, progress)
        n = len(years)
        base = np.array([x.base_ens for x in years])
        target = np.array([x.with_ens for x in years])
        eens_base, eens_with = MeanEstimate.of(base), MeanEstimate.of(target)
        evaluated = sum(x.days.size for x in years) / max(n * (system.hours // 24), 1)

        def per_year_at(c: float) -> tuple[np.ndarray, float]:
            """Per-year EENS with the reference unit at ``c`` kW, and the mean number of hours per year still
            short while the reference unit is up (minus the slope dEENS/dC)."""
            if c == 0.0:
                return base.copy(), sum(int(np.count_nonzero((x.base_ens_h > 0) & x.ref_up))
                                        for x in years) / max(n, 1)
            futs = [ex.submit(_probe, setup, x, c) if x.days.size else None for x in years]
            got = [f.result() if f is not None else (0.0, 0) for f in futs]
            return np.array([g[0] for g in got]), sum(g[1] for g in got) / max(n, 1)

        return _bisect(setup, years, base, target, eens_base, eens_with, evaluated, per_year_at, progress, t0)
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class _Setup:
    """What every per-year task of a capacity-value run needs (picklable, for workers)."""
    system: System
    base_sys: System
    res_row: int | None
    v2g_base: bool
    probe_units: Units
    mc: SequentialMonteCarlo
    spec: CapacityValueSpec


_OPFS: dict[tuple[Any, ...], SheddingOPF | None] = {}


def _cached_opf(system: System, units: Units, solver: str) -> SheddingOPF | None:
    """One shedding model per (network, units, solver) in each process, built on first use."""
    net = system.network
    key = (system.name, net.r_pu.tobytes(), net.x_pu.tobytes(), net.rating_pu.tobytes(), net.vmin, net.vmax,
           units.ids, units.bus.tobytes(), lot_buses(system).tobytes(), solver)
    if key not in _OPFS:
        if len(_OPFS) > 16:
            _OPFS.clear()
        _OPFS[key] = _opf(system, units, solver)
    return _OPFS[key]


def _first_pass(setup: _Setup, yy: int) -> _Year:
    """One sample year: the system without the resource in full, then the short days with it."""
    system, base_sys, res_row, mc, spec = setup.system, setup.base_sys, setup.res_row, setup.mc, setup.spec
    opf_base = _cached_opf(base_sys, base_sys.units, mc.solver)
    opf_with = _cached_opf(system, system.units, mc.solver) if res_row is not None else opf_base
    hist = sample_year(system, mc.seed, yy)
    hist_base = hist if res_row is None else drop_row(hist, res_row)
    rb = evaluate_year(base_sys, hist_base, opf_base, v2g=setup.v2g_base)
    days = rb.short_days
    hb = restrict_history(hist_base, days)
    hours = day_hours(days)
    known = (rb.gpl_bus_load_kw[hours], rb.normal[hours]) if rb.normal.size else None
    rw = None
    if days.size:
        # with the same units, an hour whose GPL load and V2G are unchanged has the base's result exactly
        # (this covers every hour the base screened as normal, too)
        kr_with = ((rb.gpl_bus_load_kw[hours], rb.v2g_kw[hours], rb.ens_by_bus_kw[hours])
                   if res_row is None and rb.ens_by_bus_kw.size else None)
        rw = evaluate_year(restrict_system(system, days), restrict_history(hist, days), opf_with,
                           v2g=mc.v2g, known_result=kr_with)
    if spec.metric == "efc":
        ref_up = np.ones(days.size * 24, bool)
    else:
        full_up = unit_up(mc.seed, UNIT, unit_key(REFERENCE_ID), yy, spec.ref_mttf_h, spec.ref_mttr_h,
                          system.hours)
        ref_up = full_up[hours]
    return _Year(base_ens=rb.ens_kwh, with_ens=rw.ens_kwh if rw else 0.0, days=days, hist=hb,
                 ref_up=ref_up, base_ens_h=rb.ens_kw[hours],
                 known=known if known is not None else (np.zeros(0), np.zeros(0, bool)),
                 v2g=rw.v2g_kwh if rw else 0.0, lr=rw.load_reduction_kwh if rw else 0.0,
                 charging=rb.charging_kwh + ((rw.charging_kwh - float(rb.charging_kw[hours].sum()))
                                             if rw and rb.charging_kw.size else 0.0))


def _probe(setup: _Setup, x: _Year, c: float) -> tuple[float, int]:
    """EENS of one year's short days with the reference unit at ``c`` kW, and its hours still short with
    the reference unit up."""
    h = with_row(x.hist, x.ref_up, c * x.ref_up)
    sys_r = restrict_system(setup.base_sys, x.days).replace(units=setup.probe_units)
    r = evaluate_year(sys_r, h, _cached_opf(setup.base_sys, setup.probe_units, setup.mc.solver),
                      v2g=setup.v2g_base,
                      known_normal=x.known if x.known[1].size else None)
    return r.ens_kwh, int(np.count_nonzero((r.ens_kw > 0) & x.ref_up))


def _bisect(setup: _Setup, years: list[_Year], base: np.ndarray, target: np.ndarray, eens_base: MeanEstimate,
            eens_with: MeanEstimate, evaluated: float,
            per_year_at: Callable[[float], tuple[np.ndarray, float]], progress: Progress | None,
            t0: float) -> CapacityValueResult:
    spec, mc = setup.spec, setup.mc
    n = len(years)
    curve: dict[float, np.ndarray] = {}
    slopes: dict[float, float] = {}
    probes: list[Probe] = []
    tgt = float(target.mean())

    def probe(c: float) -> float:
        if c not in curve:
            curve[c], slopes[c] = per_year_at(c)
        e = MeanEstimate.of(curve[c])
        gap = (e.mean - tgt) / tgt if tgt > 0 else (0.0 if e.mean == 0 else np.inf)
        probes.append(Probe(capacity_kw=c, eens_kwh_per_year=e, rel_gap=float(gap)))
        if progress:
            progress("probes", len(probes), spec.max_probes)
        return float(gap)

    lo, hi = 0.0, spec.capacity_max_kw
    converged, note = False, ""
    value = 0.0
    if eens_base.mean <= eens_with.mean:
        note = "EENS without the resource <= with it: capacity value 0 (paper Step 7)"
        lo = hi = value = 0.0
        converged = True
    else:
        lo = 0.0
        # Newton from below: EENS(C) is decreasing and convex on common random numbers (each extra kW helps
        # in fewer hours), and its slope is minus the hours still short with the reference unit up, so
        # every Newton step lands at or below the answer; no bracket is needed.
        c, gap = 0.0, probe(0.0)
        while len(probes) < spec.max_probes:
            if gap <= spec.tolerance:
                value, converged = c, True
                break
            if not np.isfinite(gap):   # EENS with the resource is 0 on these years: no Newton step exists
                value, converged, note = _zero_target(probe, c, hi, spec.max_probes - len(probes))
                break
            if slopes[c] <= 0:
                note = "no hour left where the reference unit helps: capacity value unbounded"
                value = hi
                break
            step = gap * tgt / slopes[c]
            c_next = c + step
            if c_next >= hi:
                if probe(hi) > 0:
                    note = (f"capacity value exceeds capacity_max_kw ({hi:g} kW): raise "
                            "ecc_reference.capacity_max_kw")
                    value = lo = hi
                    break
                c_next = 0.5 * (c + hi)
            lo = c
            c, gap = c_next, probe(c_next)
            if gap < -spec.tolerance:   # overshoot (the curve was not convex here): fall back to bisection
                hi = c
                a, b = lo, hi
                while len(probes) < spec.max_probes:
                    m_ = 0.5 * (a + b)
                    g_ = probe(m_)
                    if abs(g_) <= spec.tolerance or b - a < 1e-3:
                        c, gap = m_, g_
                        break
                    a, b = (m_, b) if g_ > 0 else (a, m_)
                value, converged = c, abs(gap) <= spec.tolerance or b - a < 1e-3
                break
        else:
            value = c
            note = f"not converged in {spec.max_probes} probes"
    last = max(curve) if curve else 0.0
    if converged and value > 0 and len(curve) > 1:
        # the crossing of the mean EENS curve (linear between probes): the estimator the CI bootstraps
        caps = np.array(sorted(curve))
        mean_curve = np.minimum.accumulate(np.array([curve[c].mean() for c in caps]))
        value = _solve_monotone(caps, mean_curve, tgt, slopes.get(last, 0.0))
    boot = (_bootstrap(curve, target, spec, mc.seed, slopes.get(last, 0.0)) if value > 0
            else np.zeros(spec.n_boot))
    a = (1 - spec.ci_level) / 2
    ci_low, ci_high = (float(np.quantile(boot, a)), float(np.quantile(boot, 1 - a))) if boot.size else (0, 0)
    above = [p.capacity_kw for p in probes if p.rel_gap >= 0]
    below = [p.capacity_kw for p in probes if p.rel_gap < 0]
    return CapacityValueResult(
        metric=spec.metric, resource=spec.resource, value_kw=float(value),
        lower_kw=float(max(above)) if above else 0.0, upper_kw=float(min(below)) if below else None,
        ci_low_kw=ci_low, ci_high_kw=ci_high, ci_level=spec.ci_level,
        eens_base=eens_base, eens_with=eens_with, probes=probes, years=n, converged=converged, note=note,
        v2g_kwh_per_year=MeanEstimate.of([x.v2g for x in years]),
        load_reduction_kwh_per_year=MeanEstimate.of([x.lr for x in years]),
        seconds=time.perf_counter() - t0, evaluated_day_fraction=evaluated, boot_values=boot,
        charging_kwh_per_year=MeanEstimate.of([x.charging for x in years]))


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


def stopped_years(ex: Executor, task: Callable[[Any, int], Any], setup: Any, mc: SequentialMonteCarlo,
                  ens: Callable[[Any], float], progress: Progress | None) -> list[Any]:
    """``task(setup, year)`` for years in order over ``ex``, in chunks, until the stopping rule on ``ens`` of each
    result decides (or exactly ``mc.years``): the year loop shared by the capacity-value first passes."""
    out: list[Any] = []
    stop_at = mc.n_cap
    chunk = stop_at if mc.years is not None else max(mc.min_years, 2 * max(1, mc.workers))
    while len(out) < stop_at:
        todo = range(len(out), min(len(out) + chunk, stop_at))
        futs = [ex.submit(task, setup, mc.first_year + y) for y in todo]
        for f in futs:
            out.append(f.result())
            if progress:
                progress("years", len(out), stop_at)
        if mc.years is None:
            decided = stopping_year([ens(x) for x in out], mc.target_cov, mc.min_years, mc.max_years)
            if decided is not None:
                stop_at = decided[0]
            chunk = max(1, mc.workers)
    return out[:stop_at]


def _bootstrap(curve: dict[float, np.ndarray], target: np.ndarray, spec: CapacityValueSpec,
               seed: int, tail_slope: float = 0.0) -> np.ndarray:
    """Capacity values of bootstrap resamples of the sample years (paired: same years at every probe)."""
    caps = np.array(sorted(curve))
    mat = np.array([curve[c] for c in caps])          # (probes, years)
    n = target.size
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31 - 1, 99)))
    idx = rng.integers(0, n, size=(spec.n_boot, n))
    means = mat[:, idx].mean(axis=2)                   # (probes, boot)
    tg = target[idx].mean(axis=1)                      # (boot,)
    out = np.empty(spec.n_boot)
    for b in range(spec.n_boot):
        e = np.minimum.accumulate(means[:, b])         # monotone non-increasing in capacity
        out[b] = _solve_monotone(caps, e, tg[b], tail_slope)
    return out


def _solve_monotone(caps: np.ndarray, eens: np.ndarray, target: float, tail_slope: float = 0.0) -> float:
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
