"""The LinDistFlow certificate of a shedding hour (step 2 of :mod:`gplopt.adequacy`).

Every hour is tried at the point that sheds exactly ``max(D, 0)`` (``D`` the copper-plate shortfall) in merit
order of value of lost load (lowest first, in proportion to load within a class) with every source at its
limit. If that point satisfies the OPF's own LinDistFlow constraints, it is optimal for the OPF (no feasible
point sheds less than the copper-plate shortfall), so ENS = max(D, 0) without solving.

The arithmetic is the same, operation for operation, as the dense version that lived in ``adequacy.py``
(tests/test_certificate.py pins it): what changed is only what is *not* computed. Arrays of zeros are
allocated lazily (``np.zeros``, not ``zeros_like``, which writes every page), the served load is the load
itself on the hours that shed nothing (``x - 0.0 == x`` exactly), and the per-source columns are added once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gplopt.network.powerflow import lindistflow, lindistflow_feasible
from gplopt.system import System

if TYPE_CHECKING:
    from gplopt.adequacy import HourInputs, HourLimits

TOL_KW = 1e-6


def greedy_shed(system: System, p_load: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """(n, B) shedding of ``amount`` (n,) kW from the lowest value-of-lost-load buses first, in proportion
    to load within a class."""
    voll = system.network.voll
    shed = np.zeros(p_load.shape)
    left = amount.astype(float).copy()
    for v in np.unique(voll):
        cls = voll == v
        cls_load = p_load[:, cls].sum(axis=1)
        take = np.minimum(left, cls_load)
        frac = np.divide(take, cls_load, out=np.zeros_like(take), where=cls_load > 0)
        shed[:, cls] = p_load[:, cls] * frac[:, None]
        left -= take
    return shed


def certificate(system: System, hi: HourInputs, lim: HourLimits, hours: np.ndarray,
                t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ``hours``: (passed (n,) bool, shed (n, B) kW) at the greedy point with every source at its limit."""
    net = system.network
    n = hours.size
    if n == 0:
        return np.zeros(0, bool), np.zeros((0, net.n_bus))
    served_p = hi.p_load[hours]            # a copy (fancy index): becomes the served load in place
    short = np.maximum(hi.shortfall[hours], 0.0)
    shed = np.zeros(served_p.shape)
    pos = np.flatnonzero(short > 0)        # hours with nothing to shed keep shed = 0 and served = load
    if pos.size:
        shed[pos] = greedy_shed(system, served_p[pos], short[pos])
        served_p[pos] = served_p[pos] - shed[pos]
    return passes(system, hi, lim, hours, t, served_p), shed


def passes(system: System, hi: HourInputs, lim: HourLimits, hours: np.ndarray, t: np.ndarray,
           served_p: np.ndarray) -> np.ndarray:
    """(n,) bool: the point serving ``served_p`` (n, B) with every source at its limit satisfies the OPF's
    LinDistFlow constraints (and the sources' limits)."""
    net = system.network
    gen_p, ok = _active_dispatch(system, hi, lim, hours, served_p)
    served_q = served_p * net.q_over_p[None, :]
    gen_q, q_ok = _reactive_dispatch(system, hi, lim, hours, served_q)
    ok &= q_ok
    base = net.base_kva
    gen_p -= served_p                      # -(served - gen): negated in place, exact
    gen_q -= served_q
    pt = lindistflow(net, np.negative(gen_p, out=gen_p) / base, np.negative(gen_q, out=gen_q) / base,
                     hi.ref_bus[hours], t)
    ok &= lindistflow_feasible(net, pt)
    return ok


def _grid(system: System) -> tuple[np.ndarray, int | None]:
    units = system.units
    grid = np.array([units.kind[i] == "external_grid" for i in range(units.n)], bool)
    return grid, (int(np.flatnonzero(grid)[0]) if grid.any() else None)


def _active_dispatch(system: System, hi: HourInputs, lim: HourLimits, hours: np.ndarray,
                     served_p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gen_p (n, B), ok (n,)): local sources at their limit, the grid balancing while up; in an island with
    surplus, local sources scaled down."""
    units = system.units
    n = hours.size
    gen_p = np.zeros(served_p.shape)
    pmax = lim.pmax[:, hours]
    grid, gi = _grid(system)
    local_p = pmax[~grid]
    total_served = served_p.sum(axis=1)
    gpl = hi.gpl_kw[hours]
    local_total = local_p.sum(axis=0) + gpl
    grid_up = hi.grid_up[hours]
    scale = np.where(grid_up, 1.0, np.divide(total_served, local_total, out=np.zeros(n),
                                             where=local_total > 0))
    scale = np.minimum(scale, 1.0)
    for r, i in enumerate(np.flatnonzero(~grid)):
        gen_p[:, units.bus[i]] += local_p[r] * scale
    for k, lot in enumerate(system.lots):   # each lot's V2G at its own bus
        gen_p[:, lot.bus] += hi.lot_kw[k, hours] * scale
    ok = np.ones(n, bool)
    if gi is not None:
        grid_p = total_served - gen_p.sum(axis=1)
        ok &= np.where(grid_up, (grid_p <= pmax[gi] + TOL_KW) & (grid_p >= -pmax[gi] - TOL_KW), True)
        gen_p[:, units.bus[gi]] += np.where(grid_up, grid_p, 0.0)
    ok &= np.abs(gen_p.sum(axis=1) - total_served) <= 1e-6 * np.maximum(1.0, total_served)
    return gen_p, ok


def _reactive_dispatch(system: System, hi: HourInputs, lim: HourLimits, hours: np.ndarray,
                       served_q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gen_q (n, B), ok (n,)): the grid supplies reactive power while up (within its capability); in an
    island, local units in proportion to their capability."""
    units = system.units
    n = hours.size
    grid, gi = _grid(system)
    q_grid_cap = np.where(hi.grid_up[hours], units.q_max_kvar[gi], 0.0) if gi is not None else np.zeros(n)
    gen_q = np.zeros(served_q.shape)
    qcap = lim.qmax[:, hours]
    q_need = served_q.sum(axis=1)
    q_local = qcap[~grid]
    q_local_cap = q_local.sum(axis=0)
    from_grid = np.minimum(q_need, q_grid_cap)
    rest = q_need - from_grid
    ok = rest <= q_local_cap + TOL_KW
    if gi is not None:
        gen_q[:, units.bus[gi]] += from_grid
    qshare = np.divide(rest, q_local_cap, out=np.zeros(n), where=q_local_cap > 0)
    for r, i in enumerate(np.flatnonzero(~grid)):
        gen_q[:, units.bus[i]] += q_local[r] * qshare
    return gen_q, ok
