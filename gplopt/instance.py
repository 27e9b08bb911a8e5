"""The instance schema: one pydantic model per block, every field with unit, default and description.

An instance is plain JSON. ``load_instance`` parses it, applies ``--set`` overrides, validates types with
pydantic and then runs every ``check_*`` rule of :mod:`gplopt.checks`. Errors are :class:`InstanceError`
naming the JSON path, the rule and the offending value.
"""

# size: the schema is one table of blocks (every field with unit, range and description, as PyPSA keeps its
# component table); splitting blocks across files would scatter it. The gplopt/instance/ package split
# (schema, load, checks, migrate) is the planned next step of issue 12.
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError
from pydantic_core import PydanticCustomError

from gplopt import jsonstrict
from gplopt.currency import DEFAULT as DEFAULT_CURRENCY
from gplopt.currency import check_code
from gplopt.errors import InstanceError
from gplopt.migrate import migrate
from gplopt.overrides import apply_override, parse_value, set_path

__all__ = ["Instance", "apply_override", "instance_from_data", "json_schema", "load_instance", "parse_value",
           "read_json", "with_overrides"]

SCHEMA_VERSION = "1.2"


def F(default: Any = ..., *, unit: str = "", description: str, allowed: str = "", **kw: Any) -> Any:
    """A field carrying its unit in the JSON Schema (``x-unit``) and in its description, and optionally its
    allowed interval (``allowed="(0, 1e6]"``: ``x-allowed`` in the schema, stated in the description and
    enforced by :func:`gplopt.checks.check_ranges`; for a list, on every item)."""
    extra: dict[str, Any] = {"x-unit": unit} if unit else {}
    desc = description
    if allowed:
        parse_interval(allowed)   # fail at import on a malformed interval
        extra["x-allowed"] = allowed
        desc = f"{desc}; allowed {allowed}"
    desc = f"{desc} [{unit}]" if unit else desc
    return Field(default, description=desc, json_schema_extra=extra or None, **kw)


def parse_interval(text: str) -> tuple[float, float, bool, bool]:
    """``"(0, 1e6]"`` -> (0.0, 1e6, lower open, upper open)."""
    lo, hi = text[1:-1].split(",")
    return float(lo), float(hi), text[0] == "(", text[-1] == ")"


def _no_bool(value: Any) -> Any:
    """true/false are not numbers (pydantic would read them as 1/0), in files and in ``--set``."""
    if isinstance(value, bool):
        raise PydanticCustomError("bool_not_number", "a number, not true/false")
    return value


Num = Annotated[float, BeforeValidator(_no_bool)]   # a JSON number; true/false rejected
Int = Annotated[int, BeforeValidator(_no_bool)]
Currency = Annotated[str, AfterValidator(check_code)]
MONEY = "currency"      # money units read "currency/kWh": the instance's top-level ``currency``


class Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------------- network
class Bus(Block):
    id: Int = F(description="Bus number (unique)")
    p_kw: Num = F(0.0, unit="kW", description="Active load at the reference condition; the hourly system "
                    "load is distributed over buses in proportion to these values", allowed="[0, 1e8]")
    q_kvar: Num = F(0.0, unit="kvar", description="Reactive load at the reference condition; each bus keeps "
                      "its own power factor as its load follows the chronological shape", allowed="[-1e8, 1e8]")
    voll_per_kwh: Num = F(10.0, unit=f"{MONEY}/kWh", description="Value of lost load: weight of this bus's "
                                "shed energy in the shedding OPF (higher = shed last)", allowed="(0, 1e6]")
    shunt_g_kw: Num = F(0.0, unit="kW", description="Shunt conductance to ground, as the active power it "
                        "consumes at 1 pu voltage (transformer no-load losses, line conductance; an end of a "
                        "transformer's pi equivalent may be slightly negative)", allowed="[-1e6, 1e6]")
    shunt_b_kvar: Num = F(0.0, unit="kvar", description="Shunt susceptance to ground, as the reactive power it "
                          "injects at 1 pu voltage: > 0 capacitive (line charging), < 0 inductive (transformer "
                          "magnetizing)", allowed="[-1e6, 1e6]")
    name: str | None = F(None, description="Name kept from an imported network (informative)")
    customers: Int | None = F(None, unit="customers", description="Customers supplied at this bus (IEEE 1366 "
                              "indices SAIFI/SAIDI/CAIDI/ASAI weight buses by it; null = none counted)",
                              allowed="[0, 1e9]")


