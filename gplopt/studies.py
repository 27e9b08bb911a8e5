"""Studies built on the public API: the GPL paper's tables (4, 5, 6 and Fig. 6) on common random numbers.

Every point of every table uses the same seed and the same sample years, so differences between points are
paired (common random numbers); points run in parallel across workers without changing any number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gplopt import strict_json
from gplopt.capacity_value import CapacityValueSpec, capacity_value
from gplopt.causes import paired_reduction
from gplopt.economics import economics, ledger
from gplopt.instance import Instance, with_overrides
from gplopt.io import write_text_atomic
from gplopt.paired import BOOT, add_paired_columns, pop_boots
from gplopt.parallel import make_executor
from gplopt.reliability import Execution, SequentialMonteCarlo, assess
from gplopt.system import build_system

DISCHARGE_KW = (2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0)          # paper Table 5
SOC_THRESHOLDS = (0.80, 0.83, 0.85, 0.87, 0.90)             # paper Table 6
GRADES = (1.0, 1.25, 1.5, 1.75, 2.0)                          # paper Fig. 6
PAPER: dict[str, dict[Any, float]] = {
    "table4": {"eens_no_v2g": 259.8, "eens_v2g": 223.4, "benefit": 312000.0},
    "table5": dict(zip(DISCHARGE_KW, (59.3, 87.7, 121.5, 154.0, 167.7, 188.1, 191.7), strict=True)),
    "table6": dict(zip(SOC_THRESHOLDS, (77.9, 103.2, 141.5, 175.3, 181.9), strict=True)),
}
# the paper's Section 7.2.1 base point
BASE = {"gpl.discharge_kw": 3.5, "gpl.soc_threshold": 0.90, "incentive.price_per_kwh": 1.5}


@dataclass(frozen=True)
class Point:
    table: str
    param: str
    value: float
    overrides: dict[str, Any]


def study_point(inst: Instance, overrides: dict[str, Any], mc: SequentialMonteCarlo,
                execution: Execution | None = None) -> dict[str, Any]:
    """ECC with its CI, economics and the stakeholder ledger of one case (a top-level function so workers
    can run it; it runs in one process). Every point of a study uses the same seed and sample years: common
    random numbers."""
    case = with_overrides(inst, overrides) if overrides else inst
    system = build_system(case)
    cv = capacity_value(system, mc, CapacityValueSpec.from_system(system),
                        execution=(execution or Execution()).inline())
    eco = economics(system, cv)
    led = ledger(system, cv, eco)
    return {
        "ecc_kw": cv.value_kw, "ci_low_kw": cv.ci_low_kw, "ci_high_kw": cv.ci_high_kw,
        "ecc_se_kw": float(np.std(cv.boot_values, ddof=1)) if cv.boot_values.size > 1 else float("nan"),
        "ecc_per_cost_se": eco.ecc_per_cost_sd, "net_benefit_se": eco.net_benefit_sd,
        "eens_without_kwh": cv.eens_base.mean, "eens_without_se": cv.eens_base.stderr,
        "eens_with_kwh": cv.eens_with.mean, "eens_with_se": cv.eens_with.stderr,
        "v2g_kwh": cv.v2g_kwh_per_year.mean, "v2g_se": cv.v2g_kwh_per_year.stderr,
        "load_reduction_kwh": cv.load_reduction_kwh_per_year.mean,
        "charging_kwh": cv.charging_kwh_per_year.mean,
        "participation_v2g": system.fleet.rate_v2g if system.fleet else 0.0,
        "net_benefit": eco.net_benefit, "net_benefit_ci_low": eco.net_benefit_ci[0],
        "net_benefit_ci_high": eco.net_benefit_ci[1], "annual_cost": eco.annual_cost,
        "v2g_payments": eco.v2g_payments, "charger_cost_annual": eco.charger_cost_annual,
        "ecc_per_cost": eco.ecc_per_cost, "ecc_per_cost_ci_low": eco.ecc_per_cost_ci[0],
        "ecc_per_cost_ci_high": eco.ecc_per_cost_ci[1], "cost_per_kw": eco.cost_per_kw,
        "storage_cost_per_kw": eco.storage_cost_per_kw, "years": cv.years,
        "converged": cv.converged, "note": cv.note, BOOT: cv.boot_values.tolist(),
        **{f"utility_{k}": v for k, v in led.utility.items()},
        **{f"operator_{k}": v for k, v in led.operator.items()},
        **{f"owners_{k}": v for k, v in led.owners.items()},
    }


def paper_points() -> list[Point]:
    pts = [Point("table5", "gpl.discharge_kw", v, {"gpl.discharge_kw": v}) for v in DISCHARGE_KW]
    pts += [Point("table6", "gpl.soc_threshold", v, {"gpl.soc_threshold": v}) for v in SOC_THRESHOLDS]
    pts += [Point("fig6", "incentive.price_per_kwh", v, {"incentive.price_per_kwh": v}) for v in GRADES]
    return pts


@dataclass
class PaperResult:
    table4: pd.DataFrame
    points: pd.DataFrame
    years: int
    seed: int
    table4_by_cause: pd.DataFrame | None = None   # gplopt.causes.paired_reduction

    def frames(self) -> dict[str, pd.DataFrame]:
        out = {"table4": self.table4}
        if self.table4_by_cause is not None:
            out["table4_by_cause"] = self.table4_by_cause
        for t in ("table5", "table6", "fig6"):
            out[t] = self.points[self.points["table"] == t].reset_index(drop=True)
        return out

    def write(self, out_dir: Path, inst: Instance, mc: SequentialMonteCarlo,
              extra_frames: dict[str, pd.DataFrame] | None = None, extra: dict[str, Any] | None = None) -> None:
        write_study(out_dir, "paper", inst, replace(mc, years=self.years),
                    {**self.frames(), **(extra_frames or {})},
                    {"paper": {k: {str(a): b for a, b in v.items()} for k, v in PAPER.items()}, **(extra or {})})


def paper_tables(inst: Instance, mc: SequentialMonteCarlo, execution: Execution | None = None,
                 progress: Callable[[int, int], None] | None = None, journal: str | Path | None = None
                 ) -> PaperResult:
    """Tables 4-6 and Fig. 6 of the GPL paper on common random numbers (same seed and years everywhere)."""
    if mc.years is None:
        mc = replace(mc, years=20)
    base = with_overrides(inst, BASE)
    system = build_system(base)
    with_v2g = assess(system, mc, execution=execution)
    without = assess(system, replace(mc, v2g=False), execution=execution)
    pts = paper_points()
    total = len(pts) + 1
    if progress:
        progress(1, total)
    rows = run_points(inst, [{**BASE, **p.overrides} for p in pts], mc, execution,
                      (lambda k, n: progress(k + 1, total)) if progress else None, journal)
    boots = pop_boots(rows)
    for p, row in zip(pts, rows, strict=True):
        row.update({"table": p.table, "param": p.param, "value": p.value,
                    "paper_ecc_kw": PAPER.get(p.table, {}).get(p.value) if p.table != "fig6" else None})
    points = add_paired_columns(pd.DataFrame(rows), boots, [p.table for p in pts])
    lead = ["table", "param", "value"]
    points = points[lead + [c for c in points.columns if c not in lead]]
    b = points[(points["table"] == "table5") & (points["value"] == 3.5)].iloc[0]
    table4 = pd.DataFrame([
        {"strategy": "No V2G", "eens_kwh_per_year": without.eens_kwh_per_year.mean,
         "eens_se": without.eens_kwh_per_year.stderr, "economic_benefit": 0.0,
         "paper_eens": PAPER["table4"]["eens_no_v2g"], "paper_benefit": 0.0},
        {"strategy": "V2G", "eens_kwh_per_year": with_v2g.eens_kwh_per_year.mean,
         "eens_se": with_v2g.eens_kwh_per_year.stderr, "economic_benefit": float(b["net_benefit"]),
         "paper_eens": PAPER["table4"]["eens_v2g"], "paper_benefit": PAPER["table4"]["benefit"]},
    ])
    return PaperResult(table4=table4, points=points, years=with_v2g.years, seed=mc.seed,
                       table4_by_cause=pd.DataFrame(paired_reduction(without.per_year, with_v2g.per_year)))


# ------------------------------------------------------------------------------------------ sweeps
def _run_overrides(args: tuple[Instance, dict[str, Any], SequentialMonteCarlo, Execution]) -> dict[str, Any]:
    return {**{f"set:{k}": v for k, v in args[1].items()}, **study_point(*args)}


def point_run_info(inst: Instance, mc: SequentialMonteCarlo, execution: Execution | None = None) -> dict[str, Any]:
    """What a study point depends on besides its overrides: the method, the solver and the certificate switch
    (workers, batch size and scheduler never matter)."""
    from gplopt.checkpoint import run_identity

    ex = execution or Execution()
    method = {k: v for k, v in mc.identity().items() if k != "seed"}
    method.update(solver=ex.solver, use_certificate=ex.use_certificate)
    return run_identity(inst, mc.seed, method)


def run_points(inst: Instance, cases: list[dict[str, Any]], mc: SequentialMonteCarlo,
               execution: Execution | None = None, progress: Callable[[int, int], None] | None = None,
               journal: str | Path | None = None) -> list[dict[str, Any]]:
    """Study points in parallel; results in the order of ``cases`` whatever the number of workers.
    ``journal``: a checkpoint of finished points (a restarted run reads them back)."""
    from gplopt.checkpoint import PointJournal

    for c in cases:       # validate every case before any simulation (bad input fails fast, exit 2)
        with_overrides(inst, c)
    execution = execution or Execution()
    one = execution.inline()
    jr = None
    if journal is not None:
        jr = PointJournal(journal, point_run_info(inst, mc, execution))
    ex = make_executor(execution.workers, scheduler=execution.scheduler)
    rows = []
    try:
        keys = [PointJournal.key(c) for c in cases]
        futs = {k: ex.submit(_run_overrides, (inst, c, mc, one)) for k, c in zip(keys, cases, strict=True)
                if jr is None or k not in jr.points}
        for n, k in enumerate(keys):
            if jr is not None and k in jr.points:
                row = jr.points[k]
            else:
                row = futs[k].result()
                if jr is not None:
                    jr.append(k, row)
            rows.append(dict(row))  # identical cases share one result: each row gets its own copy
            if progress:
                progress(n + 1, len(cases))
    finally:
        ex.shutdown(wait=True, cancel_futures=True)
    return rows


def sweep(inst: Instance, param: str, values: list[Any], mc: SequentialMonteCarlo,
          param2: str | None = None, values2: list[Any] | None = None, execution: Execution | None = None,
          progress: Callable[[int, int], None] | None = None, journal: str | Path | None = None) -> pd.DataFrame:
    """One- or two-way sensitivity of EENS, ECC, ECC-per-cost and net benefit on common random numbers."""
    if param2 is not None and values2:
        cases = [{param: a, param2: b} for a in values for b in values2]
    else:
        cases = [{param: a} for a in values]
    rows = run_points(inst, cases, mc, execution, progress, journal)
    boots = pop_boots(rows)   # paired differences along ``param`` (within each value of ``param2``)
    df = add_paired_columns(pd.DataFrame(rows), boots, [c.get(param2) if param2 else None for c in cases])
    df.insert(0, "param", param)
    df.insert(1, "value", [c[param] for c in cases])
    if param2 is not None and values2:
        df.insert(2, "param2", param2)
        df.insert(3, "value2", [c[param2] for c in cases])
    return df


TORNADO = (  # (path, low, high): the main design and behaviour parameters
    ("gpl.discharge_kw", 2.0, 5.0),
    ("gpl.soc_threshold", 0.80, 0.90),
    ("incentive.price_per_kwh", 1.0, 2.0),
    ("gpl.n_chargers", 200, 400),
    ("gpl.v2g_min_soc", 0.3, 0.6),
    ("economics.storage_hours", 1.0, 4.0),
)


def tornado(inst: Instance, mc: SequentialMonteCarlo, execution: Execution | None = None,
            params: tuple[tuple[str, Any, Any], ...] = TORNADO,
            progress: Callable[[int, int], None] | None = None, journal: str | Path | None = None
            ) -> pd.DataFrame:
    """ECC-per-cost, ECC and net benefit at each parameter's low and high value, beside the base case."""
    cases: list[dict[str, Any]] = [{}]
    for path, lo, hi in params:
        cases += [{path: lo}, {path: hi}]
    rows = run_points(inst, cases, mc, execution, progress, journal)
    pop_boots(rows)
    base = rows[0]
    out = []
    for k, (path, lo, hi) in enumerate(params):
        r_lo, r_hi = rows[1 + 2 * k], rows[2 + 2 * k]
        for metric, se in (("ecc_per_cost", "ecc_per_cost_se"), ("ecc_kw", "ecc_se_kw"),
                           ("net_benefit", "net_benefit_se")):
            out.append({"param": path, "low": lo, "high": hi, "metric": metric, "base": base[metric],
                        "at_low": r_lo[metric], "at_high": r_hi[metric],
                        "swing": abs(r_hi[metric] - r_lo[metric]), "base_se": base[se], "at_low_se": r_lo[se],
                        "at_high_se": r_hi[se]})
    return pd.DataFrame(out).sort_values(["metric", "swing"], ascending=[True, False]).reset_index(drop=True)


