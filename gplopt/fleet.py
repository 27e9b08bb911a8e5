"""The GPL through a sample year: charging load, load reduction and energy-limited V2G, per PEV.

All PEVs leave by midnight, so days are independent: the year is simulated as 24 steps (hours of the day),
each vectorized over every day and every session. Within a step, per day:

1. Each present PEV on a working charger wants to charge toward the SoC threshold (eqs. 4-8, 4-9, 6-3):
   ``min(p_charge x present fraction, (threshold - soc) E / eta)`` from the grid.
2. The copper-plate need is ``base load - supply + charging``. If positive (a deficit hour), flexible charging
   is curtailed first: the recharge of V2G participants that discharged earlier (deferred, unpaid), then the
   charging of owners willing to reduce load (demand response, paid at the incentive price).
3. If a need remains, V2G discharges (eqs. 4-5..4-10): PEVs that have reached the threshold this session
   (``v2g_eligibility`` 'after_target'; under 'while_charging' also those still charging toward it, whose
   charging step 2 has then cut in full), whose owner is willing and whose charger works, while the operator
   dispatches V2G. Each gives at most
   ``min(p_discharge x present fraction, (soc - v2g_min_soc) E eta)``; the need is shared in proportion.
4. SoC moves by charged energy x eta and discharged energy / eta; after an event, PEVs recharge toward the
   threshold before departure (step 1 of later hours), which is load.

Willingness: one uniform per session; V2G participant if ``u < rate_v2g``, load reducer if ``u < rate_lr``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gplopt.sampling import Sessions
from gplopt.system import Fleet

EPS = 1e-9


@dataclass(frozen=True)
class FleetYear:
    """Hourly (H,) results of the GPL in one year, kW (= kWh per hour)."""
    charging_kw: np.ndarray        # charging load actually drawn (after curtailment)
    v2g_kw: np.ndarray             # V2G discharge delivered to the grid
    load_reduction_kw: np.ndarray  # paid curtailment of willing owners' charging
    deferred_kw: np.ndarray        # deferred recharge of V2G participants (unpaid)
    need_kw: np.ndarray            # copper-plate shortfall after the GPL (> 0 = deficit)
    min_soc_seen: float            # lowest SoC of any participating PEV after a V2G hour (for checks)


def _overlap(t0: np.ndarray, t1: np.ndarray, h: int) -> np.ndarray:
    """Fraction of hour [h, h+1) inside [t0, t1]."""
    x = np.minimum(t1, h + 1.0)
    x -= np.maximum(t0, h)
    return np.minimum(np.maximum(x, 0.0, out=x), 1.0, out=x)     # clip to [0, 1] (np.clip's own overhead)


BLOCK_SESSIONS = 1 << 17   # sessions per block of days (1 MB per float array; a 300-charger year is one block)


def simulate_fleet(fleet: Fleet, sessions: Sessions, charger_up: np.ndarray, margin_kw: np.ndarray,
                   *, v2g: bool = True) -> FleetYear:
    """``margin_kw``: (H,) supply minus regular load, without the GPL.

    Steps 2-3 only act on the days whose need is positive in the hour ("tight" days): elsewhere nothing is
    curtailed and nothing discharged, so charging is the wish and the SoC moves by it alone (the same numbers
    as running every step on every day, computed on the tight rows only).

    Days are independent (every PEV leaves by midnight) and every operation acts on one day's row (its sums
    run along the row), so the year is simulated in blocks of whole days of about ``BLOCK_SESSIONS`` sessions:
    the same numbers for any block size, with each hour's arrays small enough to stay in cache however many
    chargers the lot has."""
    days = sessions.arrival.shape[0]
    hours = margin_kw.size
    margin = margin_kw[: days * 24].reshape(days, 24)
    step = max(1, BLOCK_SESSIONS // max(1, sessions.arrival.shape[1]))
    out = {k: np.zeros((days, 24)) for k in ("ch", "v2g", "lr", "def", "need")}
    min_soc = np.inf
    for d0 in range(0, days, step):
        b = slice(d0, min(days, d0 + step))
        part = Sessions(arrival=sessions.arrival[b], departure=sessions.departure[b], soc_ini=sessions.soc_ini[b],
                        willingness=sessions.willingness[b], charger=sessions.charger)
        min_soc = min(min_soc, _simulate_days(fleet, part, charger_up[b], margin[b], v2g, {k: v[b] for k, v in
                                                                                             out.items()}))
    flat = {k: np.concatenate([v.reshape(-1), np.zeros(hours - days * 24)]) for k, v in out.items()}
    if hours > days * 24:
        flat["need"][days * 24:] = -margin_kw[days * 24:]
    return FleetYear(charging_kw=flat["ch"], v2g_kw=flat["v2g"], load_reduction_kw=flat["lr"],
                     deferred_kw=flat["def"], need_kw=flat["need"],
                     min_soc_seen=min_soc if np.isfinite(min_soc) else float("nan"))


def _simulate_days(fleet: Fleet, sessions: Sessions, charger_up: np.ndarray, margin: np.ndarray, v2g: bool,
                   out: dict[str, np.ndarray]) -> float:
    """The 24 hours of a block of days (rows of ``sessions``, ``charger_up`` and ``margin``), written into the
    block's (days, 24) views ``out``; returns the lowest SoC after a V2G hour (inf if none)."""
    e_kwh, eta = fleet.battery_kwh, fleet.eta
    target = fleet.soc_threshold
    soc = sessions.soc_ini.copy()
    reached = soc >= target - EPS
    v2g_ok = sessions.willingness < fleet.rate_v2g
    if not (v2g and fleet.v2g_dispatched):
        v2g_ok = np.zeros_like(v2g_ok)
    lr_ok = sessions.willingness < fleet.rate_lr
    pre = v2g_ok if fleet.v2g_while_charging else None   # None: nobody discharges before the threshold
    min_soc = np.inf
    identity = np.array_equal(sessions.charger, np.arange(sessions.charger.size))
    arr, dep = sessions.arrival.reshape(-1), sessions.departure.reshape(-1)
    soc_f, reached_f = soc.reshape(-1), reached.reshape(-1)   # views: updates reach ``soc``, ``reached``
    want = np.zeros_like(soc)
    # present in hour h (overlap > 0: arr < h + 1 and dep > h) <=> first <= h <= last, in small integers
    first, last = np.floor(arr).astype(np.int8), (np.ceil(dep) - 1.0).astype(np.int8)
    for h in range(24):
        here = (first <= h) & (last >= h)
        if not here.any():
            out["need"][:, h] = -margin[:, h]
            continue
        up_h = charger_up[:, h, :] if identity else charger_up[:, h, sessions.charger]
        # only PEVs present and below the threshold wish to charge; every other wish is exactly 0
        c = np.flatnonzero(here & (soc_f < target))
        want.fill(0.0)
        want_f = want.reshape(-1)
        soc_c = soc_f[c]                        # < target, so target - soc_c > 0
        want_c = np.minimum(fleet.charge_kw * (_overlap(arr[c], dep[c], h) * up_h.reshape(-1)[c]),
                            (target - soc_c) * e_kwh / eta)
        want_f[c] = want_c
        want_sum = want.sum(axis=1)
        need = want_sum - margin[:, h]
        rows = np.flatnonzero(need > 0)
        soc_rows, reached_rows = soc[rows], reached[rows]
        soc_c += (want_c * eta) / e_kwh         # no discharge: charging is the wish
        soc_f[c] = soc_c
        reached_f[c[soc_c >= target - EPS]] = True
        out["ch"][:, h] = want_sum
        if rows.size:
            working = _overlap(sessions.arrival[rows], sessions.departure[rows], h) * up_h[rows]
            t = _Tight(want[rows], working, soc_rows, reached_rows & v2g_ok[rows], lr_ok[rows], need[rows],
                       None if pre is None else pre[rows])
            charge, dis, give, cut_def, cut_lr, need[rows] = _dispatch(fleet, t)
            soc_new = soc_rows + (charge * eta - dis / eta) / e_kwh
            soc[rows] = soc_new
            reached[rows] = reached_rows | (soc_new >= target - EPS)
            out["ch"][rows, h] = charge.sum(axis=1)
            out["v2g"][rows, h], out["lr"][rows, h], out["def"][rows, h] = give, cut_lr, cut_def
            if give.any():
                min_soc = min(min_soc, float(soc_new[dis > 0].min()))
        out["need"][:, h] = need
    return min_soc


