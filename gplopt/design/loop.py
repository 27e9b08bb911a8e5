"""``optimize``: the surrogate-assisted outer loop over the design lattice.

Every evaluation uses the same seed and sample years (common random numbers across designs). The loop is a
deterministic function of (instance, spec) and of the evaluations it has been told, so a resumed run replays
the same proposals, finds the finished evaluations in the journal, and ends with the same answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gplopt.design.advice import Bound, bounds_hit, comparison
from gplopt.design.evaluate import Evaluation, evaluate_design
from gplopt.design.journal import Journal, eval_key
from gplopt.design.space import Design, DesignSpace
from gplopt.design.surrogate import maximin_sample, posterior_mean, propose_batch
from gplopt.errors import GploptError, InstanceError
from gplopt.instance import Instance
from gplopt.parallel import make_executor
from gplopt.reliability import SequentialMonteCarlo

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

    @property
    def scalar_objective(self) -> str:
        return "ecc_per_cost" if self.objective == "pareto" else self.objective

    def run_info(self, inst: Instance) -> dict[str, Any]:
        """What makes a journal belong to a run (workers and time limit never change answers)."""
        from gplopt.checkpoint import run_identity

        mc = SequentialMonteCarlo()
        return run_identity(inst, self.seed, {
            "budget": self.budget, "years": self.years, "objective": self.objective, "backend": self.backend,
            "n_init": self.n_init, "confirm_top": self.confirm_top, "confirm_years": self.confirm_years,
            "solver": mc.solver, "use_certificate": mc.use_certificate, "v2g": mc.v2g})


@dataclass
class DesignResult:
    best: Evaluation               # the chosen design re-evaluated on a second fresh set: the reported value
    best_search: Evaluation        # the same design's search evaluation
    selection: Evaluation          # the same design on the confirmation years it was chosen on (biased upward)
    posterior_mean: float
    confirmations: list[Evaluation]
    evaluations: list[Evaluation]
    pareto: list[Evaluation]
    stopped_by: str
    seconds: float
    resumed: int
    lattice_size: int
    objective: str
    trace: list[dict[str, Any]] = field(default_factory=list)
    bounds: list[Bound] = field(default_factory=list)        # best design's variables on a range edge
    comparison: dict[str, Any] = field(default_factory=dict)  # cost per kW: GPL vs conventional storage
    dropped: tuple[str, ...] = ()                             # grid values the instance cannot offer
    budget_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        b = self.best
        return {
            "best": {**b.design.to_dict(), "ecc_kw": b.ecc_kw, "annual_cost": b.annual_cost,
                     "ecc_per_cost": b.ecc_per_cost, "net_benefit": b.net_benefit,
                     "ci_low": b.ecc_ci[0], "ci_high": b.ecc_ci[1],
                     "ecc_per_cost_sd": b.ecc_per_cost_sd, "ecc_se_kw": ecc_se_kw(b), "years": b.years,
                     "first_year": b.first_year, "at_bound": [x.name for x in self.bounds]},
            "bounds": [asdict(x) for x in self.bounds], "comparison": self.comparison,
            "grid_values_dropped": list(self.dropped), "budget_note": self.budget_note,
            "selection": {"ecc_kw": self.selection.ecc_kw, "ecc_per_cost": self.selection.ecc_per_cost,
                          "net_benefit": self.selection.net_benefit,
                          "first_year": self.selection.first_year, "years": self.selection.years},
            "objective": self.objective, "posterior_mean": self.posterior_mean,
            "pareto": [{**e.design.to_dict(), "ecc_kw": e.ecc_kw, "annual_cost": e.annual_cost}
                       for e in self.pareto],
            "evaluations": len(self.evaluations), "confirmations": [c.to_dict() for c in self.confirmations],
            "stopped_by": self.stopped_by, "seconds": self.seconds, "resumed": self.resumed,
            "lattice_size": self.lattice_size, "trace": self.trace,
        }


def ecc_se_kw(e: Evaluation) -> float:
    """Standard error of an evaluation's ECC: the bootstrap spread of ECC per cost times the (fixed) cost."""
    return e.ecc_per_cost_sd * e.annual_cost / 1e6


def _task(args: tuple[Instance, Design, SequentialMonteCarlo]) -> Evaluation:
    return evaluate_design(*args)


