"""Economics of a GPL design (paper Section 5 plus what design needs). Plain arithmetic on results.

- Avoided storage (eqs. 5-2, 5-3): ``S_PE = (C_P P_st + C_E E_st) / life``, ``S_m = C_m E_st`` with
  ``P_st = ECC`` and ``E_st = ECC x storage_hours``.
- V2G payments (eq. 5-4): ``E_V2G = price x V2G energy``; load-reduction payments likewise.
- Paper's net benefit ``E_G = S_PE + S_m - E_V2G``.
- Annual cost of the GPL as virtual storage: annualized charger cost + V2G + load-reduction payments.
- ECC-per-cost = ECC / annual cost (reported in kW per million CNY/yr).

Standard errors: payments carry the simulation's; ECC-derived figures carry the bootstrap spread of ECC.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from gplopt.capacity_value import CapacityValueResult
from gplopt.system import System


@dataclass(frozen=True)
class Economics:
    ecc_kw: float
    storage_power_kw: float
    storage_energy_kwh: float
    storage_capex_annual_cny: float        # S_PE
    storage_om_annual_cny: float           # S_m
    v2g_payments_cny: float                # E_V2G
    v2g_payments_stderr_cny: float
    load_reduction_payments_cny: float
    load_reduction_payments_stderr_cny: float
    charger_cost_cny: float                # annualized, all chargers
    annual_cost_cny: float
    net_benefit_cny: float                 # E_G
    net_benefit_ci_cny: tuple[float, float]
    ecc_per_cost: float                    # kW per million CNY/yr
    ecc_per_cost_ci: tuple[float, float]
    cost_per_kw_cny: float                 # GPL annual cost per kW of ECC
    storage_cost_per_kw_cny: float         # avoided storage's annual cost per kW

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def storage_annual_cost(system: System, ecc_kw: np.ndarray | float) -> tuple[Any, Any]:
    e = system.instance.economics
    p = np.asarray(ecc_kw, float)
    energy = p * e.storage_hours
    capex = (e.storage_power_cost_cny_per_kw * p + e.storage_energy_cost_cny_per_kwh * energy) / \
        e.storage_life_years
    return capex, e.storage_om_cny_per_kwh_year * energy


def economics(system: System, cv: CapacityValueResult) -> Economics:
    f = system.fleet
    price = f.price if f is not None else 0.0
    chargers = f.n_chargers * f.charger_cost_cny_per_year if f is not None else 0.0
    v2g = cv.v2g_kwh_per_year.scaled(price)
    lr = cv.load_reduction_kwh_per_year.scaled(price)
    cost = chargers + v2g.mean + lr.mean
    capex, om = storage_annual_cost(system, cv.value_kw)
    boot = cv.boot_values if cv.boot_values.size else np.array([cv.value_kw])
    b_capex, b_om = storage_annual_cost(system, boot)
    net_boot = b_capex + b_om - v2g.mean
    per_cost_boot = boot / cost * 1e6 if cost > 0 else np.full_like(boot, np.inf)
    a = (1 - cv.ci_level) / 2

    def ci(x: np.ndarray) -> tuple[float, float]:
        return float(np.quantile(x, a)), float(np.quantile(x, 1 - a))

    ecc = cv.value_kw
    return Economics(
        ecc_kw=ecc, storage_power_kw=ecc, storage_energy_kwh=ecc * system.instance.economics.storage_hours,
        storage_capex_annual_cny=float(capex), storage_om_annual_cny=float(om),
        v2g_payments_cny=v2g.mean, v2g_payments_stderr_cny=v2g.stderr,
        load_reduction_payments_cny=lr.mean, load_reduction_payments_stderr_cny=lr.stderr,
        charger_cost_cny=chargers, annual_cost_cny=cost, net_benefit_cny=float(capex + om - v2g.mean),
        net_benefit_ci_cny=ci(net_boot), ecc_per_cost=ecc / cost * 1e6 if cost > 0 else float("inf"),
        ecc_per_cost_ci=ci(per_cost_boot), cost_per_kw_cny=cost / ecc if ecc > 0 else float("inf"),
        storage_cost_per_kw_cny=float((capex + om) / ecc) if ecc > 0 else float("nan"))