class Branch(Block):
    id: Int = F(description="Branch number (unique)")
    from_bus: Int = F(description="Upstream bus")
    to_bus: Int = F(description="Downstream bus")
    r_ohm: Num = F(unit="ohm", description="Series resistance (before network.impedance_scale)", allowed="[0, 1e6]")
    x_ohm: Num = F(unit="ohm", description="Series reactance (before network.impedance_scale)", allowed="[0, 1e6]")
    rating_kva: Num | None = F(None, unit="kVA", description="Thermal rating; null = unlimited", allowed="(0, 1e7]")
    name: str | None = F(None, description="Name(s) of the imported element(s) this branch stands for")
    kind: str | None = F(None, description="Component kind for reliability data (cable, overhead_line, "
                         "transformer, ...); informative until branch outages are modelled")
    length_km: Num | None = F(None, unit="km", description="Length (lines and cables)", allowed="[0, 1e4]")
    failure_rate_per_year: Num | None = F(None, unit="1/yr", description="Branch failure rate (with mttr_h; "
                                          "mttf_h = 8760 / rate)", allowed="[0, 1e4]")
    mttf_h: Num | None = F(None, unit="h", description="Branch mean time to failure (with mttr_h; "
                           "exponential up times)", allowed="(0, 1e12]")
    mttr_h: Num | None = F(None, unit="h", description="Branch mean time to repair (exponential down times)",
                           allowed="[0.01, 1e6]")
    failure_rate_per_km_year: Num | None = F(None, unit="1/(km yr)", description="Failure rate per km (with "
                                             "length_km and repair_h: rate = this x length_km per year)",
                                             allowed="[0, 1e4]")
    repair_h: Num | None = F(None, unit="h", description="Repair time with failure_rate_per_km_year (the mean "
                             "time to repair)", allowed="[0.01, 1e6]")
    protection: Literal["device", "none"] = F("device", description="'device': a protective device at the "
                                              "sending end (a fault interrupts what is downstream); 'none': a "
                                              "fault trips the nearest upstream device, disconnectors isolate "
                                              "it after network.sectioning_h (docs/distribution.md)")
    normally_open: bool = F(False, description="A tie line: open in normal operation, closed after "
                            "network.sectioning_h to resupply healthy parts cut off by an isolated fault")


class Network(Block):
    base_kv: Num = F(unit="kV", description="Nominal line-to-line voltage of the feeder", allowed="[0.1, 1000]")
    base_mva: Num = F(10.0, unit="MVA", description="Per-unit power base (affects nothing physical)",
                      allowed="[0.01, 10000]")
    slack_bus: Int = F(1, description="Substation bus: voltage reference while the external grid is up")
    impedance_scale: Num = F(1.0, description="Factor applied to every branch R and X (documented "
                               "adaptation of a feeder to another voltage/loading)", allowed="(0, 100]")
    vmin_pu: Num = F(0.93, unit="pu", description="Lower voltage limit", allowed="[0.5, 1]")
    vmax_pu: Num = F(1.07, unit="pu", description="Upper voltage limit", allowed="[1, 1.5]")
    slack_vm_pu: Num = F(1.0, unit="pu", description="Voltage magnitude held at the reference bus",
                         allowed="[0.5, 1.5]")
    buses: list[Bus] = F(description="Buses; a single bus and no branches is a copper-plate system")
    branches: list[Branch] = F(default_factory=list, description="Radial branches (tree rooted at slack_bus), "
                               "plus any normally_open tie lines")
    sectioning_h: Num = F(1.0, unit="h", description="Time to isolate a faulted branch by disconnectors and "
                          "close tie lines (branch outages)", allowed="[0, 1e4]")


# ----------------------------------------------------------------------------------------------- units
class UniformAvailability(Block):
    distribution: Literal["uniform"] = F("uniform", description="Hourly available fraction ~ U(low, high)")
    low: Num = F(1.0, description="Lower bound of the hourly available fraction", allowed="[0, 1]")
    high: Num = F(1.0, description="Upper bound of the hourly available fraction", allowed="[0, 1]")
    resample: Literal["hour", "day", "event"] = F(
        "hour", description="How often the fraction is redrawn (each value a fresh U(low, high) draw): 'hour' "
        "every hour; 'day' once per day, held 24 h; 'event' held for exponential holding times of mean "
        "event_mean_h (docs/method.md)")
    event_mean_h: Num = F(24.0, unit="h", description="Mean exponential holding time of one drawn fraction "
                          "(resample 'event' only)", allowed="(0, 1e6]")


