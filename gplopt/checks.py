"""Consistency rules, one ``check_*`` per rule, run after type validation and before any model is built.

Each raises :class:`gplopt.errors.InstanceError` naming the JSON path, the rule and the offending value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from gplopt.branch_checks import BRANCH_RULES
from gplopt.errors import InstanceError
from gplopt.instance import GPL, Grid, Instance, TruncGauss, parse_interval
from gplopt.library import load_model
from gplopt.profile_checks import PROFILE_RULES

MAX_BUSES = 2000
MAX_CHARGERS = 5000
MAX_UNITS = 2000
MAX_Z_PU = 10.0           # branch |R|, |X| on the feeder's own base (base_kv, base_mva)
MAX_LATTICE = 100_000     # design points (the search keeps per-point arrays)
TG_SPAN = 5.0             # a truncated Gaussian's mean within this many std of its window
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ID_RE = re.compile(r"^(?!gpls$)[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def _positive(path: str, value: float) -> None:
    if not value > 0:
        raise InstanceError(path, "> 0", value)


def _nonneg(path: str, value: float) -> None:
    if not value >= 0:
        raise InstanceError(path, ">= 0", value)


def _fraction(path: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise InstanceError(path, "in [0, 1]", value)


def check_schema_version(inst: Instance) -> None:
    from gplopt.instance import SCHEMA_VERSION

    if inst.schema_version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise InstanceError("schema_version", f"compatible with {SCHEMA_VERSION}", inst.schema_version)


def check_sizes(inst: Instance) -> None:
    if len(inst.network.buses) > MAX_BUSES:
        raise InstanceError("network.buses", f"at most {MAX_BUSES} buses", len(inst.network.buses))
    if len(inst.units) > MAX_UNITS:
        raise InstanceError("units", f"at most {MAX_UNITS} units", len(inst.units))
    for where, g in lots(inst):
        if g.n_chargers > MAX_CHARGERS:
            raise InstanceError(f"{where}.n_chargers", f"at most {MAX_CHARGERS}", g.n_chargers)


def _within(value: float, allowed: str) -> bool:
    lo, hi, lo_open, hi_open = parse_interval(allowed)
    return (value > lo if lo_open else value >= lo) and (value < hi if hi_open else value <= hi)


def check_ranges(inst: Instance) -> None:
    """Every field declared with ``allowed=`` in the schema lies in its interval (each item of a list)."""
    stack: list[tuple[BaseModel, str]] = [(inst, "")]
    while stack:
        obj, path = stack.pop(0)
        for name, field in type(obj).model_fields.items():
            value, where = getattr(obj, name), f"{path}.{name}" if path else name
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            allowed = extra.get("x-allowed")
            if allowed and value is not None:
                unit = f" {extra['x-unit']}" if extra.get("x-unit") else ""
                for i, v in enumerate(value if isinstance(value, list) else [value]):
                    if not _within(v, str(allowed)):
                        raise InstanceError(f"{where}[{i}]" if isinstance(value, list) else where,
                                            f"in {allowed}{unit}", v)
            if isinstance(value, BaseModel):
                stack.append((value, where))
            elif isinstance(value, list):
                stack += [(v, f"{where}[{i}]") for i, v in enumerate(value) if isinstance(v, BaseModel)]


def check_model_names(inst: Instance) -> None:
    """Model names are plain file stems: no path separators, no '..', nothing hidden."""
    names = [("load.shape", inst.load.shape), ("economics.costs_model", inst.economics.costs_model)]
    for where, g in lots(inst):
        names += [(f"{where}.ev_type", g.ev_type), (f"{where}.participation", g.participation),
                  (f"{where}.charger_type", g.charger_type)]
    for path, name in names:
        if name is not None and (not MODEL_NAME.match(name) or ".." in name):
            raise InstanceError(path, "a plain model name (letters, digits, '_', '-', '.'; no path separators "
                                "or '..'; at most 64 characters)", name)


def check_unique_ids(inst: Instance) -> None:
    for path, ids in (
        ("network.buses", [b.id for b in inst.network.buses]),
        ("network.branches", [b.id for b in inst.network.branches]),
        ("units", [u.id for u in inst.units]),
        ("gpls", [g.id for g in inst.gpls]),
    ):
        seen: set[Any] = set()
        for i, x in enumerate(ids):
            if x in seen:
                raise InstanceError(f"{path}[{i}].id", "unique", x)
            seen.add(x)
    if not inst.network.buses:
        raise InstanceError("network.buses", "at least one bus", [])


def check_referenced_buses(inst: Instance) -> None:
    buses = {b.id for b in inst.network.buses}
    refs: list[tuple[str, int | None]] = [("network.slack_bus", inst.network.slack_bus)]
    refs += [(f"network.branches[{i}].from_bus", b.from_bus) for i, b in enumerate(inst.network.branches)]
    refs += [(f"network.branches[{i}].to_bus", b.to_bus) for i, b in enumerate(inst.network.branches)]
    refs += [(f"units[{i}].bus", u.bus) for i, u in enumerate(inst.units)]
    refs += [(f"{where}.bus", g.bus) for where, g in lots(inst)]
    refs.append(("ecc_reference.bus", inst.ecc_reference.bus))
    for path, bus in refs:
        if bus is not None and bus not in buses:
            raise InstanceError(path, "an existing bus id", bus)


def check_radial_tree(inst: Instance) -> None:
    """Branches form one tree over all buses, rooted at the slack bus (connected, no loops)."""
    n = len(inst.network.buses)
    br = [b for b in inst.network.branches if not b.normally_open]   # tie lines: gplopt.branch_checks
    if len(br) != n - 1:
        raise InstanceError("network.branches", f"a radial tree: exactly {n - 1} branches for {n} buses "
                            "(normally_open ties not counted)", len(br))
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.get(x, x) != x:
            x = parent.get(x, x)
        return x

    for i, b in enumerate(br):
        if b.from_bus == b.to_bus:
            raise InstanceError(f"network.branches[{i}]", "between two different buses", b.from_bus)
        ra, rb = root(b.from_bus), root(b.to_bus)
        if ra == rb:
            raise InstanceError(f"network.branches[{i}]", "radial (this branch closes a loop)",
                                f"{b.from_bus}-{b.to_bus}")
        parent[ra] = rb
    roots = {root(b.id) for b in inst.network.buses}
    if len(roots) > 1:
        raise InstanceError("network.branches", "connected (one island)", f"{len(roots)} islands")


def check_branch_data(inst: Instance) -> None:
    net = inst.network
    z_base = net.base_kv**2 / net.base_mva
    for i, b in enumerate(net.branches):
        if b.r_ohm == 0 and b.x_ohm == 0:
            raise InstanceError(f"network.branches[{i}]", "non-zero impedance (r_ohm or x_ohm > 0)", 0.0)
        for name, ohm in (("r_ohm", b.r_ohm), ("x_ohm", b.x_ohm)):
            pu = ohm * net.impedance_scale / z_base
            if pu > MAX_Z_PU:
                raise InstanceError(f"network.branches[{i}].{name}", f"at most {MAX_Z_PU:g} pu on the feeder base "
                                    f"(x impedance_scale / (base_kv^2/base_mva) = {pu:.3g} pu)", ohm)


def check_network_limits(inst: Instance) -> None:
    net = inst.network
    if not 0 < net.vmin_pu < net.vmax_pu:
        raise InstanceError("network.vmin_pu", "0 < vmin_pu < vmax_pu", (net.vmin_pu, net.vmax_pu))
    if not net.vmin_pu <= net.slack_vm_pu <= net.vmax_pu:
        raise InstanceError("network.slack_vm_pu", "within [vmin_pu, vmax_pu]", net.slack_vm_pu)


def check_loads(inst: Instance) -> None:
    for i, b in enumerate(inst.network.buses):
        if b.p_kw == 0 and b.q_kvar != 0:
            raise InstanceError(f"network.buses[{i}].q_kvar", "0 where p_kw is 0 (loads keep their power "
                                "factor)", b.q_kvar)
    if sum(b.p_kw for b in inst.network.buses) <= 0:
        raise InstanceError("network.buses", "some bus with p_kw > 0 (the load is shared by p_kw)", 0.0)


def check_units(inst: Instance) -> None:
    grids = [i for i, u in enumerate(inst.units) if u.type == "external_grid"]
    for i, u in enumerate(inst.units):
        if u.type == "external_grid":
            a = u.availability
            if not 0 <= a.low <= a.high <= 1:
                raise InstanceError(f"units[{i}].availability", "0 <= low <= high <= 1", (a.low, a.high))
            if u.bus != inst.network.slack_bus:
                raise InstanceError(f"units[{i}].bus", f"the slack bus {inst.network.slack_bus}", u.bus)
        if u.type == "wind" and not 0 <= u.cut_in_m_s < u.rated_m_s <= u.cut_out_m_s:
            raise InstanceError(f"units[{i}]", "0 <= cut_in < rated <= cut_out",
                                (u.cut_in_m_s, u.rated_m_s, u.cut_out_m_s))
    if len(grids) > 1:
        raise InstanceError(f"units[{grids[1]}].type", "at most one external_grid", "external_grid")
    if not inst.units:
        raise InstanceError("units", "at least one unit", [])


def _check_tg(path: str, tg: TruncGauss, lo: float, hi: float) -> None:
    if not lo <= tg.min < tg.max <= hi:
        raise InstanceError(path, f"{lo} <= min < max <= {hi}", (tg.min, tg.max))
    if not tg.min - TG_SPAN * tg.std <= tg.mean <= tg.max + TG_SPAN * tg.std:
        raise InstanceError(f"{path}.mean", f"within {TG_SPAN:g} std of [min, max] = [{tg.min:g}, {tg.max:g}] "
                            "(else every draw sits on a bound)", tg.mean)


def check_gpl(inst: Instance, base_dir: Path | None = None) -> None:
    for where, g in lots(inst):
        check_lot(g, where, base_dir)


def lots(inst: Instance) -> list[tuple[str, GPL]]:
    """(JSON path, lot) of every parking lot."""
    return [(f"gpls[{i}]", g) for i, g in enumerate(inst.gpls)]


def check_lot(g: GPL, where: str, base_dir: Path | None = None) -> None:
    if not ID_RE.match(g.id):
        raise InstanceError(f"{where}.id", "a plain id (letters, digits, '_', '-'; at most 64 characters; "
                            "not 'gpls')", g.id)
    if not g.v2g_min_soc < g.soc_threshold:
        raise InstanceError(f"{where}.v2g_min_soc", f"< soc_threshold ({g.soc_threshold})", g.v2g_min_soc)
    _check_tg(f"{where}.sessions.soc_ini", g.sessions.soc_ini, 0.0, 1.0)
    _check_tg(f"{where}.sessions.arrival_h", g.sessions.arrival_h, 0.0, 24.0)
    _check_tg(f"{where}.sessions.departure_h", g.sessions.departure_h, 0.0, 24.0)
    arr, dep = g.sessions.arrival_h, g.sessions.departure_h
    if dep.max <= arr.max:   # else late arrivals would get a departure clipped to before their arrival
        raise InstanceError(f"{where}.sessions.departure_h.max", f"> arrival_h.max ({arr.max:g}): the departure "
                            "window must end after the arrival window", dep.max)
    ev = load_model("ev", g.ev_type, f"{where}.ev_type", base_dir)
    if not (isinstance(ev.get("battery_kwh"), int | float) and ev["battery_kwh"] > 0):
        raise InstanceError(f"models/ev/{g.ev_type}.battery_kwh", "> 0", ev.get("battery_kwh"))
    check_participation_curve(load_model("participation", g.participation, f"{where}.participation", base_dir),
                              f"models/participation/{g.participation}")
    ch = load_model("chargers", g.charger_type, f"{where}.charger_type", base_dir)
    for key in ("capital_fixed", "capital_per_kw", "life_years", "discount_rate"):
        if not isinstance(ch.get(key), int | float) or ch[key] < 0:
            raise InstanceError(f"models/chargers/{g.charger_type}.{key}", "a number >= 0", ch.get(key))
    if g.battery_wear is not None:   # the model's fields are checked by its schema as it loads
        load_model("costs", g.battery_wear, f"{where}.battery_wear", base_dir)


def check_participation_curve(curve: dict[str, Any], path: str) -> None:
    """Rates in [0, 1], prices increasing, rates non-decreasing in price."""
    grades = curve.get("grades")
    if not isinstance(grades, list) or not grades:
        raise InstanceError(f"{path}.grades", "a non-empty list", grades)
    prev: dict[str, float] = {}
    for i, g in enumerate(grades):
        for key in ("price_per_kwh", "v2g", "load_reduction"):
            v = g.get(key) if isinstance(g, dict) else None
            if not isinstance(v, int | float) or not math.isfinite(v):
                raise InstanceError(f"{path}.grades[{i}].{key}", "a finite number", v)
            if key != "price_per_kwh":
                _fraction(f"{path}.grades[{i}].{key}", v)
            if key in prev and (v <= prev[key] if key == "price_per_kwh" else v < prev[key]):
                rule = "increasing" if key == "price_per_kwh" else "non-decreasing in price"
                raise InstanceError(f"{path}.grades[{i}].{key}", rule, v)
            prev[key] = v


def check_simulation(inst: Instance) -> None:
    s = inst.simulation
    if s.min_years < 2:
        raise InstanceError("simulation.min_years", ">= 2", s.min_years)
    if s.max_years < s.min_years:
        raise InstanceError("simulation.max_years", f">= min_years ({s.min_years})", s.max_years)
    if s.max_years > 100000:
        raise InstanceError("simulation.max_years", "<= 100000", s.max_years)
    if s.batch_years < 1:
        raise InstanceError("simulation.batch_years", ">= 1", s.batch_years)


def check_load(inst: Instance, base_dir: Path | None = None) -> None:
    ld = inst.load
    given = [x for x in (ld.shape, ld.series_kw, ld.csv, ld.bus_profiles, ld.bus_table) if x is not None]
    if len(given) != 1:
        raise InstanceError("load", "exactly one of shape, series_kw, csv, bus_profiles, bus_table", len(given))
    if ld.hours not in (8736, 8760):
        raise InstanceError("load.hours", "8736 or 8760", ld.hours)
    if ld.shape is not None:
        load_model("load_shapes", ld.shape, "load.shape", base_dir)
    if ld.series_kw is not None:
        _check_series("load.series_kw", ld.series_kw, ld.hours)
    if ld.csv is not None:
        p = Path(ld.csv)
        if not p.is_absolute() and base_dir is not None:
            p = base_dir / p
        if not p.is_file():
            raise InstanceError("load.csv", "an existing file", str(p))
        from gplopt.system import read_series_csv

        _check_series("load.csv", read_series_csv(p), ld.hours)


def _check_series(path: str, series: Sequence[float], hours: int) -> None:
    if len(series) not in (1, 24, hours):
        raise InstanceError(path, f"length 1, 24 or load.hours ({hours})", len(series))
    for i, v in enumerate(series):
        if not math.isfinite(v) or v < 0:
            raise InstanceError(f"{path}[{i}]", "finite and >= 0", v)
    if max(series) <= 0:
        raise InstanceError(path, "some hour > 0", 0.0)


def _grid_values(path: str, g: Grid) -> list[float]:
    if g.values is not None:
        if not g.values:
            raise InstanceError(f"{path}.values", "non-empty", g.values)
        return list(g.values)
    if g.low is None or g.high is None:
        raise InstanceError(path, "values, or low and high", g.model_dump())
    if g.low > g.high:
        raise InstanceError(path, "low <= high", (g.low, g.high))
    if g.step is not None and g.step <= 0:
        raise InstanceError(f"{path}.step", "> 0", g.step)
    return [g.low, g.high]


def _grid_size(g: Grid) -> float:
    """Number of lattice values of ``g`` (as design.space.grid_values makes them), without making them."""
    if g.values is not None:
        return len(set(g.values))
    assert g.low is not None and g.high is not None
    if g.step is None:
        return 5.0 if g.high > g.low else 1.0
    return math.floor((g.high - g.low) / g.step + 1e-9) + 1.0


def check_design(inst: Instance) -> None:
    d = inst.design
    if not d.incentive_grades or sorted(d.incentive_grades) != list(d.incentive_grades):
        raise InstanceError("design.incentive_grades", "non-empty and increasing", d.incentive_grades)
    for name in ("n_chargers", "discharge_kw", "soc_threshold"):   # the interval of the GPL field it sets
        extra = GPL.model_fields[name].json_schema_extra
        allowed = str(extra["x-allowed"]) if isinstance(extra, dict) else "[0, inf]"
        for v in _grid_values(f"design.{name}", getattr(d, name)):
            if not _within(v, allowed) or (name == "discharge_kw" and v <= 0):
                rule = "in (0, 1000]" if name == "discharge_kw" else f"in {allowed}"
                raise InstanceError(f"design.{name}", f"{rule} (the interval of gpl.{name})", v)
    size = len(set(d.incentive_grades)) * math.prod(_grid_size(g) for g in (d.discharge_kw, d.soc_threshold))
    size *= _check_design_lots(inst)
    if size > MAX_LATTICE:
        raise InstanceError("design", f"a lattice of at most {MAX_LATTICE:,} points (grades x n_chargers x "
                            "discharge_kw x soc_threshold values, x buses and chargers of every lot)",
                            f"{size:.4g} points")


def _check_design_lots(inst: Instance) -> float:
    """``design.lots``: known lot ids (unless the instance has no lot: ``--set gpl=null`` keeps working),
    candidate buses of the network, charger grids in range. Returns the number of (bus, chargers) combinations
    over all lots (before the shared budget)."""
    d, ids = inst.design, [g.id for g in inst.gpls]
    buses = {b.id for b in inst.network.buses}
    for lot_id, ld in d.lots.items():
        if ids and lot_id not in ids:
            raise InstanceError(f"design.lots.{lot_id}", f"a lot id of gpls ({', '.join(ids) or 'none'})", lot_id)
        if ld.bus is not None and (not ld.bus or len(set(ld.bus)) != len(ld.bus)):
            raise InstanceError(f"design.lots.{lot_id}.bus", "a non-empty list of distinct bus ids", ld.bus)
        for b in ld.bus or []:
            if b not in buses:
                raise InstanceError(f"design.lots.{lot_id}.bus", "bus ids of network.buses", b)
        for v in _grid_values(f"design.lots.{lot_id}.n_chargers", ld.n_chargers) if ld.n_chargers else []:
            if not 0 <= v <= MAX_CHARGERS:
                raise InstanceError(f"design.lots.{lot_id}.n_chargers", f"in [0, {MAX_CHARGERS}] (the interval "
                                    "of gpl.n_chargers)", v)
    if not d.lots and len(ids) <= 1:
        return _grid_size(d.n_chargers)
    return math.prod(len(d.lots[i].bus or [0]) * _grid_size(d.lots[i].n_chargers or d.n_chargers)
                     if i in d.lots else _grid_size(d.n_chargers) for i in ids)


RULES: tuple[Callable[..., None], ...] = (
    check_schema_version, check_sizes, check_ranges, check_model_names, check_unique_ids, check_referenced_buses,
    check_radial_tree, check_branch_data, check_network_limits, check_loads, check_units, check_gpl,
    check_simulation, check_load, check_design,
) + PROFILE_RULES + BRANCH_RULES


def check_instance(inst: Instance, base_dir: Path | None = None) -> None:
    """Run every rule; the first violation raises."""
    for rule in RULES:
        if "base_dir" in rule.__code__.co_varnames[: rule.__code__.co_argcount]:
            rule(inst, base_dir)
        else:
            rule(inst)
