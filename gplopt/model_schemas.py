"""Schemas of the model library's files (``models/<kind>/<name>.json``), one pydantic model per kind.

:func:`validate_model` checks a model file when :mod:`gplopt.library` reads it, so a bad model file fails
before any simulation with an :class:`InstanceError` naming the file, the field, the rule and the value.
``docs/model-format.md`` is generated from these classes (``python tools/gen_model_doc.py``).
Rules that relate several entries of one file (a participation curve's prices increase and its rates do not
fall) stay in :func:`gplopt.checks.check_participation_curve`, which runs when an instance names the curve.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator

from gplopt.errors import InstanceError
from gplopt.instance import Block, F, _path_str

NonNeg = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Week = Annotated[int, Field(ge=1, le=52)]


def _hours(description: str) -> Any:
    return F(unit="%", description=description, min_length=24, max_length=24)


class ModelFile(Block):
    """Fields every model file may carry to say what it is and where its numbers come from."""

    name: str = F("", description="Human-readable name (the file's stem is the name instances use)")
    source: str = F("", description="Where the numbers come from, or 'assumed: ...'")
    notes: list[str] = F(default_factory=list, description="Further assumptions, in words")


class EVModel(ModelFile):
    """``models/ev/<name>.json``: an EV type, named by ``gpl.ev_type``."""

    battery_kwh: float = F(unit="kWh", description="Usable battery capacity E_EV; > 0", gt=0)


class ChargerModel(ModelFile):
    """``models/chargers/<name>.json``: a charger's cost by rating, named by ``gpl.charger_type``. Annual cost
    per charger = (capital_fixed + capital_per_kw x max(charge_kw, discharge_kw)) x
    (CRF(discount_rate, life_years) + om_fraction_per_year)."""

    capital_fixed: float = F(unit="currency", description="Capital cost per charger independent of rating; >= 0",
                                 ge=0)
    capital_per_kw: float = F(unit="currency/kW", description="Capital cost per kW of rating; >= 0", ge=0)
    life_years: float = F(unit="yr", description="Economic life for the capital recovery factor; > 0", gt=0)
    discount_rate: float = F(description="Discount rate for the capital recovery factor; in [0, 1]", ge=0, le=1)
    om_fraction_per_year: float = F(0.0, unit="1/yr", description="Annual O&M as a fraction of capital; >= 0",
                                    ge=0)
    ratings_kw: list[NonNeg] = F(default_factory=list, unit="kW", description="Ratings on offer (for reference)")
    formula: str = F("", description="The cost formula in words (for reference)")


class Grade(Block):
    price_per_kwh: float = F(unit="currency/kWh", description="Incentive grade surveyed; >= 0, increasing", ge=0)
    v2g: float = F(description="Fraction of owners willing to offer V2G; in [0, 1], non-decreasing in price",
                   ge=0, le=1)
    load_reduction: float = F(description="Fraction of owners willing to stop charging in deficit hours; "
                              "in [0, 1], non-decreasing in price", ge=0, le=1)


class SaturatingRate(Block):
    r_max: float = F(description="Saturation rate; in [0, 1]", ge=0, le=1)
    k: float = F(unit="kWh/currency", description="Steepness; > 0", gt=0)
    p0: float = F(unit="currency/kWh", description="Price at which the rate is zero")


class Parametric(Block):
    """rate(p) = r_max x (1 - exp(-k x (p - p0))), clipped to [0, 1]; used for prices outside the grades."""

    form: str = F("", description="The form in words (for reference)")
    v2g: SaturatingRate | None = F(None, description="V2G rate outside the grades (null = clamp to the ends)")
    load_reduction: SaturatingRate | None = F(None, description="Load-reduction rate outside the grades "
                                              "(null = clamp to the ends)")


class ParticipationModel(ModelFile):
    """``models/participation/<name>.json`` (or ``.csv`` with columns ``price_per_kwh,v2g,load_reduction``):
    owners' participation vs incentive, named by ``gpl.participation``. Linear between grades."""

    assumed: bool = F(False, description="True when the curve is an assumption, not survey data")
    grades: list[Grade] = F(description="Surveyed grades, by increasing price; at least one", min_length=1)
    parametric: Parametric | None = F(None, description="Extrapolation outside the grades (null = clamp)")


