"""A pandapower network -> gplopt instance data, with a per-element report (kept / approximated / dropped).

The mapping is documented table by table in docs/import.md. pandapower is imported only by the callers that
read files (:func:`read_pandapower_json`, :mod:`gplopt.importers.matpower`, :mod:`gplopt.importers.simbench`);
:func:`net_to_instance` works on any object with pandapower's tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gplopt.errors import GploptError, InstanceError
from gplopt.importers import shunts as sh
from gplopt.importers.topology import Edge, Merge, check_radial, merge_parallel, orient
from gplopt.library import load_model

UNSUPPORTED = ("trafo3w", "impedance", "dcline", "ward", "xward", "svc", "tcsc", "ssc", "vsc", "motor",
               "asymmetric_load", "asymmetric_sgen")
UNLIMITED_KA = 1000.0          # max_i_ka at or above this (pandapower cases use 99999) means no rating


@dataclass
class ImportReport:
    kept: dict[str, int] = field(default_factory=dict)
    entries: list[dict[str, str]] = field(default_factory=list)   # element, action, rule

    def keep(self, table: str, n: int = 1) -> None:
        self.kept[table] = self.kept.get(table, 0) + n

    def note(self, element: str, action: str, rule: str) -> None:
        self.entries.append({"element": element, "action": action, "rule": rule})

    def to_dict(self) -> dict[str, Any]:
        return {"kept": self.kept, "entries": self.entries}


@dataclass
class Imported:
    data: dict[str, Any]                       # instance JSON (not yet validated)
    report: ImportReport
    profiles: dict[str, Any] | None = None     # column -> hourly series, written beside the instance
    mixes: dict[str, dict[str, float]] = field(default_factory=dict)  # mix column -> {profile: weight kW}


def pandapower_module() -> Any:
    try:
        import pandapower
    except ImportError:
        from gplopt.importers.profiles import missing_extra

        raise missing_extra("import", "pandapower") from None
    return pandapower


def read_pandapower_json(path: Path) -> Any:
    pp = pandapower_module()
    if not path.is_file():
        raise InstanceError(str(path), "an existing pandapower JSON file", "not found")
    try:
        return pp.from_json(str(path))
    except Exception as exc:  # pandapower raises many types for a bad file
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InstanceError(str(path), "a pandapower network saved by pandapower.to_json", msg[:160]) from None


def _label(table: str, idx: Any, name: Any) -> str:
    return f"{table} {idx} '{name}'" if isinstance(name, str) and name else f"{table} {idx}"


def _rows(net: Any, table: str) -> Any:
    df = net.get(table, None)
    if df is None or len(df) == 0:
        return []
    if "in_service" in df.columns:
        df = df[df["in_service"].astype(bool)]
    return list(df.iterrows())


def reject_unsupported(net: Any) -> None:
    for table in UNSUPPORTED:
        rows = _rows(net, table)
        if rows:
            idx, row = rows[0]
            raise InstanceError(_label(table, idx, row.get("name")), "an element type gplopt can model (bus, line, "
                                "trafo, switch, shunt, ext_grid, load, sgen, gen, storage); remove it or set it out "
                                "of service", table)


def report_out_of_service(net: Any, report: ImportReport) -> None:
    for table in ("bus", "line", "trafo", "shunt", "load", "sgen", "gen", "storage", "ext_grid"):
        df = net.get(table, None)
        if df is not None and len(df) and "in_service" in df.columns:
            for idx, row in df[~df["in_service"].astype(bool)].iterrows():
                report.note(_label(table, idx, row.get("name")), "dropped", "out of service")


def bus_groups(net: Any, report: ImportReport) -> Merge:
    """Closed bus-bus switches (couplers) merge buses."""
    merge = Merge()
    for idx, sw in net.switch.iterrows() if "switch" in net else []:
        if sw["et"] == "b" and bool(sw["closed"]):
            merge.union(int(sw["bus"]), int(sw["element"]))
            report.note(_label("switch", idx, sw.get("name")), "kept", "closed bus coupler: its buses are merged")
    return merge


def open_elements(net: Any) -> dict[tuple[str, int], set[int]]:
    """(et, element) cut by an open switch -> the buses where it is open: an open line or transformer switch
    takes the branch out of the graph (its shunt still hangs on its closed end)."""
    cut: dict[tuple[str, int], set[int]] = {}
    for _, sw in net.switch.iterrows() if "switch" in net else []:
        if sw["et"] in ("l", "t") and not bool(sw["closed"]):
            cut.setdefault((str(sw["et"]), int(sw["element"])), set()).add(int(sw["bus"]))
    return cut


def line_edges(net: Any, merge: Merge, base_kv: float, cut: dict[tuple[str, int], set[int]],
               report: ImportReport, shunts: sh.Shunts) -> list[Edge]:
    out = []
    f_hz = float(getattr(net, "f_hz", 50.0) or 50.0)
    for idx, ln in _rows(net, "line"):
        label = _label("line", idx, ln.get("name"))
        vn = float(net.bus.at[int(ln["from_bus"]), "vn_kv"])
        scale = (base_kv / vn) ** 2
        n_par = float(ln.get("parallel", 1) or 1)
        length = float(ln["length_km"])
        r = float(ln["r_ohm_per_km"]) * length / n_par * scale
        x = float(ln["x_ohm_per_km"]) * length / n_par * scale
        y_end = sh.line_end_admittance(ln, vn, f_hz)
        opened = cut.get(("l", int(idx)), set())
        sh.add_branch(shunts, int(ln["from_bus"]), int(ln["to_bus"]), complex(r, x) / base_kv**2, y_end, y_end,
                      opened)
        if opened:
            report.note(label, "dropped", "an open switch cuts it (normally open point)"
                        + ("; its charging kept at the closed end" if y_end and len(opened) == 1 else ""))
            continue
        a, b = merge.find(int(ln["from_bus"])), merge.find(int(ln["to_bus"]))
        i_ka = float(ln["max_i_ka"])
        rating = None if i_ka >= UNLIMITED_KA else math.sqrt(3) * vn * i_ka * 1000.0 * n_par * float(
            ln.get("df", 1.0) or 1.0)
        kind = "cable" if str(ln.get("type", "")) == "cs" else "overhead_line"
        if a == b:
            report.note(label, "dropped", "both ends are in one merged bus")
            continue
        out.append(Edge(a, b, r, x, rating, [label], kind, length))
        report.keep("line")
    return out


def trafo_edges(net: Any, merge: Merge, base_kv: float, cut: dict[tuple[str, int], set[int]],
                report: ImportReport, shunts: sh.Shunts) -> list[Edge]:
    out = []
    for idx, tr in _rows(net, "trafo"):
        label = _label("trafo", idx, tr.get("name"))
        lv = int(tr["lv_bus"])
        vn_bus = float(net.bus.at[lv, "vn_kv"])
        n_par = float(tr.get("parallel", 1) or 1)
        ratio = float(tr["vn_lv_kv"]) / vn_bus
        z = float(tr["vk_percent"]) / 100.0 * base_kv**2 / float(tr["sn_mva"]) * ratio**2 / n_par
        r = float(tr["vkr_percent"]) / 100.0 * base_kv**2 / float(tr["sn_mva"]) * ratio**2 / n_par
        x = math.sqrt(max(z**2 - r**2, 0.0))
        z_pi, y_hv, y_lv = sh.transformer_pi(tr, complex(r, x) / base_kv**2, ratio)   # pu of 1 MVA
        opened = cut.get(("t", int(idx)), set())
        sh.add_branch(shunts, int(tr["hv_bus"]), lv, z_pi, y_hv, y_lv, opened)
        if opened:
            report.note(label, "dropped", "an open switch cuts it")
            continue
        r, x = z_pi.real * base_kv**2, z_pi.imag * base_kv**2
        hv_ratio = float(tr["vn_hv_kv"]) / float(net.bus.at[int(tr["hv_bus"]), "vn_kv"])
        if abs(ratio - hv_ratio) > 1e-6:
            report.note(label, "approximated", "off-nominal ratio ignored (voltages in per unit of bus ratings)")
        tap = tr.get("tap_pos")
        if tap is not None and not _nan(tap) and not _nan(tr.get("tap_neutral")) and tap != tr.get("tap_neutral"):
            report.note(label, "approximated", f"tap position {tap} taken as neutral")
        out.append(Edge(merge.find(int(tr["hv_bus"])), merge.find(lv), r, x,
                        float(tr["sn_mva"]) * 1000.0 * n_par, [label], "transformer", None))
        report.keep("trafo")
    return out


def shunt_elements(net: Any, report: ImportReport, shunts: sh.Shunts) -> None:
    """pandapower ``shunt`` rows (capacitor banks, reactors) -> bus shunt admittance."""
    for _, row in _rows(net, "shunt"):
        bus = int(row["bus"])
        shunts[bus] = shunts.get(bus, 0j) + sh.shunt_element(row, float(net.bus.at[bus, "vn_kv"]))
        report.keep("shunt")


def _name(name: Any) -> dict[str, str]:
    """``{"name": ...}`` for a real name (MATPOWER cases have none: pandapower gives None)."""
    return {"name": name} if isinstance(name, str) and name else {}


def _nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def reliability_of(edge: Edge, defaults: dict[str, Any]) -> dict[str, float]:
    d = defaults["branches"][edge.kind]
    if edge.kind == "transformer":
        return {"failure_rate_per_year": 8760.0 / d["mttf_h"], "mttr_h": d["mttr_h"]}
    return {"failure_rate_per_year": d["failure_rate_per_km_year"] * float(edge.length_km or 0.0),
            "mttr_h": d["mttr_h"]}


def choose_base_kv(net: Any, buses: set[int]) -> float:
    """The most common rated voltage among the kept buses (the distribution level)."""
    counts: dict[float, int] = {}
    for b in buses:
        vn = float(net.bus.at[b, "vn_kv"])
        counts[vn] = counts.get(vn, 0) + 1
    return max(counts, key=lambda v: (counts[v], -v))


def defaults_model(base_dir: Path | None = None) -> dict[str, Any]:
    return load_model("reliability", "imported_defaults", "models/reliability/imported_defaults", base_dir)


def slack_of(net: Any, merge: Merge) -> tuple[int, float, float | None, Any]:
    grids = _rows(net, "ext_grid")
    if len(grids) != 1:
        raise InstanceError("ext_grid", "exactly one in-service external grid (the substation)", len(grids))
    idx, eg = grids[0]
    cap = eg.get("max_p_mw")
    cap_kw = float(cap) * 1000.0 if cap is not None and not _nan(cap) and float(cap) > 0 else None
    return merge.find(int(eg["bus"])), float(eg["vm_pu"]), cap_kw, idx


def network_block(net: Any, report: ImportReport, defaults: dict[str, Any]) -> tuple[dict[str, Any], dict[int, int]]:
    """network.* and the map pandapower bus index -> gplopt bus id."""
    reject_unsupported(net)
    report_out_of_service(net, report)
    merge = bus_groups(net, report)
    cut = open_elements(net)
    slack, vm, _, _ = slack_of(net, merge)
    in_service = {int(i) for i, _ in _rows(net, "bus")}
    base_kv = choose_base_kv(net, {merge.find(b) for b in in_service})
    shunts: sh.Shunts = {}
    edges = line_edges(net, merge, base_kv, cut, report, shunts) + trafo_edges(net, merge, base_kv, cut, report,
                                                                                 shunts)
    shunt_elements(net, report, shunts)
    edges, merged = merge_parallel(edges)
    for names in merged:
        report.note(" + ".join(names), "approximated", "parallel branches merged into one equivalent branch")
    check_radial(edges)
    tree, reached = orient(edges, slack)
    ids = {}
    for b in sorted(in_service):
        rep = merge.find(b)
        if rep in reached:
            ids[b] = rep + 1
        elif rep == b:
            report.note(_label("bus", b, net.bus.at[b, "name"]), "dropped", "not connected to the external grid")
    per_rep: dict[int, complex] = {}
    for b, y in shunts.items():
        per_rep[merge.find(b)] = per_rep.get(merge.find(b), 0j) + y
    buses = [{"id": r + 1, **_name(net.bus.at[r, "name"]), **sh.bus_fields(per_rep.get(r, 0j))}
             for r in sorted(reached)]
    branches = []
    for k, (u, v, e) in enumerate(tree):
        br = {"id": k + 1, "from_bus": u + 1, "to_bus": v + 1, "r_ohm": e.r_ohm, "x_ohm": e.x_ohm,
              "rating_kva": e.rating_kva, "name": " + ".join(e.names), "kind": e.kind,
              **reliability_of(e, defaults)}
        if e.length_km is not None:
            br["length_km"] = e.length_km
        branches.append(br)
    vmin, vmax = voltage_band(net, reached, vm)
    block = {"base_kv": base_kv, "slack_bus": slack + 1, "slack_vm_pu": vm, "vmin_pu": vmin, "vmax_pu": vmax,
             "buses": buses, "branches": branches}
    return block, ids


def voltage_band(net: Any, buses: set[int], vm: float) -> tuple[float, float]:
    """The tightest band of the kept buses' min/max_vm_pu (0.9-1.1 if absent), widened to hold the slack."""
    lo, hi = 0.9, 1.1
    if "min_vm_pu" in net.bus.columns:
        vals = [float(net.bus.at[b, "min_vm_pu"]) for b in buses if not _nan(net.bus.at[b, "min_vm_pu"])]
        lo = max(vals) if vals else lo
    if "max_vm_pu" in net.bus.columns:
        vals = [float(net.bus.at[b, "max_vm_pu"]) for b in buses if not _nan(net.bus.at[b, "max_vm_pu"])]
        hi = min(vals) if vals else hi
    if not lo < hi:
        lo, hi = 0.9, 1.1
    return min(lo, vm), max(hi, vm)