class UnitBase(Block):
    id: str = F(description="Unit name (unique)")
    bus: Int = F(description="Bus the unit connects to")
    capacity_kw: Num = F(unit="kW", description="Rated active power", allowed="(0, 1e7]")
    mttf_h: Num = F(unit="h", description="Mean time to failure (exponential up times)", allowed="[1, 1e12]")
    mttr_h: Num = F(unit="h", description="Mean time to repair (exponential down times)", allowed="[1, 1e12]")
    q_max_kvar: Num = F(0.0, unit="kvar", description="Reactive capability, symmetric (|Q| <= q_max)",
                        allowed="[0, 1e12]")


class ConventionalUnit(UnitBase):
    type: Literal["conventional"] = "conventional"


class WindUnit(UnitBase):
    type: Literal["wind"] = "wind"
    weibull_shape: Num = F(2.0, description="Weibull shape k of the hourly wind speed", allowed="[0.1, 20]")
    weibull_scale_m_s: Num = F(7.0, unit="m/s", description="Weibull scale c of the hourly wind speed",
                               allowed="(0, 100]")
    cut_in_m_s: Num = F(3.0, unit="m/s", description="Cut-in speed", allowed="[0, 100]")
    rated_m_s: Num = F(12.0, unit="m/s", description="Rated speed (linear ramp cut-in..rated)", allowed="(0, 100]")
    cut_out_m_s: Num = F(25.0, unit="m/s", description="Cut-out speed", allowed="(0, 100]")


class ExternalGrid(UnitBase):
    type: Literal["external_grid"] = "external_grid"
    q_max_kvar: Num = F(1e12, unit="kvar", description="Reactive supply through the substation "
                          "(unlimited by default: reactive compensation assumed, as in the paper)", allowed="[0, 1e12]")
    availability: UniformAvailability = F(default_factory=UniformAvailability,
                                          description="Hourly available fraction of capacity_kw")


class ProfiledUnit(UnitBase):
    type: Literal["profile"] = "profile"
    profile: str = F(description="Column of the instance's profiles file: hourly available fraction of "
                     "capacity_kw (PV, wind from a measured series, firm variable generation)")
    source: str | None = F(None, description="What the unit is (PV, wind, hydro, ...), informative")


Unit = Annotated[ConventionalUnit | WindUnit | ExternalGrid | ProfiledUnit, Field(discriminator="type")]


# ------------------------------------------------------------------------------------------------ load
class Load(Block):
    shape: str | None = F("ieee_rts79", description="Named load shape in models/load_shapes (per-unit of "
                          "its peak); null when series_kw or csv is given")
    series_kw: list[Num] | None = F(None, unit="kW", description="Inline hourly system load", allowed="[0, 1e8]")
    csv: str | None = F(None, description="CSV file (one column, kW per hour), relative to the instance")
    peak_kw: Num | None = F(None, unit="kW", description="Scale the shape/series so its maximum is this",
                            allowed="(0, 1e8]")
    hours: Int = F(8760, unit="h", description="Hours per sample year (8760, or 8736 = 52 weeks for RTS)")
    bus_profiles: dict[str, str] | None = F(None, description="Bus id -> column of the profiles file: the "
                                            "bus's load is p_kw (q_kvar) times that per-unit hourly profile; "
                                            "every bus with p_kw > 0 needs one")
    bus_table: str | None = F(None, description="CSV/Parquet file of hourly bus loads in kW, one column per "
                              "bus id (a bus x hour table), relative to the instance")


class Profiles(Block):
    file: str = F(description="CSV or Parquet file of named hourly (or 15-minute) series, one column per "
                  "profile, relative to the instance; 15-minute data is averaged to hourly energy, a leap "
                  "year's 29 February is dropped")


# ------------------------------------------------------------------------------------------------- GPL
class TruncGauss(Block):
    mean: Num = F(description="Mean of the untruncated Gaussian")
    std: Num = F(description="Standard deviation of the untruncated Gaussian", allowed="(0, 100]")
    min: Num = F(description="Lower truncation bound")
    max: Num = F(description="Upper truncation bound")


class Sessions(Block):
    soc_ini: TruncGauss = F(TruncGauss(mean=0.50, std=0.25, min=0.30, max=0.90),
                            description="Initial SoC (fraction), paper Table 1")
    arrival_h: TruncGauss = F(TruncGauss(mean=8, std=3, min=5, max=17),
                              description="Arrival hour of day, paper Table 1")
    departure_h: TruncGauss = F(TruncGauss(mean=16, std=3, min=11, max=24),
                                description="Departure hour of day, truncated to after arrival (eq. 4-4)")


