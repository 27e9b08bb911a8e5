"""``System``: the immutable arrays built once from a validated Instance (network, units, GPL, fleet, load).

Everything downstream (sampling, adequacy, OPF) reads these arrays and nothing else of the instance.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from gplopt.grid_outages import GridOutages, grid_outages
from gplopt.importers.profiles import HOURS, hourly_column, read_columns, rts79_series
from gplopt.instance import Economics, Instance, ReferenceUnit, Simulation
from gplopt.library import load_model


# ------------------------------------------------------------------------------------------ load shapes
# rts79_series lives in importers/profiles.py (a pure series builder) and is imported above
def read_series_csv(path: str | Path) -> list[float]:
    vals: list[float] = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            if not row or not row[0].strip():
                continue
            try:
                vals.append(float(row[-1]))
            except ValueError:
                if vals:  # a non-number after data is an error; a header line is not
                    vals.append(float("nan"))
    return vals


def load_series_kw(inst: Instance, base_dir: Path | None = None) -> np.ndarray:
    ld = inst.load
    if ld.shape is not None:
        model = load_model("load_shapes", ld.shape, "load.shape", base_dir)
        pu = rts79_series(model["tables"], ld.hours)
        peak = ld.peak_kw if ld.peak_kw is not None else sum(b.p_kw for b in inst.network.buses)
        return pu / pu.max() * peak
    raw = np.asarray(ld.series_kw if ld.series_kw is not None else read_series_csv(str(ld.csv)), float)
    if raw.size in (1, 24):
        raw = np.tile(raw, math.ceil(ld.hours / raw.size))[: ld.hours]
    if ld.peak_kw is not None:
        raw = raw / raw.max() * ld.peak_kw
    return raw


def bus_load_table(inst: Instance, base_dir: Path | None = None) -> np.ndarray | None:
    """(H, B) hourly active bus loads (kW) from ``load.bus_profiles`` or ``load.bus_table``; None for the
    single-shape form (then the system load is spread by p_kw share)."""
    ld, buses = inst.load, inst.network.buses
    table = np.zeros((HOURS, len(buses)))
    if ld.bus_table is not None:
        cols = read_columns(ld.bus_table, base_dir, "load.bus_table")
        for j, b in enumerate(buses):
            if str(b.id) in cols or b.p_kw > 0:
                table[:, j] = hourly_column(cols, str(b.id), f"load.bus_table (bus {b.id})", ld.bus_table)
    elif ld.bus_profiles is not None and inst.profiles is not None:
        cols = read_columns(inst.profiles.file, base_dir, "profiles.file")
        for j, b in enumerate(buses):
            name = ld.bus_profiles.get(str(b.id))
            if name is not None:
                table[:, j] = b.p_kw * hourly_column(cols, name, f"load.bus_profiles.{b.id}", inst.profiles.file)
    else:
        return None
    if ld.peak_kw is not None:
        table *= ld.peak_kw / table.sum(axis=1).max()
    return table


def unit_profiles(inst: Instance, base_dir: Path | None = None) -> dict[str, np.ndarray]:
    """Hourly available fraction of each profiled unit's capacity, by unit id."""
    out: dict[str, np.ndarray] = {}
    for i, u in enumerate(inst.units):
        if u.type == "profile" and inst.profiles is not None:
            cols = read_columns(inst.profiles.file, base_dir, "profiles.file")
            out[u.id] = hourly_column(cols, u.profile, f"units[{i}].profile", inst.profiles.file)
    return out


# ------------------------------------------------------------------------------------------ participation
def participation_rates(curve: dict[str, Any], price: float) -> tuple[float, float]:
    """(V2G rate, load-reduction rate) at a price: linear between surveyed grades, parametric outside."""
    g = curve["grades"]
    prices = np.array([x["price_per_kwh"] for x in g], float)
    out = []
    for key in ("v2g", "load_reduction"):
        rates = np.array([x[key] for x in g], float)
        par = curve.get("parametric", {}).get(key)
        if prices[0] <= price <= prices[-1] or par is None:
            out.append(float(np.interp(price, prices, rates)))
        else:
            r = par["r_max"] * (1.0 - math.exp(-par["k"] * (price - par["p0"])))
            out.append(float(min(1.0, max(0.0, r))))
    return out[0], out[1]


def wear_cost_per_kwh(model: dict[str, Any], eta: float) -> float:
    """Battery wear per kWh of V2G delivered: price / (cycles x depth of discharge), divided by efficiency
    (linear throughput ageing; see models/costs/battery_wear_nmc.json)."""
    per_kwh_cycled = model["battery_price_per_kwh"] / (model["cycle_life_cycles"] * model["cycle_life_dod"])
    return float(per_kwh_cycled / eta)