def require_nonneg_load(label: str, p: float) -> None:
    if p < 0:
        raise InstanceError(label + ".p_mw", ">= 0 (a negative load is generation: use an sgen)", p)


def net_to_instance(net: Any, *, name: str, load_profiles: dict[int, str] | None = None,
                    sgen_profiles: dict[int, str] | None = None,
                    base_dir: Path | None = None) -> Imported:
    """Map a pandapower net. ``load_profiles``/``sgen_profiles`` give the profile column of each element
    (per-unit of its p_mw); elements without one are constant at their p_mw."""
    from gplopt.importers.elements import customer_counts, loads_block, units_block

    report = ImportReport()
    defaults = defaults_model(base_dir)
    network, ids = network_block(net, report, defaults)
    load, per_bus = loads_block(net, ids, load_profiles, report)
    counts = customer_counts(net, ids)
    for bus in network["buses"]:
        p, q = per_bus.get(bus["id"], (0.0, 0.0))
        bus["customers"] = counts.get(bus["id"], 0)
        bus["p_kw"], bus["q_kvar"] = p, (q if p > 0 else 0.0)
        if p <= 0 and q != 0:
            report.note(_label("bus", bus["id"], bus.get("name")), "approximated",
                        "reactive load without active load dropped (loads keep their power factor)")
    if sum(b["p_kw"] for b in network["buses"]) <= 0:
        raise GploptError("the network has no in-service load connected to the external grid")
    units = units_block(net, ids, network, sgen_profiles, defaults, report)
    mixes = load.pop("mixes", {})
    data = {"schema_version": "1.0", "name": name, "notes": notes(report), "network": network, "units": units,
            "load": load}
    return Imported(data=data, report=report, mixes=mixes)


def notes(report: ImportReport) -> list[str]:
    kept = ", ".join(f"{n} {t}" for t, n in report.kept.items())
    actions: dict[str, int] = {}
    for e in report.entries:
        actions[e["action"]] = actions.get(e["action"], 0) + 1
    return [f"Imported by gplopt import: kept {kept}; " + ", ".join(f"{n} {a}" for a, n in actions.items())
            + " (see the import report); mapping rules in docs/import.md.",
            "Branch failure rates and repair times come from models/reliability/imported_defaults.json; "
            "branch outages are stored but not yet simulated."]