# ------------------------------------------------------------------------------------------ phases
@dataclass(frozen=True)
class Phase:
    name: str
    until_uptake: float
    overrides: dict[str, Any]


@dataclass(frozen=True)
class PhaseScenario:
    """EV uptake along a logistic S-curve over planning years (EVPSC paper): chargers are built as uptake
    grows (``n_chargers = uptake x max_chargers``), and the development phase sets what the GPL offers."""
    years: tuple[int, ...] = tuple(range(2024, 2037, 2))
    midpoint: float = 2030.0
    rate: float = 0.6
    max_chargers: int = 400
    phases: tuple[Phase, ...] = (
        Phase("Phase 1: charging only", 0.25, {"gpl.v2g_enabled": False}),
        Phase("Phase 2: controlled charging and V2G", 0.75, {}),
        Phase("Phase 3: automatic (plug-and-play) V2G", 1.01, {"incentive.price_per_kwh": 2.0}),
    )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PhaseScenario:
        phases = tuple(Phase(p["name"], float(p["until_uptake"]), dict(p.get("overrides", {})))
                       for p in d.get("phases", []))
        kw: dict[str, Any] = {k: d[k] for k in ("midpoint", "rate", "max_chargers") if k in d}
        if "years" in d:
            kw["years"] = tuple(int(y) for y in d["years"])
        if phases:
            kw["phases"] = phases
        return cls(**kw)

    def uptake(self, year: int) -> float:
        import math

        return 1.0 / (1.0 + math.exp(-self.rate * (year - self.midpoint)))

    def cases(self) -> list[tuple[int, float, str, dict[str, Any]]]:
        out = []
        for y in self.years:
            u = self.uptake(y)
            ph = next((p for p in self.phases if u < p.until_uptake), self.phases[-1])
            n = max(1, int(round(u * self.max_chargers)))
            out.append((y, u, ph.name, {"gpl.n_chargers": n, **ph.overrides}))
        return out


