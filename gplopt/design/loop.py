"""``optimize``: the surrogate-assisted outer loop over the design lattice.

Every evaluation uses the same seed and sample years (common random numbers across designs). The loop is a
deterministic function of (instance, spec) and of the evaluations it has been told, so a resumed run replays
the same proposals, finds the finished evaluations in the journal, and ends with the same answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gplopt.design.advice import bounds_hit, comparison
from gplopt.design.evaluate import Evaluation, evaluate_design
from gplopt.design.journal import Journal, eval_key
from gplopt.design.result import DesignResult, ecc_se_kw, pareto_front, write_results
from gplopt.design.sites import ENCODINGS, Site, uses_sites
from gplopt.design.space import Design, DesignSpace
from gplopt.design.surrogate import maximin_sample, posterior_mean, propose_batch
from gplopt.errors import GploptError, InstanceError
from gplopt.instance import Instance
from gplopt.parallel import make_executor
from gplopt.reliability import Execution, SequentialMonteCarlo
from gplopt.streams import purpose_rng

__all__ = ["BACKENDS", "DesignResult", "DesignSpec", "Evaluation", "budget_note", "ecc_se_kw", "optimize",
           "pareto_front", "write_results"]

BACKENDS = ("gp", "random", "grid", "optuna")
MAX_YEARS_FACTOR = 4           # a design re-picked gets at most 4 x the base sample years
CONFIRM_FIRST_YEAR = 100_000   # fresh sample years to choose among the top designs, never used by the search
REPORT_FIRST_YEAR = 200_000    # a second fresh set: the chosen design's reported value (no winner's curse)


@dataclass(frozen=True)
class DesignSpec:
    budget: int = 40
    years: int = 10                # sample years per evaluation (a re-pick doubles them)
    seed: int = 2021
    objective: str = "ecc_per_cost"
    workers: int = 1
    n_init: int | None = None
    confirm_top: int = 3
    confirm_years: int = 20
    time_limit_s: float | None = None
    backend: str = "gp"
    journal: str | None = None
    scheduler: str | None = None
    bus_encoding: str = "onehot"     # siting: how a candidate bus enters the GP (gplopt.design.sites)
    max_years_factor: int | None = None   # re-picks up to this x years; None: 4, or 1 (no re-pick) with siting

    def __post_init__(self) -> None:
        if self.budget < 1:
            raise InstanceError("--budget", ">= 1", self.budget)
        if self.years < 2:
            raise InstanceError("--years", ">= 2", self.years)
        if self.objective not in ("ecc_per_cost", "net_benefit", "pareto"):
            raise InstanceError("--objective", "one of ecc_per_cost, net_benefit, pareto", self.objective)
        if self.backend not in BACKENDS:
            raise InstanceError("--backend", f"one of {', '.join(BACKENDS)}", self.backend)
        if self.workers < 1:
            raise InstanceError("--workers", ">= 1", self.workers)
        if self.max_years_factor is not None and not 1 <= self.max_years_factor <= 64:
            raise InstanceError("--max-years-factor", "in [1, 64]", self.max_years_factor)
        if self.bus_encoding not in ENCODINGS:
            raise InstanceError("--bus-encoding", f"one of {', '.join(ENCODINGS)}", self.bus_encoding)

    @property
    def scalar_objective(self) -> str:
        return "ecc_per_cost" if self.objective == "pareto" else self.objective

    def run_info(self, inst: Instance) -> dict[str, Any]:
        """What makes a journal belong to a run (workers and time limit never change answers)."""
        from gplopt.checkpoint import run_identity

        mc, ex = SequentialMonteCarlo(), Execution()
        return run_identity(inst, self.seed, {
            "budget": self.budget, "years": self.years, "objective": self.objective, "backend": self.backend,
            "n_init": self.n_init, "confirm_top": self.confirm_top, "confirm_years": self.confirm_years,
            "solver": ex.solver, "use_certificate": ex.use_certificate, "v2g": mc.v2g,
            **({"bus_encoding": self.bus_encoding, "max_years_factor": self.years_factor(inst)}
               if uses_sites(inst) else {})})

    def years_factor(self, inst: Instance) -> int:
        """How many times its base years a re-picked design may get: 1 = EI never re-picks an evaluated design.
        Default 4 for one lot; 1 with siting, where the siting benchmark (docs/design.md) found the budget better
        spent on designs not yet seen (re-picks cost 2-4 evaluations each)."""
        if self.max_years_factor is not None:
            return self.max_years_factor
        return 1 if uses_sites(inst) else MAX_YEARS_FACTOR


Progress = Callable[[int, int, Evaluation | None], None]
Evaluator = Callable[[Design, int, int], Evaluation]


def _task(args: tuple[Instance, Design, SequentialMonteCarlo, bool, Execution]) -> Evaluation:
    return evaluate_design(*args)


class _Runner:
    """Evaluates batches: finished ones from the journal, the rest on the executor (or by ``evaluator``)."""

    def __init__(self, inst: Instance, spec: DesignSpec, evaluator: Evaluator | None,
                 execution: Execution | None = None) -> None:
        self.inst, self.spec, self.evaluator = inst, spec, evaluator
        self.journal = Journal(spec.journal, spec.run_info(inst))
        self.mc0 = SequentialMonteCarlo.from_instance(inst, seed=spec.seed)
        self.one = (execution or Execution()).inline()   # each design in one process
        self.ex = make_executor(spec.workers, scheduler=spec.scheduler) if evaluator is None else None

    def __call__(self, items: list[tuple[Design, int, int]], per_lot: bool = False) -> list[Evaluation]:
        """``per_lot``: each lot's own ECC too (the reported design with siting; its journal key says so)."""
        spec, journal = self.spec, self.journal
        keys = [eval_key(d.key(), spec.seed, fy, ny) + ("|lots" if per_lot else "") for d, fy, ny in items]
        out: list[Evaluation | None] = [journal.done.get(k) for k in keys]
        todo = [i for i, e in enumerate(out) if e is None]
        if self.evaluator is not None:
            for i in todo:
                out[i] = self.evaluator(*items[i])
            return [e for e in out if e is not None]
        for i in todo:
            journal.start(keys[i])
        assert self.ex is not None
        mcs = {i: SequentialMonteCarlo(**{**self.mc0.__dict__, "years": items[i][2], "first_year": items[i][1]})
               for i in todo}
        futs = {i: self.ex.submit(_task, (self.inst, items[i][0], mcs[i], per_lot, self.one)) for i in todo}
        for i in todo:
            ev = futs[i].result()
            journal.finish(keys[i], ev)
            out[i] = ev
        return [e for e in out if e is not None]

    def close(self) -> None:
        if self.ex is not None:
            self.ex.shutdown(wait=True, cancel_futures=True)


