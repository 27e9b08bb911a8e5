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


def peak_voltage_gap(net: Any, instance: Path, *, with_shunts: bool = False) -> tuple[float, int]:
    """(max |vm_gplopt - vm_pandapower| over kept buses, buses compared) at the instance's peak hour, with
    pandapower's loads and generation set to gplopt's bus loads and unit outputs of that hour. Line shunt
    capacitance and transformer no-load losses, which the importer drops (and reports), are dropped in the
    pandapower net too unless ``with_shunts``."""
    import pandapower as pp

    system = build_system(load_instance(instance), base_dir=instance.parent)
    h = peak_hour(system)
    snap = snapshot(system, h, gpl_charging=False)
    p, q = system_bus_loads(system, np.array([h]))
    n = copy.deepcopy(net)
    if not with_shunts:
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
    return max(gaps), len(gaps)