def phase_study(inst: Instance, scenario: PhaseScenario, mc: SequentialMonteCarlo,
                execution: Execution | None = None,
                progress: Callable[[int, int], None] | None = None, journal: str | Path | None = None
                ) -> pd.DataFrame:
    cases = scenario.cases()
    rows = run_points(inst, [c[3] for c in cases], mc, execution, progress, journal)
    pop_boots(rows)
    df = pd.DataFrame(rows)
    df.insert(0, "year", [c[0] for c in cases])
    df.insert(1, "uptake", [c[1] for c in cases])
    df.insert(2, "phase", [c[2] for c in cases])
    df.insert(3, "n_chargers", [c[3]["gpl.n_chargers"] for c in cases])
    return df


# ------------------------------------------------------------------------------------------ for reports
def annual_ens_and_worst_day(inst: Instance, mc: SequentialMonteCarlo, execution: Execution | None = None
                             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-year ENS of the case, and the hourly story of its worst day (the day with the most ENS)."""
    from gplopt.adequacy import evaluate_year, hour_inputs, lot_buses
    from gplopt.opf_cache import shedding_opf
    from gplopt.sampling import sample_year

    system = build_system(inst)
    one = (execution or Execution()).inline()
    res = assess(system, mc, execution=one)
    per_year = pd.DataFrame({"year": [r.year for r in res.per_year], "ens_kwh": [r.ens_kwh for r in res.per_year],
                             "lol_hours": [r.lol_hours for r in res.per_year],
                             "v2g_kwh": [r.v2g_kwh for r in res.per_year]})
    worst = res.per_year[int(per_year["ens_kwh"].to_numpy().argmax())]
    hist = sample_year(system, mc.seed, worst.year)
    opf = shedding_opf(system.network, system.units, lot_buses(system), one.solver)
    full = evaluate_year(system, hist, opf, v2g=mc.v2g)
    hi = hour_inputs(system, hist, v2g=mc.v2g)
    day = int(full.ens_kw.reshape(-1, 24).sum(axis=1).argmax()) if system.hours >= 24 else 0
    h = slice(day * 24, day * 24 + 24)
    supply = hist.unit_avail_kw[:, h].sum(axis=0)
    worst_day = pd.DataFrame({
        "hour": range(24), "regular_load_kw": system.load_kw[h], "gpl_charging_kw": hi.p_load[h].sum(axis=1)
        - system.load_kw[h], "supply_kw": supply, "v2g_kw": hi.gpl_kw[h], "shed_kw": full.ens_kw[h],
        "load_reduction_kw": hi.fleet.load_reduction_kw[h] if hi.fleet else 0.0})
    worst_day.insert(0, "sample_year", worst.year)
    worst_day.insert(1, "day_of_year", day + 1)
    return per_year, worst_day


# ------------------------------------------------------------------------------------------ writing
def write_study(out_dir: Path, kind: str, inst: Instance, mc: SequentialMonteCarlo,
                frames: dict[str, pd.DataFrame], extra: dict[str, Any] | None = None) -> None:
    """A result directory a report can render: one CSV per frame (and Parquet when pyarrow is installed),
    and result.json with the frames, the seed keys and the instance's assumptions."""
    for name, df in frames.items():
        write_text_atomic(out_dir / f"{name}.csv", df.to_csv(index=False))
        try:
            import pyarrow  # noqa: F401

            from gplopt.io import write_bytes_atomic

            write_bytes_atomic(out_dir / f"{name}.parquet", df.to_parquet(index=False))
        except ImportError:
            pass
    meta = {"kind": kind, "instance": inst.name, "notes": inst.notes, "seed": mc.seed, "years": mc.years,
            "first_year": mc.first_year, **(extra or {})}
    body = {**meta, **{k: v.to_dict(orient="records") for k, v in frames.items()}}
    write_text_atomic(out_dir / "result.json", strict_json.dumps(body))   # NaN -> null with a reason
