"""Paired short-day re-evaluation: the system without the resource is simulated once in full, and the system
with it and every probe re-evaluate only the days that were short.

Because every PEV leaves by midnight, days are independent; a reserve unit (the ECC reference unit, dispatched
only when short) or the resource itself can only lower shortfall; so a day that was not short in the system
without the resource is unchanged by either. The answer is exactly that of full re-simulation (tested).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from gplopt.adequacy import day_hours, lot_buses
from gplopt.capacity.dist_days import evaluate, on_days, segments_of, short_days
from gplopt.distribution import Segments
from gplopt.montecarlo import Execution, SequentialMonteCarlo
from gplopt.opf_cache import shedding_opf
from gplopt.sampling import REFERENCE_ID, History, reference_unit_up, sample_year
from gplopt.system import System, Units

if TYPE_CHECKING:
    from gplopt.capacity.spec import CapacityValueSpec
    from gplopt.network.opf import SheddingOPF


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
class ShortYear:
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
    segs: Segments | None = None   # branch-outage hour segments on the short days' axis (None: none fail)


@dataclass(frozen=True)
class Setup:
    """What every per-year task of a capacity-value run needs (picklable, for workers)."""
    system: System
    base_sys: System
    res_row: int | None
    v2g_base: bool
    probe_units: Units
    mc: SequentialMonteCarlo
    execution: Execution
    spec: CapacityValueSpec
    reference_always_up: bool = False   # EFC: a perfectly reliable reference unit


def cached_opf(system: System, units: Units, solver: str) -> SheddingOPF | None:
    """The process's shedding OPF of ``system``'s network and lots with ``units`` (:mod:`gplopt.opf_cache`)."""
    return shedding_opf(system.network, units, lot_buses(system), solver)


def first_pass(setup: Setup, yy: int) -> ShortYear:
    """One sample year: the system without the resource in full, then the short days with it."""
    system, base_sys, res_row, mc, spec = setup.system, setup.base_sys, setup.res_row, setup.mc, setup.spec
    opf_base = cached_opf(base_sys, base_sys.units, setup.execution.solver)
    opf_with = cached_opf(system, system.units, setup.execution.solver) if res_row is not None else opf_base
    hist = sample_year(system, mc.seed, yy)
    hist_base = hist if res_row is None else drop_row(hist, res_row)
    segs = segments_of(base_sys, mc.seed, yy)     # branch outages: the overlay (gplopt.capacity.dist_days)
    uc = setup.execution.use_certificate
    rb = evaluate(base_sys, hist_base, opf_base, v2g=setup.v2g_base, use_certificate=uc, segs=segs, full=True)
    days = rb.short_days if segs is None else short_days(rb, segs)
    hb = restrict_history(hist_base, days)
    hours = day_hours(days)
    known = (rb.gpl_bus_load_kw[hours], rb.normal[hours]) if rb.normal.size and segs is None else None
    day_segs = None if segs is None else on_days(segs, days)
    rw = None
    if days.size:
        # with the same units, an hour whose GPL load and V2G are unchanged has the base's result exactly
        # (this covers every hour the base screened as normal, too)
        kr_with = ((rb.gpl_bus_load_kw[hours], rb.v2g_kw[hours], rb.ens_by_bus_kw[hours])
                   if res_row is None and rb.ens_by_bus_kw.size and segs is None else None)
        rw = evaluate(restrict_system(system, days), restrict_history(hist, days), opf_with, v2g=mc.v2g,
                      known_result=kr_with, use_certificate=uc, segs=day_segs)
    if setup.reference_always_up:
        ref_up = np.ones(days.size * 24, bool)
    else:
        full_up = reference_unit_up(mc.seed, yy, spec.ref_mttf_h, spec.ref_mttr_h, system.hours)
        ref_up = full_up[hours]
    return ShortYear(base_ens=rb.ens_kwh, with_ens=rw.ens_kwh if rw else 0.0, days=days, hist=hb,
                     ref_up=ref_up, base_ens_h=rb.ens_kw[hours],
                     known=known if known is not None else (np.zeros(0), np.zeros(0, bool)),
                     v2g=rw.v2g_kwh if rw else 0.0, lr=rw.load_reduction_kwh if rw else 0.0,
                     charging=rb.charging_kwh + ((rw.charging_kwh - float(rb.charging_kw[hours].sum()))
                                                 if rw and rb.charging_kw.size else 0.0), segs=day_segs)


def probe_year(setup: Setup, x: ShortYear, c: float) -> tuple[float, int]:
    """EENS of one year's short days with the reference unit at ``c`` kW, and its hours still short with
    the reference unit up."""
    h = with_row(x.hist, x.ref_up, c * x.ref_up)
    sys_r = restrict_system(setup.base_sys, x.days).replace(units=setup.probe_units)
    r = evaluate(sys_r, h, cached_opf(setup.base_sys, setup.probe_units, setup.execution.solver),
                 v2g=setup.v2g_base, use_certificate=setup.execution.use_certificate,
                 known_normal=x.known if x.known[1].size else None, segs=x.segs)
    return r.ens_kwh, int(np.count_nonzero((r.ens_kw > 0) & x.ref_up))


def first_pass_years(setup: Setup, years: list[int]) -> list[ShortYear]:
    """:func:`first_pass` over a batch of sample years (a task of :func:`gplopt.montecarlo.run_years`)."""
    return [first_pass(setup, y) for y in years]