def charger_annual_cost(model: dict[str, Any], rating_kw: float) -> float:
    """Annualized cost of one charger (currency/yr): capital x CRF + O&M as a fraction of capital."""
    capital = model["capital_fixed"] + model["capital_per_kw"] * rating_kw
    r, n = model["discount_rate"], model["life_years"]
    crf = 1.0 / n if r == 0 else r * (1 + r) ** n / ((1 + r) ** n - 1)
    return float(capital * (crf + model.get("om_fraction_per_year", 0.0)))


# ------------------------------------------------------------------------------------------ the arrays
@dataclass(frozen=True)
class Network:
    bus_ids: np.ndarray            # (B,) int, the instance's bus numbers
    root: int                      # index of the slack bus
    parent: np.ndarray             # (B,) int, parent bus index (-1 for root)
    order: np.ndarray              # (B,) bus indices in breadth-first order from the root
    branch_ids: np.ndarray         # (B,) branch id feeding each bus (-1 for root)
    r_pu: np.ndarray               # (B,) impedance of the branch feeding each bus (0 for root)
    x_pu: np.ndarray
    rating_pu: np.ndarray          # (B,) inf where unlimited
    p_share: np.ndarray            # (B,) fraction of system active load
    q_over_p: np.ndarray           # (B,) reactive/active ratio of each bus load
    voll: np.ndarray               # (B,) currency/kWh
    shunt_g_pu: np.ndarray         # (B,) shunt admittance to ground, G + jB (pu of base_kva): consumes G V^2,
    shunt_b_pu: np.ndarray         # injects B V^2 (B > 0 capacitive); zero in instances without shunts
    base_kva: float
    base_kv: float
    vmin: float
    vmax: float
    v_ref: float

    @property
    def n_bus(self) -> int:
        return int(self.bus_ids.size)

    def index(self, bus_id: int) -> int:
        return int(np.flatnonzero(self.bus_ids == bus_id)[0])

    @property
    def copper_plate(self) -> bool:
        return self.n_bus == 1

    @property
    def has_shunts(self) -> bool:
        return bool(self.shunt_g_pu.any() or self.shunt_b_pu.any())


@dataclass(frozen=True)
class Units:
    ids: tuple[str, ...]
    kind: tuple[str, ...]          # conventional | wind | external_grid
    bus: np.ndarray                # (U,) bus index
    capacity_kw: np.ndarray
    mttf_h: np.ndarray
    mttr_h: np.ndarray
    q_max_kvar: np.ndarray
    wind: tuple[tuple[float, float, float, float, float], ...]  # per unit (k, c, cut_in, rated, cut_out)
    avail_low: np.ndarray          # external-grid hourly availability bounds (1, 1 for others)
    avail_high: np.ndarray
    avail_resample: tuple[str, ...]  # external grid: hour | day | event ('hour' for others)
    avail_event_h: np.ndarray        # mean holding time of an 'event' draw (h)

    @property
    def n(self) -> int:
        return len(self.ids)

    def without(self, name: str) -> Units:
        keep = [i for i, x in enumerate(self.ids) if x != name]
        return self.select(keep)

    def select(self, keep: list[int]) -> Units:
        return Units(
            ids=tuple(self.ids[i] for i in keep), kind=tuple(self.kind[i] for i in keep),
            bus=self.bus[keep], capacity_kw=self.capacity_kw[keep], mttf_h=self.mttf_h[keep],
            mttr_h=self.mttr_h[keep], q_max_kvar=self.q_max_kvar[keep],
            wind=tuple(self.wind[i] for i in keep), avail_low=self.avail_low[keep],
            avail_high=self.avail_high[keep], avail_resample=tuple(self.avail_resample[i] for i in keep),
            avail_event_h=self.avail_event_h[keep])


@dataclass(frozen=True)
class Fleet:
    """The GPL: chargers, the PEV sessions' distributions and the owners' participation."""
    bus: int                       # bus index
    n_chargers: int
    charge_kw: float
    discharge_kw: float
    eta: float
    charger_mttf_h: float
    charger_mttr_h: float
    battery_kwh: float
    soc_threshold: float
    v2g_min_soc: float
    sessions_per_charger_per_day: float
    soc_ini: tuple[float, float, float, float]       # mean, std, min, max
    arrival: tuple[float, float, float, float]
    departure: tuple[float, float, float, float]
    rate_v2g: float
    rate_lr: float
    v2g_dispatched: bool           # eq. 4-10 and the instance's v2g_enabled
    price: float                   # currency/kWh paid for V2G and load-reduction energy
    charger_cost_per_year: float  # per charger
    wear_cost_per_kwh: float = 0.0  # owners' battery wear per kWh of V2G delivered to the grid
    id: str = "gpl"                # the lot's id (keys its random streams)
    v2g_while_charging: bool = False  # v2g_eligibility 'while_charging': may discharge before the threshold

    @property
    def sessions_per_day(self) -> int:
        return max(1, int(round(self.sessions_per_charger_per_day))) if self.n_chargers else 0