class GPL(Block):
    id: str = F("gpl", description="Lot id, unique among gpls; keys the lot's random streams (the gpl "
                "shorthand's lot is 'gpl')")
    bus: Int = F(description="Bus of the parking lot")
    n_chargers: Int = F(unit="chargers", description="Number of bidirectional chargers", allowed="[0, 5000]")
    charge_kw: Num = F(3.5, unit="kW", description="Rated charging power per charger", allowed="(0, 1000]")
    discharge_kw: Num | None = F(None, unit="kW", description="Rated discharging power per charger "
                                   "(null = charge_kw)", allowed="[0, 1000]")
    efficiency: Num = F(0.95, description="Charger efficiency, each direction (eta^BC)", allowed="(0, 1]")
    charger_mttf_h: Num = F(4250.0, unit="h", description="Charger mean time to failure", allowed="[1, 1e12]")
    charger_mttr_h: Num = F(5.0, unit="h", description="Charger mean time to repair", allowed="[1, 1e12]")
    soc_threshold: Num = F(0.90, description="SoC the PEV charges to; V2G starts once reached (Soc^Tar)",
                           allowed="[0, 1]")
    v2g_min_soc: Num = F(0.50, description="V2G never discharges a PEV below this SoC", allowed="[0, 1]")
    sessions_per_charger_per_day: Num = F(1.0, unit="1/day", description="PEV sessions per charger per day",
                                          allowed="(0, 4]")
    sessions: Sessions = F(default_factory=Sessions, description="Session distributions (paper Table 1)")
    ev_type: str = F("baic_ec200", description="EV model name in models/ev")
    participation: str = F("beijing_assumed", description="Participation curve name in models/participation")
    charger_type: str = F("bidirectional_ac", description="Charger cost model name in models/chargers")
    v2g_enabled: bool = F(True, description="Whether the operator offers V2G at all")
    v2g_eligibility: Literal["after_target", "while_charging"] = F(
        "after_target", description="When a willing PEV may discharge: 'after_target' once its SoC has reached "
        "soc_threshold this session (eqs. 4-5..4-8, the paper); 'while_charging' also while still charging "
        "toward it (a labelled sensitivity, docs/method.md)")
    battery_wear: str | None = F(None, description="Battery wear cost model name in models/costs (cost per kWh "
                                 "of V2G throughput, borne by owners; counted in ECC per cost and the owners' "
                                 "ledger); null = no wear cost (the GPL paper's economics)")


class Incentive(Block):
    price_per_kwh: Num = F(1.5, unit=f"{MONEY}/kWh", description="Incentive grade paid to owners for V2G "
                                 "and load-reduction energy (omega^V2G, lambda^V2G)", allowed="[0, 1000]")
    operator_reserve_price_per_kwh: Num = F(0.9, unit=f"{MONEY}/kWh", description="Operator's reserve "
                                                  "price omega^Pay: V2G is dispatched only if price > it",
                                                  allowed="[0, 1000]")


class Economics(Block):
    storage_power_cost_per_kw: Num = F(2000.0, unit=f"{MONEY}/kW", description="Storage power cost C^P",
                                           allowed="[0, 1e7]")
    storage_energy_cost_per_kwh: Num = F(1500.0, unit=f"{MONEY}/kWh", description="Storage energy cost C^E",
                                             allowed="[0, 1e7]")
    storage_life_years: Num = F(10.0, unit="yr", description="Storage life (straight-line annualization)",
                                allowed="(0, 100]")
    storage_om_per_kwh_year: Num = F(0.05, unit=f"{MONEY}/kWh/yr", description="Storage O&M C^m", allowed="[0, 1e6]")
    storage_hours: Num = F(2.0, unit="h", description="Avoided storage energy E_st = ECC x storage_hours",
                           allowed="[0, 100]")
    costs_model: str = F("li_ion_paper", description="Storage cost data name in models/costs (for reference)")
    charging_margin_per_kwh: Num = F(0.3, unit=f"{MONEY}/kWh", description="Operator's net margin on charging "
                                           "energy sold (service fee less costs; assumed) for the stakeholder "
                                           "ledger", allowed="[0, 1000]")


