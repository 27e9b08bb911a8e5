"""One design through the inner evaluator: ECC on common random numbers, economics, objective and noise."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from gplopt.capacity_value import CapacityValueSpec, capacity_value
from gplopt.design.space import Design
from gplopt.economics import economics
from gplopt.instance import Instance, with_overrides
from gplopt.reliability import Execution, SequentialMonteCarlo
from gplopt.resources import JOINT, per_lot_values
from gplopt.system import build_system


@dataclass(frozen=True)
class Evaluation:
    """A finished evaluation (frozen; one journal line)."""
    design: Design
    seed: int
    first_year: int
    years: int
    ecc_kw: float
    ecc_ci: tuple[float, float]
    annual_cost: float
    ecc_per_cost: float            # kW per million units of the currency per year
    ecc_per_cost_sd: float         # bootstrap standard deviation (the evaluation's noise)
    net_benefit: float
    net_benefit_sd: float
    eens_kwh_per_year: float
    v2g_kwh_per_year: float
    seconds: float
    lots: dict[str, dict[str, Any]] | None = None   # siting, reported design: each lot's own ECC and the joint

    def objective(self, kind: str) -> tuple[float, float]:
        """(value to maximize, its standard deviation)."""
        if kind == "net_benefit":
            return self.net_benefit, self.net_benefit_sd
        return self.ecc_per_cost, self.ecc_per_cost_sd

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["design"] = self.design.to_dict()
        d["ecc_ci"] = list(self.ecc_ci)
        if self.lots is None:
            del d["lots"]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Evaluation:
        d = dict(d)
        d["design"] = Design.from_dict(d["design"])
        d["ecc_ci"] = tuple(d["ecc_ci"])
        return cls(**d)


def evaluate_design(inst: Instance, design: Design, mc: SequentialMonteCarlo, per_lot: bool = False,
                    execution: Execution | None = None) -> Evaluation:
    """ECC and economics of one design on sample years ``mc.first_year ..`` (same seeds for every design), in
    one process (designs are the parallel tasks). The ECC is that of all lots jointly; ``per_lot`` adds each
    lot's own (marginal) ECC on the same years, when the design has several lots (the ``--resource`` machinery:
    :func:`gplopt.resources.per_lot_values`)."""
    t0 = time.perf_counter()
    system = build_system(with_overrides(inst, design.overrides()))
    ex1 = (execution or Execution()).inline()
    spec = CapacityValueSpec.from_system(system, resource=JOINT if len(system.lots) > 1 else None)
    cv = capacity_value(system, mc, spec, execution=ex1)
    lots = per_lot_values(system, mc, spec, cv, execution=ex1) if per_lot and len(system.lots) > 1 else None
    eco = economics(system, cv)
    cost = eco.annual_cost
    return Evaluation(
        design=design, seed=mc.seed, first_year=mc.first_year, years=cv.years, ecc_kw=cv.value_kw,
        ecc_ci=(cv.ci_low_kw, cv.ci_high_kw), annual_cost=cost, ecc_per_cost=eco.ecc_per_cost,
        ecc_per_cost_sd=eco.ecc_per_cost_sd, net_benefit=eco.net_benefit,
        net_benefit_sd=eco.net_benefit_sd,
        eens_kwh_per_year=cv.eens_with.mean, v2g_kwh_per_year=cv.v2g_kwh_per_year.mean,
        seconds=time.perf_counter() - t0, lots=lots)
