"""``gplopt design``: search the parking lot's design for the best ECC per cost, and print the recommendation,
the verdict against conventional storage and the Pareto front."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gplopt.cli.common import (
    FileArg,
    ForceOpt,
    JsonOpt,
    SchedulerOpt,
    SeedOpt,
    SetOpt,
    WorkersOpt,
    emit_json,
    load,
    n_workers,
    progress,
    written_to,
)
from gplopt.cli.format import show, table
from gplopt.currency import DEFAULT, per_cost_unit
from gplopt.formatting import SE, num, pm


def design(
    file: FileArg,
    budget: Annotated[int | None, typer.Option(help="Evaluations (default: the instance's design.budget)")] = None,
    time_limit: Annotated[float | None, typer.Option(help="Stop proposing after S seconds")] = None,
    workers: WorkersOpt = None,
    seed: SeedOpt = None,
    objective: Annotated[str | None, typer.Option(help="ecc_per_cost | net_benefit | pareto")] = None,
    years: Annotated[int, typer.Option(help="Sample years per evaluation (re-picks double them)")] = 10,
    confirm_top: Annotated[int, typer.Option(help="Best designs confirmed on fresh years", min=1, max=20)] = 3,
    confirm_years: Annotated[int, typer.Option(help="Fresh sample years of each confirmation and of the "
                                               "reported value", min=2, max=10_000)] = 20,
    backend: Annotated[str, typer.Option(help="gp | random | grid | optuna")] = "gp",
    bus_encoding: Annotated[str, typer.Option(help="Siting: a candidate bus in the GP, onehot | distance | "
                                              "headroom (docs/design.md)")] = "onehot",
    scheduler: SchedulerOpt = None,
    journal: Annotated[Path | None, typer.Option(help="Append-only JSONL journal; resumes a run")] = None,
    out: Annotated[Path | None, typer.Option(help="Result directory (evaluations.csv, pareto.csv, json)")] = None,
    force: ForceOpt = False,
    sets: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search incentive grade, charger count, discharge rating and SoC threshold for the best ECC per cost."""
    from gplopt.design.loop import DesignSpec, optimize
    from gplopt.io import prepare_out_dir

    inst, _ = load(file, sets)
    out_dir = prepare_out_dir(out, force) if out is not None else None
    spec = DesignSpec(budget=budget or inst.design.budget, years=years,
                      seed=inst.simulation.seed if seed is None else seed,
                      objective=objective or inst.design.objective, workers=n_workers(workers), time_limit_s=time_limit,
                      backend=backend, journal=str(journal) if journal else None, scheduler=scheduler,
                      bus_encoding=bus_encoding, confirm_top=confirm_top, confirm_years=confirm_years)
    with progress("design", not as_json) as bar:

        def on_progress(done: int, total: int, inc: Any) -> None:
            if bar is not None and inc is not None:
                d = inc.design
                where = d.siting() or f"{d.n_chargers} chargers"
                bar.update(done, total, f"best {d.price_per_kwh:g} {inst.currency}/kWh, {where}, "
                           f"{d.discharge_kw:g} kW, SoC {d.soc_threshold:.0%}: "
                           f"{pm(inc.ecc_per_cost, inc.ecc_per_cost_sd)} kW/M{inst.currency}")

        res = optimize(inst, spec, progress=on_progress)
    if out_dir is not None:
        from gplopt.result_dirs import save_design

        save_design(res, out_dir, inst, spec, file.resolve().parent)
    if as_json:
        emit_json({"instance": inst.name, "currency": inst.currency, **res.to_dict(),
                   "out": str(out_dir) if out_dir else None})
        return
    print_design(inst.name, res, inst.currency)
    written_to(out_dir)