class ReferenceUnit(Block):
    capacity_max_kw: Num = F(2000.0, unit="kW", description="Upper end of the bisection (C^Ra)", allowed="(0, 1e7]")
    mttf_h: Num = F(1250.0, unit="h", description="Reference unit MTTF", allowed="[1, 1e12]")
    mttr_h: Num = F(60.0, unit="h", description="Reference unit MTTR", allowed="[1, 1e12]")
    bus: Int | None = F(None, description="Bus of the reference unit (null = the GPL bus)")
    tolerance: Num = F(0.01, description="Bisection stops when |EENS_V - EENS_GPL| / EENS_GPL <= this",
                       allowed="(0, 1)")


class Simulation(Block):
    seed: Int = F(2021, description="Master seed; results depend only on (instance, seed)", allowed="[0, 1e15)")
    target_cov: Num = F(0.05, description="Stop when stderr(EENS)/EENS <= this", allowed="(0, 1)")
    min_years: Int = F(10, unit="yr", description="Never stop before this many sample years")
    max_years: Int = F(500, unit="yr", description="Year cap")
    batch_years: Int = F(8, unit="yr", description="Years evaluated per batch (never changes results)")
    ecc_rel_precision: Num | None = F(None, description="Capacity value: add sample years until the CI "
                                      "half-width <= this x the value (null: stop on EENS's target_cov only)",
                                      allowed="(0, 1)")
    control_variate: bool = F(False, description="Also report EENS and LOLE with the daily-peak-load control "
                              "variate (copper plate of two-state units only; docs/method.md 7.1)")


class Grid(Block):
    values: list[Num] | None = F(None, description="Explicit grid of values")
    low: Num | None = F(None, description="Range lower bound")
    high: Num | None = F(None, description="Range upper bound")
    step: Num | None = F(None, description="Range step")


class LotDesign(Block):
    bus: list[Int] | None = F(None, description="Candidate buses of this lot (siting; null = the lot's own bus)")
    n_chargers: Grid | None = F(None, description="This lot's charger-count grid (null = design.n_chargers)")


class SharedBudget(Block):
    max_total_chargers: Int | None = F(None, unit="chargers", description="Most chargers over all lots together "
                                       "(null = no limit)", allowed="[1, 1e6]")
    max_charger_cost_per_year: Num | None = F(None, unit=f"{MONEY}/yr", description="Most annualized capital "
                                                  "and O&M of all lots' chargers together (null = no limit)",
                                                  allowed="(0, 1e12]")


class Design(Block):
    incentive_grades: list[Num] = F([1.0, 1.25, 1.5, 1.75, 2.0], unit=f"{MONEY}/kWh",
                                      description="Ordinal incentive grades", allowed="[0, 1000]")
    n_chargers: Grid = F(Grid(low=100, high=400, step=50), description="Charger count range")
    discharge_kw: Grid = F(Grid(values=[2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0]), unit="kW",
                           description="Discharge rating grid")
    soc_threshold: Grid = F(Grid(values=[0.80, 0.83, 0.85, 0.87, 0.90]), description="SoC threshold grid")
    objective: Literal["ecc_per_cost", "net_benefit", "pareto"] = F("ecc_per_cost", description="Objective")
    budget: Int = F(40, description="Evaluations by default", allowed="[1, 100000]")
    lots: dict[str, LotDesign] = F(default_factory=dict, description="Per lot id: candidate buses and its own "
                                   "charger grid (siting; docs/design.md). Given, or with several lots, every "
                                   "lot is designed: grade, rating and threshold are shared by all lots")
    shared_budget: SharedBudget = F(default_factory=SharedBudget, description="Limits over all lots together: "
                                    "designs over them are left out of the lattice and never evaluated")


