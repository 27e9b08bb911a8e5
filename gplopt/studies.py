"""Studies built on the public API: the GPL paper's tables (4, 5, 6 and Fig. 6) on common random numbers.

Every point of every table uses the same seed and the same sample years, so differences between points are
paired (common random numbers); points run in parallel across workers without changing any number.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from gplopt.capacity_value import CapacityValueSpec, capacity_value
from gplopt.economics import economics
from gplopt.instance import Instance, with_overrides
from gplopt.io import write_text_atomic
from gplopt.parallel import make_executor
from gplopt.reliability import SequentialMonteCarlo, assess
from gplopt.system import build_system

DISCHARGE_KW = (2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0)          # paper Table 5
SOC_THRESHOLDS = (0.80, 0.83, 0.85, 0.87, 0.90)             # paper Table 6
GRADES = (1.0, 1.25, 1.5, 1.75, 2.0)                          # paper Fig. 6
PAPER = {
    "table4": {"eens_no_v2g": 259.8, "eens_v2g": 223.4, "benefit_cny": 312000.0},
    "table5": dict(zip(DISCHARGE_KW, (59.3, 87.7, 121.5, 154.0, 167.7, 188.1, 191.7), strict=True)),
    "table6": dict(zip(SOC_THRESHOLDS, (77.9, 103.2, 141.5, 175.3, 181.9), strict=True)),
}
# the paper's Section 7.2.1 base point
BASE = {"gpl.discharge_kw": 3.5, "gpl.soc_threshold": 0.90, "incentive.price_cny_per_kwh": 1.5}


@dataclass(frozen=True)
class Point:
    table: str
    param: str
    value: float
    overrides: dict[str, Any]


def ecc_point(inst: Instance, point: Point, mc: SequentialMonteCarlo) -> dict[str, Any]:
    """One point: ECC with its CI and the economics (a top-level function so workers can run it)."""
    case = with_overrides(inst, {**BASE, **point.overrides})
    system = build_system(case)
    cv = capacity_value(system, mc, CapacityValueSpec.from_system(system))
    eco = economics(system, cv)
    return {
        "table": point.table, "param": point.param, "value": point.value, "ecc_kw": cv.value_kw,
        "ci_low_kw": cv.ci_low_kw, "ci_high_kw": cv.ci_high_kw,
        "eens_without_kwh": cv.eens_base.mean, "eens_without_se": cv.eens_base.stderr,
        "eens_with_kwh": cv.eens_with.mean, "eens_with_se": cv.eens_with.stderr,
        "v2g_kwh": cv.v2g_kwh_per_year.mean, "v2g_se": cv.v2g_kwh_per_year.stderr,
        "load_reduction_kwh": cv.load_reduction_kwh_per_year.mean,
        "participation_v2g": system.fleet.rate_v2g if system.fleet else 0.0,
        "net_benefit_cny": eco.net_benefit_cny, "annual_cost_cny": eco.annual_cost_cny,
        "v2g_payments_cny": eco.v2g_payments_cny, "charger_cost_cny": eco.charger_cost_cny,
        "ecc_per_cost": eco.ecc_per_cost, "ecc_per_cost_ci_low": eco.ecc_per_cost_ci[0],
        "ecc_per_cost_ci_high": eco.ecc_per_cost_ci[1], "cost_per_kw_cny": eco.cost_per_kw_cny,
        "storage_cost_per_kw_cny": eco.storage_cost_per_kw_cny, "years": cv.years,
        "converged": cv.converged, "note": cv.note,
        "paper_ecc_kw": PAPER.get(point.table, {}).get(point.value) if point.table != "fig6" else None,
    }


def _run_point(args: tuple[Instance, Point, SequentialMonteCarlo]) -> dict[str, Any]:
    return ecc_point(*args)


def paper_points() -> list[Point]:
    pts = [Point("table5", "gpl.discharge_kw", v, {"gpl.discharge_kw": v}) for v in DISCHARGE_KW]
    pts += [Point("table6", "gpl.soc_threshold", v, {"gpl.soc_threshold": v}) for v in SOC_THRESHOLDS]
    pts += [Point("fig6", "incentive.price_cny_per_kwh", v, {"incentive.price_cny_per_kwh": v}) for v in GRADES]
    return pts


@dataclass
class PaperResult:
    table4: pd.DataFrame
    points: pd.DataFrame
    years: int
    seed: int

    def frames(self) -> dict[str, pd.DataFrame]:
        out = {"table4": self.table4}
        for t in ("table5", "table6", "fig6"):
            out[t] = self.points[self.points["table"] == t].reset_index(drop=True)
        return out

    def write(self, out_dir: Path) -> list[Path]:
        written = []
        for name, df in self.frames().items():
            p = out_dir / f"{name}.csv"
            write_text_atomic(p, df.to_csv(index=False))
            written.append(p)
        meta = {"kind": "paper", "years": self.years, "seed": self.seed, "paper": {
            k: {str(a): b for a, b in v.items()} for k, v in PAPER.items()}}
        write_text_atomic(out_dir / "result.json", json.dumps(
            {**meta, **{k: v.to_dict(orient="records") for k, v in self.frames().items()}}, indent=1,
            default=float))
        written.append(out_dir / "result.json")
        return written


def paper_tables(inst: Instance, mc: SequentialMonteCarlo, workers: int = 1,
                 progress: Callable[[int, int], None] | None = None) -> PaperResult:
    """Tables 4-6 and Fig. 6 of the GPL paper on common random numbers (same seed and years everywhere)."""
    if mc.years is None:
        mc = replace(mc, years=20)
    base = with_overrides(inst, BASE)
    system = build_system(base)
    with_v2g = assess(system, mc)
    without = assess(system, replace(mc, v2g=False))
    pts = paper_points()
    total = len(pts) + 1
    if progress:
        progress(1, total)
    one = replace(mc, workers=1)
    ex = make_executor(workers)
    rows = []
    try:
        futs = [ex.submit(_run_point, (inst, p, one)) for p in pts]
        for k, f in enumerate(futs):
            rows.append(f.result())
            if progress:
                progress(k + 2, total)
    finally:
        ex.shutdown(wait=True, cancel_futures=True)
    points = pd.DataFrame(rows)
    b = points[(points["table"] == "table5") & (points["value"] == 3.5)].iloc[0]
    table4 = pd.DataFrame([
        {"strategy": "No V2G", "eens_kwh_per_year": without.eens_kwh_per_year.mean,
         "eens_se": without.eens_kwh_per_year.stderr, "economic_benefit_cny": 0.0,
         "paper_eens": PAPER["table4"]["eens_no_v2g"], "paper_benefit_cny": 0.0},
        {"strategy": "V2G", "eens_kwh_per_year": with_v2g.eens_kwh_per_year.mean,
         "eens_se": with_v2g.eens_kwh_per_year.stderr, "economic_benefit_cny": float(b["net_benefit_cny"]),
         "paper_eens": PAPER["table4"]["eens_v2g"], "paper_benefit_cny": PAPER["table4"]["benefit_cny"]},
    ])
    return PaperResult(table4=table4, points=points, years=with_v2g.years, seed=mc.seed)