class CostsModel(ModelFile):
    """``models/costs/<name>.json``: cost data of one of two kinds. Storage cost data, named by
    ``economics.costs_model`` (for reference: the instance's ``economics`` block holds the numbers the economics
    use): the four ``*_cost``/``life``/``om`` fields. Or battery wear from V2G throughput, named by
    ``gpl.battery_wear``: ``battery_price_per_kwh``, ``cycle_life_cycles``, ``cycle_life_dod``."""

    power_cost_per_kw: float | None = F(None, unit="currency/kW", description="Storage power cost C^P; >= 0",
                                            ge=0)
    energy_cost_per_kwh: float | None = F(None, unit="currency/kWh", description="Storage energy cost C^E; >= 0",
                                              ge=0)
    life_years: float | None = F(None, unit="yr", description="Storage life; > 0", gt=0)
    om_per_kwh_year: float | None = F(None, unit="currency/kWh/yr", description="Storage O&M C^m; >= 0", ge=0)
    battery_price_per_kwh: float | None = F(None, unit="currency/kWh", description="Battery replacement price per "
                                            "kWh of capacity; > 0", gt=0)
    cycle_life_cycles: float | None = F(None, description="Equivalent full cycles to end of life at "
                                        "cycle_life_dod; > 0", gt=0)
    cycle_life_dod: float | None = F(None, description="Depth of discharge of the cycle-life figure; in (0, 1]",
                                     gt=0, le=1)
    formula: str = F("", description="How the numbers are used, in words")

    @model_validator(mode="after")
    def _one_complete_kind(self) -> CostsModel:
        storage = (self.power_cost_per_kw, self.energy_cost_per_kwh, self.life_years,
                   self.om_per_kwh_year)
        wear = (self.battery_price_per_kwh, self.cycle_life_cycles, self.cycle_life_dod)
        if not (all(v is not None for v in storage) or all(v is not None for v in wear)):
            raise ValueError("either all four storage cost fields or all three battery wear fields")
        return self


class MttfMttr(Block):
    mttf_h: float = F(unit="h", description="Mean time to failure; > 0", gt=0)
    mttr_h: float = F(unit="h", description="Mean time to repair; > 0", gt=0)


class SourcedMttfMttr(MttfMttr):
    source: str = F("", description="Where the numbers come from")


class BranchDefault(Block):
    """Default reliability of an imported branch type: a failure rate per km-year (lines, cables) or an MTTF
    (transformers), and a repair time."""

    failure_rate_per_km_year: float | None = F(None, unit="1/(km yr)", description="Failures per km and year; "
                                               "> 0", gt=0)
    mttf_h: float | None = F(None, unit="h", description="Mean time to failure; > 0", gt=0)
    mttr_h: float = F(unit="h", description="Mean time to repair; > 0", gt=0)
    source: str = F("", description="Where the numbers come from")


class ValueWithSource(Block):
    value: float = F(description="The value")
    source: str = F("", description="Where it comes from")


class ReliabilityModel(ModelFile):
    """``models/reliability/<name>.json``: component reliability data. Either a table of named components
    (``components``, e.g. the GPL paper's Table 3, for reference: instances carry their units' MTTF/MTTR) or
    the defaults the importers give imported elements (``branches``, ``units``, ``generation_q_over_p``)."""

    components: dict[str, MttfMttr] | None = F(None, description="Component name -> its two-state data")
    branches: dict[str, BranchDefault] | None = F(None, description="Imported branch type -> default data")
    units: dict[str, SourcedMttfMttr] | None = F(None, description="Imported unit type -> default MTTF/MTTR")
    generation_q_over_p: ValueWithSource | None = F(None, description="Reactive capability of imported "
                                                    "generators as a fraction of their rating")


