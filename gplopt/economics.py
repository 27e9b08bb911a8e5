"""Economics of a GPL design (paper Section 5 plus what design needs). Plain arithmetic on results.

- Avoided storage (eqs. 5-2, 5-3): ``S_PE = (C_P P_st + C_E E_st) / life``, ``S_m = C_m E_st`` with
  ``P_st = ECC`` and ``E_st = ECC x storage_hours``.
- V2G payments (eq. 5-4): ``E_V2G = price x V2G energy``; load-reduction payments likewise.
- Paper's net benefit ``E_G = S_PE + S_m - E_V2G``.
- Annual cost of the GPL as virtual storage: annualized charger cost + V2G + load-reduction payments + the
  owners' battery wear from V2G throughput (zero unless the lot names a ``battery_wear`` model).
- Break-even storage duration: E_G grows linearly with the avoided storage's energy (``storage_hours``), so
  ``E_G(h) = ECC (C_P / L + h (C_E / L + C_m)) - E_V2G`` is zero at
  ``h* = (E_V2G / ECC - C_P / L) / (C_E / L + C_m)`` (0 when E_G > 0 at any duration; None when ECC = 0).
- ECC-per-cost = ECC / annual cost (reported in kW per million units of the instance's
  ``currency`` per year, e.g. kW per M<currency>/yr).

Standard errors: payments carry the simulation's; ECC-derived figures carry the bootstrap spread of ECC.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from gplopt.capacity_value import CapacityValueResult
from gplopt.errors import InstanceError
from gplopt.resources import lot_selection
from gplopt.system import Fleet, System


@dataclass(frozen=True)
class Economics:
    ecc_kw: float
    storage_power_kw: float
    storage_energy_kwh: float
    storage_capex_annual: float        # S_PE
    storage_om_annual: float           # S_m
    v2g_payments: float                # E_V2G
    v2g_payments_stderr: float
    load_reduction_payments: float
    load_reduction_payments_stderr: float
    charger_cost_annual: float                # annualized, all chargers
    annual_cost: float
    net_benefit: float                 # E_G
    net_benefit_ci: tuple[float, float]
    ecc_per_cost: float                    # kW per million currency units per year
    ecc_per_cost_ci: tuple[float, float]
    ecc_per_cost_sd: float                 # bootstrap spread: the evaluation's noise for design
    net_benefit_sd: float
    cost_per_kw: float                 # GPL annual cost per kW of ECC
    storage_cost_per_kw: float         # avoided storage's annual cost per kW
    battery_wear_cost: float = 0.0          # owners' battery wear from V2G throughput
    battery_wear_cost_stderr: float = 0.0
    break_even_storage_hours: float | None = None  # storage duration at which E_G = 0 (None: ECC = 0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def storage_annual_cost(system: System, ecc_kw: np.ndarray | float) -> tuple[Any, Any]:
    e = system.settings.economics
    p = np.asarray(ecc_kw, float)
    energy = p * e.storage_hours
    capex = (e.storage_power_cost_per_kw * p + e.storage_energy_cost_per_kwh * energy) / \
        e.storage_life_years
    return capex, e.storage_om_per_kwh_year * energy


def break_even_storage_hours(system: System, ecc_kw: float, v2g_payments: float) -> float | None:
    """The avoided storage's duration at which the paper's net benefit E_G is zero (see the module text)."""
    if not ecc_kw > 0:
        return None
    e = system.settings.economics
    per_hour = e.storage_energy_cost_per_kwh / e.storage_life_years + e.storage_om_per_kwh_year
    fixed = e.storage_power_cost_per_kw / e.storage_life_years
    return max(0.0, (v2g_payments / ecc_kw - fixed) / per_hour) if per_hour > 0 else None


def lots_of(system: System, cv: CapacityValueResult) -> tuple[Fleet, ...]:
    """The lots whose costs count against ``cv``: the lot under test, every lot for 'gpls' (or a unit)."""
    try:
        sel = lot_selection(system, cv.resource)
    except InstanceError:
        sel = None
    return system.lots if sel is None else tuple(system.lots[k] for k in sel)


def _per_v2g_kwh(lots: tuple[Fleet, ...], attr: str) -> float:
    """A per-kWh rate of several lots, weighted by their V2G power (the incentive is one price for all lots;
    the wear rate may differ by lot)."""
    w = np.array([f.n_chargers * f.discharge_kw for f in lots], float)
    x = np.array([getattr(f, attr) for f in lots], float)
    return float((w * x).sum() / w.sum()) if w.sum() > 0 else (float(x[0]) if x.size else 0.0)


def economics(system: System, cv: CapacityValueResult) -> Economics:
    lots = lots_of(system, cv)
    price = _per_v2g_kwh(lots, "price")
    chargers = float(sum(f.n_chargers * f.charger_cost_per_year for f in lots))
    v2g = cv.v2g_kwh_per_year.scaled(price)
    lr = cv.load_reduction_kwh_per_year.scaled(price)
    wear = cv.v2g_kwh_per_year.scaled(_per_v2g_kwh(lots, "wear_cost_per_kwh"))
    cost = chargers + v2g.mean + lr.mean + wear.mean
    capex, om = storage_annual_cost(system, cv.value_kw)
    boot = cv.boot_values if cv.boot_values.size else np.array([cv.value_kw])
    b_capex, b_om = storage_annual_cost(system, boot)
    net_boot = b_capex + b_om - v2g.mean
    per_cost_boot = boot / cost * 1e6 if cost > 0 else np.full_like(boot, np.inf)
    a = (1 - cv.ci_level) / 2

    def ci(x: np.ndarray) -> tuple[float, float]:
        if not np.isfinite(x).all():   # e.g. ECC per cost of a resource with no cost: +inf, no interval
            return float(np.min(x)), float(np.max(x))
        return float(np.quantile(x, a)), float(np.quantile(x, 1 - a))

    ecc = cv.value_kw
    return Economics(
        ecc_kw=ecc, storage_power_kw=ecc, storage_energy_kwh=ecc * system.settings.economics.storage_hours,
        storage_capex_annual=float(capex), storage_om_annual=float(om),
        v2g_payments=v2g.mean, v2g_payments_stderr=v2g.stderr,
        load_reduction_payments=lr.mean, load_reduction_payments_stderr=lr.stderr,
        charger_cost_annual=chargers, annual_cost=cost, net_benefit=float(capex + om - v2g.mean),
        net_benefit_ci=ci(net_boot), ecc_per_cost=ecc / cost * 1e6 if cost > 0 else float("inf"),
        ecc_per_cost_ci=ci(per_cost_boot),
        ecc_per_cost_sd=float(np.std(per_cost_boot, ddof=1)) if boot.size > 1 and cost > 0 else 0.0,
        net_benefit_sd=float(np.hypot(np.std(net_boot, ddof=1) if boot.size > 1 else 0.0, v2g.stderr)),
        cost_per_kw=cost / ecc if ecc > 0 else float("inf"),
        storage_cost_per_kw=float((capex + om) / ecc) if ecc > 0 else float("nan"),
        battery_wear_cost=wear.mean, battery_wear_cost_stderr=wear.stderr,
        break_even_storage_hours=break_even_storage_hours(system, ecc, v2g.mean))


@dataclass(frozen=True)
class Ledger:
    """Annual money flows (currency/yr) between the grid utility, the charging-facility operator and EV owners."""
    utility: dict[str, float]
    operator: dict[str, float]
    owners: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ledger(system: System, cv: CapacityValueResult, eco: Economics) -> Ledger:
    """Who pays whom. The utility avoids storage and pays the incentive; the operator carries the chargers
    and earns its margin on charging energy; owners receive the V2G and load-reduction income."""
    lots = lots_of(system, cv)
    margin = system.settings.economics.charging_margin_per_kwh * cv.charging_kwh_per_year.mean
    avoided = eco.storage_capex_annual + eco.storage_om_annual
    utility = {"avoided_storage": avoided, "v2g_payments": -eco.v2g_payments,
               "load_reduction_payments": -eco.load_reduction_payments}
    utility["net"] = sum(utility.values())
    operator = {"charger_cost": -eco.charger_cost_annual, "charging_margin": margin}
    operator["net"] = sum(operator.values())
    v2g_owners = sum(f.n_chargers * f.sessions_per_day * f.rate_v2g for f in lots)
    lr_owners = sum(f.n_chargers * f.sessions_per_day * f.rate_lr for f in lots)
    income = eco.v2g_payments + eco.load_reduction_payments
    owners = {"v2g_income": eco.v2g_payments, "load_reduction_income": eco.load_reduction_payments,
              "battery_wear": -eco.battery_wear_cost, "total": income, "net": income - eco.battery_wear_cost,
              "participating_owners": lr_owners, "v2g_owners": v2g_owners,
              "income_per_participating_owner": income / lr_owners if lr_owners else 0.0,
              "v2g_income_per_v2g_owner": eco.v2g_payments / v2g_owners if v2g_owners else 0.0}
    return Ledger(utility=utility, operator=operator, owners=owners)
