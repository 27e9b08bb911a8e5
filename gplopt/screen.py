"""Portfolio screening: which feeders gain most from a parking lot? (``gplopt screen``, docs/quickstart.md).

For every feeder instance a lot is placed, its ECC and ECC per cost are estimated with standard errors, and the
feeders are ranked by ECC per cost. The placement rule (``PLACEMENT``), stated once:

1. a feeder whose instance has a lot (``gpl`` with chargers) is evaluated with that lot as given;
2. a feeder without one gets a default lot (every GPL default; charger count = the median of the instance's
   design grid ``design.n_chargers``) at the bus with the largest expected unserved energy in a short base run
   (``PLACEMENT_YEARS`` sample years without the lot, same seed); ties (e.g. no unserved energy at all) go to the
   bus with the largest share of the load, then to the smallest bus id (a lot with 0 chargers keeps its other
   settings);
3. with ``budget > 0`` the design loop (``gplopt design``) then searches that feeder's design lattice with
   ``budget`` evaluations, and the recommended design is the one evaluated and ranked.

Every feeder is one independent task (its own seed: the instance's ``simulation.seed`` unless a seed is given;
one worker inside), so the numbers never depend on the number of workers or the scheduler. The journal records
each finished feeder keyed by the fingerprint of its instance and model files, so a killed screening resumes
without redoing finished feeders (and a feeder that moved to another path is still recognised).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Future, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gplopt.checkpoint import JsonlJournal, canonical, instance_sha, models_sha, need, unique
from gplopt.currency import DEFAULT as DEFAULT_CURRENCY
from gplopt.errors import GploptError, InstanceError
from gplopt.instance import Instance, load_instance, with_overrides

PLACEMENT = ("as given when the instance has a lot; otherwise a default lot (design-grid median chargers) at the "
             "bus with the largest expected unserved energy in a short base run; with --budget, the design loop's "
             "recommendation")
PLACEMENT_YEARS = 4
Z_DISTINCT = 1.96          # neighbours whose ECC-per-cost difference is within 1.96 s.e. are indistinguishable
RULE_VERSION = 1           # bump when the placement rule changes (a journal of the old rule is refused)


@dataclass(frozen=True)
class ScreenSpec:
    years: int = 10                # sample years per feeder (common to the base run, the ECC and the design)
    seed: int | None = None        # None: each feeder's own simulation.seed
    budget: int = 0                # design evaluations per feeder (0: no search)
    solver: str = "highs"

    def __post_init__(self) -> None:
        if self.years < 2:
            raise InstanceError("--years", ">= 2", self.years)
        if self.budget < 0:
            raise InstanceError("--budget", ">= 0", self.budget)

    def run_info(self) -> dict[str, Any]:
        import gplopt

        return {"gplopt_version": gplopt.__version__, "rule": RULE_VERSION, **asdict(self)}


# ------------------------------------------------------------------------------------------ feeders
def feeder_files(paths: list[Path]) -> list[Path]:
    """Instance files from files and directories (a directory's ``*.json``, sorted), each once, in order."""
    if not paths:
        raise InstanceError("FEEDERS", "at least one instance file or directory", [])
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(q for q in p.glob("*.json") if q.is_file())
            if not found:
                raise InstanceError(f"FEEDERS {p}", "a directory holding instance files (*.json)", "none")
            out += found
        elif p.is_file():
            out.append(p)
        else:
            raise InstanceError(f"FEEDERS {p}", "an existing instance file or directory", "no such path")
    seen: set[Path] = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]  # type: ignore[func-returns-value]


def load_feeders(files: list[Path]) -> list[Instance]:
    """Every instance, validated before any simulation; a bad one fails the screening naming its file."""
    out = []
    for f in files:
        try:
            out.append(load_instance(f))
        except GploptError as exc:
            msg = str(exc)
            raise GploptError(msg if str(f) in msg else f"{f}: {msg}") from None
    return out


def feeder_key(inst: Instance) -> str:
    """What a feeder's result depends on besides the screening settings: its instance and model files."""
    return canonical({"instance_sha256": instance_sha(inst), "models_sha256": models_sha(inst)})


