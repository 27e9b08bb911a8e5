"""``gplopt evaluate``: sequential Monte Carlo reliability of an instance."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gplopt.cli.common import (
    FileArg,
    JournalOpt,
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
from gplopt.formatting import SE, num, pm


def evaluate(
    file: FileArg,
    years: Annotated[int | None, typer.Option(help="Run exactly N sample years")] = None,
    seed: SeedOpt = None,
    cov: Annotated[float | None, typer.Option(help="Target stderr/mean of EENS (default: instance)")] = None,
    max_years: Annotated[int | None, typer.Option(help="Year cap (default: instance)")] = None,
    no_v2g: Annotated[bool, typer.Option("--no-v2g", help="The GPL does not discharge (load only)")] = False,
    solver: SolverOpt = "highs",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    journal: JournalOpt = None,
    sets: SetOpt = None,
    as_json: JsonOpt = False,
    out: Annotated[Path | None, typer.Option(help="Also write the per-year and per-bus tables here")] = None,
    out_format: Annotated[str, typer.Option(help="csv, or parquet (needs gplopt[parquet])")] = "csv",
    control_variate: Annotated[bool, typer.Option(
        "--control-variate", help="Also EENS and LOLE with the daily-peak-load control variate (copper plate of "
        "two-state units only)")] = False,
) -> None:
    """Sequential Monte Carlo reliability: EENS, LOLE, LOLF, EDNS, ENS by bus, V2G energy, and EENS, LOLE and V2G
    by cause (upstream outage, derating, local generation, network limit, branch outage, charger outage)."""
    from gplopt.reliability import Execution, SequentialMonteCarlo, assess

    inst, system = load(file, sets)
    spec = SequentialMonteCarlo.from_instance(inst, years=years, seed=seed, target_cov=cov,
                                              max_years=max_years, v2g=not no_v2g,
                                              control_variate=control_variate or None)
    ex = Execution.from_instance(inst, solver=solver, workers=n_workers(workers, system), scheduler=scheduler)
    with progress("evaluate", not as_json) as bar:

        def on_progress(done: int, total: int, partial: Any) -> None:
            if bar is not None:
                e = partial.eens_kwh_per_year if partial else None
                bar.update(done, total, f"EENS {pm(e.mean, e.stderr)} kWh/yr" if e else "")

        res = assess(system, spec, progress=on_progress, journal=journal, execution=ex, instance=inst)
    if out is not None:
        from gplopt.frames import write_frames

        write_frames(res, out, out_format)
    if as_json:
        emit_json({"instance": inst.name, "currency": inst.currency, "v2g": not no_v2g, **res.to_dict()})
        return
    print_reliability(inst.name, res)


def print_reliability(name: str, res: Any) -> None:
    from gplopt.causes import METRICS

    rows = [[label, pm(est.mean, est.stderr), unit] for label, est, unit in (
        ("EENS", res.eens_kwh_per_year, "kWh/yr"), ("LOLE", res.lole_h_per_year, "h/yr"),
        ("LOLF", res.lolf_per_year, "events/yr"), ("EDNS", res.edns_kw, "kW"),
        ("V2G energy", res.v2g_kwh_per_year, "kWh/yr"),
        ("load reduction", res.load_reduction_kwh_per_year, "kWh/yr"))]
    cap = (f"{res.years} sample years (stopped by {res.stopped_by}), CoV {res.eens_kwh_per_year.cov:.3f}; "
           f"OPF solves {num(res.opf_solves)}, failed hours {res.opf_failed_hours}, certified hours "
           f"{num(res.hours_certified)}; {res.seconds:.1f} s")
    show(table(f"{name}: reliability ({SE})", ["metric", "value ± s.e.", "unit"], rows, caption=cap))
    if getattr(res, "customer", None) is not None:
        from gplopt.cli.distribution import print_customer_indices

        print_customer_indices(name, res.customer)
    if getattr(res, "control_variate", None) is not None:
        print_control_variate(name, res.control_variate)
    if res.by_cause is not None:
        show(table(f"{name}: by cause ({SE})", ["cause", "EENS (kWh/yr)", "LOLE (h/yr)", "V2G (kWh/yr)"],
                   [[c.replace("_", " ")] + [pm(m[k].mean, m[k].stderr) for k in METRICS]
                    for c, m in res.by_cause.items()],
                   caption="EENS splits exactly into its causes; a loss-of-load hour counts for the cause with "
                           "the largest share of its ENS; V2G for its hour's cause, 'no shortfall' where the "
                           "hour shed nothing (docs/method.md section 11)"))


def print_control_variate(name: str, cv: Any) -> None:
    from gplopt.control_variate import CONTROL

    ests = (("EENS", cv.eens_kwh_per_year, "kWh/yr", "{:,.0f}"), ("LOLE", cv.lole_h_per_year, "h/yr", "{:,.4f}"))
    rows = [[label, pm(e.estimate.mean, e.estimate.stderr), unit, f"{e.variance_ratio:.2f}",
             fmt.format(e.control_exact)] for label, e, unit, fmt in ests]
    worse = [label for label, e, _, _ in ests if e.variance_ratio < 1]
    note = (f"; a variance ratio below 1 ({', '.join(worse)}): too few years for the control, use the plain "
            "estimate" if worse else "")
    show(table(f"{name}: with the {CONTROL} control variate ({SE})",
               ["metric", "value ± s.e.", "unit", "variance ratio", "control's exact mean"], rows,
               caption=f"same sample years; plain estimates above (docs/method.md 7.1){note}"))
