"""Loads and generating elements of a pandapower net -> gplopt ``load`` and ``units`` blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gplopt.errors import InstanceError

if TYPE_CHECKING:
    from gplopt.importers.pandapower import ImportReport


def _rows(net: Any, table: str) -> Any:
    from gplopt.importers.pandapower import _rows as rows

    return rows(net, table)


def _label(table: str, idx: Any, name: Any) -> str:
    from gplopt.importers.pandapower import _label as label

    return label(table, idx, name)


def _scaled(row: Any, col: str) -> float:
    v = row.get(col, 0.0)
    s = row.get("scaling", 1.0)
    return float(v if v == v else 0.0) * float(s if s == s else 1.0) * 1000.0   # NaN-safe, MW -> kW


CUSTOMERS_PER_LOAD = 1   # the default rule for bus customer counts (docs/import.md)


def customer_counts(net: Any, ids: dict[int, int]) -> dict[int, int]:
    """Customers per bus id when the source has no counts: one per in-service load element with p > 0 at the
    bus (a load element is one load point), to be overridden with the utility's own counts."""
    out: dict[int, int] = {}
    for _, ld in _rows(net, "load"):
        bus = ids.get(int(ld["bus"]))
        if bus is not None and _scaled(ld, "p_mw") > 0:
            out[bus] = out.get(bus, 0) + CUSTOMERS_PER_LOAD
    return out


def loads_block(net: Any, ids: dict[int, int], load_profiles: dict[int, str] | None,
                report: ImportReport) -> tuple[dict[str, Any], dict[int, tuple[float, float]]]:
    """(load block, {bus id: (p_kw, q_kvar)}). With profiles, the block maps each bus to its profile, or to
    a mix column ``bus<ID>_mix`` (p-weighted) where loads of several profiles share a bus."""
    per_bus: dict[int, tuple[float, float]] = {}
    mix: dict[int, dict[str, float]] = {}
    for idx, ld in _rows(net, "load"):
        label = _label("load", idx, ld.get("name"))
        bus = ids.get(int(ld["bus"]))
        if bus is None:
            report.note(label, "dropped", "its bus is not connected to the external grid")
            continue
        p, q = _scaled(ld, "p_mw"), _scaled(ld, "q_mvar")
        if p < 0:
            raise InstanceError(f"{label}.p_mw", ">= 0 (a negative load is generation: use an sgen)", p / 1000)
        p0, q0 = per_bus.get(bus, (0.0, 0.0))
        per_bus[bus] = (p0 + p, q0 + q)
        report.keep("load")
        if load_profiles is not None:
            prof = load_profiles.get(int(idx))
            if prof is None:
                raise InstanceError(f"{label}.profile", "a profile for every load (a missing profile)", None)
            mix.setdefault(bus, {})
            mix[bus][prof] = mix[bus].get(prof, 0.0) + p
    if load_profiles is None:
        total = sum(p for p, _ in per_bus.values())
        return {"shape": None, "series_kw": [total], "peak_kw": None}, per_bus
    mapping = {}
    mixes = {}
    for bus, weights in sorted(mix.items()):
        if per_bus[bus][0] <= 0:
            continue
        if len(weights) == 1:
            mapping[str(bus)] = next(iter(weights))
        else:
            mapping[str(bus)] = f"bus{bus}_mix"
            mixes[f"bus{bus}_mix"] = weights
    return {"shape": None, "bus_profiles": mapping, "mixes": mixes}, per_bus


def unit_reliability(kind_text: str, defaults: dict[str, Any]) -> tuple[str, dict[str, float]]:
    t = kind_text.lower()
    kind = "pv" if "pv" in t else "wind" if ("wind" in t or t.startswith("wp")) else "other"
    d = defaults["units"][kind]
    return kind, {"mttf_h": d["mttf_h"], "mttr_h": d["mttr_h"]}


def substation_capacity(net: Any, network: dict[str, Any], report: ImportReport) -> float:
    from gplopt.importers.pandapower import _nan

    eg = _rows(net, "ext_grid")[0][1]
    cap = eg.get("max_p_mw")
    if cap is not None and not _nan(cap) and float(cap) > 0:
        return float(cap) * 1000.0
    slack = network["slack_bus"]
    ratings = [b["rating_kva"] for b in network["branches"] if b["from_bus"] == slack]
    if ratings and all(r is not None for r in ratings):
        report.note("ext_grid", "approximated", "capacity = ratings of the branches leaving the slack bus")
        return float(sum(ratings))
    total = sum(b.get("p_kw", 0.0) for b in network["buses"])
    report.note("ext_grid", "approximated", "no max_p_mw: capacity = 10 x the total load")
    return 10.0 * total


def units_block(net: Any, ids: dict[int, int], network: dict[str, Any], sgen_profiles: dict[int, str] | None,
                defaults: dict[str, Any], report: ImportReport) -> list[dict[str, Any]]:
    grid = defaults["units"]["external_grid"]
    units: list[dict[str, Any]] = [{"id": "substation", "type": "external_grid", "bus": network["slack_bus"],
                                    "capacity_kw": substation_capacity(net, network, report),
                                    "mttf_h": grid["mttf_h"], "mttr_h": grid["mttr_h"]}]
    report.keep("ext_grid")
    for table in ("sgen", "gen"):
        for idx, g in _rows(net, table):
            label = _label(table, idx, g.get("name"))
            bus, p = ids.get(int(g["bus"])), _scaled(g, "p_mw")
            if bus is None or p <= 0:
                report.note(label, "dropped", "not connected to the external grid" if bus is None else "p_mw <= 0")
                continue
            kind, rel = unit_reliability(f"{g.get('type', '')} {g.get('profile', '')} {g.get('name', '')}", defaults)
            unit: dict[str, Any] = {"id": f"{table}{idx}", "bus": bus, "capacity_kw": p, **rel,
                                    "q_max_kvar": defaults["generation_q_over_p"]["value"] * p}
            prof = (sgen_profiles or {}).get(int(idx)) if table == "sgen" else None
            if prof is not None:
                unit.update(type="profile", profile=prof, source=str(g.get("type", kind)))
            else:
                unit["type"] = "conventional"
                rule = "voltage control dropped; " if table == "gen" else ""
                report.note(label, "approximated", rule + "no profile: firm output at p_mw (a conventional unit)")
            units.append(unit)
            report.keep(table)
    for idx, st in _rows(net, "storage"):
        report.note(_label("storage", idx, st.get("name")), "dropped", "storage is not modelled (only the GPL)")
    return units
