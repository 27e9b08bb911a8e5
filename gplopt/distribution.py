"""Branch outages and customer interruptions on top of the hourly adequacy of a sample year
(docs/distribution.md).

The intact network's year (:func:`gplopt.adequacy.evaluate_year`) gives each hour's ENS by bus. Branch
outages (:mod:`gplopt.branches`) then change only the hours in which some branch is down: the buses they cut
off from the substation form islands, each balanced on its own local units and lots (energy-limited V2G and
load reduction, re-simulated for the island's days); an island with neither sheds its whole load. The buses
still connected keep the intact network's ENS of the hour. Every hour with shedding (from any cause) then
gives each bus an interrupted fraction ``f = shed / load`` (1 for a bus cut off without supply): a bus's
customers see ``sum_h max(f_h - f_{h-1}, 0)`` interruptions and ``sum_h f_h`` hours of interruption, plus the
faults whose interruption covers no hour's midpoint, counted from their times (:func:`gplopt.branches.unseen`).

Systems without chargers take an event-driven path: a reference year with every unit up at its lowest
available power is evaluated once per System; an hour with every unit up in which the reference sheds nothing
sheds nothing (more available power only enlarges the OPF's feasible set), so only days with a unit outage
(and, when availability varies, days in which the reference sheds) are evaluated, and a year costs its branch
outages and little else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from gplopt.adequacy import TOL_KW, YearResult, day_hours, evaluate_year, lot_buses
from gplopt.branches import BranchModel, build_branch_model, outages, phases, segments, unseen
from gplopt.certificate import greedy_shed
from gplopt.fleet import simulate_fleet
from gplopt.sampling import History, sample_year
from gplopt.system import System, system_bus_loads

if TYPE_CHECKING:
    from gplopt.network.opf import SheddingOPF

_CACHE: dict[object, object] = {}
COUNTING = "faults"   # how interruptions are counted (journals of another way are another run): the hour grid's
                      # rises plus the faults it does not see (gplopt.branches.unseen)
Segments = list[tuple[int, int, frozenset[tuple[int, int]]]]


def has_customers(system: System) -> bool:
    return system.grid.customers is not None


def branch_model(system: System) -> BranchModel:
    """The System's failing branches and ties (built once per System object)."""
    if _CACHE.get("system") is not system:
        _CACHE.clear()
        _CACHE["system"] = system
        _CACHE["model"] = build_branch_model(system.grid, system.network)
    return _CACHE["model"]  # type: ignore[return-value]


def active(system: System) -> bool:
    """True when branch outages or customer indices need this module's year evaluation."""
    return not system.network.copper_plate and (branch_model(system).n > 0 or has_customers(system)) \
        or system.network.copper_plate and has_customers(system)


@dataclass(frozen=True)
class YearLoads:
    """The intact network's year: read-only inputs of the overlay."""
    p: np.ndarray                  # (H, B) bus load incl. lot charging (kW)
    p_base: np.ndarray             # (H, B) bus load without lot charging
    ens_bus: np.ndarray            # (H, B) ENS by bus
    ens: np.ndarray                # (H,) ENS (below TOL_KW zeroed)
    avail: np.ndarray              # (U, H) unit available power
    v2g: bool = True               # whether lots may discharge (False: the system without their V2G)


def dist_years(system: System, seed: int, years: list[int], opf: Callable[[], SheddingOPF | None], *,
               v2g: bool = True, use_certificate: bool = True) -> Iterator[YearResult]:
    """YearResults of ``years`` with branch outages and interruptions; ``ens_kw`` is the year's hourly ENS."""
    return (r for _, r in dist_year_histories(system, seed, years, opf, v2g=v2g, use_certificate=use_certificate))


def dist_year_histories(system: System, seed: int, years: list[int], opf: Callable[[], SheddingOPF | None], *,
                        v2g: bool = True, use_certificate: bool = True) -> Iterator[tuple[History, YearResult]]:
    """:func:`dist_years` with each year's History: what :func:`gplopt.causes.plan_causes` needs beside the
    result's hourly arrays (``ens_kw``, ``shortfall_kw`` and ``v2g_kw`` over the whole year; ``branch_hours`` and
    ``branch_kw``, the ENS at buses cut off by branch outages)."""
    model = branch_model(system)
    drawn: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for y in years:
        if y not in drawn:     # the branch chronologies of the run of consecutive years from y, in one bulk draw
            n = next(k for k in range(1, len(years) + 2) if y + k not in years)
            row, k, s, e = outages(model, seed, y, n, system.hours)
            drawn.update({y + i: (k[row == i], s[row == i], e[row == i]) for i in range(n)})
        hist = sample_year(system, seed, y)
        base, loads = _base_year(system, hist, opf, v2g, use_certificate)
        yield hist, overlay(system, model, hist, base, replace(loads, v2g=v2g), *drawn.pop(y))


