"""Hourly adequacy of one sample year: supply and demand for all hours at once, then the network.

1. Copper plate: supply (units' available power) against regular load plus GPL charging, with the GPL's
   sequential load reduction and energy-limited V2G (:mod:`gplopt.fleet`) -> shortfall ``D`` per hour.
2. Certificate: every hour is tried at the point that sheds exactly ``max(D, 0)`` in merit order of value of
   lost load (lowest first, in proportion to load within a class) with every source at its limit. If that
   point satisfies the OPF's own LinDistFlow constraints, it is optimal for the OPF (no feasible point sheds
   less than the copper-plate shortfall), so ENS = max(D, 0) without solving.
3. Screen: hours the certificate could not decide with ``D <= 0`` while the substation is up go through the
   batched AC power flow (local units at their available output, the substation as slack). Within voltage,
   branch and substation limits -> ENS = 0. (An hour with ``D <= 0`` has ENS 0 if it passes either test, so
   the order does not change any ENS; the cheap LinDistFlow check goes first.)
4. The remaining hours go to the shedding OPF (:class:`gplopt.network.opf.SheddingOPF`).

Islanded hours (substation down) take the largest available local unit's bus as voltage reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from gplopt.cert_bound import safe_hours
from gplopt.cert_far import certificate_far, path_resistance
from gplopt.certificate import TOL_KW, certificate
from gplopt.fleet import FleetYear, combine_fleet_years, simulate_fleet
from gplopt.network.powerflow import run_powerflow, subtree_matrix
from gplopt.sampling import History
from gplopt.system import System, system_bus_loads

if TYPE_CHECKING:
    from gplopt.network.opf import SheddingOPF



@dataclass
class YearResult:
    """What one sample year produced; plain numbers and arrays (picklable)."""
    year: int
    ens_kwh: float
    lol_hours: int
    lol_events: int
    ens_by_bus_kwh: np.ndarray
    v2g_kwh: float
    load_reduction_kwh: float
    deferred_kwh: float
    charging_kwh: float
    hours_screened: int
    hours_certified: int
    opf_solves: int
    opf_failed: int
    peak_shortfall_kw: float
    min_soc_seen: float
    ens_kw: np.ndarray = field(repr=False)          # (H,) hourly ENS of the evaluated hours
    failed_hours: list[int] = field(default_factory=list)
    hours: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, int))
    short_days: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, int))
    normal: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, bool))
    gpl_bus_load_kw: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))  # (H, lots)
    charging_kw: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    v2g_kw: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))  # (H, lots) scheduled V2G
    v2g_kwh_by_lot: np.ndarray = field(default_factory=lambda: np.zeros(0))   # (lots,)
    ens_by_bus_kw: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    ens_by_hour_of_day_kwh: np.ndarray = field(default_factory=lambda: np.zeros(0))   # (24,) ENS by clock hour
    lol_by_hour_of_day: np.ndarray = field(default_factory=lambda: np.zeros(0))       # (24,) LOL hours by hour
    # distribution reliability (gplopt.distribution; empty when the instance has no customers or failing branches):
    interruptions_by_bus: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (B,) per customer of the bus
    interrupted_h_by_bus: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (B,) hours x fraction cut off
    branch_ens_kwh: float = 0.0    # ENS at buses cut off by branch outages (the branch_outage cause)
    branch_hours: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, int))  # hours with such ENS
    branch_kw: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))          # and that ENS (kW)
    shortfall_kw: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))  # (H,) copper-plate D
    by_cause: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))   # (3, entries), gplopt.causes
    control: np.ndarray = field(default_factory=lambda: np.zeros(0))   # (2,) gplopt.control_variate, HL-I only


def by_hour_of_day(hours: np.ndarray, ens_kw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(24,) ENS (kWh) and loss-of-load hours falling in each hour of the day."""
    hod = np.asarray(hours, int) % 24
    return (np.bincount(hod, ens_kw, minlength=24)[:24],
            np.bincount(hod, (ens_kw > 0).astype(float), minlength=24)[:24])


@dataclass(frozen=True)
class HourInputs:
    """Everything the network stage needs, for all hours of the year (kW)."""
    p_load: np.ndarray             # (H, B) bus active load incl. GPL charging
    q_load: np.ndarray
    unit_avail: np.ndarray         # (U, H)
    grid_up: np.ndarray            # (H,) bool: substation in service (False if none)
    gpl_kw: np.ndarray             # (H,) V2G scheduled by the copper-plate rule, all lots
    lot_kw: np.ndarray             # (L, H) the same per lot (the OPF's bound on each lot's column)
    shortfall: np.ndarray          # (H,) D = demand - supply (> 0 short)
    ref_bus: np.ndarray            # (H,) voltage reference bus index
    fleet: FleetYear | None        # all lots together
    hours: np.ndarray              # (H,) which hours of the year these are
    lots: tuple[FleetYear | None, ...] = ()   # per lot


