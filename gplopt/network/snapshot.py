"""One deterministic operating point of the system (for ``gplopt powerflow`` and network studies)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gplopt.network.powerflow import PowerFlowResult, run_powerflow
from gplopt.system import System, system_bus_loads


@dataclass(frozen=True)
class Snapshot:
    hour: int
    system_load_kw: float
    gpl_charging_kw: float
    generation_kw: dict[str, float]
    result: PowerFlowResult


def peak_hour(system: System) -> int:
    return int(np.argmax(system.load_kw))


def snapshot(system: System, hour: int, *, gpl_charging: bool = True) -> Snapshot:
    """All units up: conventional units at rated output, wind at zero (calm: the conservative reading), the
    external grid as slack, and every GPL charger charging at rated power unless ``gpl_charging`` is off."""
    net = system.network
    load = float(system.load_kw[hour])
    p, q = system_bus_loads(system, np.array([hour]))
    charging = 0.0
    if system.fleet is not None and gpl_charging:
        charging = system.fleet.n_chargers * system.fleet.charge_kw
        p[0, system.fleet.bus] += charging
    gen: dict[str, float] = {}
    u = system.units
    for i in range(u.n):
        if u.kind[i] == "conventional":
            p[0, u.bus[i]] -= u.capacity_kw[i]
            gen[u.ids[i]] = float(u.capacity_kw[i])
        elif u.kind[i] == "wind":
            gen[u.ids[i]] = 0.0
        elif u.ids[i] in system.unit_profile:   # a profiled unit at its series' value of the hour
            out = float(u.capacity_kw[i] * system.unit_profile[u.ids[i]][hour])
            p[0, u.bus[i]] -= out
            gen[u.ids[i]] = out
    res = run_powerflow(net, p, q)
    grid = [u.ids[i] for i in range(u.n) if u.kind[i] == "external_grid"]
    if grid:
        gen[grid[0]] = float(res.slack_p_kw[0])
    return Snapshot(hour=hour, system_load_kw=load, gpl_charging_kw=charging, generation_kw=gen, result=res)
