"""IEEE 1366 customer interruption indices with standard errors over sample years (docs/distribution.md).

Per sample year and bus, :mod:`gplopt.distribution` counts the interruptions and interrupted hours one customer
of the bus sees (a partially shed bus counts its shed fraction of customers). Weighted by ``customers``:

- SAIFI = sum_b N_b n_b / N_T (interruptions per customer and year), SAIDI = sum_b N_b d_b / N_T (hours);
- CAIDI = SAIDI / SAIFI, the ratio of the two means (not a mean of yearly ratios), with the delta-method
  standard error ``sqrt((s_DD - 2 R s_DF + R^2 s_FF) / n) / mean(F)``;
- ASAI = 1 - SAIDI / hours per year; ENS (kWh/yr) is the EENS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gplopt.metrics import MeanEstimate
from gplopt.system import System

if TYPE_CHECKING:
    from gplopt.adequacy import YearResult


def customers(system: System) -> np.ndarray | None:
    """(B,) customers per bus (0 where not given), or None when the instance counts none."""
    c = [b.customers for b in system.instance.network.buses]
    if all(x is None for x in c):
        return None
    return np.array([x or 0 for x in c], float)


def ratio_estimate(num: np.ndarray, den: np.ndarray) -> MeanEstimate:
    """mean(num) / mean(den) with its delta-method standard error (nan when mean(den) is 0)."""
    n = num.size
    if n == 0 or den.mean() == 0:
        return MeanEstimate(float("nan"), float("nan"))
    r = float(num.mean() / den.mean())
    if n < 2:
        return MeanEstimate(r, float("inf"))
    cov = np.cov(np.vstack([num, den]), ddof=1)
    var = max(float(cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1]), 0.0) / n
    return MeanEstimate(r, math.sqrt(var) / float(den.mean()))


@dataclass(frozen=True)
class BusIndices:
    customers: int
    frequency: MeanEstimate        # interruptions per customer and year
    duration_h: MeanEstimate       # hours per customer and year
    caidi_h: MeanEstimate
    asai: MeanEstimate
    ens_kwh: MeanEstimate

    def to_dict(self) -> dict[str, Any]:
        return {"customers": self.customers, "interruptions_per_year": self.frequency.to_dict(),
                "unavailability_h_per_year": self.duration_h.to_dict(), "caidi_h": self.caidi_h.to_dict(),
                "asai": self.asai.to_dict(), "ens_kwh_per_year": self.ens_kwh.to_dict()}


@dataclass(frozen=True)
class CustomerIndices:
    saifi: MeanEstimate
    saidi_h: MeanEstimate
    caidi_h: MeanEstimate
    asai: MeanEstimate
    ens_kwh: MeanEstimate
    branch_ens_kwh: MeanEstimate   # the part of ENS at buses cut off by branch outages
    by_bus: dict[int, BusIndices]

    def to_dict(self) -> dict[str, Any]:
        return {"saifi": self.saifi.to_dict(), "saidi_h": self.saidi_h.to_dict(), "caidi_h": self.caidi_h.to_dict(),
                "asai": self.asai.to_dict(), "ens_kwh": self.ens_kwh.to_dict(),
                "branch_outage_ens_kwh": self.branch_ens_kwh.to_dict(),
                "customer_indices_by_bus": {str(b): x.to_dict() for b, x in self.by_bus.items()}}


def yearly(system: System, per_year: list[YearResult]) -> tuple[np.ndarray, np.ndarray] | None:
    """(SAIFI, SAIDI) of each sample year, or None without customers (or without per-bus counts)."""
    c = customers(system)
    n_bus = system.network.n_bus
    if c is None or c.sum() == 0 or any(r.interruptions_by_bus.size != n_bus for r in per_year):
        return None
    f = np.array([r.interruptions_by_bus for r in per_year]).reshape(len(per_year), n_bus)
    d = np.array([r.interrupted_h_by_bus for r in per_year]).reshape(len(per_year), n_bus)
    return f @ c / c.sum(), d @ c / c.sum()


def customer_indices(system: System, per_year: list[YearResult]) -> CustomerIndices | None:
    ys = yearly(system, per_year)
    c = customers(system)
    if ys is None or c is None:
        return None
    saifi, saidi = ys
    hours = system.hours
    f = np.array([r.interruptions_by_bus for r in per_year])
    d = np.array([r.interrupted_h_by_bus for r in per_year])
    e = np.array([r.ens_by_bus_kwh for r in per_year])
    by_bus = {int(system.network.bus_ids[j]): BusIndices(
        customers=int(c[j]), frequency=MeanEstimate.of(f[:, j]), duration_h=MeanEstimate.of(d[:, j]),
        caidi_h=ratio_estimate(d[:, j], f[:, j]), asai=MeanEstimate.of(1.0 - d[:, j] / hours),
        ens_kwh=MeanEstimate.of(e[:, j])) for j in range(system.network.n_bus)}
    return CustomerIndices(
        saifi=MeanEstimate.of(saifi), saidi_h=MeanEstimate.of(saidi), caidi_h=ratio_estimate(saidi, saifi),
        asai=MeanEstimate.of(1.0 - saidi / hours), ens_kwh=MeanEstimate.of([r.ens_kwh for r in per_year]),
        branch_ens_kwh=MeanEstimate.of([r.branch_ens_kwh for r in per_year]), by_bus=by_bus)