@dataclass
class _State:
    """The search so far: every evaluation, the latest per lattice index, budget spent, incumbent trace."""
    evals: list[Evaluation] = field(default_factory=list)
    latest: dict[int, Evaluation] = field(default_factory=dict)
    trace: list[dict[str, Any]] = field(default_factory=list)
    spent: float = 0.0             # budget used, in evaluations of spec.years sample years each

    def observed(self, objective: str) -> tuple[list[int], np.ndarray, np.ndarray]:
        obs = sorted(self.latest)
        return (obs, np.array([self.latest[i].objective(objective)[0] for i in obs]),
                np.array([self.latest[i].objective(objective)[1] for i in obs]))


def optimize(inst: Instance, spec: DesignSpec, progress: Progress | None = None,
             evaluator: Evaluator | None = None, *, execution: Execution | None = None) -> DesignResult:
    """Search the design lattice. ``evaluator(design, first_year, years)`` replaces the inner Monte Carlo
    (benchmarks replay a stored ground truth through it)."""
    if not inst.gpls:
        raise InstanceError("gpl", "a GPL to design", None)
    t0 = time.perf_counter()
    space = DesignSpace.from_instance(inst, spec.bus_encoding)
    lattice = space.lattice()
    x_all = space.encode(lattice)
    run = _Runner(inst, spec, evaluator, execution)
    objective = spec.scalar_objective
    st = _State()
    rng = purpose_rng(spec.seed, "design", None)
    q = max(1, spec.workers)
    n_init = spec.n_init if spec.n_init is not None else max(q, min(spec.budget // 3, 2 * 4 + 2))
    propose = _Proposer(spec, space, lattice, x_all, maximin_sample(x_all, n_init, rng),
                        [int(i) for i in rng.permutation(len(lattice))])
    stopped_by = "budget"
    cap_years = spec.years_factor(inst) * spec.years
    try:
        while st.spent < spec.budget - 1e-9:
            if spec.time_limit_s is not None and time.perf_counter() - t0 > spec.time_limit_s:
                stopped_by = "time_limit"
                break
            picks = propose(st, min(q, max(1, int(spec.budget - st.spent))), cap_years)
            if not picks:
                stopped_by = "lattice_exhausted"
                break
            uniq = list(dict.fromkeys(picks))   # a batch never holds the same design twice
            # a re-pick adds sample years (up to the cap) instead of repeating the same years
            items = [(lattice[i], 0, spec.years if i not in st.latest else min(2 * st.latest[i].years, cap_years))
                     for i in uniq]
            for i, ev in zip(uniq, run(items), strict=True):
                st.latest[i] = ev
                st.evals.append(ev)
                st.spent += ev.years / spec.years
            propose.tell(picks, st, objective)
            best_i = max(st.latest, key=lambda i: st.latest[i].objective(objective)[0])
            st.trace.append({"evaluations": len(st.evals), "incumbent": lattice[best_i].to_dict(),
                             "incumbent_value": st.latest[best_i].objective(objective)[0]})
            if progress is not None:
                progress(len(st.evals), spec.budget, st.latest[best_i])
        if not st.latest:
            raise GploptError("design: no evaluation finished (time limit too short?)")
        best_i, pm, confirm, k_best, final = _choose(spec, lattice, x_all, st, run)
    finally:
        run.close()
    return DesignResult(
        best=final, best_search=st.latest[best_i], selection=confirm[k_best], posterior_mean=pm,
        confirmations=confirm, evaluations=st.evals, pareto=pareto_front(st.evals), stopped_by=stopped_by,
        seconds=time.perf_counter() - t0, resumed=run.journal.resumed, lattice_size=len(lattice),
        objective=spec.objective, trace=st.trace, bounds=bounds_hit(space, final.design, inst),
        comparison=comparison(inst, final.ecc_kw, final.annual_cost), dropped=space.dropped,
        budget_note=budget_note(spec, st.evals, st.spent, len(confirm)))


def _choose(spec: DesignSpec, lattice: list[Design], x_all: np.ndarray, st: _State, run: _Runner
            ) -> tuple[int, float, list[Evaluation], int, Evaluation]:
    """Rank the evaluated designs by the GP's posterior mean, confirm the top ones on fresh years, and report
    the chosen one on a second fresh set (the maximum of noisy values overstates the chosen design's value, the
    winner's curse: its reported value comes from sample years that played no part in choosing it)."""
    objective = spec.scalar_objective
    obs, y, sd = st.observed(objective)
    if len(obs) >= 3 and spec.backend == "gp":
        pm, _ = posterior_mean(x_all[obs], y, sd, x_all[obs], spec.seed)
    else:
        pm = y
    ranked = [obs[k] for k in np.argsort(-pm, kind="stable")]
    top = ranked[: max(1, spec.confirm_top)]
    confirm = run([(lattice[i], CONFIRM_FIRST_YEAR, spec.confirm_years) for i in top])
    k_best = int(np.argmax([c.objective(objective)[0] for c in confirm]))
    best_i = top[k_best]
    per_lot = len(lattice[best_i].sites) > 1
    final = run([(lattice[best_i], REPORT_FIRST_YEAR, spec.confirm_years)], per_lot=per_lot)[0]
    return best_i, float(pm[obs.index(best_i)]), confirm, k_best, final


class _Proposer:
    """The next designs to evaluate, by backend: the grid in lattice order, a random order, Optuna's TPE, or
    (``gp``) a space-filling start then noisy EI batches. Only lattice points are proposed, so a design over
    the shared budget (not in the lattice) is never evaluated."""

    def __init__(self, spec: DesignSpec, space: DesignSpace, lattice: list[Design], x_all: np.ndarray,
                 init: list[int], order: list[int]) -> None:
        self.spec, self.space, self.lattice, self.x_all = spec, space, lattice, x_all
        self.init, self.order, self.round_no = init, order, 0
        self.index = {d: i for i, d in enumerate(lattice)}
        self.study = _optuna_study(space, spec) if spec.backend == "optuna" else None
        self.trials: list[Any] = []

    def __call__(self, st: _State, n: int, cap_years: int) -> list[int]:
        backend, latest = self.spec.backend, st.latest
        self.round_no += 1
        if backend == "grid":
            return [i for i in range(len(self.lattice)) if i not in latest][:n]
        if backend == "random":
            return [i for i in self.order if i not in latest][:n]
        if backend == "optuna":
            assert self.study is not None
            self.trials = [_ask_feasible(self.study, self.space, self.index) for _ in range(n)]
            return [self.index[_trial_design(t, self.space)] for t in self.trials]
        if len(st.evals) < len(self.init):
            return self.init[len(st.evals): len(st.evals) + n]
        obs, y, sd = st.observed(self.spec.scalar_objective)
        at_cap = np.array([i for i in obs if latest[i].years >= cap_years], int)
        if at_cap.size >= len(self.lattice):
            return []   # every design evaluated at its most years
        return propose_batch(self.x_all[obs], y, sd, self.x_all, n, self.spec.seed + self.round_no - 1,
                             exclude=at_cap if at_cap.size else None)

    def tell(self, picks: list[int], st: _State, objective: str) -> None:
        if self.study is not None:
            for t, i in zip(self.trials, picks, strict=True):
                self.study.tell(t, st.latest[i].objective(objective)[0])


def budget_note(spec: DesignSpec, evals: list[Evaluation], spent: float, confirmations: int) -> str:
    """One line: how the budget was spent (a re-pick doubles a design's years and counts as that many)."""
    repicks = sum(1 for e in evals if e.years > spec.years)
    return (f"budget {spec.budget} = evaluations of {spec.years} sample years each; used {spent:g} in "
            f"{len(evals)} evaluations ({repicks} re-picks with 2-{MAX_YEARS_FACTOR}x the years, counted "
            f"pro rata), then the top {confirmations} confirmed on {spec.confirm_years} fresh years and the chosen one "
            f"re-evaluated on {spec.confirm_years} more (its reported value; not counted)")


def _optuna_study(space: DesignSpace, spec: DesignSpec) -> Any:
    try:
        import optuna
    except ImportError:
        raise GploptError("--backend optuna: must have the optional extra installed "
                          "(pip install -e '.[optuna]'), got no optuna") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=spec.seed))