class HourlyProfiles(Block):
    """Hourly load in percent of the daily peak, one 24-value profile per season and day kind."""

    winter_weekday: list[NonNeg] = _hours("Winter weekday profile; 24 values >= 0")
    winter_weekend: list[NonNeg] = _hours("Winter weekend profile; 24 values >= 0")
    summer_weekday: list[NonNeg] = _hours("Summer weekday profile; 24 values >= 0")
    summer_weekend: list[NonNeg] = _hours("Summer weekend profile; 24 values >= 0")
    spring_fall_weekday: list[NonNeg] = _hours("Spring/fall weekday profile; 24 values >= 0")
    spring_fall_weekend: list[NonNeg] = _hours("Spring/fall weekend profile; 24 values >= 0")


class RTS79Tables(Block):
    """The IEEE RTS-79 chronological load model: annual peak x weekly x daily x hourly factors."""

    weekly_pct_of_annual_peak: list[NonNeg] = F(unit="%", description="Weekly peak; 52 values >= 0",
                                                min_length=52, max_length=52)
    daily_pct_of_weekly_peak_mon_to_sun: list[NonNeg] = F(unit="%", description="Daily peak, Monday to "
                                                          "Sunday; 7 values >= 0", min_length=7, max_length=7)
    hourly_pct_of_daily_peak: HourlyProfiles = F(description="Hourly profiles by season and day kind")
    winter_weeks: list[Week] = F(description="Weeks (1-52) using the winter profiles")
    summer_weeks: list[Week] = F(description="Weeks (1-52) using the summer profiles")
    spring_fall_weeks: list[Week] = F(description="Weeks (1-52) using the spring/fall profiles; the three "
                                      "season lists together name each week 1-52 exactly once")

    @model_validator(mode="after")
    def _seasons_partition_the_year(self) -> RTS79Tables:
        weeks = sorted([*self.winter_weeks, *self.summer_weeks, *self.spring_fall_weeks])
        if weeks != list(range(1, 53)):
            raise ValueError("season week lists that name each week 1-52 exactly once")
        return self


class LoadShapeModel(ModelFile):
    """``models/load_shapes/<name>.json``: a per-unit chronological load shape, named by ``load.shape`` and
    scaled to ``load.peak_kw`` (or the sum of bus loads)."""

    conventions: dict[str, str] = F(default_factory=dict, description="How the tables are read, in words")
    tables: RTS79Tables = F(description="The shape's tables (IEEE RTS-79 form)")


SCHEMAS: dict[str, type[ModelFile]] = {
    "ev": EVModel, "chargers": ChargerModel, "participation": ParticipationModel, "costs": CostsModel,
    "reliability": ReliabilityModel, "load_shapes": LoadShapeModel,
}


def validate_model(kind: str, data: Any, where: str) -> dict[str, Any]:
    """``data`` checked against the schema of ``kind``; returned unchanged (readers use the file's own keys).
    ``where`` names the file in the error: ``<file>: <field>: must be <rule>, got <value>``."""
    schema = SCHEMAS.get(kind)
    if schema is None:
        return data  # type: ignore[no-any-return]
    try:
        schema.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = f"{where}: {_path_str(tuple(err['loc']))}"
        if err["type"] == "missing":
            raise InstanceError(path, "present (a required field)", "missing") from None
        if err["type"] == "extra_forbidden":
            raise InstanceError(path, "a known field (unknown fields are rejected)", err.get("input")) from None
        raise InstanceError(path, _rule(err), err.get("input")) from None
    return data  # type: ignore[no-any-return]


_RULES = {"greater_than": "> {gt}", "greater_than_equal": ">= {ge}", "less_than": "< {lt}",
          "less_than_equal": "<= {le}", "too_short": "{min_length} or more items",
          "too_long": "{max_length} or fewer items"}


def _rule(err: Any) -> str:
    """The broken rule in the words of ``InstanceError`` ("must be > 0"), from a pydantic error."""
    template = _RULES.get(err["type"])
    if template is not None:
        return template.format(**{k: f"{v:g}" if isinstance(v, float) else v for k, v in err.get("ctx", {}).items()})
    return str(err["msg"]).removeprefix("Value error, ").removeprefix("Input should be ")