@dataclass(frozen=True)
class Settings:
    """What the engine reads of the instance besides the arrays (System holds no instance): Monte Carlo
    defaults, the ECC reference unit, cost data. Not in the System's fingerprint: they change no simulated number."""
    simulation: Simulation = field(default_factory=Simulation)
    ecc_reference: ReferenceUnit = field(default_factory=ReferenceUnit)
    economics: Economics = field(default_factory=Economics)


@dataclass(frozen=True)
class System:
    name: str
    network: Network
    units: Units
    load_kw: np.ndarray            # (H,) system load
    lots: tuple[Fleet, ...]        # the parking lots, in instance order (ids unique)
    settings: Settings = field(default_factory=Settings, repr=False, compare=False,
                               metadata={"fingerprint": False})
    bus_load_kw: np.ndarray | None = field(default=None, repr=False, compare=False)  # (H, B) per-bus load
    grid: GridOutages = field(default_factory=GridOutages, repr=False, compare=False,
                              metadata={"fingerprint": False})
    unit_profile: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)  # by unit id

    @property
    def hours(self) -> int:
        return int(self.load_kw.size)

    @property
    def fleet(self) -> Fleet | None:
        """The first lot (None without lots): for single-lot code (design varies the first lot)."""
        return self.lots[0] if self.lots else None

    @property
    def lot_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.lots)

    def lot(self, lot_id: str) -> Fleet:
        return self.lots[self.lot_ids.index(lot_id)]

    def replace(self, **kw: Any) -> System:
        return replace(self, **kw)


def build_network(inst: Instance) -> Network:
    net = inst.network
    ids = np.array([b.id for b in net.buses], int)
    pos = {int(b): i for i, b in enumerate(ids)}
    n = ids.size
    root = pos[net.slack_bus]
    adj: dict[int, list[tuple[int, int]]] = {i: [] for i in range(n)}
    for k, br in enumerate(net.branches):
        if br.normally_open:     # tie lines are not part of the radial network (gplopt.branches)
            continue
        a, b = pos[br.from_bus], pos[br.to_bus]
        adj[a].append((b, k))
        adj[b].append((a, k))
    parent = np.full(n, -1, int)
    feed = np.full(n, -1, int)
    order = [root]
    seen = {root}
    for i in order:  # breadth-first; appending while iterating is intended
        for j, k in adj[i]:
            if j not in seen:
                seen.add(j)
                parent[j], feed[j] = i, k
                order.append(j)
    base_kva = net.base_mva * 1000.0
    z_base = net.base_kv**2 / net.base_mva
    r = np.zeros(n)
    x = np.zeros(n)
    rating = np.full(n, np.inf)
    branch_ids = np.full(n, -1, int)
    for j in range(n):
        if feed[j] >= 0:
            br = net.branches[feed[j]]
            r[j] = br.r_ohm * net.impedance_scale / z_base
            x[j] = br.x_ohm * net.impedance_scale / z_base
            rating[j] = br.rating_kva / base_kva if br.rating_kva is not None else np.inf
            branch_ids[j] = br.id
    p = np.array([b.p_kw for b in net.buses], float)
    q = np.array([b.q_kvar for b in net.buses], float)
    share = p / p.sum()
    qop = np.divide(q, p, out=np.zeros_like(q), where=p > 0)
    return Network(
        bus_ids=ids, root=root, parent=parent, order=np.array(order, int), branch_ids=branch_ids,
        r_pu=r, x_pu=x, rating_pu=rating, p_share=share, q_over_p=qop,
        voll=np.array([b.voll_per_kwh for b in net.buses], float),
        shunt_g_pu=np.array([b.shunt_g_kw for b in net.buses], float) / base_kva,
        shunt_b_pu=np.array([b.shunt_b_kvar for b in net.buses], float) / base_kva, base_kva=base_kva,
        base_kv=net.base_kv, vmin=net.vmin_pu, vmax=net.vmax_pu, v_ref=net.slack_vm_pu)