@dataclass(frozen=True)
class _Tight:
    """The rows (days) of one hour whose need is positive."""
    want: np.ndarray
    working: np.ndarray
    soc: np.ndarray
    v2g: np.ndarray                # reached the threshold and willing (and V2G dispatched)
    lr_ok: np.ndarray
    need: np.ndarray
    pre: np.ndarray | None         # may discharge before the threshold: willing and dispatched under
                                   # v2g_eligibility 'while_charging'; None (nobody) under 'after_target'


def _dispatch(fleet: Fleet, t: _Tight) -> tuple[np.ndarray, ...]:
    """Steps 2-3 on the tight rows: (charge, discharge per PEV, V2G, load reduction, deferred, need left).

    A term whose amount is 0 on every row is skipped (it would subtract exact zeros), and so is V2G when no
    need is left: the same numbers, fewer passes over the rows."""
    floor = fleet.v2g_min_soc
    deferrable = t.want * t.v2g                      # recharge after V2G
    early = t.v2g if t.pre is None else t.v2g | t.pre     # may discharge now
    reducible = t.want * (~t.v2g & (t.lr_ok if t.pre is None else t.lr_ok | t.pre))   # willing owners' charging
    need = t.need
    def_sum, lr_sum = deferrable.sum(axis=1), reducible.sum(axis=1)
    cut_def = _clip0(need, def_sum)
    need = need - cut_def
    cut_lr = _clip0(need, lr_sum)
    need = need - cut_lr
    charge = t.want
    if cut_def.any():
        charge = charge - deferrable * _share(cut_def, def_sum)
    if cut_lr.any():
        charge = charge - reducible * _share(cut_lr, lr_sum)
    if not (need > 0).any():
        return charge, np.zeros_like(charge), np.zeros_like(need), cut_def, cut_lr, need
    can = t.working * (early & (t.soc > floor + EPS))
    avail = np.minimum(fleet.discharge_kw * can, np.maximum(t.soc - floor, 0.0) * fleet.battery_kwh * fleet.eta)
    avail_sum = avail.sum(axis=1)
    give = _clip0(need, avail_sum)
    need = need - give
    return charge, avail * _share(give, avail_sum), give, cut_def, cut_lr, need


