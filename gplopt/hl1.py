"""Event-based evaluation of copper-plate systems of two-state units (HL-I), many sample years at once.

On one bus with only two-state units (no wind, no substation availability draw, no GPL), the available
capacity is ``total - outaged`` and changes only where a unit fails or is repaired. So instead of building a
(units x hours) array per year, the years' down intervals (:func:`gplopt.sampling.unit_outages`, the same
chronologies as ``sample_year`` draws year by year) are merged into one sorted list of capacity events; the
outaged capacity is constant between events. Only the segments whose outage exceeds ``total`` less the
largest load of their own hours can be short (a range maximum over the load, from a sparse table built once
per load: 35 hours a year are looked at on RTS-79 and 5 on RBTS, against 833 and 72 with the year's peak as
the bound), and only their hours are evaluated, with the same arithmetic as
:func:`gplopt.adequacy.evaluate_year` (``load - available``, shortfalls below ``TOL_KW`` count as none). The
per-hour ENS is therefore the same number; per-year sums may differ from the dense path in the last bits
(summation order).
"""

from __future__ import annotations

import numpy as np

from gplopt.adequacy import TOL_KW, YearResult
from gplopt.copt import daily_peak
from gplopt.sampling import unit_key, unit_outages
from gplopt.system import System

TWO_STATE = ("conventional", "reserve")
_TABLES: list[tuple[np.ndarray, list[np.ndarray]]] = []


def range_max_table(load: np.ndarray) -> list[np.ndarray]:
    """Sparse table of the load laid twice end to end (a segment may run from one year into the next, which
    repeats the load): level k holds the maximum of each 2^k consecutive hours. Kept for the last load seen."""
    if _TABLES and _TABLES[0][0] is load:
        return _TABLES[0][1]
    levels = [np.concatenate([load, load])]
    while 2 ** len(levels) <= load.size:
        prev, half = levels[-1], 2 ** (len(levels) - 1)
        levels.append(np.maximum(prev[:-half], prev[half:]))
    _TABLES[:] = [(load, levels)]
    return levels