def build_units(inst: Instance, network: Network) -> Units:
    us = inst.units
    wind = tuple(
        (u.weibull_shape, u.weibull_scale_m_s, u.cut_in_m_s, u.rated_m_s, u.cut_out_m_s) if u.type == "wind"
        else (0.0, 0.0, 0.0, 0.0, 0.0) for u in us)
    return Units(
        ids=tuple(u.id for u in us), kind=tuple(u.type for u in us),
        bus=np.array([network.index(u.bus) for u in us], int),
        capacity_kw=np.array([u.capacity_kw for u in us], float),
        mttf_h=np.array([u.mttf_h for u in us], float), mttr_h=np.array([u.mttr_h for u in us], float),
        q_max_kvar=np.array([u.q_max_kvar for u in us], float), wind=wind,
        avail_low=np.array([u.availability.low if u.type == "external_grid" else 1.0 for u in us], float),
        avail_high=np.array([u.availability.high if u.type == "external_grid" else 1.0 for u in us], float),
        avail_resample=tuple(u.availability.resample if u.type == "external_grid" else "hour" for u in us),
        avail_event_h=np.array([u.availability.event_mean_h if u.type == "external_grid" else 1.0 for u in us],
                               float))


def build_fleet(inst: Instance, network: Network, base_dir: Path | None = None, k: int = 0) -> Fleet | None:
    """Lot ``k`` of the instance (None if it has no such lot)."""
    if k >= len(inst.gpls):
        return None
    g, where = inst.gpls[k], f"gpls[{k}]"
    ev = load_model("ev", g.ev_type, f"{where}.ev_type", base_dir)
    curve = load_model("participation", g.participation, f"{where}.participation", base_dir)
    chargers = load_model("chargers", g.charger_type, f"{where}.charger_type", base_dir)
    price = inst.incentive.price_per_kwh
    rv, rl = participation_rates(curve, price)
    dis = g.charge_kw if g.discharge_kw is None else g.discharge_kw
    s = g.sessions

    def tg(t: Any) -> tuple[float, float, float, float]:
        return (t.mean, t.std, t.min, t.max)

    return Fleet(
        bus=network.index(g.bus), n_chargers=g.n_chargers, charge_kw=g.charge_kw, discharge_kw=dis,
        eta=g.efficiency, charger_mttf_h=g.charger_mttf_h, charger_mttr_h=g.charger_mttr_h,
        battery_kwh=float(ev["battery_kwh"]), soc_threshold=g.soc_threshold, v2g_min_soc=g.v2g_min_soc,
        sessions_per_charger_per_day=g.sessions_per_charger_per_day, soc_ini=tg(s.soc_ini),
        arrival=tg(s.arrival_h), departure=tg(s.departure_h), rate_v2g=rv, rate_lr=rl,
        v2g_dispatched=g.v2g_enabled and price > inst.incentive.operator_reserve_price_per_kwh,
        price=price, charger_cost_per_year=charger_annual_cost(chargers, max(g.charge_kw, dis)),
        wear_cost_per_kwh=0.0 if g.battery_wear is None else wear_cost_per_kwh(
            load_model("costs", g.battery_wear, f"{where}.battery_wear", base_dir), g.efficiency), id=g.id,
        v2g_while_charging=g.v2g_eligibility == "while_charging")


def build_system(inst: Instance, base_dir: Path | None = None) -> System:
    """The one constructor of System from a validated Instance. Models are searched beside ``base_dir``,
    by default the folder of the instance's file (``inst.base_dir``)."""
    base_dir = base_dir if base_dir is not None else inst.base_dir
    network = build_network(inst)
    table = bus_load_table(inst, base_dir)
    load = load_series_kw(inst, base_dir) if table is None else table.sum(axis=1)
    return System(name=inst.name, network=network, units=build_units(inst, network),
                  load_kw=load,
                  lots=tuple(f for k in range(len(inst.gpls)) if (f := build_fleet(inst, network, base_dir, k))),
                  settings=Settings(simulation=inst.simulation, ecc_reference=inst.ecc_reference,
                                    economics=inst.economics),
                  bus_load_kw=table, unit_profile=unit_profiles(inst, base_dir),
                  grid=grid_outages(inst, network.bus_ids))


def bus_loads_kw(net: Network, system_load_kw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hourly (H, B) active and reactive bus loads from the system load."""
    p = np.asarray(system_load_kw, float)[:, None] * net.p_share[None, :]
    return p, p * net.q_over_p[None, :]


def system_bus_loads(system: System, idx: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Hourly (H, B) active and reactive bus loads of ``system`` (of hours ``idx`` if given).

    With per-bus profiles each bus follows its own series; load in ``load_kw`` beyond the buses' sum (e.g. the
    ELCC's added load) is spread by p_kw share as in the single-shape form. Each bus keeps its power factor."""
    net = system.network
    load = system.load_kw if idx is None else system.load_kw[idx]
    if system.bus_load_kw is None:
        return bus_loads_kw(net, load)
    table = system.bus_load_kw if idx is None else system.bus_load_kw[idx]
    if table.shape[0] != load.size:
        raise ValueError(f"bus_load_kw has {table.shape[0]} hours but load_kw {load.size}: restrict both")
    p = table + (load - table.sum(axis=1))[:, None] * net.p_share[None, :]
    return p, p * net.q_over_p[None, :]