def evaluate_with_segments(system: System, hist: History, segs: Segments, opf: SheddingOPF | None, *,
                           v2g: bool = True, use_certificate: bool = True, dense: bool = False) -> YearResult:
    """One year with branch outages given as hour segments on its hour axis (:func:`overlay_segments`). ``dense``:
    the intact network hour by hour, for any System (a restriction of a year to some days, added load); else as
    :func:`dist_years` evaluates it (the event-driven path when eligible, cached per System)."""
    if dense:
        model = build_branch_model(system.grid, system.network)
        base, loads = dense_year(system, hist, opf, v2g, use_certificate)
    else:
        model = branch_model(system)
        base, loads = _base_year(system, hist, lambda: opf, v2g, use_certificate)
    return overlay_segments(system, model, hist, base, replace(loads, v2g=v2g), segs)


def year_segments(system: System, seed: int, year: int) -> Segments:
    """The hour segments (h0, h1, configuration) of year ``year``'s branch outages (the draws of :func:`dist_years`:
    they do not depend on how many years are drawn together)."""
    model = branch_model(system)
    _, k, s, e = outages(model, seed, year, 1, system.hours)
    return segments(phases(model, k, s, e, system.hours))


def _fast(system: System) -> bool:
    """Hours are independent (no chargers), so a year can be evaluated day by day against a reference."""
    return all(f.n_chargers == 0 for f in system.lots)


def _variable(system: System) -> bool:
    """Some unit's available power while up varies from draw to draw (wind, a grid availability range)."""
    u = system.units
    return any(k == "wind" for k in u.kind) or bool(np.any(u.avail_low < u.avail_high))