# ------------------------------------------------------------------------------------------ one feeder
def _mc(inst: Instance, spec: ScreenSpec, years: int) -> Any:
    from gplopt.reliability import SequentialMonteCarlo

    return SequentialMonteCarlo.from_instance(inst, years=years, seed=spec.seed)


def _one(spec: ScreenSpec) -> Any:
    """Each feeder runs in one process (feeders are the parallel tasks)."""
    from gplopt.reliability import Execution

    return Execution(solver=spec.solver)


def place_lot(inst: Instance, spec: ScreenSpec) -> tuple[Instance, str, float | None]:
    """The instance with its lot (rule 2 of the module text when it has none): (instance, how, base EENS)."""
    if any(lot.n_chargers > 0 for lot in inst.gpls):   # the instance's own lots, evaluated jointly
        return inst, "given", None
    from gplopt.design.space import grid_values
    from gplopt.reliability import assess
    from gplopt.system import build_system

    base = inst.model_copy(update={"gpls": []}) if inst.gpls else inst
    system = build_system(base)
    res = assess(system, _mc(inst, spec, min(spec.years, PLACEMENT_YEARS)), execution=_one(spec))
    net = system.network
    ens = np.array([res.ens_by_bus_kwh_per_year[int(b)].mean for b in net.bus_ids])
    order = np.lexsort((net.bus_ids, -net.p_share, -np.round(ens, 9)))   # last key first: ENS, load, id
    bus = int(net.bus_ids[order[0]])
    chargers = grid_values(inst.design.n_chargers, integer=True)
    n = int(chargers[len(chargers) // 2])
    lot: dict[str, Any] = ({"gpl.bus": bus, "gpl.n_chargers": n} if len(inst.gpls) == 1
                           else {"gpls": [{"id": "gpl", "bus": bus, "n_chargers": n}]})
    return with_overrides(inst, lot), "placed", res.eens_kwh_per_year.mean   # a lot without chargers keeps the rest


def _design(inst: Instance, spec: ScreenSpec, seed: int) -> tuple[Instance, str]:
    from gplopt.design.loop import DesignSpec, optimize

    res = optimize(inst, DesignSpec(budget=spec.budget, years=spec.years, seed=seed, workers=1,
                                    confirm_years=spec.years), execution=_one(spec))
    return with_overrides(inst, res.best.design.overrides()), res.best.design.key()


def screen_feeder(inst: Instance, spec: ScreenSpec) -> dict[str, Any]:
    """One feeder's row (a top-level function so workers can run it): placement, ECC, ECC per cost."""
    from gplopt.studies import study_point

    seed = inst.simulation.seed if spec.seed is None else spec.seed
    row: dict[str, Any] = {"feeder": inst.name, "seed": seed, "buses": len(inst.network.buses),
                           "peak_kw": inst.load.peak_kw}
    try:
        case, how, eens_placement = place_lot(inst, spec)
        design = ""
        if spec.budget > 0:
            case, design = _design(case, spec, seed)
            how += "+design"
        assert case.gpl is not None
        p = study_point(case, {}, _mc(case, spec, spec.years), _one(spec))
    except GploptError as exc:
        return {**row, "status": f"failed: {exc}"}
    g = case.gpl
    keep = ("ecc_kw", "ecc_se_kw", "ci_low_kw", "ci_high_kw", "ecc_per_cost", "ecc_per_cost_se",
            "ecc_per_cost_ci_low", "ecc_per_cost_ci_high", "annual_cost", "net_benefit", "net_benefit_se",
            "cost_per_kw", "storage_cost_per_kw", "eens_without_kwh", "eens_without_se", "eens_with_kwh",
            "eens_with_se", "v2g_kwh", "v2g_se", "years", "converged")
    return {**row, "status": "ok", "lot": how, "lot_bus": g.bus, "n_chargers": g.n_chargers,
            "discharge_kw": g.discharge_kw if g.discharge_kw is not None else g.charge_kw,
            "soc_threshold": g.soc_threshold, "price_per_kwh": case.incentive.price_per_kwh,
            "design": design, "placement_eens_kwh": _plain(eens_placement), **{k: _plain(p[k]) for k in keep}}


def _plain(v: Any) -> Any:
    """Plain JSON values; a non-finite number (e.g. cost per kW when ECC is 0) is None, so rows compare equal
    and journal lines are strict JSON."""
    if isinstance(v, np.generic):
        v = v.item()
    return None if isinstance(v, float) and not math.isfinite(v) else v


def _task(args: tuple[Instance, ScreenSpec]) -> dict[str, Any]:
    return screen_feeder(*args)


# ------------------------------------------------------------------------------------------ journal
class ScreenJournal(JsonlJournal):
    """Finished feeders of a screening, keyed by ``feeder_key``; the header holds the screening settings."""

    def __init__(self, path: str | Path, spec: ScreenSpec) -> None:
        super().__init__(path, spec.run_info(), "screen", ("feeder",))
        self.done: dict[str, dict[str, Any]] = unique(self, (
            (n, need(self, n, rec, "key", "str"), self._row(n, rec)) for n, rec in self.records))

    def _row(self, n: int, rec: dict[str, Any]) -> dict[str, Any]:
        row = need(self, n, rec, "row", "dict")
        need(self, n, row, "status", "str")
        if row["status"] == "ok":
            need(self, n, row, "years", "int")
            if row.get("ecc_per_cost") is not None:
                need(self, n, row, "ecc_per_cost", "num")
        for k, v in row.items():
            if not (v is None or isinstance(v, str | int | float | bool)):
                raise self.bad(n, f"row.{k}", "a number, string, boolean or null", v)
        return dict(row)

    def append(self, key: str, row: dict[str, Any]) -> None:
        self.write({"kind": "feeder", "key": key, "row": row})
        self.done[key] = dict(row)


# ------------------------------------------------------------------------------------------ the screening
@dataclass
class ScreenResult:
    ranking: list[dict[str, Any]]
    spec: ScreenSpec
    resumed: int
    currency: str = DEFAULT_CURRENCY

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "screen", "currency": self.currency, "years": self.spec.years, "seed": self.spec.seed,
                "budget": self.spec.budget,
                "placement_rule": PLACEMENT, "z_distinct": Z_DISTINCT, "resumed": self.resumed,
                "ranking": self.ranking}


def screen(files: list[Path], spec: ScreenSpec, workers: int = 1, scheduler: str | None = None,
           journal: str | Path | None = None, progress: Callable[[int, int], None] | None = None,
           instances: list[Instance] | None = None) -> ScreenResult:
    """Screen the feeders in ``files`` (loaded first: bad input fails before any simulation) and rank them."""
    from gplopt.parallel import make_executor

    insts = instances if instances is not None else load_feeders(files)
    currency = one_currency(files, insts)
    keys = [feeder_key(i) for i in insts]
    jr = ScreenJournal(journal, spec) if journal is not None else None
    rows: dict[str, dict[str, Any]] = {k: jr.done[k] for k in keys if jr is not None and k in jr.done}
    resumed = len(rows)
    todo = {k: i for k, i in zip(keys, insts, strict=True) if k not in rows}
    if progress:
        progress(len(rows), len(set(keys)))
    if todo:
        n = max(1, min(workers, len(todo)))
        ex = make_executor(n, scheduler=scheduler)
        items = iter(todo.items())
        futs: dict[Future[dict[str, Any]], str] = {}
        try:
            while True:
                # at most n feeders in flight: an in-process executor runs a task when it is submitted, so
                # submitting them all first would journal nothing until the last one (a kill lost them all)
                while len(futs) < n and (nxt := next(items, None)) is not None:
                    futs[ex.submit(_task, (nxt[1], spec))] = nxt[0]
                if not futs:
                    break
                f = next(as_completed(futs))
                k = futs.pop(f)
                rows[k] = f.result()
                if jr is not None:
                    jr.append(k, rows[k])
                if progress:
                    progress(len(rows), len(set(keys)))
        finally:
            ex.shutdown(wait=True, cancel_futures=True)
    table = [{"file": str(f), **rows[k]} for f, k in zip(files, keys, strict=True)]
    return ScreenResult(ranking=rank(table), spec=spec, resumed=resumed, currency=currency)


def one_currency(files: list[Path], insts: list[Instance]) -> str:
    """The feeders' common currency: ECC per cost is compared across feeders, and gplopt converts nothing."""
    codes = {i.currency for i in insts}
    if len(codes) > 1:
        named = ", ".join(f"{Path(f).name}: {i.currency}" for f, i in zip(files, insts, strict=True))
        raise InstanceError("FEEDERS", "instances in one currency (ECC per cost is ranked across feeders)", named)
    return codes.pop() if codes else DEFAULT_CURRENCY


def rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Feeders by ECC per cost, highest first (ties by file); failed feeders (and any without an ECC per cost)
    last, unranked. ``z_next`` is the
    difference to the next ranked feeder in standard errors (independent feeders: s.e. added in quadrature);
    below ``Z_DISTINCT`` the two are statistically indistinguishable."""
    ok = sorted((r for r in rows if r.get("status") == "ok" and r.get("ecc_per_cost") is not None),
                key=lambda r: (-r["ecc_per_cost"], r["file"]))
    out = []
    for n, r in enumerate(ok):
        nxt = ok[n + 1] if n + 1 < len(ok) else None
        z = None
        if nxt is not None:
            se = math.hypot(_se(r), _se(nxt))
            diff = r["ecc_per_cost"] - nxt["ecc_per_cost"]
            z = diff / se if se > 0 else (math.inf if diff > 0 else 0.0)
        out.append({"rank": n + 1, **r, "z_next": z,
                    "vs_next": None if z is None else "distinct" if z >= Z_DISTINCT else "indistinguishable"})
    out += [{"rank": None, **r, "z_next": None, "vs_next": None} for r in rows if r not in ok]
    return out


def _se(r: dict[str, Any]) -> float:
    v = r.get("ecc_per_cost_se")
    return float(v) if isinstance(v, int | float) and math.isfinite(v) else 0.0


# ------------------------------------------------------------------------------------------ writing
def write_result(out_dir: Path, res: ScreenResult, insts: list[Instance]) -> None:
    """ranking.csv and result.json (kind ``screen``: what ``gplopt report`` renders), atomically."""
    import json

    import pandas as pd

    from gplopt.io import write_text_atomic
    from gplopt.strict_json import dumps

    df = pd.DataFrame(res.ranking)
    write_text_atomic(out_dir / "ranking.csv", df.to_csv(index=False))
    notes = [f"Placement rule: {PLACEMENT}.", f"Storage costs and units above are those of the first feeder "
             f"({insts[0].name}); every feeder's lot, ECC and costs are in the ranking."]
    body = {**res.to_dict(), "instance": f"{len(insts)} feeders", "notes": notes,
            **screen_record(insts, res.spec)}
    write_text_atomic(out_dir / "result.json", json.dumps(json.loads(dumps(body)), indent=1) + "\n")


def screen_record(insts: list[Instance], spec: ScreenSpec) -> dict[str, Any]:
    """Provenance of a screening (every feeder's fingerprint and models) and the lots' assumptions."""
    import hashlib

    from gplopt.provenance import assumptions, provenance

    per = [provenance(i, spec.seed, spec.years, i.base_dir) for i in insts]
    models = {canonical(m): m for p in per for m in p["model_files"]}
    combined = hashlib.sha256("".join(p["instance_sha256"] for p in per).encode()).hexdigest()
    prov = {**per[0], "instance_name": f"{len(insts)} feeders", "instance_sha256": combined,
            "model_files": list(models.values()),
            "feeders": [{"name": p["instance_name"], "sha256": p["instance_sha256"]} for p in per]}
    first = assumptions(insts[0], insts[0].base_dir)
    return {"provenance": prov, "assumptions": {**first, "lots": []}}

