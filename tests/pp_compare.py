"""Peak-hour voltages of an imported instance against pandapower.runpp on the same loads (test helper)."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from gplopt.instance import load_instance
from gplopt.network.snapshot import peak_hour, snapshot
from gplopt.system import build_system, system_bus_loads


def peak_voltage_gap(net: Any, instance: Path, *, strip_shunts: bool = False, slack: bool = False) -> Any:
    """(max |vm_gplopt - vm_pandapower| over kept buses, buses compared) at the instance's peak hour, with
    pandapower's loads and generation set to gplopt's bus loads and unit outputs of that hour; pandapower's net
    is otherwise unmodified, unless ``strip_shunts`` removes its line charging and transformer no-load
    branches (to show that the comparison sees them). With ``slack``, also |P_gplopt - P_pandapower| of the
    external grid (kW)."""
    import pandapower as pp

    system = build_system(load_instance(instance), base_dir=instance.parent)
    h = peak_hour(system)
    snap = snapshot(system, h, gpl_charging=False)
    p, q = system_bus_loads(system, np.array([h]))
    n = copy.deepcopy(net)
    if strip_shunts:
        n.line["c_nf_per_km"] = 0.0
        n.trafo["pfe_kw"] = 0.0
        n.trafo["i0_percent"] = 0.0
    n.load.drop(n.load.index, inplace=True)
    for j, bid in enumerate(system.network.bus_ids):
        if p[0, j] > 0:
            pp.create_load(n, bus=int(bid) - 1, p_mw=float(p[0, j]) / 1000, q_mvar=float(q[0, j]) / 1000)
    for table in ("sgen", "gen"):
        for idx in n[table].index:
            kw = snap.generation_kw.get(f"{table}{idx}")
            if kw is not None:
                n[table].loc[idx, ["p_mw", "scaling"]] = [kw / 1000.0, 1.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(n, tolerance_mva=1e-10, numba=False)
    vm = snap.result.vm_pu[0]
    gaps = [abs(float(n.res_bus.at[int(bid) - 1, "vm_pu"]) - float(vm[j]))
            for j, bid in enumerate(system.network.bus_ids)]
    if slack:
        p_pp = float(n.res_ext_grid.p_mw.sum()) * 1000.0
        return max(gaps), len(gaps), abs(p_pp - float(snap.result.slack_p_kw[0]))
    return max(gaps), len(gaps)