class Instance(Block):
    schema_version: str = F(SCHEMA_VERSION, description="Instance format version")
    name: str = F("unnamed", description="Case name")
    currency: Currency = F(DEFAULT_CURRENCY, description="ISO 4217 code of every money field ('currency/kWh' in "
                           "units) and of every output's money labels; gplopt converts nothing")
    notes: list[str] = F(default_factory=list, description="Assumptions and sources, in words")
    network: Network = F(description="Buses, branches and limits")
    units: list[Unit] = F(default_factory=list, description="Generating units and the external grid")
    load: Load = F(default_factory=Load, description="Chronological system load")
    profiles: Profiles | None = F(None, description="Named time series for per-bus loads and profiled units")
    gpls: list[GPL] = F(default_factory=list, description="The grid-connected parking lots, each with a unique id "
                        "(the 1.0 form 'gpl': {...} is shorthand for a one-lot list with id 'gpl')")
    incentive: Incentive = F(default_factory=Incentive, description="Incentive paid to EV owners")
    economics: Economics = F(default_factory=Economics, description="Cost data")
    ecc_reference: ReferenceUnit = F(default_factory=ReferenceUnit, description="ECC reference unit")
    simulation: Simulation = F(default_factory=Simulation, description="Monte Carlo defaults")
    design: Design = F(default_factory=Design, description="Design search space")
    _base_dir: Path | None = PrivateAttr(None)  # not data: where the file was, kept by every derived instance

    @property
    def gpl(self) -> GPL | None:
        """The first lot (None without lots): what single-lot code (design) varies."""
        return self.gpls[0] if self.gpls else None

    @property
    def base_dir(self) -> Path | None:
        """The instance file's folder, where its own ``models/`` is searched (None for data not from a file)."""
        return self._base_dir

    def __eq__(self, other: object) -> bool:
        """Equal data is equal instances, wherever their files were."""
        if not isinstance(other, Instance):
            return NotImplemented
        return self.__dict__ == other.__dict__


# --------------------------------------------------------------------------------------- load and dump
def _path_str(loc: tuple[Any, ...]) -> str:
    out = ""
    for p in loc:
        if isinstance(p, int):
            out += f"[{p}]"
        elif p in ("conventional", "wind", "external_grid", "profile") and out.startswith("units"):
            continue  # pydantic's discriminator tag, not a JSON key
        else:
            out += ("." if out else "") + str(p)
    return out or "<root>"


def instance_from_data(data: dict[str, Any], *, base_dir: Path | None = None, check: bool = True,
                       shorthand: bool | None = None) -> Instance:
    """Validate raw data (types by pydantic, then every consistency rule). Data in the 1.0 form (``gpl``) is
    migrated first (:mod:`gplopt.migrate`); its errors still name ``gpl.X``, the field the user wrote."""
    if not isinstance(data, dict):
        raise InstanceError("<root>", "a JSON object", type(data).__name__)
    jsonstrict.scan(data, "")
    shorthand = isinstance(data.get("gpl"), dict) if shorthand is None else shorthand
    try:
        inst = _validated(migrate(data), base_dir, check)
    except InstanceError as exc:
        if shorthand and exc.path.startswith("gpls[0]"):
            raise InstanceError("gpl" + exc.path.removeprefix("gpls[0]"), exc.rule, exc.value) from None
        raise
    inst._base_dir = base_dir
    return inst


def _validated(data: dict[str, Any], base_dir: Path | None, check: bool) -> Instance:
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
        data = jsonstrict.loads(p.read_text(encoding="utf-8"), str(p))
    except json.JSONDecodeError as exc:
        raise InstanceError(f"{p}:{exc.lineno}:{exc.colno}", "valid JSON", exc.msg) from None
    except UnicodeDecodeError:
        raise InstanceError(str(p), "UTF-8 text", "binary data") from None
    return data  # type: ignore[no-any-return]


def load_instance(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Instance:
    """Read, override (``PATH=VALUE``), validate. The one way files become Instances."""
    data = read_json(path)
    shorthand = isinstance(data, dict) and isinstance(data.get("gpl"), dict)
    if isinstance(data, dict) and overrides:
        data = migrate(data)    # so that gpls.<id>.X and gpl.X both address the lot
    for ov in overrides:
        if not isinstance(data, dict):
            break
        apply_override(data, ov)
    base = Path(path).resolve().parent
    inst = instance_from_data(data, base_dir=base, shorthand=shorthand)
    if inst.load.csv and not Path(inst.load.csv).is_absolute():
        inst = inst.model_copy(update={"load": inst.load.model_copy(update={"csv": str(base / inst.load.csv)})})
    from gplopt.importers.paths import absolute_series_paths

    return absolute_series_paths(inst, base)


def with_overrides(inst: Instance, overrides: dict[str, Any] | list[str]) -> Instance:
    """A new validated Instance with overrides applied (dict of path -> value, or PATH=VALUE strings)."""
    data = inst.model_dump(mode="json")
    if isinstance(overrides, list):
        for ov in overrides:
            apply_override(data, ov)
    else:
        for path, value in overrides.items():
            set_path(data, path, value)
    return instance_from_data(data, base_dir=inst.base_dir)  # the model search path travels with it


def json_schema() -> dict[str, Any]:
    schema = Instance.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"gplopt instance (schema_version {SCHEMA_VERSION})"
    return schema