def segment_max(load: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """The largest load over hours ``start .. start + length - 1`` (global hours, ``length >= 1``): the
    load's peak for a segment of a year or more."""
    hours = load.size
    levels = range_max_table(load)
    a, n = start % hours, np.minimum(length, hours)
    k = np.frexp(n.astype(float))[1] - 1           # floor(log2 n), exactly: n = m 2^e with m in [0.5, 1)
    out = np.empty(start.size)
    for lv in np.unique(k):
        m = k == lv
        table = levels[lv]
        out[m] = np.maximum(table[a[m]], table[a[m] + n[m] - 2 ** lv])
    return out


def eligible(system: System) -> bool:
    """True when the event-based path gives the dense path's answer: one bus, only two-state units whose
    available power is their capacity while up, and no chargers."""
    units = system.units
    return (system.network.copper_plate and all(k in TWO_STATE for k in units.kind)
            and all(f.n_chargers == 0 for f in system.lots)
            and not system.unit_profile and system.bus_load_kw is None)


def _events(system: System, seed: int, year0: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted global hours (year offset x H + hour) and the outaged capacity from each to the next."""
    u, hours = system.units, system.hours
    times, deltas = [np.array([0, n * hours], np.int64)], [np.zeros(2)]
    for i in range(u.n):
        row, h0, h1 = unit_outages(seed, unit_key(u.ids[i]), year0, n, float(u.mttf_h[i]), float(u.mttr_h[i]),
                                   hours)
        cap = float(u.capacity_kw[i])
        times += [row * hours + h0, row * hours + h1]
        deltas += [np.full(h0.size, cap), np.full(h0.size, -cap)]
    order, t = stable_order(np.concatenate(times))
    return t, np.cumsum(np.concatenate(deltas)[order])


def stable_order(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``argsort(t, kind="stable")`` and ``t`` sorted, for non-negative int64 ``t``: one stable sort of (time,
    index) keys packed in an int64 when they fit (faster than argsort and a gather), else argsort."""
    shift = int(t.size).bit_length()
    if t.size and (int(t.max()) << shift) < 2**62:
        key = (t << shift) | np.arange(t.size)
        key.sort(kind="stable")
        return key & ((1 << shift) - 1), key >> shift
    order = np.argsort(t, kind="stable")
    return order, t[order]


def hl1_years(system: System, seed: int, years: list[int], control: bool = False) -> list[YearResult]:
    """YearResults of ``years`` (any order); consecutive runs of years are drawn in one bulk call each.
    ``control``: also fill each year's ``control`` (:func:`_control`), the same draws under the daily-peak load."""
    out: dict[int, YearResult] = {}
    ys = sorted(set(years))
    start = 0
    for k in range(1, len(ys) + 1):
        if k == len(ys) or ys[k] != ys[k - 1] + 1:
            for r in _run(system, seed, ys[start], k - start, control):
                out[r.year] = r
            start = k
    return [out[y] for y in years]


def _run(system: System, seed: int, year0: int, n: int, control: bool = False) -> list[YearResult]:
    hours, load = system.hours, system.load_kw
    total = float(system.units.capacity_kw.sum())
    t, level = _events(system, seed, year0, n)
    length = np.diff(t)
    seg = np.flatnonzero((length > 0) & (level[:-1] > total - float(load.max()) - 1e-3))
    # the same test with the largest load of each segment's own hours (of the daily-peak load for the control,
    # which is at least the load): the dropped segments have avail > load in every hour, so ENS, loss of load
    # and every sum below are unchanged (they would add exact zeros)
    ref = daily_peak(load) if control else load
    seg = seg[level[seg] > total - segment_max(ref, t[seg], length[seg]) - 1e-3]
    # every hour of the risky segments, in increasing global hour
    lengths = length[seg]
    g = np.repeat(t[seg] - (np.cumsum(lengths) - lengths), lengths) + np.arange(int(lengths.sum()))
    avail = total - np.repeat(level[seg], lengths)
    year, h = np.divmod(g, hours)
    short = -(avail - load[h])                   # as adequacy: shortfall = -(supply - load)
    ens = np.maximum(short, 0.0)
    ens[ens < TOL_KW] = 0.0
    lol = ens > 0
    gl = g[lol]
    starts = (gl % hours == 0) | (np.diff(gl, prepend=-2) != 1)
    ens_y = np.bincount(year, ens, minlength=n)
    bus_y = np.bincount(year, np.maximum(short, 0.0), minlength=n)   # as adequacy's ENS by bus (not zeroed)
    lol_y = np.bincount(year[lol], minlength=n)
    ev_y = np.bincount(year[lol][starts], minlength=n)
    peak = np.zeros(n)
    np.maximum.at(peak, year, short)
    hod = year * 24 + h % 24
    ens_hod = np.bincount(hod, ens, minlength=n * 24).reshape(n, 24)
    lol_hod = np.bincount(hod, lol.astype(float), minlength=n * 24).reshape(n, 24)
    e, ei, eb, e2 = np.zeros(0), np.zeros(0, int), np.zeros(0, bool), np.zeros((0, 0))   # shared: all empty
    ctl = _control(load, avail, year, h, n) if control else np.zeros((n, 0))
    rows = zip(ens_y.tolist(), lol_y.tolist(), ev_y.tolist(), bus_y.reshape(n, 1), peak.tolist(), ens_hod, lol_hod,
               ctl, strict=True)      # Python numbers and row views, made once for the batch (the same values)
    return [YearResult(year=year0 + k, ens_kwh=ens, lol_hours=lol, lol_events=ev, ens_by_bus_kwh=bus, v2g_kwh=0.0,
                       load_reduction_kwh=0.0, deferred_kwh=0.0, charging_kwh=0.0, hours_screened=0,
                       hours_certified=0, opf_solves=0, opf_failed=0, peak_shortfall_kw=pk, min_soc_seen=float("nan"),
                       ens_kw=e, failed_hours=[], hours=ei, short_days=ei, normal=eb, gpl_bus_load_kw=e,
                       charging_kw=e, v2g_kw=e, ens_by_bus_kw=e2, ens_by_hour_of_day_kwh=eh, lol_by_hour_of_day=lh,
                       control=c, v2g_kwh_by_lot=e, interruptions_by_bus=e, interrupted_h_by_bus=e,
                       branch_hours=ei, branch_kw=e, shortfall_kw=e, by_cause=e2)
            for k, (ens, lol, ev, bus, pk, eh, lh, c) in enumerate(rows)]


def _control(load: np.ndarray, avail: np.ndarray, year: np.ndarray, h: np.ndarray, n: int) -> np.ndarray:
    """(n, 2) per year: ENS (kWh) and loss-of-load hours of the same availability under the daily-peak load,
    with the same arithmetic as the year's own. The risky hours cover every hour this load can be short in (its
    peak is the load's peak), so no other hour is needed."""
    ens = np.maximum(daily_peak(load)[h] - avail, 0.0)
    ens[ens < TOL_KW] = 0.0
    return np.stack([np.bincount(year, ens, minlength=n), np.bincount(year[ens > 0], minlength=n)], axis=1)