def print_design(name: str, res: Any, cur: str = DEFAULT) -> None:
    from gplopt.design.result import ecc_per_cost_ci, ecc_se_kw

    b = res.best
    d = b.design
    lo, hi = ecc_per_cost_ci(b)
    where = [[f"lot {s.id}", f"bus {s.bus}, {num(s.n_chargers)} chargers"] for s in d.sites]
    rows = [["incentive grade", f"{d.price_per_kwh:g} {cur}/kWh"], *where,
            ["chargers" + (" (all lots)" if d.sites else ""), num(d.n_chargers)],
            ["discharge rating", f"{d.discharge_kw:g} kW"], ["SoC threshold", f"{d.soc_threshold:.0%}"],
            ["ECC" + (" (all lots jointly)" if d.sites else ""),
             f"{pm(b.ecc_kw, ecc_se_kw(b))} kW, 90 % CI {num(b.ecc_ci[0], 1)}-{num(b.ecc_ci[1], 1)} "
             f"({b.years} fresh years)"],
            ["annual cost", f"{num(b.annual_cost, 0)} {cur}/yr"],
            ["ECC per cost", f"{pm(b.ecc_per_cost, b.ecc_per_cost_sd)} {per_cost_unit(cur)}, 90 % CI "
                             f"{num(lo, 1)}-{num(hi, 1)}"],
            ["net benefit E_G", f"{pm(b.net_benefit, b.net_benefit_sd)} {cur}/yr"]]
    c = res.comparison
    if c.get("gpl_cost_per_kw") is not None:
        rows.append(["cost per kW: GPL / storage", f"{num(c['gpl_cost_per_kw'], 0)} / "
                                                   f"{num(c['storage_cost_per_kw'], 0)} {cur}/kW/yr"])
    show(table(f"{name}: recommended design ({SE})", ["", ""], rows, header=False,
               caption=f"{len(res.evaluations)} evaluations of a {num(res.lattice_size)}-design lattice, "
                       f"stopped by {res.stopped_by}. {res.budget_note}."))
    if b.lots:
        show(lots_table(b.lots, b.years))
    show(verdict(c, cur))
    for x in res.bounds:
        hint = f"; widen it with {x.widen}" if x.widen else " (its physical limit)"
        show(f"[yellow]warning:[/] {x.name} = {x.value:g} is at the {x.edge} edge of its search range{hint}")
    for v in res.dropped:
        show(f"note: left out of the lattice: {v}")
    pf = sorted(res.pareto, key=lambda e: e.annual_cost)
    show(table(f"Pareto front: ECC vs annual cost ({len(pf)} designs, search years)",
               ["grade", "siting (lot@bus x chargers)" if d.sites else "chargers", "disch. kW", "SoC", "ECC kW",
                f"cost {cur}/yr"],
               [[f"{e.design.price_per_kwh:g}", e.design.siting(compact=True) or num(e.design.n_chargers),
                 f"{e.design.discharge_kw:g}", f"{e.design.soc_threshold:.0%}", pm(e.ecc_kw, ecc_se_kw(e)),
                 num(e.annual_cost, 0)] for e in pf]))


def lots_table(lots: dict[str, Any], years: int) -> Any:
    """Each lot's own ECC (its V2G off, the others in service) and the joint ECC, with CIs."""
    from gplopt.resources import JOINT

    rows = [[lot if lot != JOINT else "all lots jointly (gpls)", f"{pm(r['value_kw'], r['se_kw'])} kW",
             f"{num(r['ci_low_kw'], 1)}-{num(r['ci_high_kw'], 1)} kW", r["note"] or ""] for lot, r in lots.items()]
    return table(f"Recommended siting: ECC per lot and joint ({SE}, {years} fresh years)",
                 ["lot", "ECC", "90 % CI", "note"], rows,
                 caption="a lot's own ECC is its marginal value with the other lots in service; the joint ECC "
                         "counts every lot's V2G together, so it may differ from the sum")


def verdict(c: dict[str, Any], cur: str = DEFAULT) -> str:
    """The next step the comparison with conventional storage suggests."""
    g, s = c.get("gpl_cost_per_kw"), c.get("storage_cost_per_kw")
    if g is None:
        return "next: the recommended design gives no capacity value; conventional storage is the alternative."
    if g < s:
        return (f"next: the GPL provides capacity at {g / s:.0%} of the cost of conventional storage "
                f"({num(g, 0)} vs {num(s, 0)} {cur}/kW/yr); take this design to detailed study.")
    return (f"next: conventional storage is cheaper per kW ({num(s, 0)} vs {num(g, 0)} {cur}/kW/yr); the GPL "
            "pays only if its other benefits cover the gap.")
