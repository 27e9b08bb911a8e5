"""One hour's AC power flow as a flat record (``gplopt powerflow``): loads, losses, voltage extremes, substation
flow, the highest branch loading and every violated limit, named by element id."""

from __future__ import annotations

from typing import Any

from gplopt.network.limits import violations
from gplopt.network.snapshot import snapshot
from gplopt.system import System


def powerflow_summary(system: System, hour: int, *, gpl_charging: bool = True) -> dict[str, Any]:
    """The AC power flow of ``hour`` with all units up (see ``snapshot``), as the JSON ``gplopt powerflow`` prints."""
    snap = snapshot(system, hour, gpl_charging=gpl_charging)
    r, net = snap.result, system.network
    broken = violations(system, snap)
    vm = r.vm_pu[0]
    rated = [float(r.branch_kva[0, j] / (net.rating_pu[j] * net.base_kva))
             for j in range(net.n_bus) if j != net.root and net.rating_pu[j] < float("inf")]
    return {
        "hour": hour, "system_load_kw": snap.system_load_kw, "gpl_charging_kw": snap.gpl_charging_kw,
        "generation_kw": snap.generation_kw,
        "loss_kw": float(r.loss_kw[0]), "loss_kvar": float(r.loss_kvar[0]),
        "vmin_pu": float(vm.min()), "vmin_bus": int(net.bus_ids[vm.argmin()]),
        "vmax_pu": float(vm.max()), "vmax_bus": int(net.bus_ids[vm.argmax()]),
        "substation_p_kw": float(r.slack_p_kw[0]), "substation_q_kvar": float(r.slack_q_kvar[0]),
        "substation_mva": float(r.slack_kva[0] / 1000.0),
        "max_branch_loading": max(rated, default=None),
        "within_limits": not broken, "violations": broken, "converged": bool(r.converged[0]),
        "voltage_limits_pu": [net.vmin, net.vmax],
        "vm_pu": {int(b): float(v) for b, v in zip(net.bus_ids, vm, strict=True)},
    }
