"""Plain summaries of instances and systems (no computation beyond sums)."""

from __future__ import annotations

from typing import Any

from gplopt.branch_checks import branch_times
from gplopt.instance import Instance
from gplopt.system import Fleet, System


def lot_summary(system: System, g: Fleet) -> dict[str, Any]:
    return {"id": g.id, "bus": int(system.network.bus_ids[g.bus]), "n_chargers": g.n_chargers, "charge_kw": g.charge_kw,
            "discharge_kw": g.discharge_kw, "soc_threshold": g.soc_threshold, "v2g_min_soc": g.v2g_min_soc,
            "battery_kwh": g.battery_kwh, "participation_v2g": g.rate_v2g,
            "participation_load_reduction": g.rate_lr, "v2g_dispatched": g.v2g_dispatched,
            "incentive_per_kwh": g.price, "charger_cost_per_year": g.charger_cost_per_year}


def instance_summary(inst: Instance, system: System) -> dict[str, Any]:
    net = system.network
    g = system.fleet
    return {
        "name": inst.name,
        "schema_version": inst.schema_version,
        "currency": inst.currency,
        "buses": net.n_bus,
        "branches": len(inst.network.branches),
        "failing_branches": sum(branch_times(b) is not None for b in inst.network.branches if not b.normally_open),
        "tie_lines": sum(b.normally_open for b in inst.network.branches),
        "customers": None if all(b.customers is None for b in inst.network.buses)
        else sum(b.customers or 0 for b in inst.network.buses),
        "copper_plate": net.copper_plate,
        "units": [{"id": u.id, "type": u.type, "bus": u.bus, "capacity_kw": u.capacity_kw, "mttf_h": u.mttf_h,
                   "mttr_h": u.mttr_h} for u in inst.units],
        "installed_kw": float(sum(u.capacity_kw for u in inst.units)),
        "hours": system.hours,
        "peak_kw": float(system.load_kw.max()),
        "annual_energy_mwh": float(system.load_kw.sum() / 1000.0),
        "load_factor": float(system.load_kw.mean() / system.load_kw.max()),
        "gpl": None if g is None else lot_summary(system, g),     # the first lot (single-lot readers)
        "gpls": [lot_summary(system, f) for f in system.lots],
    }
