"""EENS, LOLE and V2G energy of a sample year split by cause: ``by_cause`` (docs/method.md section 11).

Within every hour with ENS > 0 the hour's ENS is cut into parts that sum to it exactly:

0. ``branch_outage``: the ENS at buses cut off from the substation by branch outages (their islands' shed,
   :mod:`gplopt.distribution`; 0 without failing branches). The rest ``E`` of the hour's ENS (at the buses
   still connected, the intact network's ENS there) is split by 1 and 2.
1. ``network_limit``: ENS beyond the copper-plate deficit, ``E - min(E, max(0, D))`` with ``D`` the hour's
   copper-plate shortfall after the lots (:func:`network_split` holds both network causes).
2. The copper-plate part ``c = min(E, max(0, D))`` by counterfactual increments in the fixed order of
   ``CHAIN``. ``charger_outage`` first: ``D'`` is the shortfall of the same hour when no charger ever fails
   (the lots re-simulated on the short days that had a charger down; days are independent), and the part is
   ``c - min(c, max(0, D'))``. Then every source is restored to its rating in turn, each removing its gap
   ``g`` from what is left: ``upstream_outage`` (the external grid down: its whole rating), ``upstream_derating``
   (the external grid up below its rating, e.g. the U(0.8, 1.0) draw), ``local_generation`` (local units out,
   or short of their rating: wind, profiles). What remains with every source at its rating is
   ``load_above_capacity`` (load and charging above every source's rating together).

Every part is >= 0 and the parts of an hour sum to its ENS (up to floating-point rounding). A loss-of-load hour
goes to the cause with the largest part, ties to the one listed first in ``CAUSES``. V2G energy goes to the
cause of the hour it was delivered in, and to ``no_shortfall`` in hours that shed nothing (V2G covered the
deficit), so the V2G entries sum to the V2G total.

A new cause slots in by adding its name to ``CAUSES`` and its part to :func:`network_split` (a network cause,
as ``branch_outage`` does) or a gap to :func:`supply_gaps` (a copper-plate cause, in ``CHAIN``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gplopt.adequacy import YearResult, day_hours, evaluate_year, lots_year
from gplopt.certificate import TOL_KW
from gplopt.metrics import MeanEstimate
from gplopt.sampling import History, LotDraws, Sessions, sample_year
from gplopt.system import Fleet, System, system_bus_loads

CHAIN = ("charger_outage", "upstream_outage", "upstream_derating", "local_generation", "load_above_capacity")
NETWORK = ("network_limit", "branch_outage")
CAUSES = CHAIN + NETWORK            # the tie order of LOLE and V2G hours
ENTRIES = CAUSES + ("no_shortfall",)   # no_shortfall: V2G in hours that shed nothing (its EENS, LOLE are 0)
METRICS = ("eens_kwh_per_year", "lole_h_per_year", "v2g_kwh_per_year")


def supply_gaps(system: System, hist: History, idx: np.ndarray) -> np.ndarray:
    """(3, len(idx)) kW missing from each source's rating in hours ``idx``, in ``CHAIN`` order after
    charger_outage: external grid down, external grid up below its rating, local units out or short."""
    u = system.units
    cap = u.capacity_kw[:, None]
    up = hist.unit_up[:, idx]
    short = cap - hist.unit_avail_kw[:, idx]
    grid = np.array([k == "external_grid" for k in u.kind], bool)
    return np.array([(cap * ~up)[grid].sum(axis=0), (short * up)[grid].sum(axis=0), short[~grid].sum(axis=0)])


def network_split(excess: np.ndarray, branch: np.ndarray) -> np.ndarray:
    """(len(NETWORK), n) the network causes' parts: ``excess``, the connected buses' ENS beyond the copper-plate
    deficit, is ``network_limit`` (branch ratings, voltages, an island's reactive limits); ``branch``, the ENS
    at buses cut off by branch outages, is ``branch_outage``."""
    return np.vstack([excess, branch])


def branch_part(r: YearResult, idx: np.ndarray) -> np.ndarray:
    """(len(idx),) ENS at buses cut off by branch outages in hours ``idx`` (hours with ENS), at most the hour's
    ENS (zeros on a year without branch outages)."""
    out = np.zeros(idx.size)
    if r.branch_hours.size and idx.size:
        pos = np.minimum(np.searchsorted(idx, r.branch_hours), idx.size - 1)
        hit = idx[pos] == r.branch_hours
        out[pos[hit]] = r.branch_kw[hit]
    return np.minimum(out, r.ens_kw[idx])


def willing_chargers(fleet: Fleet, d: LotDraws, days: np.ndarray, v2g: bool) -> np.ndarray:
    """(len(days), chargers) True where the charger serves a V2G participant that day (V2G dispatched)."""
    n = d.charger_up.shape[2]
    if not (v2g and fleet.v2g_dispatched) or n == 0 or days.size == 0:
        return np.zeros((days.size, n), bool)
    w = d.sessions.willingness[days] < fleet.rate_v2g
    return np.asarray(w.reshape(days.size, n, -1).any(axis=2))


_ALL_UP = np.uint64(0x0101010101010101)   # eight True bytes


def _down(charger_up: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(position in ``days``, hour, charger) of every charger-hour down on ``days``: whole days are compared
    eight charger-hours at a time, and only the words with a charger down are unpacked."""
    n_days, _, n = charger_up.shape
    flat = charger_up.reshape(n_days, -1)
    if flat.shape[1] % 8 or not flat.flags.c_contiguous:
        k, h, c = np.nonzero(~charger_up[days])
        return k, h, c
    k, w = np.nonzero(flat.view(np.uint64)[days] != _ALL_UP)
    cols = (w * 8)[:, None] + np.arange(8)[None, :]
    r, b = np.nonzero(~flat[days[k][:, None], cols])
    j = cols[r, b]
    return k[r], j // n, j % n


def outage_matters(d: LotDraws, willing: np.ndarray, days: np.ndarray, last: np.ndarray) -> np.ndarray:
    """(len(days),) True where a V2G participant's charger was down in an hour, up to the day's last ENS hour
    ``last``, while its PEV was present. Elsewhere the counterfactual gives the actual numbers up to ``last``
    (the GPL simulation is causal and a charger's state reaches only its own PEVs)."""
    out = np.zeros(days.size, bool)
    k, h, c = _down(d.charger_up, days)
    keep = (h <= last[k]) & willing[k, c]
    k, h, c = k[keep], h[keep], c[keep]
    if k.size == 0:
        return out
    s = d.sessions
    spd = s.charger.size // d.charger_up.shape[2]
    cols = (c * spd)[:, None] + np.arange(spd)[None, :]       # session columns of charger c (charger-major)
    rows = days[k][:, None]
    present = (s.arrival[rows, cols] < h[:, None] + 1.0) & (s.departure[rows, cols] > h[:, None])
    out[k[present.any(axis=1)]] = True
    return out


@dataclass
class Plan:
    """One year's split, before its counterfactual: hours with ENS, their copper-plate part, the supply gaps,
    and the no-failure draws of the days to re-simulate (small: the re-simulation runs for many years at once)."""
    result: YearResult
    idx: np.ndarray                # hours with ENS > 0
    ens: np.ndarray                # their ENS
    cp: np.ndarray                 # copper-plate part of their ENS (outside buses cut off by branch outages)
    shortfall: np.ndarray          # D of those hours (replaced by D' on re-simulated days)
    gaps: np.ndarray               # (3, len(idx)) supply_gaps
    v2g_kw: np.ndarray             # V2G delivered in those hours
    v2g_rest_kwh: float            # V2G delivered in hours that shed nothing
    days: np.ndarray               # days to re-simulate without V2G participants' charger failures
    draws: tuple[LotDraws | None, ...]   # the lots' counterfactual draws on ``days``
    margin: np.ndarray             # (24 len(days),) supply minus load of those hours
    branch: np.ndarray             # ENS of the hours at buses cut off by branch outages (branch_outage)


def plan_causes(system: System, hist: History, r: YearResult, *, v2g: bool) -> Plan:
    """Everything of the year the split needs (``hist`` may be dropped afterwards)."""
    ens = r.ens_kw
    v2g_kw = r.v2g_kw.sum(axis=1) if r.v2g_kw.ndim == 2 else np.zeros(ens.size)
    idx = np.flatnonzero(ens > 0)
    shortfall = r.shortfall_kw[idx]
    days, first = np.unique(idx // 24, return_index=True)
    last = np.append(idx[first[1:] - 1], idx[-1:]) % 24      # the last ENS hour of each day
    hit = np.zeros(days.size, bool)
    willing: list[np.ndarray | None] = []
    for f, d in zip(system.lots, hist.lots, strict=True):
        w = None if d is None else willing_chargers(f, d, days, v2g)
        if d is not None and w is not None:
            hit |= outage_matters(d, w, days, last)
        willing.append(w)
    draws = tuple(None if d is None or w is None else LotDraws(d.charger_up[days[hit]] | w[hit][:, None, :],
                                                               d.on_days(days[hit]).sessions)
                  for d, w in zip(hist.lots, willing, strict=True))
    hours = day_hours(days[hit])
    branch = branch_part(r, idx)
    rest = ens[idx] - branch
    return Plan(result=r, idx=idx, ens=ens[idx], cp=np.minimum(rest, np.maximum(_snap(rest, shortfall), 0.0)),
                shortfall=shortfall, gaps=supply_gaps(system, hist, idx), v2g_kw=v2g_kw[idx],
                v2g_rest_kwh=float(v2g_kw[ens <= 0].sum()), days=days[hit], draws=draws,
                margin=hist.unit_avail_kw[:, hours].sum(axis=0) - system.load_kw[hours], branch=branch)


def no_failure_shortfall(system: System, plans: list[Plan], *, v2g: bool) -> None:
    """Re-simulate the lots on every plan's days at once (days are independent, each day's numbers are its
    own whatever other days run beside it) and put the counterfactual D' into each plan's ``shortfall``."""
    todo = [p for p in plans if p.days.size]
    if not todo:
        return
    lots = []
    for k in range(len(system.lots)):
        ds = [p.draws[k] for p in todo]
        got = [d for d in ds if d is not None]
        lots.append(None if len(got) < len(ds) else LotDraws(
            np.concatenate([d.charger_up for d in got]),
            Sessions(**{f: np.concatenate([getattr(d.sessions, f) for d in got])
                        for f in ("arrival", "departure", "soc_ini", "willingness")},
                     charger=got[0].sessions.charger)))
    hours = np.concatenate([day_hours(p.days) for p in todo])
    p_load, _ = system_bus_loads(system, hours)
    stub = History(year=-1, unit_up=np.zeros((0, 0), bool), unit_avail_kw=np.zeros((0, 0)), lots=tuple(lots))
    nf = lots_year(system, stub, np.concatenate([p.margin for p in todo]), p_load, v2g=v2g, days=None)[1]
    at = 0
    for p in todo:
        n = 24 * p.days.size
        inside = np.isin(p.idx // 24, p.days)
        p.shortfall[inside] = nf[at:at + n][np.searchsorted(day_hours(p.days), p.idx[inside])]
        at += n


def _snap(ens: np.ndarray, shortfall: np.ndarray) -> np.ndarray:
    """The shortfall, taken as the ENS itself where they agree within the engine's 1e-6 kW (the network stages
    reproduce the copper-plate shed to rounding; a 1e-11 kW 'network' part would be noise)."""
    return np.where(np.abs(ens - shortfall) <= TOL_KW, ens, shortfall)


def hour_parts(p: Plan) -> np.ndarray:
    """(len(CAUSES), len(p.idx)) parts of the ENS of the hours with ENS (module docstring); columns sum to
    their ENS."""
    d = _snap(p.ens - p.branch, p.shortfall)
    level = [p.cp, np.minimum(p.cp, np.maximum(d, 0.0))]
    cum = np.cumsum(p.gaps, axis=0)
    level += list(np.minimum(level[1][None, :], np.maximum(d[None, :] - cum, 0.0)))
    chain = [level[k] - level[k + 1] for k in range(len(level) - 1)] + [level[-1]]
    return np.vstack(chain + list(network_split(p.ens - p.branch - p.cp, p.branch)))


def finish_causes(system: System, plans: list[Plan], *, v2g: bool) -> None:
    """Set ``by_cause`` (3, len(ENTRIES)) of every plan's year: ENS (kWh), loss-of-load hours, V2G (kWh)."""
    no_failure_shortfall(system, plans, v2g=v2g)
    for p in plans:
        out = np.zeros((3, len(ENTRIES)))
        out[2, -1] = p.v2g_rest_kwh
        if p.idx.size:
            parts = hour_parts(p)
            top = parts.argmax(axis=0)                      # ties: the first in CAUSES
            out[0, :-1] = parts.sum(axis=1)
            out[1, :-1] = np.bincount(top, minlength=len(CAUSES))
            out[2, :-1] = np.bincount(top, p.v2g_kw, minlength=len(CAUSES))
        p.result.by_cause = out


def year_causes(system: System, hist: History, r: YearResult, *, v2g: bool) -> np.ndarray:
    """``by_cause`` of one year (plan and finish)."""
    finish_causes(system, [plan_causes(system, hist, r, v2g=v2g)], v2g=v2g)
    return r.by_cause


def hl1_causes(system: System, seed: int, results: list[YearResult]) -> None:
    """Fill ``by_cause`` of the event-based HL-I path's years (two-state local units on one bus, no chargers,
    no hourly detail): all ENS is local_generation when the load never exceeds the units' total rating;
    otherwise the years are re-evaluated hour by hour (the same numbers, :mod:`gplopt.hl1`)."""
    k = ENTRIES.index("local_generation")
    dense = float(system.load_kw.max()) > float(system.units.capacity_kw.sum())
    for r in results:
        if dense:
            full = evaluate_year(system, sample_year(system, seed, r.year), None)
            r.by_cause = year_causes(system, sample_year(system, seed, r.year), full, v2g=False)
        else:
            r.by_cause = np.zeros((3, len(ENTRIES)))
            r.by_cause[:2, k] = r.ens_kwh, r.lol_hours


def cause_estimates(per_year: list[YearResult]) -> dict[str, dict[str, MeanEstimate]] | None:
    """Mean and standard error of every entry's metrics over the years; None if a year has no split
    (e.g. read back from a journal written before ``by_cause`` existed)."""
    if not per_year or any(r.by_cause.shape != (3, len(ENTRIES)) for r in per_year):
        return None
    a = np.array([r.by_cause for r in per_year])
    return {c: {m: MeanEstimate.of(a[:, i, j]) for i, m in enumerate(METRICS)} for j, c in enumerate(ENTRIES)}


def causes_to_dict(est: dict[str, dict[str, MeanEstimate]] | None) -> dict[str, Any]:
    if est is None:
        return {"by_cause": None, "by_cause_null_reason": "some sample years carry no split by cause (read "
                "back from a journal written before by_cause existed)"}
    return {"by_cause": {c: {m: e.to_dict() for m, e in ms.items()} for c, ms in est.items()}}


def paired_reduction(without: list[YearResult], with_: list[YearResult]) -> list[dict[str, Any]]:
    """Per cause, on the same sample years without and with V2G (paired): EENS of each, the reduction
    (mean ± s.e. of the per-year differences), the reduction as a share of that cause's EENS without V2G (the
    like-for-like denominator), LOLE of each, and V2G energy. Empty if a year carries no split."""
    if cause_estimates(without) is None or cause_estimates(with_) is None:
        return []
    if [r.year for r in without] != [r.year for r in with_]:
        raise ValueError("paired_reduction needs the same sample years on both sides")
    a = np.array([r.by_cause for r in without])
    b = np.array([r.by_cause for r in with_])
    rows = []
    for j, c in enumerate(ENTRIES):
        e0, e1, d = MeanEstimate.of(a[:, 0, j]), MeanEstimate.of(b[:, 0, j]), MeanEstimate.of(a[:, 0, j] - b[:, 0, j])
        rows.append({"cause": c, "eens_no_v2g_kwh": e0.mean, "eens_no_v2g_se": e0.stderr, "eens_v2g_kwh": e1.mean,
                     "eens_v2g_se": e1.stderr, "reduction_kwh": d.mean, "reduction_se": d.stderr,
                     "reduction_pct_of_cause": 100 * d.mean / e0.mean if e0.mean > 0 else None,
                     "lole_no_v2g_h": float(a[:, 1, j].mean()), "lole_v2g_h": float(b[:, 1, j].mean()),
                     "v2g_kwh": float(b[:, 2, j].mean())})
    return rows
