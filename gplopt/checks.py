"""Consistency rules, one ``check_*`` per rule, run after type validation and before any model is built.

Each raises :class:`gplopt.errors.InstanceError` naming the JSON path, the rule and the offending value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gplopt.errors import InstanceError
from gplopt.instance import Grid, Instance, TruncGauss
from gplopt.library import load_model

MAX_BUSES = 2000
MAX_CHARGERS = 5000
MAX_UNITS = 2000


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
    if inst.gpl is not None and inst.gpl.n_chargers > MAX_CHARGERS:
        raise InstanceError("gpl.n_chargers", f"at most {MAX_CHARGERS}", inst.gpl.n_chargers)


def check_unique_ids(inst: Instance) -> None:
    for path, ids in (
        ("network.buses", [b.id for b in inst.network.buses]),
        ("network.branches", [b.id for b in inst.network.branches]),
        ("units", [u.id for u in inst.units]),
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
    if inst.gpl is not None:
        refs.append(("gpl.bus", inst.gpl.bus))
    refs.append(("ecc_reference.bus", inst.ecc_reference.bus))
    for path, bus in refs:
        if bus is not None and bus not in buses:
            raise InstanceError(path, "an existing bus id", bus)


def check_radial_tree(inst: Instance) -> None:
    """Branches form one tree over all buses, rooted at the slack bus (connected, no loops)."""
    n = len(inst.network.buses)
    br = inst.network.branches
    if len(br) != n - 1:
        raise InstanceError("network.branches", f"a radial tree: exactly {n - 1} branches for {n} buses",
                            len(br))
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
    for i, b in enumerate(inst.network.branches):
        _nonneg(f"network.branches[{i}].r_ohm", b.r_ohm)
        _nonneg(f"network.branches[{i}].x_ohm", b.x_ohm)
        if b.r_ohm == 0 and b.x_ohm == 0:
            raise InstanceError(f"network.branches[{i}]", "non-zero impedance (r_ohm or x_ohm > 0)", 0.0)
        if b.rating_kva is not None:
            _positive(f"network.branches[{i}].rating_kva", b.rating_kva)


def check_network_limits(inst: Instance) -> None:
    net = inst.network
    _positive("network.base_kv", net.base_kv)
    _positive("network.base_mva", net.base_mva)
    _positive("network.impedance_scale", net.impedance_scale)
    _positive("network.slack_vm_pu", net.slack_vm_pu)
    if not 0 < net.vmin_pu < net.vmax_pu:
        raise InstanceError("network.vmin_pu", "0 < vmin_pu < vmax_pu", (net.vmin_pu, net.vmax_pu))
    if not net.vmin_pu <= net.slack_vm_pu <= net.vmax_pu:
        raise InstanceError("network.slack_vm_pu", "within [vmin_pu, vmax_pu]", net.slack_vm_pu)


def check_loads(inst: Instance) -> None:
    for i, b in enumerate(inst.network.buses):
        _nonneg(f"network.buses[{i}].p_kw", b.p_kw)
        _positive(f"network.buses[{i}].voll_cny_per_kwh", b.voll_cny_per_kwh)
        if b.p_kw == 0 and b.q_kvar != 0:
            raise InstanceError(f"network.buses[{i}].q_kvar", "0 where p_kw is 0 (loads keep their power "
                                "factor)", b.q_kvar)
    if sum(b.p_kw for b in inst.network.buses) <= 0:
        raise InstanceError("network.buses", "some bus with p_kw > 0 (the load is shared by p_kw)", 0.0)


def check_units(inst: Instance) -> None:
    grids = [i for i, u in enumerate(inst.units) if u.type == "external_grid"]
    for i, u in enumerate(inst.units):
        _positive(f"units[{i}].capacity_kw", u.capacity_kw)
        _positive(f"units[{i}].mttf_h", u.mttf_h)
        _positive(f"units[{i}].mttr_h", u.mttr_h)
        _nonneg(f"units[{i}].q_max_kvar", u.q_max_kvar)
        if u.type == "external_grid":
            a = u.availability
            if not 0 <= a.low <= a.high <= 1:
                raise InstanceError(f"units[{i}].availability", "0 <= low <= high <= 1", (a.low, a.high))
            if u.bus != inst.network.slack_bus:
                raise InstanceError(f"units[{i}].bus", f"the slack bus {inst.network.slack_bus}", u.bus)
        if u.type == "wind":
            _positive(f"units[{i}].weibull_shape", u.weibull_shape)
            _positive(f"units[{i}].weibull_scale_m_s", u.weibull_scale_m_s)
            if not 0 <= u.cut_in_m_s < u.rated_m_s <= u.cut_out_m_s:
                raise InstanceError(f"units[{i}]", "0 <= cut_in < rated <= cut_out",
                                    (u.cut_in_m_s, u.rated_m_s, u.cut_out_m_s))
    if len(grids) > 1:
        raise InstanceError(f"units[{grids[1]}].type", "at most one external_grid", "external_grid")
    if not inst.units:
        raise InstanceError("units", "at least one unit", [])


def _check_tg(path: str, tg: TruncGauss, lo: float, hi: float) -> None:
    _positive(f"{path}.std", tg.std)
    if not lo <= tg.min < tg.max <= hi:
        raise InstanceError(path, f"{lo} <= min < max <= {hi}", (tg.min, tg.max))


def check_gpl(inst: Instance, base_dir: Path | None = None) -> None:
    g = inst.gpl
    if g is None:
        return
    if g.n_chargers < 0:
        raise InstanceError("gpl.n_chargers", ">= 0", g.n_chargers)
    _positive("gpl.charge_kw", g.charge_kw)
    if g.discharge_kw is not None:
        _nonneg("gpl.discharge_kw", g.discharge_kw)
    if not 0 < g.efficiency <= 1:
        raise InstanceError("gpl.efficiency", "in (0, 1]", g.efficiency)
    _positive("gpl.charger_mttf_h", g.charger_mttf_h)
    _positive("gpl.charger_mttr_h", g.charger_mttr_h)
    _fraction("gpl.soc_threshold", g.soc_threshold)
    _fraction("gpl.v2g_min_soc", g.v2g_min_soc)
    if not g.v2g_min_soc < g.soc_threshold:
        raise InstanceError("gpl.v2g_min_soc", f"< soc_threshold ({g.soc_threshold})", g.v2g_min_soc)
    if not 0 < g.sessions_per_charger_per_day <= 4:
        raise InstanceError("gpl.sessions_per_charger_per_day", "in (0, 4]", g.sessions_per_charger_per_day)
    _check_tg("gpl.sessions.soc_ini", g.sessions.soc_ini, 0.0, 1.0)
    _check_tg("gpl.sessions.arrival_h", g.sessions.arrival_h, 0.0, 24.0)
    _check_tg("gpl.sessions.departure_h", g.sessions.departure_h, 0.0, 24.0)
    if g.sessions.departure_h.max <= g.sessions.arrival_h.min:
        raise InstanceError("gpl.sessions.departure_h.max", f"> arrival_h.min ({g.sessions.arrival_h.min})",
                            g.sessions.departure_h.max)
    ev = load_model("ev", g.ev_type, "gpl.ev_type", base_dir)
    if not (isinstance(ev.get("battery_kwh"), int | float) and ev["battery_kwh"] > 0):
        raise InstanceError(f"models/ev/{g.ev_type}.battery_kwh", "> 0", ev.get("battery_kwh"))
    check_participation_curve(load_model("participation", g.participation, "gpl.participation", base_dir),
                              f"models/participation/{g.participation}")
    ch = load_model("chargers", g.charger_type, "gpl.charger_type", base_dir)
    for key in ("capital_fixed_cny", "capital_per_kw_cny", "life_years", "discount_rate"):
        if not isinstance(ch.get(key), int | float) or ch[key] < 0:
            raise InstanceError(f"models/chargers/{g.charger_type}.{key}", "a number >= 0", ch.get(key))
    if g.battery_wear is not None:
        wear = load_model("costs", g.battery_wear, "gpl.battery_wear", base_dir)
        for key in ("battery_price_per_kwh", "cycle_life_cycles", "cycle_life_dod"):
            v = wear.get(key)
            if not isinstance(v, int | float) or isinstance(v, bool) or not 0 < v < 1e9 or \
                    (key == "cycle_life_dod" and v > 1):
                rule = "in (0, 1]" if key == "cycle_life_dod" else "a number in (0, 1e9)"
                raise InstanceError(f"models/costs/{g.battery_wear}.{key}", rule, v)


def check_participation_curve(curve: dict[str, Any], path: str) -> None:
    """Rates in [0, 1], prices increasing, rates non-decreasing in price."""
    grades = curve.get("grades")
    if not isinstance(grades, list) or not grades:
        raise InstanceError(f"{path}.grades", "a non-empty list", grades)
    prev: dict[str, float] = {}
    for i, g in enumerate(grades):
        for key in ("price_cny_per_kwh", "v2g", "load_reduction"):
            v = g.get(key) if isinstance(g, dict) else None
            if not isinstance(v, int | float) or not math.isfinite(v):
                raise InstanceError(f"{path}.grades[{i}].{key}", "a finite number", v)
            if key != "price_cny_per_kwh":
                _fraction(f"{path}.grades[{i}].{key}", v)
            if key in prev and (v <= prev[key] if key == "price_cny_per_kwh" else v < prev[key]):
                rule = "increasing" if key == "price_cny_per_kwh" else "non-decreasing in price"
                raise InstanceError(f"{path}.grades[{i}].{key}", rule, v)
            prev[key] = v


def check_incentive(inst: Instance) -> None:
    _nonneg("incentive.price_cny_per_kwh", inst.incentive.price_cny_per_kwh)
    _nonneg("incentive.operator_reserve_price_cny_per_kwh", inst.incentive.operator_reserve_price_cny_per_kwh)


def check_economics(inst: Instance) -> None:
    e = inst.economics
    for name in ("storage_power_cost_cny_per_kw", "storage_energy_cost_cny_per_kwh",
                 "storage_om_cny_per_kwh_year", "storage_hours", "charging_margin_cny_per_kwh"):
        _nonneg(f"economics.{name}", getattr(e, name))
    _positive("economics.storage_life_years", e.storage_life_years)


def check_reference_unit(inst: Instance) -> None:
    r = inst.ecc_reference
    _positive("ecc_reference.capacity_max_kw", r.capacity_max_kw)
    _positive("ecc_reference.mttf_h", r.mttf_h)
    _positive("ecc_reference.mttr_h", r.mttr_h)
    if not 0 < r.tolerance < 1:
        raise InstanceError("ecc_reference.tolerance", "in (0, 1)", r.tolerance)


def check_simulation(inst: Instance) -> None:
    s = inst.simulation
    if not 0 < s.target_cov < 1:
        raise InstanceError("simulation.target_cov", "in (0, 1)", s.target_cov)
    if s.min_years < 2:
        raise InstanceError("simulation.min_years", ">= 2", s.min_years)
    if s.max_years < s.min_years:
        raise InstanceError("simulation.max_years", f">= min_years ({s.min_years})", s.max_years)
    if s.max_years > 100000:
        raise InstanceError("simulation.max_years", "<= 100000", s.max_years)
    if s.batch_years < 1:
        raise InstanceError("simulation.batch_years", ">= 1", s.batch_years)
    if s.seed < 0:
        raise InstanceError("simulation.seed", ">= 0", s.seed)


def check_load(inst: Instance, base_dir: Path | None = None) -> None:
    ld = inst.load
    given = [x for x in (ld.shape, ld.series_kw, ld.csv) if x is not None]
    if len(given) != 1:
        raise InstanceError("load", "exactly one of shape, series_kw, csv", len(given))
    if ld.hours not in (8736, 8760):
        raise InstanceError("load.hours", "8736 or 8760", ld.hours)
    if ld.peak_kw is not None:
        _positive("load.peak_kw", ld.peak_kw)
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


def check_design(inst: Instance) -> None:
    d = inst.design
    if not d.incentive_grades or sorted(d.incentive_grades) != list(d.incentive_grades):
        raise InstanceError("design.incentive_grades", "non-empty and increasing", d.incentive_grades)
    for v in d.incentive_grades:
        _nonneg("design.incentive_grades[]", v)
    for v in _grid_values("design.n_chargers", d.n_chargers):
        _nonneg("design.n_chargers", v)
    for v in _grid_values("design.discharge_kw", d.discharge_kw):
        _positive("design.discharge_kw", v)
    for v in _grid_values("design.soc_threshold", d.soc_threshold):
        _fraction("design.soc_threshold", v)
    if d.budget < 1:
        raise InstanceError("design.budget", ">= 1", d.budget)


RULES: tuple[Callable[..., None], ...] = (
    check_schema_version, check_sizes, check_unique_ids, check_referenced_buses, check_radial_tree,
    check_branch_data, check_network_limits, check_loads, check_units, check_gpl, check_incentive,
    check_economics, check_reference_unit, check_simulation, check_load, check_design,
)


def check_instance(inst: Instance, base_dir: Path | None = None) -> None:
    """Run every rule; the first violation raises."""
    for rule in RULES:
        if "base_dir" in rule.__code__.co_varnames[: rule.__code__.co_argcount]:
            rule(inst, base_dir)
        else:
            rule(inst)
