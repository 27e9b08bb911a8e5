"""The ``gplopt`` command line: parse -> call the library -> print. Every command has ``--json``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gplopt.importers.cli import import_app

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Capacity value and design of grid-connected EV parking lots (V2G).")
app.add_typer(import_app, name="import")
console = Console()
err_console = Console(stderr=True)

FileArg = Annotated[Path, typer.Argument(help="Instance JSON file", show_default=False)]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override PATH=VALUE (repeatable), "
                                                 "e.g. --set gpl.discharge_kw=2.5")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout")]


def emit_json(obj: Any) -> None:
    """Strict JSON on stdout: a non-finite number is written as null with a ``<key>_null_reason`` beside it."""
    from gplopt.strict_json import dumps

    sys.stdout.write(dumps(obj) + "\n")


def load(file: Path, sets: list[str] | None):  # type: ignore[no-untyped-def]
    from gplopt.instance import load_instance
    from gplopt.system import build_system

    inst = load_instance(file, sets or [])
    return inst, build_system(inst, base_dir=file.resolve().parent)


@app.command()
def validate(file: FileArg, sets: SetOpt = None, as_json: JsonOpt = False) -> None:
    """Validate an instance and print a summary (buses, units, GPL, peak, annual energy)."""
    inst, system = load(file, sets)
    from gplopt.report_text import instance_summary

    summary = instance_summary(inst, system)
    if as_json:
        emit_json(summary)
        return
    from gplopt import cli_print

    cli_print.validate(summary)


@app.command()
def schema(out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout")] = None
           ) -> None:
    """Print the instance JSON Schema."""
    from gplopt.instance import json_schema
    from gplopt.io import write_text_atomic

    text = json.dumps(json_schema(), indent=1) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        write_text_atomic(out, text)


@app.command()
def powerflow(
    file: FileArg,
    hour: Annotated[str, typer.Option(help="Hour index (0-based) or 'peak'")] = "peak",
    no_gpl: Annotated[bool, typer.Option("--no-gpl-charging", help="Leave GPL charging out")] = False,
    sets: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """AC power flow of one hour with all units up (conventional at rating, wind calm, grid as slack)."""
    from gplopt.errors import InstanceError
    from gplopt.network.limits import describe, violations
    from gplopt.network.snapshot import peak_hour, snapshot

    inst, system = load(file, sets)
    if hour == "peak":
        h = peak_hour(system)
    else:
        try:
            h = int(hour)
        except ValueError:
            raise InstanceError("--hour", "an integer or 'peak'", hour) from None
        if not 0 <= h < system.hours:
            raise InstanceError("--hour", f"in [0, {system.hours - 1}]", h)
    snap = snapshot(system, h, gpl_charging=not no_gpl)
    r, net = snap.result, system.network
    broken = violations(system, snap)
    vm = r.vm_pu[0]
    rated = [(int(net.branch_ids[j]), float(r.branch_kva[0, j] / (net.rating_pu[j] * net.base_kva)))
             for j in range(net.n_bus) if j != net.root and net.rating_pu[j] < float("inf")]
    out = {
        "hour": h, "system_load_kw": snap.system_load_kw, "gpl_charging_kw": snap.gpl_charging_kw,
        "generation_kw": snap.generation_kw,
        "loss_kw": float(r.loss_kw[0]), "loss_kvar": float(r.loss_kvar[0]),
        "vmin_pu": float(vm.min()), "vmin_bus": int(net.bus_ids[vm.argmin()]),
        "vmax_pu": float(vm.max()), "vmax_bus": int(net.bus_ids[vm.argmax()]),
        "substation_p_kw": float(r.slack_p_kw[0]), "substation_q_kvar": float(r.slack_q_kvar[0]),
        "substation_mva": float(r.slack_kva[0] / 1000.0),
        "max_branch_loading": max((x for _, x in rated), default=None),
        "within_limits": not broken, "violations": broken, "converged": bool(r.converged[0]),
        "voltage_limits_pu": [net.vmin, net.vmax],
        "vm_pu": {int(b): float(v) for b, v in zip(net.bus_ids, vm, strict=True)},
    }
    if as_json:
        emit_json(out)
        return
    t = Table(title=f"{inst.name}: AC power flow, hour {h}", show_header=False)
    for k in ("system_load_kw", "gpl_charging_kw", "loss_kw", "loss_kvar", "vmin_pu", "vmin_bus", "vmax_pu",
              "substation_mva", "max_branch_loading", "within_limits"):
        v = out[k]
        t.add_row(k, f"{v:.4f}" if isinstance(v, float) else str(v))
    from rich.markup import escape

    for v in broken:
        t.add_row("violation", escape(describe(v)))
    console.print(t)


def main() -> None:
    """Entry point: expected and usage errors become one line on stderr and exit code 2, Ctrl-C one line and
    exit code 130; never a traceback (gplopt/cli_errors.py)."""
    from gplopt.cli_errors import exit_process, run

    exit_process(run(app))


# ------------------------------------------------------------------------------------------ evaluate
SeedOpt = Annotated[int | None, typer.Option(help="Master seed (default: the instance's)")]
WorkersOpt = Annotated[int | None, typer.Option(help="Worker processes (default: the number of cores; results "
                                                 "never depend on it)")]


def n_workers(workers: int | None) -> int:
    import os

    from gplopt.errors import InstanceError

    if workers is None:
        return os.cpu_count() or 1
    if workers < 1:
        raise InstanceError("--workers", ">= 1", workers)
    return workers
SolverOpt = Annotated[str, typer.Option(help="OPF solver: highs | gurobi")]
SchedulerOpt = Annotated[str | None, typer.Option(help="Dask scheduler address, or 'local' for a local Dask "
                                                  "cluster (default: local processes)")]
JournalOpt = Annotated[Path | None, typer.Option(help="Checkpoint journal (JSONL): a killed run restarted "
                                                 "with it resumes and ends with the same answer")]


def progress_bar(label: str, enabled: bool):  # type: ignore[no-untyped-def]
    """A Rich progress bar on stderr (off for --json or when stderr is not a terminal-like stream)."""
    from contextlib import nullcontext

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if not enabled:
        return nullcontext(None)
    return Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                    TimeElapsedColumn(), console=err_console, transient=False)


@app.command()
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
) -> None:
    """Sequential Monte Carlo reliability: EENS, LOLE, LOLF, EDNS, ENS by bus, V2G energy."""
    from gplopt.reliability import SequentialMonteCarlo, assess

    inst, system = load(file, sets)
    spec = SequentialMonteCarlo.from_instance(inst, years=years, seed=seed, target_cov=cov,
                                              max_years=max_years, v2g=not no_v2g, solver=solver,
                                              workers=n_workers(workers), scheduler=scheduler)
    from gplopt.cli_format import pm, progress

    with progress("evaluate", not as_json) as bar:

        def on_progress(done: int, total: int, partial: Any) -> None:
            if bar is not None:
                e = partial.eens_kwh_per_year if partial else None
                bar.update(done, total, f"EENS {pm(e.mean, e.stderr)} kWh/yr" if e else "")

        res = assess(system, spec, progress=on_progress, journal=journal)
    if out is not None:
        from gplopt.frames import write_frames

        write_frames(res, out, out_format)
    if as_json:
        emit_json({"instance": inst.name, "v2g": not no_v2g, **res.to_dict()})
        return
    from gplopt import cli_print

    cli_print.evaluate(inst.name, res)


# ------------------------------------------------------------------------------------------ ecc
@app.command()
def ecc(
    file: FileArg,
    metric: Annotated[str, typer.Option(help="ecc | efc | elcc")] = "ecc",
    resource: Annotated[str, typer.Option(help="A lot id, 'gpls' (all lots jointly, with per-lot values), or a "
                                          "unit id; 'gpl' = all lots")] = "gpl",
    years: Annotated[int | None, typer.Option(help="Exactly N sample years (default: stopping rule)")] = None,
    seed: SeedOpt = None,
    cov: Annotated[float | None, typer.Option(help="Target stderr/mean of the base EENS")] = None,
    tolerance: Annotated[float | None, typer.Option(help="Bisection |dEENS|/EENS (default: instance)")] = None,
    solver: SolverOpt = "highs",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    sets: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Capacity value of the GPL (or a unit): ECC, EFC or ELCC on common random numbers, with economics."""
    from gplopt.capacity_value import CapacityValueSpec, capacity_value
    from gplopt.economics import economics
    from gplopt.reliability import SequentialMonteCarlo

    inst, system = load(file, sets)
    mc = SequentialMonteCarlo.from_instance(inst, years=years, seed=seed, target_cov=cov, solver=solver,
                                            workers=n_workers(workers), scheduler=scheduler)
    spec = CapacityValueSpec.from_system(system, metric=metric, resource=resource, tolerance=tolerance)
    from gplopt.cli_format import progress

    with progress(metric, not as_json) as bar:

        def on_progress(stage: str, done: int, total: int) -> None:
            if bar is not None:
                bar.update(done, total, stage)

        cv = capacity_value(system, mc, spec, progress=on_progress)
        by_lot = None
        if resource == "gpls" and spec.metric != "elcc":
            from gplopt.resources import per_lot_values

            by_lot = per_lot_values(system, mc, spec, cv, on_progress)
    eco = economics(system, cv)
    if as_json:
        d = cv.to_dict()
        if by_lot is not None:
            d["by_lot"] = by_lot
        emit_json({"instance": inst.name, f"{cv.metric}_kw": cv.value_kw, "ecc_kw": cv.value_kw,
                   "ci_low_kw": cv.ci_low_kw, "ci_high_kw": cv.ci_high_kw,
                   "eens_base_kwh_per_year": d["eens_base_kwh_per_year"],
                   "eens_with_kwh_per_year": d["eens_with_kwh_per_year"], "probes": d["probes"],
                   "capacity_value": d, "economics": eco.to_dict()})
        return
    from gplopt import cli_print

    cli_print.ecc(inst.name, cv, eco)


