"""What a capacity-value run is asked (``CapacityValueSpec``) and what it answers (``CapacityValueResult``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gplopt.errors import InstanceError
from gplopt.metrics import MeanEstimate
from gplopt.resources import lot_selection
from gplopt.system import System

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class CapacityValueSpec:
    metric: str = "ecc"            # a name in gplopt.capacity.metrics.METRICS (ecc, efc, elcc)
    resource: str = "gpl"          # a lot id, "gpls" (all lots; "gpl" too unless a lot is so named), a unit id
    tolerance: float = 0.01        # |EENS_V - EENS_with| / EENS_with
    capacity_max_kw: float = 2000.0
    ref_mttf_h: float = 1250.0
    ref_mttr_h: float = 60.0
    ref_bus: int | None = None     # bus index; None = the GPL bus (or the resource unit's bus)
    n_boot: int = 400
    ci_level: float = 0.90
    max_probes: int = 40

    @classmethod
    def from_system(cls, system: System, **kw: Any) -> CapacityValueSpec:
        from gplopt.capacity.metrics import METRICS

        r = system.settings.ecc_reference
        bus = system.network.index(r.bus) if r.bus is not None else None
        base: dict[str, Any] = dict(tolerance=r.tolerance, capacity_max_kw=r.capacity_max_kw,
                                    ref_mttf_h=r.mttf_h, ref_mttr_h=r.mttr_h, ref_bus=bus)
        base.update({k: v for k, v in kw.items() if v is not None})
        spec = cls(**base)
        if spec.metric not in METRICS:
            raise InstanceError("--metric", f"one of {', '.join(METRICS)}", spec.metric)
        lot_selection(system, spec.resource)   # a lot id, 'gpls' or a unit id, else a clear error
        return spec


@dataclass(frozen=True)
class Probe:
    capacity_kw: float
    eens_kwh_per_year: MeanEstimate
    rel_gap: float                 # (EENS_probe - EENS_target) / EENS_target

    def to_dict(self) -> dict[str, Any]:
        return {"capacity_kw": self.capacity_kw, "eens_kwh_per_year": self.eens_kwh_per_year.to_dict(),
                "rel_gap": self.rel_gap}


@dataclass
class CapacityValueResult:
    metric: str
    resource: str
    value_kw: float
    lower_kw: float                # largest probe whose EENS is still short of the target
    upper_kw: float | None         # smallest probe past the target (None: none probed)
    ci_low_kw: float
    ci_high_kw: float
    ci_level: float
    eens_base: MeanEstimate        # without the resource (ELCC: with it, before extra load)
    eens_with: MeanEstimate        # the target
    probes: list[Probe]
    years: int
    converged: bool
    note: str
    v2g_kwh_per_year: MeanEstimate
    load_reduction_kwh_per_year: MeanEstimate
    seconds: float
    evaluated_day_fraction: float
    charging_kwh_per_year: MeanEstimate = field(default_factory=lambda: MeanEstimate(0.0, 0.0))
    boot_values: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    stopped_by: str = ""           # years | target_cov | max_years | ecc_rel_precision

    @property
    def half_width_kw(self) -> float:
        return 0.5 * (self.ci_high_kw - self.ci_low_kw)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric, "resource": self.resource, "value_kw": self.value_kw,
            "lower_kw": self.lower_kw, "upper_kw": self.upper_kw, "ci_low_kw": self.ci_low_kw,
            "ci_high_kw": self.ci_high_kw, "ci_level": self.ci_level,
            "eens_base_kwh_per_year": self.eens_base.to_dict(),
            "eens_with_kwh_per_year": self.eens_with.to_dict(),
            "probes": [p.to_dict() for p in self.probes], "years": self.years, "converged": self.converged,
            "note": self.note, "v2g_kwh_per_year": self.v2g_kwh_per_year.to_dict(),
            "load_reduction_kwh_per_year": self.load_reduction_kwh_per_year.to_dict(),
            "charging_kwh_per_year": self.charging_kwh_per_year.to_dict(),
            "seconds": self.seconds, "evaluated_day_fraction": self.evaluated_day_fraction,
            "stopped_by": self.stopped_by,
        }
