"""Trust, but verify: the shedding OPF's per-unit scaling and an independent check of every answer.

A solver that says "optimal" on a badly conditioned LP can return a point that breaks the very constraints it
was given (a branch of 1e20 ohm once gave 5,571 kWh/yr of ENS instead of ~405,000, with no failed hour).
:func:`verify_answer` recomputes, in numpy and from the hour's data alone, every constraint of
:func:`gplopt.network.opf.build_shedding_model`: power balance (P and Q, bus shunts included) at every bus,
the LinDistFlow voltage drop of every branch, voltage limits, the branch-rating octagon, and every variable
bound. An answer outside the tolerances below is not used: the OPF reports the hour as failed (counted with
its whole load).

:func:`lp_network` picks the LP's power base: the instance's ``base_mva`` unless it is more than
:data:`MAX_BASE_RATIO` away from the size of the sources, in which case a power of ten near their total
capacity (per-unit impedances scaled with it, so every physical quantity is unchanged).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from gplopt.network.powerflow import OCTAGON, shunt_load_pu
from gplopt.system import Network, Units

TOL_POWER = 1e-6          # pu of the LP base, times max(1, total load in pu): balance and bounds
TOL_V2 = 1e-6             # squared voltage (pu^2): drop equations and limits
MAX_BASE_RATIO = 100.0    # keep base_mva while sources / base is within [1/100, 100]


def lp_network(net: Network, units: Units) -> Network:
    """``net`` on a power base suited to the LP (same physics; only per-unit numbers change)."""
    finite = units.capacity_kw[np.isfinite(units.capacity_kw)]
    total = float(finite.sum()) if finite.size else 0.0
    if total <= 0 or 1 / MAX_BASE_RATIO <= total / net.base_kva <= MAX_BASE_RATIO:
        return net
    base = 10.0 ** round(math.log10(total))
    k = base / net.base_kva
    return dataclasses.replace(net, r_pu=net.r_pu * k, x_pu=net.x_pu * k, rating_pu=net.rating_pu / k,
                               shunt_g_pu=net.shunt_g_pu / k, shunt_b_pu=net.shunt_b_pu / k, base_kva=base)


def _children_sum(net: Network, flow: np.ndarray) -> np.ndarray:
    out = np.zeros(net.n_bus)
    kids = np.flatnonzero(net.parent >= 0)
    np.add.at(out, net.parent[kids], flow[kids])
    return out


def _worst(name: str, excess: np.ndarray, tol: float) -> str | None:
    """``name`` and its worst violation when ``excess`` (> 0 = violated) exceeds ``tol`` anywhere."""
    if excess.size and float(excess.max()) > tol:
        i = int(excess.argmax())
        return f"{name} violated by {float(excess[i]):.3g} at index {i}"
    return None


def verify_answer(net: Network, unit_bus: np.ndarray, lot_buses: tuple[int, ...], sol: dict[str, np.ndarray],
                  hour: dict[str, np.ndarray], gpl_max: np.ndarray) -> str | None:
    """None if the OPF point ``sol`` (pu: pf, qf, v2, pg, qg, pgpl, shed) satisfies every constraint of the
    hour ``hour`` (pu: pd, qd, pmin, pmax, qmin, qmax, v2lo, v2hi) within tolerance, else the first reason."""
    pf, qf, v2, pg, qg, shed = (np.asarray(sol[k], float) for k in ("pf", "qf", "v2", "pg", "qg", "shed"))
    pgpl = np.asarray(sol["pgpl"], float).reshape(-1)
    gpl_max = np.asarray(gpl_max, float).reshape(-1)
    pd, qd = hour["pd"], hour["qd"]
    sh_p, sh_q = shunt_load_pu(net)
    values = np.concatenate([pf, qf, v2, pg, qg, shed, pgpl])
    if not np.isfinite(values).all():
        return "non-finite value in the solution"
    tol_p = TOL_POWER * max(1.0, float(np.abs(pd).sum()))
    gen_p, gen_q = np.zeros(net.n_bus), np.zeros(net.n_bus)
    np.add.at(gen_p, unit_bus, pg)
    np.add.at(gen_q, unit_bus, qg)
    np.add.at(gen_p, np.asarray(lot_buses, int), pgpl)
    kids = np.flatnonzero(net.parent >= 0)
    rated = np.flatnonzero(np.isfinite(net.rating_pu))
    s = net.rating_pu[rated] * OCTAGON
    checks = (
        ("P balance", np.abs(pf + gen_p + shed - pd - sh_p - _children_sum(net, pf)), tol_p),
        ("Q balance", np.abs(qf + gen_q + net.q_over_p * shed - qd - sh_q - _children_sum(net, qf)), tol_p),
        ("voltage drop", np.abs(v2[kids] - v2[net.parent[kids]]
                                + 2.0 * (net.r_pu[kids] * pf[kids] + net.x_pu[kids] * qf[kids])), TOL_V2),
        ("lower voltage limit", hour["v2lo"] - v2, TOL_V2),
        ("upper voltage limit", v2 - hour["v2hi"], TOL_V2),
        ("branch rating", np.concatenate([np.abs(pf[rated]) - s, np.abs(qf[rated]) - s,
                                          np.abs(pf[rated]) + np.abs(qf[rated]) - math.sqrt(2.0) * s]), tol_p),
        ("shed bounds", np.concatenate([-shed, shed - pd]), tol_p),
        ("unit P limits", np.concatenate([hour["pmin"] - pg, pg - hour["pmax"]]), tol_p),
        ("unit Q limits", np.concatenate([hour["qmin"] - qg, qg - hour["qmax"]]), tol_p),
        ("GPL limit", np.concatenate([-pgpl, pgpl - gpl_max]), tol_p),
    )
    for name, excess, tol in checks:
        reason = _worst(name, excess, tol)
        if reason is not None:
            return reason
    return None