def day_hours(days: np.ndarray) -> np.ndarray:
    return (np.asarray(days, int)[:, None] * 24 + np.arange(24)[None, :]).reshape(-1)


_BUS_P: list[tuple[object, object, object, np.ndarray]] = []


def year_bus_p(system: System) -> np.ndarray:
    """A fresh copy of the year's (H, B) bus active loads of ``system`` (the lots then add their charging to
    it): computed once for the last (network, load, bus table) seen, as a year loop asks every year."""
    key = (system.network, system.load_kw, system.bus_load_kw)
    if not (_BUS_P and all(x is y for x, y in zip(_BUS_P[0][:3], key, strict=True))):
        p = system_bus_loads(system)[0]
        p.setflags(write=False)
        _BUS_P[:] = [(*key, p)]
    return _BUS_P[0][3].copy()


def hour_inputs(system: System, hist: History, *, v2g: bool = True,
                days: np.ndarray | None = None) -> HourInputs:
    """Inputs of every hour, or only of the hours of ``days`` (days are independent for the GPL)."""
    net, units = system.network, system.units
    idx = np.arange(system.hours) if days is None else day_hours(days)
    avail = hist.unit_avail_kw if days is None else hist.unit_avail_kw[:, idx]
    load = system.load_kw if days is None else system.load_kw[idx]
    margin = avail.sum(axis=0) - load
    p = year_bus_p(system) if days is None else system_bus_loads(system, idx)[0]
    fys, shortfall = lots_year(system, hist, margin, p, v2g=v2g, days=days)
    lot_kw = np.array([np.zeros(idx.size) if fy is None else fy.v2g_kw for fy in fys]).reshape(len(fys), idx.size)
    gpl = lot_kw.sum(axis=0)
    grid_idx = [i for i in range(units.n) if units.kind[i] == "external_grid"]
    unit_up = hist.unit_up[:, idx] if days is not None else hist.unit_up
    grid_up = unit_up[grid_idx[0]] if grid_idx else np.zeros(idx.size, bool)
    ref = np.full(idx.size, net.root)
    if not net.copper_plate and not grid_up.all():   # a copper plate has no voltages to reference
        ref = island_reference(system, unit_up, grid_up)
    q = p if net.copper_plate else p * net.q_over_p[None, :]
    return HourInputs(p_load=p, q_load=q, unit_avail=avail, grid_up=grid_up,
                      gpl_kw=gpl, lot_kw=lot_kw, shortfall=shortfall, ref_bus=ref,
                      fleet=combine_fleet_years([f for f in fys if f is not None]), hours=idx, lots=fys)


def lots_year(system: System, hist: History, margin: np.ndarray, p: np.ndarray, *, v2g: bool,
              days: np.ndarray | None) -> tuple[tuple[FleetYear | None, ...], np.ndarray]:
    """Each lot through the year on the copper plate, in lot order: lot k sees the margin left after lots
    before it (their charging, load reduction and V2G), so with one lot this is the single-GPL rule. Adds each
    lot's charging to ``p`` at its bus. Returns (per-lot results, the shortfall after all lots)."""
    fys: list[FleetYear | None] = []
    for fleet, draws in zip(system.lots, hist.lots or (None,) * len(system.lots), strict=True):
        if draws is None:
            fys.append(None)
            continue
        d = draws if days is None else draws.on_days(days)
        fy = simulate_fleet(fleet, d.sessions, d.charger_up, margin, v2g=v2g)
        p[:, fleet.bus] += fy.charging_kw
        margin = -fy.need_kw
        fys.append(fy)
    return tuple(fys), -margin



def island_reference(system: System, unit_up: np.ndarray, grid_up: np.ndarray) -> np.ndarray:
    """Voltage reference per hour: the root while the grid is up, else the bus of the largest available
    local unit with reactive capability, else of the largest available unit, else the GPL bus."""
    net, units = system.network, system.units
    ref = np.full(grid_up.size, net.root)
    fallback = system.lots[0].bus if system.lots else net.root
    local = [i for i in range(units.n) if units.kind[i] != "external_grid"]
    score = np.full((len(local), grid_up.size), -1.0)
    for r, i in enumerate(local):
        score[r] = np.where(unit_up[i], units.capacity_kw[i] + (1e9 if units.q_max_kvar[i] > 0 else 0), -1.0)
    island = ~grid_up
    if local:
        best = score.argmax(axis=0)
        has = score.max(axis=0) >= 0
        buses = units.bus[np.array(local)][best]
        ref[island] = np.where(has[island], buses[island], fallback)
    else:
        ref[island] = fallback
    return ref


