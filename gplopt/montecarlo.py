"""The sequential Monte Carlo *method* and its *execution*, kept apart (as PRAS does), and the one year loop.

``SequentialMonteCarlo`` says what is computed: the seed, which sample years (``first_year``, ``years`` or the
stopping rule ``target_cov`` / ``min_years`` / ``max_years``, and for capacity values ``ecc_rel_precision``) and
whether V2G is dispatched. Two runs with the same method give the same numbers. ``v2g`` belongs to the method
because it changes the system that is simulated (the capacity value's "without" case is the same system with V2G
off), not how the simulation is carried out.

``Execution`` says how it is carried out: ``workers``, ``batch_years``, a Dask ``scheduler``, the LP ``solver``
and ``use_certificate`` (an exact fast path). None of these changes a number: results depend on (instance,
method) only, which the determinism tests check for workers and batch sizes.

``run_years`` is the only place sample years are batched over an executor and stopped: ``assess``, the capacity
value's first pass (ECC, EFC) and ELCC's base years all call it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import numpy as np

from gplopt.errors import GploptError, InstanceError
from gplopt.instance import Instance
from gplopt.metrics import stopping_year
from gplopt.parallel import make_executor

R = TypeVar("R")


@dataclass(frozen=True)
class SequentialMonteCarlo:
    """How to sample: seed, sample years and the stopping rule, V2G on/off. Validates itself."""
    seed: int = 2021
    target_cov: float = 0.05
    min_years: int = 10
    max_years: int = 500
    years: int | None = None       # run exactly this many years (overrides the stopping rules)
    v2g: bool = True
    first_year: int = 0            # sample years are first_year, first_year + 1, ... (fresh years for checks)
    ecc_rel_precision: float | None = None  # capacity value: add years until CI half-width <= this x value
    control_variate: bool = False  # also report EENS/LOLE with a control variate (HL-I; gplopt.control_variate)

    def __post_init__(self) -> None:
        if self.years is not None and self.years < 1:
            raise InstanceError("--years", ">= 1", self.years)
        if not 0 < self.target_cov < 1:
            raise InstanceError("--cov", "in (0, 1)", self.target_cov)
        if self.seed < 0:
            raise InstanceError("--seed", ">= 0", self.seed)
        if self.first_year < 0:
            raise InstanceError("first_year", ">= 0", self.first_year)
        if self.max_years < self.min_years:
            raise InstanceError("max_years", f">= min_years ({self.min_years})", self.max_years)
        if self.ecc_rel_precision is not None and not 0 < self.ecc_rel_precision < 1:
            raise InstanceError("--ecc-rel-precision", "in (0, 1)", self.ecc_rel_precision)

    @classmethod
    def from_instance(cls, inst: Instance, **kw: Any) -> SequentialMonteCarlo:
        return cls.from_settings(inst.simulation, **kw)

    @classmethod
    def from_settings(cls, s: Any, **kw: Any) -> SequentialMonteCarlo:
        """From an instance's ``simulation`` block, then the non-None keywords."""
        moved = sorted(k for k in set(kw) & {f.name for f in fields(Execution)} if kw[k] is not None)
        if moved:   # code written before the split: say where the setting went instead of a TypeError
            raise GploptError(f"{moved[0]}: must be given to Execution(...) and passed as execution=..., not to "
                              f"the method SequentialMonteCarlo, got {kw[moved[0]]!r}")
        base = dict(seed=s.seed, target_cov=s.target_cov, min_years=s.min_years, max_years=s.max_years,
                    ecc_rel_precision=getattr(s, "ecc_rel_precision", None),
                    control_variate=getattr(s, "control_variate", False))
        base.update({k: v for k, v in kw.items() if v is not None})
        return cls(**base)  # type: ignore[arg-type]

    @property
    def n_cap(self) -> int:
        return self.years if self.years is not None else self.max_years

    def identity(self) -> dict[str, Any]:
        """The method as a journal fingerprints it (a rule left unset is left out, so journals written before
        the rule existed still match)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if not (f.name == "ecc_rel_precision" and self.ecc_rel_precision is None)
                and not (f.name == "control_variate" and not self.control_variate)}


@dataclass(frozen=True)
class Execution:
    """How to run: processes, batch size, Dask scheduler, LP solver, certificate fast path. Never changes a
    number (results depend on the instance and the method only)."""
    workers: int = 1
    batch_years: int = 8
    scheduler: str | None = None   # Dask scheduler address, "local" for a local Dask cluster
    solver: str = "highs"
    use_certificate: bool = True

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise InstanceError("--workers", ">= 1", self.workers)
        if self.batch_years < 1:
            raise InstanceError("batch_years", ">= 1", self.batch_years)

    @classmethod
    def from_instance(cls, inst: Instance, **kw: Any) -> Execution:
        base: dict[str, Any] = dict(batch_years=inst.simulation.batch_years)
        base.update({k: v for k, v in kw.items() if v is not None})
        return cls(**base)

    def inline(self) -> Execution:
        """The same execution in one process (what each task of a parallel run uses inside its worker)."""
        return Execution(workers=1, batch_years=self.batch_years, scheduler=None, solver=self.solver,
                         use_certificate=self.use_certificate)


class Done:
    """A finished 'future' for years already known (read back from a journal, or kept from an earlier round)."""

    def __init__(self, value: list[Any]) -> None:
        self.value = value

    def result(self) -> list[Any]:
        return self.value

    def cancel(self) -> bool:
        return True


YearsProgress = Callable[[list[Any], int, str], None]


def run_years(task: Callable[[Any, list[int]], list[R]], setup: Any, mc: SequentialMonteCarlo,
              execution: Execution, ens: Callable[[R], float], *, ex: Executor | None = None,
              progress: YearsProgress | None = None, done: dict[int, R] | None = None,
              on_new: Callable[[R], None] | None = None, batch: int | None = None) -> tuple[list[R], str]:
    """``task(setup, years)`` over batches of sample years in order, across ``ex`` (or an executor made from
    ``execution`` and shut down here), until the stopping rule on ``ens(result)`` decides year by year (or
    exactly ``mc.years``). Returns the results of years ``mc.first_year ..`` and what stopped the run
    (``years`` | ``target_cov`` | ``max_years``).

    ``done``: results already known by sample year (a journal, an earlier round), not recomputed; ``on_new`` is
    called with each newly computed result in year order; ``progress(results, stop_at, stopped_by)`` after each
    batch. The answer never depends on the batch size or the number of workers."""
    own = ex is None
    ex = ex if ex is not None else make_executor(execution.workers, scheduler=execution.scheduler)
    known = done or {}
    results: list[R] = []
    stop_at = mc.n_cap
    size = batch if batch is not None else execution.batch_years
    stopped_by = "years" if mc.years is not None else "max_years"
    pending: list[tuple[Any, list[int]]] = []
    next_year = 0
    vals = np.zeros(0)
    try:
        while len(results) < stop_at:
            while len(pending) < max(1, execution.workers) and next_year < stop_at:
                todo = [mc.first_year + k for k in range(next_year, min(next_year + size, stop_at))]
                pending.append((Done([known[y] for y in todo]) if all(y in known for y in todo)
                                else ex.submit(task, setup, todo), todo))
                next_year += len(todo)
            fut, todo = pending.pop(0)
            for y, r in zip(todo, fut.result(), strict=True):
                if on_new is not None and y not in known:
                    on_new(r)
                results.append(r)
            if mc.years is None:     # each result's EENS read once (not the whole list again every batch)
                vals = np.concatenate([vals, np.fromiter((ens(r) for r in results[vals.size:]), float)])
                decided = stopping_year(vals, mc.target_cov, mc.min_years, mc.max_years)
                if decided is not None:
                    stop_at, stopped_by = decided
            if progress is not None:
                progress(results[:stop_at], stop_at, stopped_by)
        for f, _ in pending:
            f.cancel()
    finally:
        if own:
            ex.shutdown(wait=True, cancel_futures=True)
    return results[:stop_at], stopped_by
