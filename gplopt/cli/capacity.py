"""``gplopt ecc``: capacity value (ECC, EFC or ELCC) of the parking lot or of a unit, with its economics."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gplopt.cli.common import (
    FileArg,
    JsonOpt,
    SchedulerOpt,
    SeedOpt,
    SetOpt,
    SolverOpt,
    WorkersOpt,
    emit_json,
    load,
    n_workers,
    progress,
)
from gplopt.cli.format import show, table
from gplopt.currency import DEFAULT, per_cost_unit
from gplopt.formatting import SE, num, pm


def ecc(
    file: FileArg,
    metric: Annotated[str, typer.Option(help="ecc | efc | elcc")] = "ecc",
    resource: Annotated[str, typer.Option(help="A lot id, 'gpls' (all lots jointly, with per-lot values), or a "
                                          "unit id; 'gpl' = all lots")] = "gpl",
    years: Annotated[int | None, typer.Option(help="Exactly N sample years (default: stopping rule)")] = None,
    seed: SeedOpt = None,
    cov: Annotated[float | None, typer.Option(help="Target stderr/mean of the base EENS")] = None,
    tolerance: Annotated[float | None, typer.Option(help="Bisection |dEENS|/EENS (default: instance)")] = None,
    ecc_rel_precision: Annotated[float | None, typer.Option(
        help="Add sample years until the CI half-width <= this x the value (default: instance)")] = None,
    solver: SolverOpt = "highs",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    sets: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Capacity value of the GPL (or a unit): ECC, EFC or ELCC on common random numbers, with economics."""
    from gplopt.capacity_value import CapacityValueSpec, capacity_value
    from gplopt.economics import economics
    from gplopt.montecarlo import Execution, SequentialMonteCarlo

    inst, system = load(file, sets)
    mc = SequentialMonteCarlo.from_instance(inst, years=years, seed=seed, target_cov=cov,
                                            ecc_rel_precision=ecc_rel_precision)
    ex = Execution.from_instance(inst, solver=solver, workers=n_workers(workers), scheduler=scheduler)
    spec = CapacityValueSpec.from_system(system, metric=metric, resource=resource, tolerance=tolerance)
    with progress(metric, not as_json) as bar:

        def on_progress(stage: str, done: int, total: int) -> None:
            if bar is not None:
                bar.update(done, total, stage)

        cv = capacity_value(system, mc, spec, progress=on_progress, execution=ex)
        by_lot = None
        if resource == "gpls" and spec.metric != "elcc":
            from gplopt.resources import per_lot_values

            by_lot = per_lot_values(system, mc, spec, cv, on_progress, execution=ex)
        from gplopt.reliability_effect import reliability_effect

        effect = reliability_effect(system, mc, resource, cv.years, execution=ex)   # None without customers
    eco = economics(system, cv)
    if as_json:
        d = cv.to_dict()
        if by_lot is not None:
            d["by_lot"] = by_lot
        emit_json({"instance": inst.name, "currency": inst.currency, f"{cv.metric}_kw": cv.value_kw,
                   "ecc_kw": cv.value_kw, "ci_low_kw": cv.ci_low_kw, "ci_high_kw": cv.ci_high_kw,
                   "eens_base_kwh_per_year": d["eens_base_kwh_per_year"],
                   "eens_with_kwh_per_year": d["eens_with_kwh_per_year"], "probes": d["probes"],
                   "capacity_value": d, "economics": eco.to_dict(),
                   **({"reliability_effect": effect} if effect is not None else {})})
        return
    print_capacity_value(inst.name, cv, eco, inst.currency)
    if effect is not None:
        from gplopt.cli.distribution import print_reliability_effect

        print_reliability_effect(inst.name, cv.resource, effect)


def print_capacity_value(name: str, cv: Any, eco: Any, cur: str = DEFAULT) -> None:
    import numpy as np

    se = float(np.std(cv.boot_values, ddof=1)) if cv.boot_values.size > 1 else float("nan")
    m = cv.metric.upper()
    rows = [[m, pm(cv.value_kw, se), "kW"],
            ["EENS without", pm(cv.eens_base.mean, cv.eens_base.stderr), "kWh/yr"],
            ["EENS with", pm(cv.eens_with.mean, cv.eens_with.stderr), "kWh/yr"],
            ["V2G energy", pm(cv.v2g_kwh_per_year.mean, cv.v2g_kwh_per_year.stderr), "kWh/yr"],
            ["avoided storage S_PE+S_m", num(eco.storage_capex_annual + eco.storage_om_annual), f"{cur}/yr"],
            ["V2G payments E_V2G", pm(eco.v2g_payments, eco.v2g_payments_stderr), f"{cur}/yr"],
            ["charger cost", num(eco.charger_cost_annual), f"{cur}/yr"],
            ["net benefit E_G", pm(eco.net_benefit, eco.net_benefit_sd), f"{cur}/yr"],
            [f"{m} per cost", pm(eco.ecc_per_cost, eco.ecc_per_cost_sd), per_cost_unit(cur)],
            ["cost per kW: GPL", num(eco.cost_per_kw), f"{cur}/kW/yr"],
            ["cost per kW: storage", num(eco.storage_cost_per_kw), f"{cur}/kW/yr"]]
    probes = ", ".join(f"{num(p.capacity_kw)} kW ({p.rel_gap:+.1%})" for p in cv.probes)
    stop = f" (stopped by {cv.stopped_by})" if cv.stopped_by else ""
    cap = f"{cv.years} sample years{stop}; probes {probes}" + (f"\n{cv.note}" if cv.note else "")
    show(table(f"{name}: {m} of {cv.resource} ({SE})", ["", "value ± s.e.", "unit"], rows, caption=cap))
