"""Every operating limit a power-flow snapshot breaks, named by element id: bus voltages, branch ratings, the
substation (external grid: apparent power through it and its reactive supply) and unit capacities."""

from __future__ import annotations

from typing import Any

import numpy as np

from gplopt.network.snapshot import Snapshot
from gplopt.system import System

TOL = 1e-6   # relative: a flow at its limit to the last digits is within it


def _over(value: float, limit: float) -> bool:
    return value > limit * (1 + TOL) + TOL


def violations(system: System, snap: Snapshot) -> list[dict[str, Any]]:
    """``[{element, id, quantity, limit, value, unit}]`` for every violated limit (empty: within limits)."""
    net, r = system.network, snap.result
    if not bool(r.converged[0]):
        return [{"element": "powerflow", "id": None, "quantity": "converged", "limit": True, "value": False,
                 "unit": None}]
    out: list[dict[str, Any]] = []
    vm = r.vm_pu[0]
    for b, v in zip(net.bus_ids, vm, strict=True):
        if v < net.vmin * (1 - TOL):
            out.append(_row("bus", int(b), "vm_pu min", net.vmin, float(v), "pu"))
        elif _over(float(v), net.vmax):
            out.append(_row("bus", int(b), "vm_pu max", net.vmax, float(v), "pu"))
    for j in range(net.n_bus):
        rating = float(net.rating_pu[j] * net.base_kva)
        if j != net.root and np.isfinite(rating) and _over(float(r.branch_kva[0, j]), rating):
            out.append(_row("branch", int(net.branch_ids[j]), "apparent power", rating, float(r.branch_kva[0, j]),
                            "kVA"))
    out += _unit_violations(system, snap)
    return out


def _unit_violations(system: System, snap: Snapshot) -> list[dict[str, Any]]:
    u, r = system.units, snap.result
    out: list[dict[str, Any]] = []
    for i in range(u.n):
        cap = float(u.capacity_kw[i] * u.avail_high[i])
        if u.kind[i] == "external_grid":
            s_kva = float(r.slack_kva[0])
            if _over(s_kva, cap):
                out.append(_row("external_grid", u.ids[i], "apparent power through the substation", cap, s_kva,
                                "kVA"))
            q = abs(float(r.slack_q_kvar[0]))
            if _over(q, float(u.q_max_kvar[i])):
                out.append(_row("external_grid", u.ids[i], "reactive power", float(u.q_max_kvar[i]), q, "kvar"))
        else:
            p = float(snap.generation_kw.get(u.ids[i], 0.0))
            if _over(p, cap):
                out.append(_row("unit", u.ids[i], "active power", cap, p, "kW"))
    return out


def _row(element: str, ident: Any, quantity: str, limit: float, value: float, unit: str) -> dict[str, Any]:
    return {"element": element, "id": ident, "quantity": quantity, "limit": float(limit), "value": value,
            "unit": unit}


def describe(v: dict[str, Any]) -> str:
    """``branch 7: apparent power 5212.3 kVA > 5000 kVA`` (one line per violation, for tables)."""
    if v["element"] == "powerflow":
        return "power flow did not converge"
    sign = "<" if v["quantity"].endswith("min") else ">"
    fmt = ",.4f" if v["unit"] == "pu" else ",.1f"
    return (f"{v['element']} {v['id']}: {v['quantity']} {v['value']:{fmt}} {v['unit']} {sign} limit "
            f"{v['limit']:{fmt}} {v['unit']}")
