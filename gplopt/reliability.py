"""``assess(system, spec, execution=...) -> ReliabilityResult``: the sequential Monte Carlo driver.

Sample year ``y`` is a function of (instance, seed, y) alone; years are evaluated in batches (in this process or
across workers) by :func:`gplopt.montecarlo.run_years`, which applies the stopping rule year by year in order,
so the answer never depends on batch size or worker count. ``SequentialMonteCarlo`` (the method) and
``Execution`` (how it runs) are defined in :mod:`gplopt.montecarlo` and re-exported here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gplopt import distribution, hl1
from gplopt.adequacy import YearResult, by_hour_of_day, evaluate_year, lot_buses
from gplopt.causes import cause_estimates, causes_to_dict, finish_causes, hl1_causes, plan_causes
from gplopt.control_variate import ControlVariateResult, check_eligible, control_variate
from gplopt.customer_indices import CustomerIndices, customer_indices
from gplopt.errors import GploptError
from gplopt.instance import Instance
from gplopt.metrics import MeanEstimate
from gplopt.montecarlo import Execution, SequentialMonteCarlo, run_years
from gplopt.opf_cache import shedding_opf
from gplopt.sampling import History, sample_year
from gplopt.streams import VERSION as STREAMS_VERSION
from gplopt.system import System

if TYPE_CHECKING:
    from gplopt.network.opf import SheddingOPF

__all__ = ["Execution", "ReliabilityResult", "SequentialMonteCarlo", "assess", "summarize"]


@dataclass
class ReliabilityResult:
    eens_kwh_per_year: MeanEstimate
    lole_h_per_year: MeanEstimate
    lolf_per_year: MeanEstimate
    edns_kw: MeanEstimate
    v2g_kwh_per_year: MeanEstimate
    load_reduction_kwh_per_year: MeanEstimate
    charging_kwh_per_year: MeanEstimate
    ens_by_bus_kwh_per_year: dict[int, MeanEstimate]
    years: int
    stopped_by: str                # target_cov | max_years | years
    opf_solves: int
    opf_failed_hours: int
    hours_screened: int
    hours_certified: int
    seconds: float
    seed: int
    per_year: list[YearResult] = field(repr=False, default_factory=list)
    v2g_kwh_per_year_by_lot: dict[str, MeanEstimate] = field(default_factory=dict)
    customer: CustomerIndices | None = None   # IEEE 1366 indices when the instance counts customers
    by_cause: dict[str, dict[str, MeanEstimate]] | None = None   # gplopt.causes: entry -> metric -> estimate
    control_variate: ControlVariateResult | None = None   # opt-in, HL-I only (gplopt.control_variate)

    def to_frame(self, kind: str = "year") -> Any:
        """A pandas DataFrame: ``year`` (per sample year), ``bus`` (EENS by bus), ``hour_of_day``."""
        from gplopt.frames import reliability_frame

        return reliability_frame(self, kind)

    def to_dict(self, by_bus: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "eens_kwh_per_year": self.eens_kwh_per_year.to_dict(),
            "lole_h_per_year": self.lole_h_per_year.to_dict(),
            "lolf_per_year": self.lolf_per_year.to_dict(),
            "edns_kw": self.edns_kw.to_dict(),
            "v2g_kwh_per_year": self.v2g_kwh_per_year.to_dict(),
            "load_reduction_kwh_per_year": self.load_reduction_kwh_per_year.to_dict(),
            "charging_kwh_per_year": self.charging_kwh_per_year.to_dict(),
            "cov": self.eens_kwh_per_year.cov,
            "years": self.years, "stopped_by": self.stopped_by, "seed": self.seed,
            "opf_solves": self.opf_solves, "opf_failed_hours": self.opf_failed_hours,
            "hours_screened": self.hours_screened, "hours_certified": self.hours_certified,
            "seconds": self.seconds,
        }
        d["by_lot"] = {k: {"v2g_kwh_per_year": e.to_dict()} for k, e in self.v2g_kwh_per_year_by_lot.items()}
        if self.customer is not None:
            d.update(self.customer.to_dict())
        d.update(causes_to_dict(self.by_cause))
        if self.control_variate is not None:
            d.update(self.control_variate.to_dict())
        if by_bus:
            d["ens_by_bus_kwh_per_year"] = {str(b): e.to_dict() for b, e in self.ens_by_bus_kwh_per_year.items()}
        return d


def summarize(system: System, per_year: list[YearResult], stopped_by: str, seed: int,
              seconds: float) -> ReliabilityResult:
    def est(key: str) -> MeanEstimate:
        return MeanEstimate.of([getattr(r, key) for r in per_year])

    by_bus = np.array([r.ens_by_bus_kwh for r in per_year])
    net = system.network
    eens = est("ens_kwh")
    return ReliabilityResult(
        eens_kwh_per_year=eens, lole_h_per_year=est("lol_hours"), lolf_per_year=est("lol_events"),
        edns_kw=eens.scaled(1.0 / system.hours), v2g_kwh_per_year=est("v2g_kwh"),
        load_reduction_kwh_per_year=est("load_reduction_kwh"), charging_kwh_per_year=est("charging_kwh"),
        ens_by_bus_kwh_per_year={int(net.bus_ids[j]): MeanEstimate.of(by_bus[:, j])
                                 for j in range(net.n_bus)},
        years=len(per_year), stopped_by=stopped_by,
        opf_solves=sum(r.opf_solves for r in per_year), opf_failed_hours=sum(r.opf_failed for r in per_year),
        hours_screened=sum(r.hours_screened for r in per_year),
        hours_certified=sum(r.hours_certified for r in per_year), seconds=seconds, seed=seed,
        per_year=per_year, v2g_kwh_per_year_by_lot=by_lot_estimates(system, per_year),
        customer=customer_indices(system, per_year),
        by_cause=cause_estimates(per_year))


def by_lot_estimates(system: System, per_year: list[YearResult]) -> dict[str, MeanEstimate]:
    """V2G energy per lot id (a year without per-lot figures, e.g. the HL-I path with no chargers, counts 0)."""
    n = len(system.lots)
    rows = np.array([r.v2g_kwh_by_lot if r.v2g_kwh_by_lot.size == n else np.zeros(n) for r in per_year],
                    float).reshape(len(per_year), n)
    return {lot.id: MeanEstimate.of(rows[:, k]) for k, lot in enumerate(system.lots)}


# --------------------------------------------------------------------------------------- worker state
_WORKER: dict[str, Any] = {}
Setup = tuple[System, SequentialMonteCarlo, Execution]


def _init_worker(system: System, spec: SequentialMonteCarlo, execution: Execution) -> None:
    _WORKER["system"] = system
    _WORKER["spec"] = spec
    _WORKER["execution"] = execution
    _WORKER["opf"] = None
    _WORKER["key"] = id(system)


def _run_years_task(setup: Setup, years: list[int]) -> list[YearResult]:
    """A self-contained task (for executors without initializers, e.g. Dask): sets up the worker once."""
    from gplopt.checkpoint import system_sha

    system, spec, execution = setup
    # every array and scalar of the System: two variants (another grade, another lot) never share a worker setup;
    # hashed once per System object (an in-process executor passes the same one with every batch)
    known = _WORKER.get("sha_of")
    sha = known[1] if known is not None and known[0] is system else system_sha(system)
    _WORKER["sha_of"] = (system, sha)
    key = (sha, spec, execution.solver, execution.use_certificate)
    if _WORKER.get("task_key") != key:
        _init_worker(system, spec, execution)
        _WORKER["task_key"] = key
    return _run_years(years)


def _opf() -> SheddingOPF | None:
    system: System = _WORKER["system"]
    if _WORKER.get("opf") is None:
        _WORKER["opf"] = shedding_opf(system.network, system.units, lot_buses(system), _WORKER["execution"].solver)
    return _WORKER["opf"]  # type: ignore[no-any-return]


def _run_years(years: list[int]) -> list[YearResult]:
    system: System = _WORKER["system"]
    spec: SequentialMonteCarlo = _WORKER["spec"]
    uc = _WORKER["execution"].use_certificate
    if hl1.eligible(system) and not distribution.active(system):
        done = hl1.hl1_years(system, spec.seed, years, control=spec.control_variate)
        hl1_causes(system, spec.seed, done)
        return done
    if distribution.active(system):   # branch outages or customer indices: the overlay of the intact network
        pairs: Iterable[tuple[History, YearResult]] = distribution.dist_year_histories(
            system, spec.seed, years, _opf, v2g=spec.v2g, use_certificate=uc)
    else:
        pairs = ((h, evaluate_year(system, h, _opf(), v2g=spec.v2g, use_certificate=uc))
                 for h in (sample_year(system, spec.seed, y) for y in years))
    out, plans = [], []
    for hist, r in pairs:
        plans.append(plan_causes(system, hist, r, v2g=spec.v2g))
        out.append(_travel(r))
    finish_causes(system, plans, v2g=spec.v2g)   # the split's counterfactual for the batch's years at once
    return out


def _travel(r: YearResult) -> YearResult:
    """Keep the clock-hour profile; drop the hourly detail (it stays in the worker)."""
    if r.ens_kw.size == r.hours.size:
        r.ens_by_hour_of_day_kwh, r.lol_by_hour_of_day = by_hour_of_day(r.hours, r.ens_kw)
    r.ens_kw = r.normal = r.gpl_bus_load_kw = r.hours = r.charging_kw = r.v2g_kw = r.shortfall_kw = np.zeros(0)
    r.ens_by_bus_kw = np.zeros((0, 0))
    return r


Progress = Callable[[int, int, ReliabilityResult | None], None]
"""``progress(years done, years planned, partial)``: ``partial`` summarizes the years done when it was last
refreshed (on a long run it may lag the count by a few batches; the last call is always current)."""


def assess(system: System, spec: SequentialMonteCarlo | None = None,
           progress: Progress | None = None, journal: str | Path | None = None, *,
           execution: Execution | None = None, instance: Instance | None = None) -> ReliabilityResult:
    """EENS, LOLE, LOLF, EDNS, ENS by bus, V2G and load-reduction energy: means with standard errors.

    ``spec`` is the method (default: the instance's simulation block), ``execution`` how to run it (default:
    one process). ``journal``: a JSONL checkpoint of finished sample years; a killed run restarted with the
    same journal reads them back and continues, ending with the same numbers as an uninterrupted run (its
    header fingerprints ``instance``, which a journal therefore needs)."""
    spec = spec or SequentialMonteCarlo.from_settings(system.settings.simulation)
    execution = execution or Execution(batch_years=system.settings.simulation.batch_years)
    t0 = time.perf_counter()
    from gplopt.checkpoint import YearJournal

    if journal is not None and instance is None:
        raise GploptError("--journal: needs the instance it fingerprints (assess(..., instance=inst)), got none")
    jr = (YearJournal(journal, _run_info(system, spec, execution, instance), system.network.n_bus)
          if journal is not None and instance is not None else None)
    if spec.control_variate:
        check_eligible(system)          # fail fast, before any year is run
    if system.network.copper_plate is False:
        from gplopt.network.opf import make_solver

        make_solver(execution.solver)   # fail fast (exit 2) when the solver is unusable

    last: dict[str, Any] = {"at": 0.0, "cost": 0.0, "res": None}

    def report(done: list[YearResult], stop_at: int, stopped_by: str) -> None:
        # the partial summary costs O(years so far): refreshed when the previous one is at least 5 times its own
        # cost old (and 0.2 s), and at the end, so progress costs a bounded share of a long run, not O(years^2)
        if progress is None:
            return
        now = time.perf_counter()
        if last["res"] is None or len(done) >= stop_at or now - last["at"] >= max(0.2, 5 * last["cost"]):
            last["res"] = summarize(system, done, stopped_by, spec.seed, 0.0)
            last["at"], last["cost"] = time.perf_counter(), time.perf_counter() - now
        progress(len(done), stop_at if spec.years is not None else spec.n_cap, last["res"])

    results, stopped_by = run_years(
        _run_years_task, (system, spec, execution.inline()), spec, execution, lambda r: r.ens_kwh,
        progress=report, done=jr.years if jr is not None else None, on_new=jr.append if jr is not None else None,
        batch=1 if jr is not None else None)    # with a checkpoint, lose at most one year in flight
    res = summarize(system, results, stopped_by, spec.seed, time.perf_counter() - t0)
    if spec.control_variate:
        res.control_variate = control_variate(system, spec.seed, results)
        res.seconds = time.perf_counter() - t0
    return res


def _run_info(system: System, spec: SequentialMonteCarlo, execution: Execution,
              instance: Instance) -> dict[str, Any]:
    from gplopt.checkpoint import run_identity

    # per-year results depend on the System and these only; the year count and the stopping rule may differ
    # (a journal can extend a run), the executor never matters
    keep = {"v2g": spec.v2g, "solver": execution.solver, "use_certificate": execution.use_certificate,
            "first_year": spec.first_year}
    keep["streams"] = STREAMS_VERSION   # a journal of another sampling scheme is another run
    if distribution.has_customers(system):   # interruptions counted from the faults' times since 2026-12-07
        keep["interruption_count"] = distribution.COUNTING
    return run_identity(instance, spec.seed, keep, system=system)