# ------------------------------------------------------------------------------------------ paper
@app.command()
def paper(
    file: FileArg,
    out: Annotated[Path | None, typer.Option(help="Result directory (CSV + result.json)")] = None,
    years: Annotated[int, typer.Option(help="Sample years for every point (common random numbers)")] = 20,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    journal: JournalOpt = None,
    force: Annotated[bool, typer.Option(help="Overwrite a non-empty --out directory")] = False,
    sets: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The GPL paper's Table 4 (EENS with/without V2G), Table 5 (ECC vs discharge rate), Table 6 (ECC vs
    SoC threshold) and Fig. 6 (ECC and cost per kW vs incentive grade), with CIs, on common random numbers."""
    from gplopt.io import prepare_out_dir
    from gplopt.reliability import SequentialMonteCarlo
    from gplopt.studies import paper_tables

    inst, _ = load(file, sets)
    out_dir = prepare_out_dir(out, force) if out is not None else None
    mc = SequentialMonteCarlo.from_instance(inst, years=years, seed=seed, scheduler=scheduler)
    from gplopt.cli_format import progress

    with progress("paper", not as_json) as bar:

        def on_progress(done: int, total: int) -> None:
            if bar is not None:
                bar.update(done, total, "points")

        res = paper_tables(inst, mc, workers=n_workers(workers), progress=on_progress, journal=journal)
    if out_dir is not None:
        from gplopt.instance import with_overrides
        from gplopt.studies import BASE, annual_ens_and_worst_day

        per_year, worst = annual_ens_and_worst_day(with_overrides(inst, BASE), mc)
        from gplopt.provenance import record

        res.write(out_dir, inst, mc, {"per_year": per_year, "worst_day": worst},
                  record(inst, mc.seed, res.years, file.resolve().parent))
    frames = res.frames()
    if as_json:
        emit_json({"instance": inst.name, "years": res.years, "seed": res.seed,
                   "out": str(out_dir) if out_dir else None,
                   **{k: v.to_dict(orient="records") for k, v in frames.items()}})
        return
    from gplopt import cli_print

    cli_print.paper(frames, res.years)
    if out_dir is not None:
        console.print(f"written to {out_dir}")


# ------------------------------------------------------------------------------------------ design
@app.command()
def design(
    file: FileArg,
    budget: Annotated[int | None, typer.Option(help="Evaluations (default: the instance's design.budget)")] = None,
    time_limit: Annotated[float | None, typer.Option(help="Stop proposing after S seconds")] = None,
    workers: WorkersOpt = None,
    seed: SeedOpt = None,
    objective: Annotated[str | None, typer.Option(help="ecc_per_cost | net_benefit | pareto")] = None,
    years: Annotated[int, typer.Option(help="Sample years per evaluation (re-picks double them)")] = 10,
    backend: Annotated[str, typer.Option(help="gp | random | grid | optuna")] = "gp",
    scheduler: SchedulerOpt = None,
    journal: Annotated[Path | None, typer.Option(help="Append-only JSONL journal; resumes a run")] = None,
    out: Annotated[Path | None, typer.Option(help="Result directory (evaluations.csv, pareto.csv, json)")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite a non-empty --out directory")] = False,
    sets: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search incentive grade, charger count, discharge rating and SoC threshold for the best ECC per yuan."""
    from gplopt.design.loop import DesignSpec, optimize, write_results
    from gplopt.io import prepare_out_dir

    inst, _ = load(file, sets)
    out_dir = prepare_out_dir(out, force) if out is not None else None
    spec = DesignSpec(budget=budget or inst.design.budget, years=years,
                      seed=inst.simulation.seed if seed is None else seed,
                      objective=objective or inst.design.objective, workers=n_workers(workers), time_limit_s=time_limit,
                      backend=backend, journal=str(journal) if journal else None, scheduler=scheduler)
    from gplopt.cli_format import pm, progress

    with progress("design", not as_json) as bar:

        def on_progress(done: int, total: int, inc: Any) -> None:
            if bar is not None and inc is not None:
                d = inc.design
                bar.update(done, total, f"best {d.price_cny_per_kwh:g} CNY/kWh, {d.n_chargers} chargers, "
                           f"{d.discharge_kw:g} kW, SoC {d.soc_threshold:.0%}: "
                           f"{pm(inc.ecc_per_cost, inc.ecc_per_cost_sd)} kW/MCNY")

        res = optimize(inst, spec, progress=on_progress)
    if out_dir is not None:
        from gplopt.provenance import record

        write_results(res, out_dir, {"instance": inst.name, "notes": inst.notes, "seed": spec.seed,
                                     "years": spec.years, **record(inst, spec.seed, spec.years,
                                                                    file.resolve().parent)})
    if as_json:
        emit_json({"instance": inst.name, **res.to_dict(), "out": str(out_dir) if out_dir else None})
        return
    from gplopt import cli_print

    cli_print.design(inst.name, res)
    if out_dir is not None:
        console.print(f"written to {out_dir}")