def _ask_feasible(study: Any, space: DesignSpace, index: dict[Design, int]) -> Any:
    """A trial whose design is in the lattice: one over the shared budget is told as failed (never evaluated)
    and TPE asks again."""
    import optuna

    for _ in range(10_000):
        trial = study.ask()
        if _trial_design(trial, space) in index:
            return trial
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    raise GploptError("--backend optuna: no design within the shared budget proposed in 10000 trials")


def _trial_design(trial: Any, space: DesignSpace) -> Design:
    if not space.sites:
        return Design(
            price_per_kwh=trial.suggest_categorical("price", list(space.prices)),
            n_chargers=trial.suggest_categorical("n_chargers", list(space.chargers)),
            discharge_kw=trial.suggest_categorical("discharge_kw", list(space.discharge)),
            soc_threshold=trial.suggest_categorical("soc_threshold", list(space.thresholds)))
    price = trial.suggest_categorical("price", list(space.prices))
    discharge = trial.suggest_categorical("discharge_kw", list(space.discharge))
    threshold = trial.suggest_categorical("soc_threshold", list(space.thresholds))
    sites = tuple(Site(ax.id, trial.suggest_categorical(f"{ax.id}.bus", list(ax.buses)),
                       trial.suggest_categorical(f"{ax.id}.n_chargers", list(ax.chargers))) for ax in space.sites)
    return Design(price, sum(x.n_chargers for x in sites), discharge, threshold, sites)