@dataclass(frozen=True)
class HourLimits:
    """Per-hour source limits in the OPF's terms (kW/kvar)."""
    pmax: np.ndarray               # (U, H)
    pmin: np.ndarray
    qmax: np.ndarray


def source_limits(system: System, hi: HourInputs) -> HourLimits:
    units = system.units
    pmax = hi.unit_avail.copy()
    pmin = np.zeros_like(pmax)
    qmax = np.where(hi.unit_avail > 0, units.q_max_kvar[:, None], 0.0)
    for i in range(units.n):
        if units.kind[i] == "external_grid":
            pmin[i] = -pmax[i]         # reverse flow into the grid is allowed while it is up
            qmax[i] = np.where(hi.grid_up, units.q_max_kvar[i], 0.0)
        elif units.kind[i] == "wind":
            qmax[i] = np.where(hi.unit_avail[i] > 0, units.q_max_kvar[i], 0.0)
    return HourLimits(pmax=pmax, pmin=pmin, qmax=qmax)


_BLAS: Any = None


def _one_blas_thread() -> Any:
    """BLAS pinned to one thread: matrix products then round the same in every process, so the number of
    workers (or a Dask cluster) can never change a digit."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def evaluate_year(system: System, hist: History, opf: SheddingOPF | None, *, v2g: bool = True,
                  use_certificate: bool = True, days: np.ndarray | None = None,
                  known_normal: tuple[np.ndarray, np.ndarray] | None = None,
                  known_result: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> YearResult:
    """ENS of every hour of one sample year (or of the hours of ``days`` only); see ``_evaluate_year``."""
    with _one_blas_thread():
        return _evaluate_year(system, hist, opf, v2g=v2g, use_certificate=use_certificate, days=days,
                              known_normal=known_normal, known_result=known_result)


def _evaluate_year(system: System, hist: History, opf: SheddingOPF | None, *, v2g: bool = True,
                  use_certificate: bool = True, days: np.ndarray | None = None,
                  known_normal: tuple[np.ndarray, np.ndarray] | None = None,
                  known_result: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> YearResult:
    """ENS of every hour of one sample year (or of the hours of ``days`` only).

    ``known_result = (gpl_bus_load_kw, v2g_kw, ens_by_bus_kw)`` from an earlier run on the same history *and
    the same units*: an hour whose GPL-bus load and V2G injection are unchanged has every input unchanged, so
    its ENS is copied instead of recomputed.

    ``known_normal = (gpl_charging_kw, normal)`` from an earlier run on the same history: an hour that run
    screened as normal, whose GPL charging is unchanged, is normal again without a power flow (the screen
    depends only on the bus loads and the non-reserve units, which a reserve unit does not change)."""
    net = system.network
    hi = hour_inputs(system, hist, v2g=v2g, days=days)
    if net.copper_plate:
        ens_by_bus = np.maximum(hi.shortfall, 0.0)[:, None]
        failed: list[int] = []
        normal, screened, certified, solves = hi.shortfall <= TOL_KW, 0, 0, 0
    else:
        ens_by_bus, normal, screened, certified, solves, failed = _network_ens(
            system, hi, opf, use_certificate, known_normal, known_result)
    ens = ens_by_bus.sum(axis=1)
    ens[ens < TOL_KW] = 0.0
    lol = ens > 0
    events = int(lol[0]) + int(np.count_nonzero(lol[1:] & ~lol[:-1]))
    fy = hi.fleet
    return YearResult(
        year=hist.year, ens_kwh=float(ens.sum()), lol_hours=int(lol.sum()), lol_events=events,
        ens_by_bus_kwh=ens_by_bus.sum(axis=0), v2g_kwh=float(fy.v2g_kw.sum()) if fy else 0.0,
        load_reduction_kwh=float(fy.load_reduction_kw.sum()) if fy else 0.0,
        deferred_kwh=float(fy.deferred_kw.sum()) if fy else 0.0,
        charging_kwh=float(fy.charging_kw.sum()) if fy else 0.0,
        hours_screened=screened, hours_certified=certified, opf_solves=solves, opf_failed=len(failed),
        peak_shortfall_kw=float(max(hi.shortfall.max(), 0.0)),
        min_soc_seen=fy.min_soc_seen if fy else float("nan"), ens_kw=ens,
        failed_hours=[int(hi.hours[h]) for h in failed], hours=hi.hours, normal=normal,
        gpl_bus_load_kw=hi.p_load[:, lot_buses(system)], v2g_kwh_by_lot=hi.lot_kw.sum(axis=1),
        charging_kw=fy.charging_kw if fy else np.zeros(0), v2g_kw=hi.lot_kw.T, ens_by_bus_kw=ens_by_bus,
        shortfall_kw=hi.shortfall,
        short_days=np.unique(hi.hours[(ens > 0) | (hi.shortfall > TOL_KW)] // 24))


def _network_ens(system: System, hi: HourInputs, opf: SheddingOPF | None, use_certificate: bool,
                 known_normal: tuple[np.ndarray, np.ndarray] | None,
                 known_result: tuple[np.ndarray, np.ndarray, np.ndarray] | None
                 ) -> tuple[np.ndarray, np.ndarray, int, int, int, list[int]]:
    """(ENS by hour and bus, screened-normal mask, screened, certified, OPF solves, failed hours).

    With the certificate on, it is tried first on every hour left: an hour with no copper-plate shortfall and
    the substation up gets ENS 0 if it passes the AC screen *or* the certificate (which sheds nothing there), so
    the cheap certificate goes first and only the hours it cannot decide pay for the AC power flow. The ENS of
    every hour is the same in either order."""
    net = system.network
    n = hi.hours.size
    ens_by_bus = np.zeros((n, net.n_bus))
    lim = source_limits(system, hi)
    ok_cand = (hi.shortfall <= TOL_KW) & hi.grid_up
    normal = np.zeros(n, bool)
    reused = np.zeros(n, bool)
    buses = lot_buses(system)
    if known_result is not None and system.lots:
        reused = _same(hi.p_load[:, buses], known_result[0]) & _same(hi.lot_kw.T, known_result[1])
        ens_by_bus[reused] = known_result[2][reused]
    if known_normal is not None and system.lots:
        same = _same(hi.p_load[:, buses], known_normal[0])
        normal = ok_cand & same & known_normal[1]
    rest = np.flatnonzero(~normal & ~reused)
    certified = 0
    if use_certificate:
        safe = safe_hours(system, hi, lim, rest)   # the certificate would pass them
        certified = int(safe.sum())
        rest = rest[~safe]
        t = subtree_matrix(net)
        passed, shed = certificate(system, hi, lim, rest, t)
        ens_by_bus[rest[passed]] = shed[passed]
        certified += int(passed.sum())
        rest = rest[~passed]
        short = rest[hi.shortfall[rest] > 0]            # a second split of the same shed: far buses first
        if short.size:
            passed, shed = certificate_far(system, hi, lim, short, t, path_resistance(net, t))
            ens_by_bus[short[passed]] = shed[passed]
            certified += int(passed.sum())
            rest = np.setdiff1d(rest, short[passed])
    cand = rest[ok_cand[rest]]
    if cand.size:
        normal[cand] = screen(system, hi, cand)
    rest = rest[~normal[rest]]
    if rest.size and opf is None:
        raise RuntimeError("hours need the shedding OPF but no OPF was given")
    failed: list[int] = []
    for h in rest:
        assert opf is not None
        res = opf.solve(hi.p_load[h], hi.q_load[h], lim.pmax[:, h], lim.pmin[:, h], lim.qmax[:, h],
                        hi.lot_kw[:, h], int(hi.ref_bus[h]))
        if res.ok:
            ens_by_bus[h] = res.shed_kw
        else:  # never zero: count the whole load of the hour and report the hour
            failed.append(int(h))
            ens_by_bus[h] = hi.p_load[h]
    return ens_by_bus, normal, int(normal.sum()), certified, int(rest.size), failed


def lot_buses(system: System) -> np.ndarray:
    return np.array([f.bus for f in system.lots], int)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(H,) rows of (H, L) ``a`` and ``b`` equal within 1e-9 in every lot."""
    return np.asarray((np.abs(a - b) <= 1e-9).reshape(a.shape[0], -1).all(axis=1))


def screen(system: System, hi: HourInputs, hours: np.ndarray) -> np.ndarray:
    """Batched AC power flow of ``hours`` (substation up, no shortfall): True where within all limits."""
    net, units = system.network, system.units
    p = hi.p_load[hours].copy()
    q = hi.q_load[hours]
    grid = [i for i in range(units.n) if units.kind[i] == "external_grid"]
    for i in range(units.n):
        if i not in grid and units.kind[i] != "reserve":  # a reserve unit runs only when short
            p[:, units.bus[i]] -= hi.unit_avail[i, hours]
    pf = run_powerflow(net, p, q)
    ok = pf.within_limits(net)
    if grid:
        cap = hi.unit_avail[grid[0], hours]
        ok &= (pf.slack_p_kw <= cap + TOL_KW) & (pf.slack_p_kw >= -cap - TOL_KW)
    return ok
