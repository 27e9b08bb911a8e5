"""``assess(system, spec) -> ReliabilityResult``: the sequential Monte Carlo driver.

Sample year ``y`` is computed from ``SeedSequence(seed, spawn_key=(y, ...))`` alone; years are evaluated in
batches (in this process or across workers) and the stopping rule is applied year by year in order, so the
answer never depends on batch size or worker count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gplopt import distribution, hl1
from gplopt.adequacy import YearResult, by_hour_of_day, evaluate_year, lot_buses
from gplopt.customer_indices import CustomerIndices, customer_indices
from gplopt.errors import InstanceError
from gplopt.instance import Instance
from gplopt.metrics import MeanEstimate, stopping_year
from gplopt.parallel import make_executor
from gplopt.sampling import sample_year
from gplopt.streams import VERSION as STREAMS_VERSION
from gplopt.system import System

if TYPE_CHECKING:
    from gplopt.network.opf import SheddingOPF


@dataclass(frozen=True)
class SequentialMonteCarlo:
    """How to simulate: seed, stopping rule, V2G on/off, solver, workers. Validates itself."""
    seed: int = 2021
    target_cov: float = 0.05
    min_years: int = 10
    max_years: int = 500
    years: int | None = None       # run exactly this many years (overrides the stopping rule)
    batch_years: int = 8
    v2g: bool = True
    solver: str = "highs"
    workers: int = 1
    use_certificate: bool = True
    first_year: int = 0            # sample years are first_year, first_year + 1, ... (fresh years for checks)
    scheduler: str | None = None   # Dask scheduler address, "local" for a local Dask cluster

    def __post_init__(self) -> None:
        if self.years is not None and self.years < 1:
            raise InstanceError("--years", ">= 1", self.years)
        if not 0 < self.target_cov < 1:
            raise InstanceError("--cov", "in (0, 1)", self.target_cov)
        if self.seed < 0:
            raise InstanceError("--seed", ">= 0", self.seed)
        if self.workers < 1:
            raise InstanceError("--workers", ">= 1", self.workers)
        if self.first_year < 0:
            raise InstanceError("first_year", ">= 0", self.first_year)
        if self.batch_years < 1:
            raise InstanceError("batch_years", ">= 1", self.batch_years)
        if self.max_years < self.min_years:
            raise InstanceError("max_years", f">= min_years ({self.min_years})", self.max_years)

    @classmethod
    def from_instance(cls, inst: Instance, **kw: Any) -> SequentialMonteCarlo:
        s = inst.simulation
        base = dict(seed=s.seed, target_cov=s.target_cov, min_years=s.min_years, max_years=s.max_years,
                    batch_years=s.batch_years)
        base.update({k: v for k, v in kw.items() if v is not None})
        return cls(**base)  # type: ignore[arg-type]

    @property
    def n_cap(self) -> int:
        return self.years if self.years is not None else self.max_years


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
        customer=customer_indices(system, per_year))


def by_lot_estimates(system: System, per_year: list[YearResult]) -> dict[str, MeanEstimate]:
    """V2G energy per lot id (a year without per-lot figures, e.g. the HL-I path with no chargers, counts 0)."""
    n = len(system.lots)
    rows = np.array([r.v2g_kwh_by_lot if r.v2g_kwh_by_lot.size == n else np.zeros(n) for r in per_year],
                    float).reshape(len(per_year), n)
    return {lot.id: MeanEstimate.of(rows[:, k]) for k, lot in enumerate(system.lots)}


# --------------------------------------------------------------------------------------- worker state
_WORKER: dict[str, Any] = {}


def _init_worker(system: System, spec: SequentialMonteCarlo) -> None:
    _WORKER["system"] = system
    _WORKER["spec"] = spec
    _WORKER["opf"] = None
    _WORKER["key"] = id(system)


def _run_years_task(system: System, spec: SequentialMonteCarlo, years: list[int]) -> list[YearResult]:
    """A self-contained task (for executors without initializers, e.g. Dask): sets up the worker once."""
    from gplopt.checkpoint import system_sha

    # every array and scalar of the System: two variants (another grade, another lot) never share a worker setup
    key = (system_sha(system), spec)
    if _WORKER.get("task_key") != key:
        _init_worker(system, spec)
        _WORKER["task_key"] = key
    return _run_years(years)


def _opf() -> SheddingOPF | None:
    system: System = _WORKER["system"]
    if system.network.copper_plate:
        return None
    if _WORKER.get("opf") is None:
        from gplopt.network.opf import SheddingOPF  # Pyomo is imported only when a network needs it

        _WORKER["opf"] = SheddingOPF(system.network, system.units, tuple(lot_buses(system)),
                                     _WORKER["spec"].solver)
    return _WORKER["opf"]  # type: ignore[no-any-return]


def _run_years(years: list[int]) -> list[YearResult]:
    system: System = _WORKER["system"]
    spec: SequentialMonteCarlo = _WORKER["spec"]
    dist = distribution.active(system)   # branch outages or customer indices
    if hl1.eligible(system) and not dist:
        return hl1.hl1_years(system, spec.seed, years)
    out = []
    runs = (distribution.dist_years(system, spec.seed, years, _opf, v2g=spec.v2g, use_certificate=spec.use_certificate)
            if dist else (evaluate_year(system, sample_year(system, spec.seed, y), _opf(), v2g=spec.v2g,
                                        use_certificate=spec.use_certificate) for y in years))
    for r in runs:
        if r.ens_kw.size == r.hours.size:   # the clock-hour profile travels; hourly detail stays in the worker
            r.ens_by_hour_of_day_kwh, r.lol_by_hour_of_day = by_hour_of_day(r.hours, r.ens_kw)
        r.ens_kw = r.normal = r.gpl_bus_load_kw = r.hours = r.charging_kw = r.v2g_kw = np.zeros(0)
        r.ens_by_bus_kw = np.zeros((0, 0))
        out.append(r)
    return out


Progress = Callable[[int, int, ReliabilityResult | None], None]


class _Done:
    """A finished 'future' for years read back from a journal."""

    def __init__(self, value: list[YearResult]) -> None:
        self.value = value

    def result(self) -> list[YearResult]:
        return self.value

    def cancel(self) -> bool:
        return True


def assess(system: System, spec: SequentialMonteCarlo | None = None,
           progress: Progress | None = None, journal: str | Path | None = None) -> ReliabilityResult:
    """EENS, LOLE, LOLF, EDNS, ENS by bus, V2G and load-reduction energy: means with standard errors.

    ``journal``: a JSONL checkpoint of finished sample years; a killed run restarted with the same journal
    reads them back and continues, ending with the same numbers as an uninterrupted run."""
    spec = spec or SequentialMonteCarlo.from_instance(system.instance)
    t0 = time.perf_counter()
    from gplopt.checkpoint import YearJournal

    jr = YearJournal(journal, _run_info(system, spec), system.network.n_bus) if journal is not None else None
    done = jr.years if jr is not None else {}
    if system.network.copper_plate is False:
        from gplopt.network.opf import make_solver

        make_solver(spec.solver)   # fail fast (exit 2) when the solver is unusable
    ex = make_executor(spec.workers, None, (), spec.scheduler)
    results: list[YearResult] = []
    cap = spec.n_cap
    batch = 1 if jr is not None else spec.batch_years   # with a checkpoint, lose at most one year in flight
    inflight = max(1, spec.workers)
    stopped_by = "years" if spec.years is not None else "max_years"
    stop_at = cap
    try:
        next_year = 0
        pending: list[Any] = []
        while len(results) < stop_at:
            while len(pending) < inflight and next_year < stop_at:
                ys = list(range(next_year, min(next_year + batch, stop_at)))
                todo = [spec.first_year + k for k in ys]
                pending.append(_Done([done[y] for y in todo]) if all(y in done for y in todo)
                               else ex.submit(_run_years_task, system, spec, todo))
                next_year = ys[-1] + 1
            batch_results = pending.pop(0).result()
            for r in batch_results:
                if r.year not in done and jr is not None:
                    jr.append(r)
            results.extend(batch_results)
            if spec.years is None:
                decided = stopping_year([r.ens_kwh for r in results], spec.target_cov, spec.min_years,
                                        spec.max_years)
                if decided is not None:
                    stop_at, stopped_by = decided
            if progress is not None:
                progress(min(len(results), stop_at), stop_at if spec.years is not None else cap,
                         summarize(system, results[:stop_at], stopped_by, spec.seed, 0.0))
        for f in pending:
            f.cancel()
    finally:
        ex.shutdown(wait=True, cancel_futures=True)
    return summarize(system, results[:stop_at], stopped_by, spec.seed, time.perf_counter() - t0)


def _run_info(system: System, spec: SequentialMonteCarlo) -> dict[str, Any]:
    from gplopt.checkpoint import run_identity

    # per-year results depend on the System and these only; the year count and the stopping rule may differ
    # (a journal can extend a run), the executor never matters
    keep = {k: v for k, v in spec.__dict__.items() if k in ("v2g", "solver", "use_certificate", "first_year")}
    keep["streams"] = STREAMS_VERSION   # a journal of another sampling scheme is another run
    return run_identity(system.instance, spec.seed, keep, system=system)
