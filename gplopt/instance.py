"""The instance schema: one pydantic model per block, every field with unit, default and description.

An instance is plain JSON. ``load_instance`` parses it, applies ``--set`` overrides, validates types with
pydantic and then runs every ``check_*`` rule of :mod:`gplopt.checks`. Errors are :class:`InstanceError`
naming the JSON path, the rule and the offending value.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gplopt.errors import InstanceError

SCHEMA_VERSION = "1.0"


def F(default: Any = ..., *, unit: str = "", description: str, **kw: Any) -> Any:
    """A field carrying its unit in the JSON Schema (``x-unit``) and in its description."""
    extra: Any = {"x-unit": unit} if unit else None
    desc = f"{description} [{unit}]" if unit else description
    return Field(default, description=desc, json_schema_extra=extra, **kw)


class Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------------- network
class Bus(Block):
    id: int = F(description="Bus number (unique)")
    p_kw: float = F(0.0, unit="kW", description="Active load at the reference condition; the hourly system "
                    "load is distributed over buses in proportion to these values")
    q_kvar: float = F(0.0, unit="kvar", description="Reactive load at the reference condition; each bus keeps "
                      "its own power factor as its load follows the chronological shape")
    voll_cny_per_kwh: float = F(10.0, unit="CNY/kWh", description="Value of lost load: weight of this bus's "
                                "shed energy in the shedding OPF (higher = shed last)")


class Branch(Block):
    id: int = F(description="Branch number (unique)")
    from_bus: int = F(description="Upstream bus")
    to_bus: int = F(description="Downstream bus")
    r_ohm: float = F(unit="ohm", description="Series resistance (before network.impedance_scale)")
    x_ohm: float = F(unit="ohm", description="Series reactance (before network.impedance_scale)")
    rating_kva: float | None = F(None, unit="kVA", description="Thermal rating; null = unlimited")


class Network(Block):
    base_kv: float = F(unit="kV", description="Nominal line-to-line voltage of the feeder")
    base_mva: float = F(10.0, unit="MVA", description="Per-unit power base (affects nothing physical)")
    slack_bus: int = F(1, description="Substation bus: voltage reference while the external grid is up")
    impedance_scale: float = F(1.0, description="Factor applied to every branch R and X (documented "
                               "adaptation of a feeder to another voltage/loading)")
    vmin_pu: float = F(0.93, unit="pu", description="Lower voltage limit")
    vmax_pu: float = F(1.07, unit="pu", description="Upper voltage limit")
    slack_vm_pu: float = F(1.0, unit="pu", description="Voltage magnitude held at the reference bus")
    buses: list[Bus] = F(description="Buses; a single bus and no branches is a copper-plate system")
    branches: list[Branch] = F(default_factory=list, description="Radial branches (tree rooted at slack_bus)")


# ----------------------------------------------------------------------------------------------- units
class UniformAvailability(Block):
    distribution: Literal["uniform"] = F("uniform", description="Hourly available fraction ~ U(low, high)")
    low: float = F(1.0, description="Lower bound of the hourly available fraction")
    high: float = F(1.0, description="Upper bound of the hourly available fraction")


class UnitBase(Block):
    id: str = F(description="Unit name (unique)")
    bus: int = F(description="Bus the unit connects to")
    capacity_kw: float = F(unit="kW", description="Rated active power")
    mttf_h: float = F(unit="h", description="Mean time to failure (exponential up times)")
    mttr_h: float = F(unit="h", description="Mean time to repair (exponential down times)")
    q_max_kvar: float = F(0.0, unit="kvar", description="Reactive capability, symmetric (|Q| <= q_max)")


class ConventionalUnit(UnitBase):
    type: Literal["conventional"] = "conventional"


class WindUnit(UnitBase):
    type: Literal["wind"] = "wind"
    weibull_shape: float = F(2.0, description="Weibull shape k of the hourly wind speed")
    weibull_scale_m_s: float = F(7.0, unit="m/s", description="Weibull scale c of the hourly wind speed")
    cut_in_m_s: float = F(3.0, unit="m/s", description="Cut-in speed")
    rated_m_s: float = F(12.0, unit="m/s", description="Rated speed (linear ramp cut-in..rated)")
    cut_out_m_s: float = F(25.0, unit="m/s", description="Cut-out speed")


class ExternalGrid(UnitBase):
    type: Literal["external_grid"] = "external_grid"
    q_max_kvar: float = F(1e12, unit="kvar", description="Reactive supply through the substation "
                          "(unlimited by default: reactive compensation assumed, as in the paper)")
    availability: UniformAvailability = F(default_factory=UniformAvailability,
                                          description="Hourly available fraction of capacity_kw")


Unit = Annotated[ConventionalUnit | WindUnit | ExternalGrid, Field(discriminator="type")]


# ------------------------------------------------------------------------------------------------ load
class Load(Block):
    shape: str | None = F("ieee_rts79", description="Named load shape in models/load_shapes (per-unit of "
                          "its peak); null when series_kw or csv is given")
    series_kw: list[float] | None = F(None, unit="kW", description="Inline hourly system load")
    csv: str | None = F(None, description="CSV file (one column, kW per hour), relative to the instance")
    peak_kw: float | None = F(None, unit="kW", description="Scale the shape/series so its maximum is this")
    hours: int = F(8760, unit="h", description="Hours per sample year (8760, or 8736 = 52 weeks for RTS)")


# ------------------------------------------------------------------------------------------------- GPL
class TruncGauss(Block):
    mean: float = F(description="Mean of the untruncated Gaussian")
    std: float = F(description="Standard deviation of the untruncated Gaussian")
    min: float = F(description="Lower truncation bound")
    max: float = F(description="Upper truncation bound")


class Sessions(Block):
    soc_ini: TruncGauss = F(TruncGauss(mean=0.50, std=0.25, min=0.30, max=0.90),
                            description="Initial SoC (fraction), paper Table 1")
    arrival_h: TruncGauss = F(TruncGauss(mean=8, std=3, min=5, max=17),
                              description="Arrival hour of day, paper Table 1")
    departure_h: TruncGauss = F(TruncGauss(mean=16, std=3, min=11, max=24),
                                description="Departure hour of day, truncated to after arrival (eq. 4-4)")


class GPL(Block):
    bus: int = F(description="Bus of the parking lot")
    n_chargers: int = F(unit="chargers", description="Number of bidirectional chargers")
    charge_kw: float = F(3.5, unit="kW", description="Rated charging power per charger")
    discharge_kw: float | None = F(None, unit="kW", description="Rated discharging power per charger "
                                   "(null = charge_kw)")
    efficiency: float = F(0.95, description="Charger efficiency, each direction (eta^BC)")
    charger_mttf_h: float = F(4250.0, unit="h", description="Charger mean time to failure")
    charger_mttr_h: float = F(5.0, unit="h", description="Charger mean time to repair")
    soc_threshold: float = F(0.90, description="SoC the PEV charges to; V2G starts once reached (Soc^Tar)")
    v2g_min_soc: float = F(0.50, description="V2G never discharges a PEV below this SoC")
    sessions_per_charger_per_day: float = F(1.0, unit="1/day", description="PEV sessions per charger per day")
    sessions: Sessions = F(default_factory=Sessions, description="Session distributions (paper Table 1)")
    ev_type: str = F("baic_ec200", description="EV model name in models/ev")
    participation: str = F("beijing_assumed", description="Participation curve name in models/participation")
    charger_type: str = F("bidirectional_ac", description="Charger cost model name in models/chargers")
    v2g_enabled: bool = F(True, description="Whether the operator offers V2G at all")
    battery_wear: str | None = F(None, description="Battery wear cost model name in models/costs (cost per kWh "
                                 "of V2G throughput, borne by owners; counted in ECC per cost and the owners' "
                                 "ledger); null = no wear cost (the GPL paper's economics)")


class Incentive(Block):
    price_cny_per_kwh: float = F(1.5, unit="CNY/kWh", description="Incentive grade paid to owners for V2G "
                                 "and load-reduction energy (omega^V2G, lambda^V2G)")
    operator_reserve_price_cny_per_kwh: float = F(0.9, unit="CNY/kWh", description="Operator's reserve "
                                                  "price omega^Pay: V2G is dispatched only if price > it")


class Economics(Block):
    storage_power_cost_cny_per_kw: float = F(2000.0, unit="CNY/kW", description="Storage power cost C^P")
    storage_energy_cost_cny_per_kwh: float = F(1500.0, unit="CNY/kWh", description="Storage energy cost C^E")
    storage_life_years: float = F(10.0, unit="yr", description="Storage life (straight-line annualization)")
    storage_om_cny_per_kwh_year: float = F(0.05, unit="CNY/kWh/yr", description="Storage O&M C^m")
    storage_hours: float = F(2.0, unit="h", description="Avoided storage energy E_st = ECC x storage_hours")
    costs_model: str = F("li_ion_paper", description="Storage cost data name in models/costs (for reference)")
    charging_margin_cny_per_kwh: float = F(0.3, unit="CNY/kWh", description="Operator's net margin on charging "
                                           "energy sold (service fee less costs; assumed) for the stakeholder "
                                           "ledger")


class ReferenceUnit(Block):
    capacity_max_kw: float = F(2000.0, unit="kW", description="Upper end of the bisection (C^Ra)")
    mttf_h: float = F(1250.0, unit="h", description="Reference unit MTTF")
    mttr_h: float = F(60.0, unit="h", description="Reference unit MTTR")
    bus: int | None = F(None, description="Bus of the reference unit (null = the GPL bus)")
    tolerance: float = F(0.01, description="Bisection stops when |EENS_V - EENS_GPL| / EENS_GPL <= this")


class Simulation(Block):
    seed: int = F(2021, description="Master seed; results depend only on (instance, seed)")
    target_cov: float = F(0.05, description="Stop when stderr(EENS)/EENS <= this")
    min_years: int = F(10, unit="yr", description="Never stop before this many sample years")
    max_years: int = F(500, unit="yr", description="Year cap")
    batch_years: int = F(8, unit="yr", description="Years evaluated per batch (never changes results)")


class Grid(Block):
    values: list[float] | None = F(None, description="Explicit grid of values")
    low: float | None = F(None, description="Range lower bound")
    high: float | None = F(None, description="Range upper bound")
    step: float | None = F(None, description="Range step")


class Design(Block):
    incentive_grades: list[float] = F([1.0, 1.25, 1.5, 1.75, 2.0], unit="CNY/kWh",
                                      description="Ordinal incentive grades")
    n_chargers: Grid = F(Grid(low=100, high=400, step=50), description="Charger count range")
    discharge_kw: Grid = F(Grid(values=[2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0]), unit="kW",
                           description="Discharge rating grid")
    soc_threshold: Grid = F(Grid(values=[0.80, 0.83, 0.85, 0.87, 0.90]), description="SoC threshold grid")
    objective: Literal["ecc_per_cost", "net_benefit", "pareto"] = F("ecc_per_cost", description="Objective")
    budget: int = F(40, description="Evaluations by default")


class Instance(Block):
    schema_version: str = F(SCHEMA_VERSION, description="Instance format version")
    name: str = F("unnamed", description="Case name")
    notes: list[str] = F(default_factory=list, description="Assumptions and sources, in words")
    network: Network = F(description="Buses, branches and limits")
    units: list[Unit] = F(default_factory=list, description="Generating units and the external grid")
    load: Load = F(default_factory=Load, description="Chronological system load")
    gpl: GPL | None = F(None, description="The grid-connected parking lot (null = none)")
    incentive: Incentive = F(default_factory=Incentive, description="Incentive paid to EV owners")
    economics: Economics = F(default_factory=Economics, description="Cost data")
    ecc_reference: ReferenceUnit = F(default_factory=ReferenceUnit, description="ECC reference unit")
    simulation: Simulation = F(default_factory=Simulation, description="Monte Carlo defaults")
    design: Design = F(default_factory=Design, description="Design search space")


# --------------------------------------------------------------------------------------- load and dump
def _path_str(loc: tuple[Any, ...]) -> str:
    out = ""
    for p in loc:
        if isinstance(p, int):
            out += f"[{p}]"
        elif p in ("conventional", "wind", "external_grid") and out.startswith("units"):
            continue  # pydantic's discriminator tag, not a JSON key
        else:
            out += ("." if out else "") + str(p)
    return out or "<root>"


def _reject_nonfinite(obj: Any, path: str = "") -> None:
    if isinstance(obj, float) and not math.isfinite(obj):
        raise InstanceError(path or "<root>", "finite number", obj)
    if isinstance(obj, dict):
        for k, v in obj.items():
            _reject_nonfinite(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _reject_nonfinite(v, f"{path}[{i}]")


def parse_value(text: str) -> Any:
    """A ``--set`` value: JSON if it parses (numbers, true/false/null, lists), else a plain string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply ``PATH=VALUE`` to raw instance data. Paths are dotted; list items by index (``units.0.mttr_h``)
    or, for lists of objects with ``id``, by id (``units.gas_turbine.mttr_h``)."""
    if "=" not in assignment:
        raise InstanceError("--set", "PATH=VALUE", assignment)
    path, _, raw = assignment.partition("=")
    keys = path.strip().split(".")
    if not path.strip() or any(k == "" for k in keys):
        raise InstanceError("--set", "non-empty dotted path", path)
    node: Any = data
    walked = ""
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if isinstance(node, list):
            idx = _list_index(node, key)
            if idx is None:
                raise InstanceError(f"--set {path}", f"existing list item (index or id) at '{walked}'", key)
            if last:
                node[idx] = parse_value(raw)
                return
            node = node[idx]
        elif isinstance(node, dict):
            if last:
                node[key] = parse_value(raw)
                return
            if key not in node or node[key] is None:
                node[key] = {}
            node = node[key]
        else:
            raise InstanceError(f"--set {path}", f"'{walked}' to be an object or list", node)
        walked = f"{walked}.{key}" if walked else key


def _list_index(items: list[Any], key: str) -> int | None:
    if key.lstrip("-").isdigit():
        idx = int(key)
        return idx if 0 <= idx < len(items) else None
    for i, item in enumerate(items):
        if isinstance(item, dict) and str(item.get("id")) == key:
            return i
    return None


def instance_from_data(data: dict[str, Any], *, base_dir: Path | None = None, check: bool = True) -> Instance:
    """Validate raw data (types by pydantic, then every consistency rule)."""
    if not isinstance(data, dict):
        raise InstanceError("<root>", "a JSON object", type(data).__name__)
    _reject_nonfinite(data)
    try:
        inst = Instance.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = _path_str(tuple(err["loc"]))
        value = err.get("input", None)
        if err["type"] == "missing":
            raise InstanceError(path, "required field", "missing") from None
        if err["type"] == "extra_forbidden":
            raise InstanceError(path, "known field (unknown fields are rejected)", value) from None
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):  # units[i].type
            ctx = err.get("ctx", {})
            tag_path = f"{path}.{str(ctx.get('discriminator', 'type')).strip(chr(39))}"
            raise InstanceError(tag_path, f"one of {ctx.get('expected_tags', 'the known types')}",
                                ctx.get("tag", "missing")) from None
        rule = err["msg"].removeprefix("Input should be ")  # "must be a valid number", not "must be Input..."
        raise InstanceError(path, rule, value) from None
    if check:
        from gplopt.checks import check_instance

        check_instance(inst, base_dir=base_dir)
    return inst


def read_json(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise InstanceError(str(p), "an existing file", "not found")
    try:
        data = json.loads(p.read_text(encoding="utf-8"), parse_constant=lambda c: float(c))
    except json.JSONDecodeError as exc:
        raise InstanceError(f"{p}:{exc.lineno}:{exc.colno}", "valid JSON", exc.msg) from None
    except UnicodeDecodeError:
        raise InstanceError(str(p), "UTF-8 text", "binary data") from None
    return data  # type: ignore[no-any-return]


def load_instance(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Instance:
    """Read, override (``PATH=VALUE``), validate. The one way files become Instances."""
    data = read_json(path)
    for ov in overrides:
        if not isinstance(data, dict):
            break
        apply_override(data, ov)
    base = Path(path).resolve().parent
    inst = instance_from_data(data, base_dir=base)
    if inst.load.csv and not Path(inst.load.csv).is_absolute():
        inst = inst.model_copy(update={"load": inst.load.model_copy(update={"csv": str(base / inst.load.csv)})})
    return inst


def with_overrides(inst: Instance, overrides: dict[str, Any] | list[str]) -> Instance:
    """A new validated Instance with overrides applied (dict of path -> value, or PATH=VALUE strings)."""
    data = inst.model_dump(mode="json")
    items = overrides if isinstance(overrides, list) else [f"{k}={json.dumps(v)}" for k, v in overrides.items()]
    for ov in items:
        apply_override(data, ov)
    return instance_from_data(data)


def json_schema() -> dict[str, Any]:
    schema = Instance.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"gplopt instance (schema_version {SCHEMA_VERSION})"
    return schema