def _clip0(x: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``np.clip(x, 0, hi)`` for ``hi >= 0`` without np.clip's Python overhead (the same numbers)."""
    return np.minimum(np.maximum(x, 0.0), hi)


def _share(amount: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Per-element fraction taken when ``amount`` (per day) is shared in proportion to parts summing (per day)
    to ``total``."""
    frac = np.divide(amount, total, out=np.zeros_like(amount), where=total > EPS)
    return frac[:, None]


def charging_time_h(fleet: Fleet, soc_ini: float) -> float:
    """Eq. 4-9: hours to charge from ``soc_ini`` to the threshold at rated power."""
    return max(fleet.soc_threshold - soc_ini, 0.0) * fleet.battery_kwh / (fleet.charge_kw * fleet.eta)


def combine_fleet_years(fys: list[FleetYear]) -> FleetYear | None:
    """All lots' hourly results summed (the last lot's need is the need after every lot); one lot is returned
    unchanged, none gives None."""
    if len(fys) <= 1:
        return fys[0] if fys else None
    mins = [f.min_soc_seen for f in fys if np.isfinite(f.min_soc_seen)]

    def total(name: str) -> np.ndarray:
        return np.sum([getattr(f, name) for f in fys], axis=0)

    return FleetYear(charging_kw=total("charging_kw"), v2g_kw=total("v2g_kw"),
                     load_reduction_kw=total("load_reduction_kw"), deferred_kw=total("deferred_kw"),
                     need_kw=fys[-1].need_kw,
                     min_soc_seen=min(mins) if mins else float("nan"))
