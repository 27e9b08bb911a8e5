"""A cheap sufficient condition for the LinDistFlow certificate on hours that shed nothing.

An hour with no copper-plate shortfall (``D <= 0``), the substation up and the root as voltage reference sheds
nothing at the certificate's point (:func:`gplopt.certificate.certificate`): every bus is served in full, every
local unit injects its available power, each lot its scheduled V2G, and the substation balances and supplies
the reactive power. The point passes when the substation's active power is within its limit, the reactive need
within its capability, and the LinDistFlow voltages and branch flows within limits. Those are linear in the
bus loads ``L`` and the local injections ``G``, so each hour is described by a few *features*:

- ``lam = min_k L_k / s_k`` over the buses with a load share ``s_k > 0`` that hold no lot, so that
  ``L = lam s + r`` with ``r_k >= 0`` on every bus without a lot (checked on the buses without a share);
- ``r`` at each lot's bus (its charging, exactly), and ``rho``, the sum of ``r`` over the other buses;
- ``G``: each local unit's available power and each lot's V2G, exactly.

Every voltage-drop and branch-flow constraint is then bounded above by a linear form in the features (exact in
``lam``, the lots and ``G``; the ``rho`` part at its worst placement). A year's forms that cannot bind anywhere
in the year's feature box are dropped; the few left are evaluated per hour, a product of (hours x features) by
(features x forms) instead of the certificate's (hours x buses) by (buses x buses) products. An hour that fails
a form is not rejected: it goes to the certificate as before. Forms keep a relative margin ``MARGIN`` so
rounding can never admit an hour the certificate refuses (tests/test_cert_bound.py checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gplopt.network.powerflow import OCTAGON, shunt_load_pu, subtree_matrix
from gplopt.system import System

if TYPE_CHECKING:
    from gplopt.adequacy import HourInputs, HourLimits

MARGIN = 1e-6


@dataclass(frozen=True)
class Forms:
    """``coef`` (F, K) and ``limit`` (K,): an hour is safe when ``features @ coef <= limit`` in every form."""
    coef: np.ndarray
    limit: np.ndarray
    share_cols: np.ndarray         # buses defining ``lam`` (share > 0, no lot)
    inv_share: np.ndarray          # 1 / share on those buses
    zero_cols: np.ndarray          # other buses without a share (their load is their residual)
    sums: np.ndarray               # (B, 2 + lot buses): total load, reactive need, each lot bus's load
    share: np.ndarray              # (B,) load shares
    other: np.ndarray              # (B,) bool: buses whose residual is bounded through ``rho``
    load_bus: np.ndarray           # lots' buses, each once (their residual is a feature)
    lot_bus: np.ndarray            # (L,) each lot's bus (its V2G is a feature)
    local: np.ndarray              # (U',) local (non-grid) units
    grid: int


def forms(system: System) -> Forms | None:
    """The linear forms of ``system``, or None when its signs or layout do not allow them (no hour skipped)."""
    net, units = system.network, system.units
    grid = [i for i in range(units.n) if units.kind[i] == "external_grid"]
    if net.copper_plate or len(grid) != 1 or int(units.bus[grid[0]]) != net.root:
        return None
    if (net.r_pu < 0).any() or (net.x_pu < 0).any() or (net.q_over_p < 0).any() or (net.p_share < 0).any():
        return None
    nb, qp = net.n_bus, net.q_over_p
    lot_bus = np.array([f.bus for f in system.lots], int)
    load_bus = np.unique(lot_bus)
    local = np.array([i for i in range(units.n) if i != grid[0]], int)
    t = subtree_matrix(net)
    r, x = net.r_pu.copy(), net.x_pu.copy()
    r[net.root] = x[net.root] = 0.0                     # the root has no feeding branch
    a = 2.0 * (t * r[None, :]) @ t.T                    # a[k, j]: drop at j per pu of net active load at k
    ax = 2.0 * (t * x[None, :]) @ t.T                   # ... per pu of net reactive load at k
    c = a + qp[:, None] * ax                            # ... per pu of load at k (its reactive part included)
    other = net.p_share >= 0
    other[load_bus] = False
    cols = np.flatnonzero(other & (net.p_share > 0))
    rated = np.flatnonzero(np.isfinite(net.rating_pu) & (np.arange(nb) != net.root))
    tr, otr = t[:, rated], t[other][:, rated]
    # feature rows: lam, lots' residual, rho, local units, lots' V2G; columns: P and Q of rated branches, drop
    load_rows = [net.p_share, *(np.eye(nb)[b] for b in load_bus)]
    p_rows = [v @ tr for v in load_rows] + [otr.max(axis=0, initial=0.0)] + [-tr[b] for b in units.bus[local]]
    p_rows += [-tr[b] for b in lot_bus]
    q_rows = [(v * qp) @ tr for v in load_rows] + [(otr * qp[other][:, None]).max(axis=0, initial=0.0)]
    q_rows += [np.zeros(rated.size)] * (local.size + lot_bus.size)
    d_rows = [v @ c for v in load_rows] + [c[other].max(axis=0, initial=0.0)] + [-a[b] for b in units.bus[local]]
    d_rows += [-a[b] for b in lot_bus]
    p_m, q_m, d_m = (np.array(m) / net.base_kva for m in (p_rows, q_rows, d_rows))
    unc = np.zeros(len(p_rows), bool)
    unc[1 + load_bus.size] = True                       # the rho row: only an upper bound (residuals >= 0)
    g_sh, b_sh = shunt_load_pu(net)
    s_drop = g_sh @ a + b_sh @ ax                      # the shunts' constant part of the drop
    p_sh, q_sh = g_sh @ tr, b_sh @ tr
    coef, limit = [], []
    s = net.rating_pu[rated] * OCTAGON
    for sp, sq, lim in ((1, 0, s), (-1, 0, s), (0, 1, s), (0, -1, s), (1, 1, np.sqrt(2) * s),
                        (1, -1, np.sqrt(2) * s), (-1, 1, np.sqrt(2) * s), (-1, -1, np.sqrt(2) * s)):
        m = sp * p_m + sq * q_m
        m[unc] = max(sp, 0) * p_m[unc] + max(sq, 0) * q_m[unc]
        coef.append(m)
        limit.append(lim - sp * p_sh - sq * q_sh)
    low_m, up_m = d_m.copy(), -d_m
    up_m[unc] = 0.0
    coef += [low_m, up_m]
    limit += [net.v_ref**2 - net.vmin**2 - s_drop, net.vmax**2 - net.v_ref**2 + s_drop]
    return Forms(coef=np.concatenate(coef, axis=1), limit=np.concatenate(limit) * (1.0 - MARGIN) - 1e-12,
                 share_cols=cols, inv_share=1.0 / net.p_share[cols],
                 zero_cols=np.flatnonzero(other & (net.p_share == 0)),
                 sums=np.column_stack([np.ones(nb), qp, *(np.eye(nb)[b] for b in load_bus)]),
                 share=net.p_share, other=other,
                 load_bus=load_bus, lot_bus=lot_bus, local=local, grid=grid[0])


_CACHE: list[tuple[object, object, object, Forms | None]] = []


def cached_forms(system: System) -> Forms | None:
    """:func:`forms` for the last (network, units, lots) seen: a year loop asks once per year."""
    key = (system.network, system.units, system.lots)
    if _CACHE and all(x is y for x, y in zip(_CACHE[0][:3], key, strict=True)):
        return _CACHE[0][3]
    f = forms(system)
    _CACHE[:] = [(*key, f)]
    return f


def _lam(p: np.ndarray, f: Forms) -> np.ndarray:
    """``min_k p[:, k] / s_k`` over the share columns, a column at a time: the same numbers as the (hours x
    columns) product's row minimum, without its two large temporaries (8760 x 31 floats each on Beijing, whose
    fresh pages cost more than the arithmetic)."""
    lam = np.zeros(p.shape[0]) if f.share_cols.size == 0 else p[:, f.share_cols[0]] * f.inv_share[0]
    for col, inv in zip(f.share_cols[1:], f.inv_share[1:], strict=True):
        np.minimum(lam, p[:, col] * inv, out=lam)
    return lam


def safe_hours(system: System, hi: HourInputs, lim: HourLimits, hours: np.ndarray) -> np.ndarray:
    """(n,) bool over ``hours``: True where the certificate is sure to pass with nothing shed."""
    f = cached_forms(system)
    ok = (hi.shortfall[hours] <= 0.0) & hi.grid_up[hours] & (hi.ref_bus[hours] == system.network.root)
    if f is None or not ok.any():
        return np.zeros(hours.size, bool)
    whole = 2 * hours.size > hi.hours.size             # most hours: per-hour sums over all rows, no copy
    hours = hours[ok]
    p = hi.p_load if whole else hi.p_load[hours]
    lam = _lam(p, f)
    sums = p @ f.sums                                  # total, reactive need, each lot bus's load
    total, q_need, at_lots = sums[:, 0], sums[:, 1], sums[:, 2:]
    if whole:
        lam, total, q_need, at_lots = lam[hours], total[hours], q_need[hours], at_lots[hours]
    lots, avail = hi.lot_kw[:, hours], lim.pmax[f.local][:, hours]
    r_lot = at_lots - lam[:, None] * f.share[f.load_bus]
    rho = total - at_lots.sum(axis=1) - lam * f.share[f.other].sum()   # the residuals of the other buses
    rho = np.maximum(rho, 0.0)
    feats = np.column_stack([lam, r_lot, rho, avail.T, lots.T])
    parts = (lam[:, None], r_lot, rho[:, None], avail.T, lots.T)      # feats' extremes from contiguous parts
    lo, hi_ = (np.concatenate([getattr(x, m)(axis=0) for x in parts]) for m in ("min", "max"))
    worst = np.maximum(lo[:, None] * f.coef, hi_[:, None] * f.coef).sum(axis=0)
    keep = np.flatnonzero(worst > f.limit)
    good = (feats @ f.coef[:, keep] <= f.limit[keep]).all(axis=1) if keep.size else np.ones(hours.size, bool)
    units = system.units
    grid_p = total - avail.sum(axis=0) - lots.sum(axis=0)
    pmax_g = lim.pmax[f.grid, hours] * (1.0 - MARGIN)
    good &= (grid_p <= pmax_g) & (grid_p >= -pmax_g)
    if f.zero_cols.size:    # residual = load on the other buses without a share: must be >= 0 too
        nonneg = p[:, f.zero_cols].min(axis=1) >= 0.0
        good &= nonneg[hours] if whole else nonneg
    good &= q_need <= units.q_max_kvar[f.grid] * (1.0 - MARGIN)
    out = np.zeros(ok.size, bool)
    out[np.flatnonzero(ok)] = good
    return out