def _base_year(system: System, hist: History, opf: Callable[[], SheddingOPF | None], v2g: bool,
               use_certificate: bool) -> tuple[YearResult, YearLoads]:
    """The intact network's year. Without chargers: the reference year (every unit up at its lowest available
    power) answers every hour in which every unit is up and the reference sheds nothing (more available power
    cannot make the OPF shed: its feasible set only grows); only the other days are evaluated."""
    if not _fast(system):
        return dense_year(system, hist, opf(), v2g, use_certificate)
    ref, ref_loads = _reference(system, opf, v2g, use_certificate)
    days = np.nonzero(~hist.unit_up)[1] // 24
    if _variable(system):
        days = np.concatenate([days, np.flatnonzero(ref_loads.ens > 0) // 24])
    days = np.unique(days)
    if days.size == 0:       # the reference's own work is not this year's
        return (replace(ref, year=hist.year, opf_solves=0, hours_screened=0, hours_certified=0),
                replace(ref_loads, avail=hist.unit_avail_kw))
    r = evaluate_year(system, hist, opf(), v2g=v2g, use_certificate=use_certificate, days=days)
    idx = day_hours(days)
    ens_bus, ens = ref_loads.ens_bus.copy(), ref_loads.ens.copy()
    ens_bus[idx], ens[idx] = r.ens_by_bus_kw, r.ens_kw
    failed = sorted(set(ref.failed_hours) - set(idx.tolist()) | set(r.failed_hours))
    shortfall = ref.shortfall_kw.copy()     # D of the days not evaluated: the reference's, the year's own where
    # the intact network can shed there (no variable availability: every unit up at its one available power)
    shortfall[idx] = r.shortfall_kw
    year = replace(ref, year=hist.year, ens_kwh=float(ens.sum()), ens_by_bus_kwh=ens_bus.sum(axis=0),
                   shortfall_kw=shortfall,
                   opf_solves=r.opf_solves, opf_failed=len(failed), failed_hours=failed,
                   peak_shortfall_kw=max(ref.peak_shortfall_kw, r.peak_shortfall_kw), hours_screened=r.hours_screened,
                   hours_certified=r.hours_certified)
    return year, YearLoads(ref_loads.p, ref_loads.p_base, ens_bus, ens, hist.unit_avail_kw)


def dense_year(system: System, hist: History, opf: SheddingOPF | None, v2g: bool,
               use_certificate: bool) -> tuple[YearResult, YearLoads]:
    """The intact network's year evaluated hour by hour (any System, e.g. a restriction to some days)."""
    r = evaluate_year(system, hist, opf, v2g=v2g, use_certificate=use_certificate)
    p_base, _ = system_bus_loads(system)
    p = p_base.copy()
    p[:, lot_buses(system)] = r.gpl_bus_load_kw
    return r, YearLoads(p, p_base, r.ens_by_bus_kw, r.ens_kw, hist.unit_avail_kw)


def _reference(system: System, opf: Callable[[], SheddingOPF | None], v2g: bool,
               use_certificate: bool) -> tuple[YearResult, YearLoads]:
    """The intact network's year with every unit up at its lowest available power (cached per System)."""
    key = ("reference", v2g, use_certificate)
    if key not in _CACHE:
        u, hours = system.units, system.hours
        low = np.where([k == "wind" for k in u.kind], 0.0, u.capacity_kw * u.avail_low)
        avail = np.repeat(low[:, None], hours, axis=1)
        for i, uid in enumerate(u.ids):
            if uid in system.unit_profile:
                avail[i] *= system.unit_profile[uid][:hours]
        hist = History(year=0, unit_up=np.ones((u.n, hours), bool), unit_avail_kw=avail,
                       lots=(None,) * len(system.lots))
        r = evaluate_year(system, hist, opf(), v2g=v2g, use_certificate=use_certificate)
        p, _ = system_bus_loads(system)
        _CACHE[key] = (r, YearLoads(p, p, r.ens_by_bus_kw, r.ens_kw, avail))
    return _CACHE[key]  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------------- overlay
@dataclass
class _Hours:
    """The affected hours A of a year (sorted) and their shedding by bus."""
    hours: np.ndarray              # (A,)
    shed: np.ndarray               # (A, B) kW
    frac: np.ndarray               # (A, B) interrupted fraction of each bus
    branch_kw: np.ndarray          # (A,) of it at buses cut off by branch outages


def overlay(system: System, model: BranchModel, hist: History, base: YearResult, loads: YearLoads,
            k: np.ndarray, s: np.ndarray, e: np.ndarray) -> YearResult:
    """``base`` with the year's branch outages (k, start, end) applied and its interruptions counted: on the
    hour grid, plus the faults' interruptions that cover no hour's midpoint (:func:`gplopt.branches.unseen`)."""
    a = _overlay_hours(system, model, hist, loads, segments(phases(model, k, s, e, system.hours)))
    return _year_result(system, base, loads, a, _unseen_count(a, unseen(model, k, s, e, system.hours,
                                                                          local_buses(system))))


def local_buses(system: System) -> np.ndarray:
    """(B,) buses with a local (non-grid) unit or a lot with chargers."""
    out = np.zeros(system.network.n_bus, bool)
    u = system.units
    out[u.bus[[kind != "external_grid" for kind in u.kind]]] = True
    out[[f.bus for f in system.lots if f.n_chargers > 0]] = True
    return out


def _unseen_count(a: _Hours, missed: list[tuple[int, np.ndarray]]) -> np.ndarray | None:
    """(B,) interruptions per customer of the unseen faults, each weighted by the share of the bus's customers
    the grid sees supplied at the midpoints on either side of it (1 - the larger interrupted fraction)."""
    if not missed:
        return None
    extra = np.zeros(a.frac.shape[1])
    for h, mask in missed:
        f = np.zeros(mask.size)
        for x in (h - 1, h):
            i = int(np.searchsorted(a.hours, x))
            if i < a.hours.size and a.hours[i] == x:
                f = np.maximum(f, a.frac[i])
        extra += mask * (1.0 - f)
    return extra


def overlay_segments(system: System, model: BranchModel, hist: History, base: YearResult, loads: YearLoads,
                     segs: Segments) -> YearResult:
    """:func:`overlay` given the outages' hour segments (h0, h1, configuration) on the year's hour axis (no
    continuous times, so interruptions are counted on the hour grid alone: capacity value's re-evaluations,
    which read ENS)."""
    return _year_result(system, base, loads, _overlay_hours(system, model, hist, loads, segs))


def _overlay_hours(system: System, model: BranchModel, hist: History, loads: YearLoads, segs: Segments) -> _Hours:
    """The affected hours of a year with the segments' configurations applied, islands balanced."""
    out_h = [np.arange(h0, h1) for h0, h1, _ in segs]
    hours = np.union1d(np.concatenate(out_h) if out_h else np.zeros(0, int), np.flatnonzero(loads.ens > 0))
    shed = loads.ens_bus[hours].copy()
    shed[shed < TOL_KW] = 0.0
    a = _Hours(hours, shed, _fraction(shed, loads.p[hours]), np.zeros(hours.size))
    islands: dict[bytes, tuple[list[np.ndarray], np.ndarray]] = {}   # island bus mask -> (rows of A, the mask)
    for (_, _, cfg), hrs in zip(segs, out_h, strict=True):
        rows = np.searchsorted(hours, hrs)
        eff = model.effect(cfg)
        cut = np.broadcast_to(eff.label >= 0, (hrs.size, eff.label.size)).copy()
        for mask, rating in eff.restored:
            ok = loads.p[hrs][:, mask].sum(axis=1) <= rating
            cut[np.ix_(ok, mask)] = False
        for c in np.unique(eff.label[eff.label >= 0]):
            part = eff.label == c
            where = cut[:, c]
            if where.any():      # one entry per island over all its hours: a lot in it is simulated once
                islands.setdefault(part.tobytes(), ([], part))[0].append(rows[where])
    _islands(system, hist, loads, a, [(np.unique(np.concatenate(r)), part) for r, part in islands.values()])
    return a


def _fraction(shed: np.ndarray, load: np.ndarray) -> np.ndarray:
    f = np.divide(shed, load, out=np.zeros_like(shed), where=load > 0)
    return np.clip(f, 0.0, 1.0, out=f)


def _islands(system: System, hist: History, loads: YearLoads, a: _Hours,
             islands: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Shed each island's deficit after its local units and lots; one without either is cut off entirely."""
    units = system.units
    local = np.array([k != "external_grid" for k in units.kind], bool)
    for rows, part in islands:
        h = a.hours[rows]
        gen = local & part[units.bus]
        lots = [i for i, f in enumerate(system.lots) if part[f.bus] and f.n_chargers > 0]
        if not gen.any() and not lots:
            a.shed[np.ix_(rows, part)] = loads.p[h][:, part]
            a.frac[np.ix_(rows, part)] = 1.0
            a.branch_kw[rows] += loads.p[h][:, part].sum(axis=1)
            continue
        load = np.where(part[None, :], loads.p_base[h], 0.0)
        margin = loads.avail[np.ix_(gen, h)].sum(axis=0) - load.sum(axis=1)
        for i in lots:
            margin = _lot_in_island(system, hist, loads, i, h, margin, load)
        amount = np.maximum(-margin, 0.0)
        amount[amount < TOL_KW] = 0.0
        cut = greedy_shed(system, load, amount)
        a.shed[np.ix_(rows, part)] = cut[:, part]
        a.frac[np.ix_(rows, part)] = _fraction(cut, load)[:, part]
        a.branch_kw[rows] += cut.sum(axis=1)


def _lot_in_island(system: System, hist: History, loads: YearLoads, i: int, h: np.ndarray, margin: np.ndarray,
                   load: np.ndarray) -> np.ndarray:
    """Lot ``i`` re-simulated over the days of island hours ``h``, seeing the island's margin there (and the
    system's elsewhere); adds its charging to ``load`` and returns the island's margin after it."""
    fleet, draws = system.lots[i], hist.lots[i]
    assert draws is not None
    days = np.unique(h // 24)
    idx = day_hours(days)
    sys_margin = loads.avail[:, idx].sum(axis=0) - system.load_kw[idx]
    pos = np.searchsorted(idx, h)
    sys_margin[pos] = margin
    d = draws.on_days(days)
    fy = simulate_fleet(fleet, d.sessions, d.charger_up, sys_margin, v2g=loads.v2g)
    load[:, fleet.bus] += fy.charging_kw[pos]
    return -fy.need_kw[pos]


def _year_result(system: System, base: YearResult, loads: YearLoads, a: _Hours,
                 unseen_count: np.ndarray | None = None) -> YearResult:
    ens = loads.ens.copy()
    new = a.shed.sum(axis=1)
    new[new < TOL_KW] = 0.0
    ens[a.hours] = new
    lol = ens > 0
    prev = np.zeros_like(a.frac)
    follows = np.flatnonzero(np.diff(a.hours) == 1) + 1
    prev[follows] = a.frac[follows - 1]
    by_bus = base.ens_by_bus_kwh - loads.ens_bus[a.hours].sum(axis=0) + a.shed.sum(axis=0)
    return replace(base, ens_kwh=float(ens.sum()), lol_hours=int(lol.sum()),
                   lol_events=int(lol[0]) + int(np.count_nonzero(lol[1:] & ~lol[:-1])),
                   ens_by_bus_kwh=by_bus, ens_kw=ens, hours=np.arange(system.hours),
                   interruptions_by_bus=np.maximum(a.frac - prev, 0.0).sum(axis=0) + (
                       0.0 if unseen_count is None else unseen_count),
                   interrupted_h_by_bus=a.frac.sum(axis=0), branch_ens_kwh=float(a.branch_kw.sum()),
                   branch_hours=a.hours[a.branch_kw > 0], branch_kw=a.branch_kw[a.branch_kw > 0])