def pareto_front(evals: list[Evaluation]) -> list[Evaluation]:
    """Designs not dominated in (higher ECC, lower annual cost); the latest evaluation of each design."""
    latest: dict[Design, Evaluation] = {}
    for e in evals:
        if e.design not in latest or e.years >= latest[e.design].years:
            latest[e.design] = e
    pts = sorted(latest.values(), key=lambda e: (e.annual_cost, -e.ecc_kw))
    front, best_ecc = [], -np.inf
    for e in pts:
        if e.ecc_kw > best_ecc:
            front.append(e)
            best_ecc = e.ecc_kw
    return front


Progress = Callable[[int, int, Evaluation | None], None]


def optimize(inst: Instance, spec: DesignSpec, progress: Progress | None = None,
             evaluator: Callable[[Design, int, int], Evaluation] | None = None) -> DesignResult:
    """Search the design lattice. ``evaluator(design, first_year, years)`` replaces the inner Monte Carlo
    (benchmarks replay a stored ground truth through it)."""
    if inst.gpl is None:
        raise InstanceError("gpl", "a GPL to design", None)
    if len(inst.gpls) > 1:   # siting and multi-lot design come next (issue 12)
        raise InstanceError("gpls", "exactly one lot for design in this version (it varies the lot's grade, "
                            "chargers, rating and threshold)", f"{len(inst.gpls)} lots")
    t0 = time.perf_counter()
    space = DesignSpace.from_instance(inst)
    lattice = space.lattice()
    x_all = space.encode(lattice)
    index = {d: i for i, d in enumerate(lattice)}
    journal = Journal(spec.journal, spec.run_info(inst))
    mc0 = SequentialMonteCarlo.from_instance(inst, seed=spec.seed, workers=1)
    ex = make_executor(spec.workers, scheduler=spec.scheduler) if evaluator is None else None
    objective = spec.scalar_objective

    def run_batch(items: list[tuple[Design, int, int]]) -> list[Evaluation]:
        keys = [eval_key(d.key(), spec.seed, fy, ny) for d, fy, ny in items]
        out: list[Evaluation | None] = [journal.done.get(k) for k in keys]
        todo = [i for i, e in enumerate(out) if e is None]
        if evaluator is not None:
            for i in todo:
                out[i] = evaluator(*items[i])
            return [e for e in out if e is not None]
        for i in todo:
            journal.start(keys[i])
        assert ex is not None
        futs = {i: ex.submit(_task, (inst, items[i][0], SequentialMonteCarlo(
            **{**mc0.__dict__, "years": items[i][2], "first_year": items[i][1]}))) for i in todo}
        for i in todo:
            ev = futs[i].result()
            journal.finish(keys[i], ev)
            out[i] = ev
        return [e for e in out if e is not None]

    evals: list[Evaluation] = []
    latest: dict[int, Evaluation] = {}
    trace: list[dict[str, Any]] = []
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(2**31 - 2,)))
    q = max(1, spec.workers)
    n_init = spec.n_init if spec.n_init is not None else max(q, min(spec.budget // 3, 2 * 4 + 2))
    init = maximin_sample(x_all, n_init, rng)
    order = [int(i) for i in rng.permutation(len(lattice))]
    optuna_study = _optuna_study(space, spec) if spec.backend == "optuna" else None
    stopped_by = "budget"
    round_no = 0
    spent = 0.0                    # budget used, in evaluations of spec.years sample years each
    cap_years = MAX_YEARS_FACTOR * spec.years
    try:
        while spent < spec.budget - 1e-9:
            if spec.time_limit_s is not None and time.perf_counter() - t0 > spec.time_limit_s:
                stopped_by = "time_limit"
                break
            room = max(1, int(spec.budget - spent))
            if spec.backend == "grid":
                picks = [i for i in range(len(lattice)) if i not in latest][: min(q, room)]
            elif spec.backend == "random":
                picks = [i for i in order if i not in latest][: min(q, room)]
            elif spec.backend == "optuna":
                assert optuna_study is not None
                trials = [optuna_study.ask() for _ in range(min(q, room))]
                picks = [index[_trial_design(t, space)] for t in trials]
            elif len(evals) < len(init):
                picks = init[len(evals): len(evals) + min(q, room)]
            else:
                obs = sorted(latest)
                y = np.array([latest[i].objective(objective)[0] for i in obs])
                sd = np.array([latest[i].objective(objective)[1] for i in obs])
                at_cap = np.array([i for i in obs if latest[i].years >= cap_years], int)
                picks = propose_batch(x_all[obs], y, sd, x_all, min(q, room), spec.seed + round_no,
                                      exclude=at_cap if at_cap.size else None)
            if not picks:
                stopped_by = "lattice_exhausted"
                break
            items = []
            for i in dict.fromkeys(picks):   # a batch never holds the same design twice
                prev = latest.get(i)   # a re-pick adds sample years (up to the cap) instead of repeating it
                ny = spec.years if prev is None else min(2 * prev.years, cap_years)
                items.append((lattice[i], 0, ny))
            uniq = list(dict.fromkeys(picks))
            got = run_batch(items)
            for i, ev in zip(uniq, got, strict=True):
                latest[i] = ev
                evals.append(ev)
                spent += ev.years / spec.years
            if optuna_study is not None:
                for t, i in zip(trials, picks, strict=True):
                    optuna_study.tell(t, latest[i].objective(objective)[0])
            best_i = max(latest, key=lambda i: latest[i].objective(objective)[0])
            trace.append({"evaluations": len(evals), "incumbent": lattice[best_i].to_dict(),
                          "incumbent_value": latest[best_i].objective(objective)[0]})
            if progress is not None:
                progress(len(evals), spec.budget, latest[best_i])
            round_no += 1
        if not latest:
            raise GploptError("design: no evaluation finished (time limit too short?)")
        obs = sorted(latest)
        y = np.array([latest[i].objective(objective)[0] for i in obs])
        sd = np.array([latest[i].objective(objective)[1] for i in obs])
        if len(obs) >= 3 and spec.backend == "gp":
            pm, _ = posterior_mean(x_all[obs], y, sd, x_all[obs], spec.seed)
        else:
            pm = y
        ranked = [obs[k] for k in np.argsort(-pm, kind="stable")]
        top = ranked[: max(1, spec.confirm_top)]
        confirm = run_batch([(lattice[i], CONFIRM_FIRST_YEAR, spec.confirm_years) for i in top])
        k_best = int(np.argmax([c.objective(objective)[0] for c in confirm]))
        best_i = top[k_best]
        # the maximum of noisy values overstates the chosen design's value (winner's curse): report it on
        # sample years that played no part in choosing it
        final = run_batch([(lattice[best_i], REPORT_FIRST_YEAR, spec.confirm_years)])[0]
    finally:
        if ex is not None:
            ex.shutdown(wait=True, cancel_futures=True)
    best = final
    return DesignResult(
        best=final, best_search=latest[best_i], selection=confirm[k_best],
        posterior_mean=float(pm[obs.index(best_i)]),
        confirmations=confirm, evaluations=evals, pareto=pareto_front(evals), stopped_by=stopped_by,
        seconds=time.perf_counter() - t0, resumed=journal.resumed, lattice_size=len(lattice),
        objective=spec.objective, trace=trace, bounds=bounds_hit(space, best.design, inst),
        comparison=comparison(inst, best.ecc_kw, best.annual_cost), dropped=space.dropped,
        budget_note=budget_note(spec, evals, spent, len(confirm)))


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


def _trial_design(trial: Any, space: DesignSpace) -> Design:
    return Design(
        price_per_kwh=trial.suggest_categorical("price", list(space.prices)),
        n_chargers=trial.suggest_categorical("n_chargers", list(space.chargers)),
        discharge_kw=trial.suggest_categorical("discharge_kw", list(space.discharge)),
        soc_threshold=trial.suggest_categorical("soc_threshold", list(space.thresholds)))


def write_results(res: DesignResult, out_dir: Path, extra: dict[str, Any] | None = None) -> None:

    import pandas as pd

    from gplopt import strict_json
    from gplopt.io import write_text_atomic

    rows = [{**e.design.to_dict(), **{k: v for k, v in e.to_dict().items() if k != "design"}}
            for e in res.evaluations]
    write_text_atomic(out_dir / "evaluations.csv", pd.DataFrame(rows).to_csv(index=False))
    write_text_atomic(out_dir / "pareto.csv", pd.DataFrame(
        [{**e.design.to_dict(), "ecc_kw": e.ecc_kw, "annual_cost": e.annual_cost} for e in res.pareto]
    ).to_csv(index=False))
    write_text_atomic(out_dir / "result.json",    # strict JSON: NaN -> null with a reason
                      strict_json.dumps({"kind": "design", **res.to_dict(), **(extra or {})}))