# ------------------------------------------------------------------------------------------ sweep
def _values(text: str | None, opt: str) -> list[Any]:
    from gplopt.errors import InstanceError
    from gplopt.instance import parse_value

    if text is None:
        return []
    vals = [parse_value(v.strip()) for v in text.split(",") if v.strip()]
    if not vals:
        raise InstanceError(opt, "a comma-separated list of values", text)
    return vals


@app.command()
def sweep(
    file: FileArg,
    param: Annotated[str | None, typer.Option(help="Instance path to vary, e.g. gpl.discharge_kw")] = None,
    values: Annotated[str | None, typer.Option(help="Comma-separated values, e.g. 2,3.5,5")] = None,
    param2: Annotated[str | None, typer.Option(help="Second path (two-way sweep)")] = None,
    values2: Annotated[str | None, typer.Option(help="Values of the second path")] = None,
    tornado_mode: Annotated[bool, typer.Option("--tornado", help="Low/high of the main parameters")] = False,
    phases: Annotated[Path | None, typer.Option(help="Phase scenario JSON ('default' built in if 'default')")]
    = None,
    years: Annotated[int, typer.Option(help="Sample years for every point (common random numbers)")] = 20,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    journal: JournalOpt = None,
    out: Annotated[Path | None, typer.Option(help="Result directory for `gplopt report`")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite a non-empty --out directory")] = False,
    sets: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sensitivity of EENS, ECC, ECC-per-cost and net benefit (with CIs) on common random numbers: one- or
    two-way sweeps, a tornado over the main parameters, or phase scenarios along an EV-uptake S-curve."""
    from gplopt.errors import InstanceError
    from gplopt.io import prepare_out_dir
    from gplopt.reliability import SequentialMonteCarlo
    from gplopt.studies import PhaseScenario, annual_ens_and_worst_day, phase_study, write_study
    from gplopt.studies import sweep as run_sweep
    from gplopt.studies import tornado as run_tornado

    inst, _ = load(file, sets)
    modes = sum([param is not None, tornado_mode, phases is not None])
    if modes != 1:
        raise InstanceError("sweep", "exactly one of --param, --tornado, --phases", modes)
    vals, vals2 = _values(values, "--values"), _values(values2, "--values2")
    if param is not None and not vals:
        raise InstanceError("--values", "given with --param", None)
    if (param2 is None) != (not vals2):
        raise InstanceError("--param2/--values2", "given together", (param2, values2))
    out_dir = prepare_out_dir(out, force) if out is not None else None
    mc = SequentialMonteCarlo.from_instance(inst, years=years, seed=seed, scheduler=scheduler)
    scenario = None
    if phases is not None:
        from gplopt.instance import read_json

        scenario = PhaseScenario() if str(phases) == "default" else PhaseScenario.from_dict(read_json(phases))
    from gplopt.cli_format import progress

    with progress("sweep", not as_json) as bar:

        def on_progress(done: int, total: int) -> None:
            if bar is not None:
                bar.update(done, total, "points")

        w = n_workers(workers)
        if tornado_mode:
            kind, df = "tornado", run_tornado(inst, mc, w, progress=on_progress, journal=journal)
        elif scenario is not None:
            kind, df = "phases", phase_study(inst, scenario, mc, w, progress=on_progress, journal=journal)
        else:
            assert param is not None
            kind = "sweep2" if param2 else "sweep"
            df = run_sweep(inst, param, vals, mc, param2, vals2 or None, n_workers(workers), progress=on_progress,
                           journal=journal)
    if out_dir is not None:
        per_year, worst = annual_ens_and_worst_day(inst, mc)
        from gplopt.provenance import record

        write_study(out_dir, kind, inst, mc, {"points": df, "per_year": per_year, "worst_day": worst},
                    {"param": param, "param2": param2, **record(inst, mc.seed, years, file.resolve().parent)})
    if as_json:
        emit_json({"instance": inst.name, "kind": kind, "years": years, "out": str(out_dir) if out_dir else None,
                   "points": df.to_dict(orient="records")})
        return
    from gplopt import cli_print

    cli_print.sweep(inst.name, kind, df, years)
    if out_dir is not None:
        console.print(f"written to {out_dir}")


# ------------------------------------------------------------------------------------------ report
@app.command()
def report(
    result_dir: Annotated[Path, typer.Argument(help="Directory written by sweep, paper or design")],
    out: Annotated[Path, typer.Option(help="Where report.md, report.html and the figures go")],
    force: Annotated[bool, typer.Option(help="Overwrite a non-empty --out directory")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Render a result directory into report.md and a self-contained report.html (figures embedded)."""
    from gplopt.io import prepare_out_dir
    from gplopt.report import render

    if not result_dir.is_dir():
        from gplopt.errors import InstanceError

        raise InstanceError("RESULT_DIR", "an existing directory", str(result_dir))
    out_dir = prepare_out_dir(out, force)
    md, page = render(result_dir, out_dir)
    if as_json:
        emit_json({"report_md": str(md), "report_html": str(page),
                   "figures": sorted(p.name for p in out_dir.glob("*.png"))})
        return
    console.print(f"wrote {md} and {page}")


from gplopt.screen_cli import screen  # noqa: E402  (the lead moves this registration into gplopt/cli/)

app.command()(screen)


# ------------------------------------------------------------------------------------------ logging
@app.callback()
def _logging(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug messages on stderr")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Warnings and errors only on stderr")] = False,
    log_file: Annotated[Path | None, typer.Option(help="Also write every log record to this file")] = None,
) -> None:
    """Capacity value and design of grid-connected EV parking lots (V2G)."""
    from gplopt.cli_format import setup_logging

    setup_logging(verbose, quiet, log_file)
