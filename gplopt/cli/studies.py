"""``gplopt paper`` and ``gplopt sweep``: the paper's tables and the sensitivity studies, on common random
numbers, optionally written to a result directory for ``gplopt report``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gplopt.cli.common import (
    FileArg,
    ForceOpt,
    JournalOpt,
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
from gplopt.currency import DEFAULT, PAPER, per_cost_unit, rename_path
from gplopt.errors import InstanceError
from gplopt.formatting import SE, num, pm, row_se

if TYPE_CHECKING:
    import pandas as pd

YearsOpt = Annotated[int, typer.Option(help="Sample years for every point (common random numbers)")]


def paper(
    file: FileArg,
    out: Annotated[Path | None, typer.Option(help="Result directory (CSV + result.json)")] = None,
    years: YearsOpt = 20,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    journal: JournalOpt = None,
    force: ForceOpt = False,
    sets: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The GPL paper's Table 4 (EENS with/without V2G), Table 5 (ECC vs discharge rate), Table 6 (ECC vs
    SoC threshold) and Fig. 6 (ECC and cost per kW vs incentive grade), with CIs, on common random numbers."""
    from gplopt.io import prepare_out_dir
    from gplopt.reliability import Execution, SequentialMonteCarlo
    from gplopt.studies import paper_tables

    inst, _ = load(file, sets)
    out_dir = prepare_out_dir(out, force) if out is not None else None
    mc = SequentialMonteCarlo.from_instance(inst, years=years, seed=seed)
    ex = Execution.from_instance(inst, workers=n_workers(workers), scheduler=scheduler)
    with progress("paper", not as_json) as bar:
        res = paper_tables(inst, mc, ex, progress=_points(bar), journal=journal)
    if out_dir is not None:
        from gplopt.result_dirs import save_paper

        save_paper(res, out_dir, inst, mc, file.resolve().parent)
    frames = res.frames()
    if as_json:
        emit_json({"instance": inst.name, "currency": inst.currency, "years": res.years, "seed": res.seed,
                   "out": str(out_dir) if out_dir else None,
                   **{k: v.to_dict(orient="records") for k, v in frames.items()}})
        return
    print_paper(frames, res.years, inst.currency)
    written_to(out_dir)


def _study_values(param: str | None, param2: str | None, values: str | None, values2: str | None,
                  tornado_mode: bool, phases: object) -> tuple[list[Any], list[Any]]:
    """The sweep's values, after checking that exactly one kind of study was asked for."""
    modes = sum([param is not None, tornado_mode, phases is not None])
    if modes != 1:
        raise InstanceError("sweep", "exactly one of --param, --tornado, --phases", modes)
    vals, vals2 = _values(values, "--values"), _values(values2, "--values2")
    if param is not None and not vals:
        raise InstanceError("--values", "given with --param", None)
    if (param2 is None) != (not vals2):
        raise InstanceError("--param2/--values2", "given together", (param2, values2))
    return vals, vals2


def sweep(
    file: FileArg,
    param: Annotated[str | None, typer.Option(help="Instance path to vary, e.g. gpl.discharge_kw")] = None,
    values: Annotated[str | None, typer.Option(help="Comma-separated values, e.g. 2,3.5,5")] = None,
    param2: Annotated[str | None, typer.Option(help="Second path (two-way sweep)")] = None,
    values2: Annotated[str | None, typer.Option(help="Values of the second path")] = None,
    tornado_mode: Annotated[bool, typer.Option("--tornado", help="Low/high of the main parameters")] = False,
    phases: Annotated[Path | None, typer.Option(help="Phase scenario JSON ('default' built in if 'default')")]
    = None,
    years: YearsOpt = 20,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    journal: JournalOpt = None,
    out: Annotated[Path | None, typer.Option(help="Result directory for `gplopt report`")] = None,
    force: ForceOpt = False,
    sets: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sensitivity of EENS, ECC, ECC-per-cost and net benefit (with CIs) on common random numbers: one- or
    two-way sweeps, a tornado over the main parameters, or phase scenarios along an EV-uptake S-curve."""
    from gplopt.io import prepare_out_dir
    from gplopt.reliability import Execution, SequentialMonteCarlo
    from gplopt.studies import phase_study
    from gplopt.studies import sweep as run_sweep
    from gplopt.studies import tornado as run_tornado

    inst, _ = load(file, sets)
    param, param2 = (rename_path(p) if p else p for p in (param, param2))   # an old money name: once, here
    vals, vals2 = _study_values(param, param2, values, values2, tornado_mode, phases)
    out_dir = prepare_out_dir(out, force) if out is not None else None
    mc = SequentialMonteCarlo.from_instance(inst, years=years, seed=seed)
    scenario = _scenario(phases)
    with progress("sweep", not as_json) as bar:
        w = Execution.from_instance(inst, workers=n_workers(workers), scheduler=scheduler)
        on_progress = _points(bar)
        if tornado_mode:
            kind, df = "tornado", run_tornado(inst, mc, w, progress=on_progress, journal=journal)
        elif scenario is not None:
            kind, df = "phases", phase_study(inst, scenario, mc, w, progress=on_progress, journal=journal)
        else:
            assert param is not None
            kind = "sweep2" if param2 else "sweep"
            df = run_sweep(inst, param, vals, mc, param2, vals2 or None, w, progress=on_progress, journal=journal)
    if out_dir is not None:
        from gplopt.result_dirs import save_study

        save_study(out_dir, kind, inst, mc, df, {"param": param, "param2": param2}, file.resolve().parent)
    if as_json:
        emit_json({"instance": inst.name, "currency": inst.currency, "kind": kind, "years": years,
                   "out": str(out_dir) if out_dir else None, "points": df.to_dict(orient="records")})
        return
    print_sweep(inst.name, kind, df, years, inst.currency)
    written_to(out_dir)


# ------------------------------------------------------------------------------------------ parsing
def _values(text: str | None, opt: str) -> list[Any]:
    from gplopt.instance import parse_value

    if text is None:
        return []
    vals = [parse_value(v.strip()) for v in text.split(",") if v.strip()]
    if not vals:
        raise InstanceError(opt, "a comma-separated list of values", text)
    return vals


def _scenario(phases: Path | None) -> Any:
    """``--phases``: the built-in S-curve for 'default', else the scenario JSON file."""
    if phases is None:
        return None
    from gplopt.instance import read_json
    from gplopt.studies import PhaseScenario

    return PhaseScenario() if str(phases) == "default" else PhaseScenario.from_dict(read_json(phases))


def _points(bar: Any) -> Any:
    """The progress callback of a study: points done of total."""

    def on_progress(done: int, total: int) -> None:
        if bar is not None:
            bar.update(done, total, "points")

    return on_progress


# ------------------------------------------------------------------------------------------ printing
SHORT = {"incentive.price_per_kwh": "grade {cur}/kWh", "gpl.discharge_kw": "discharge kW",
         "gpl.soc_threshold": "SoC threshold", "gpl.n_chargers": "chargers", "gpl.v2g_min_soc": "V2G floor SoC",
         "economics.storage_hours": "storage hours", "gpl.charge_kw": "charge kW"}


def short(p: Any, cur: str = DEFAULT) -> str:
    return SHORT.get(str(p), str(p).split(".")[-1]).format(cur=cur)


def print_paper(frames: dict[str, pd.DataFrame], years: int, cur: str = DEFAULT) -> None:
    t4 = frames["table4"]
    show(table(f"Table 4: EENS with and without V2G ({years} years; {SE})",
               ["strategy", "EENS MWh/yr", "paper", f"benefit {cur}/yr", f"paper {PAPER}/yr"],
               [[str(r["strategy"]), pm(r["eens_kwh_per_year"], r["eens_se"], 1e-3), num(r["paper_eens"]),
                 num(r["economic_benefit"], 0), num(r["paper_benefit"], 0)] for _, r in t4.iterrows()],
               caption="The paper prints EENS as 'kWh'; on its own data it can only be MWh/yr (docs/validation.md)"))
    for name, label in (("table5", "discharge kW"), ("table6", "SoC threshold"), ("fig6", f"grade {cur}/kWh")):
        df = frames[name]
        rows = [[f"{r['value']:g}", pm(r["ecc_kw"], row_se(r, "ecc_se_kw", "ci_low_kw", "ci_high_kw")),
                 num(r.get("paper_ecc_kw")),
                 pm(r["ecc_per_cost"], row_se(r, "ecc_per_cost_se", "ecc_per_cost_ci_low", "ecc_per_cost_ci_high")),
                 num(r["cost_per_kw"], 0)] for _, r in df.iterrows()]
        show(table(f"{name} ({SE})", [label, "ECC kW", "paper kW", f"ECC/cost kW/M{cur}", f"cost {cur}/kW/yr"], rows))


def _ecc(r: Any) -> str:
    return pm(r["ecc_kw"], row_se(r, "ecc_se_kw", "ci_low_kw", "ci_high_kw"))


def _per_cost(r: Any) -> str:
    return pm(r["ecc_per_cost"], row_se(r, "ecc_per_cost_se", "ecc_per_cost_ci_low", "ecc_per_cost_ci_high"))


def _benefit(r: Any) -> str:
    return pm(r["net_benefit"], row_se(r, "net_benefit_se", "net_benefit_ci_low", "net_benefit_ci_high"))


def print_sweep(name: str, kind: str, df: pd.DataFrame, years: int, cur: str = DEFAULT) -> None:
    if kind == "tornado":
        _print_tornado(name, df, years, cur)
        return
    tail = ["ECC kW", f"ECC/cost kW/M{cur}", f"net benefit {cur}/yr"]
    if kind == "phases":
        head = ["year", "uptake", "phase", "chargers"]
        rows = [[str(r["year"]), f"{r['uptake']:.0%}", str(r["phase"]).split(":")[0].replace("Phase ", ""),
                 num(int(r["n_chargers"])) if "n_chargers" in r else "–", _ecc(r), _per_cost(r), _benefit(r)]
                for _, r in df.iterrows()]
        cap = "; ".join(dict.fromkeys(str(p) for p in df["phase"]))
    else:
        head = [short(df["param"].iloc[0], cur)] + ([short(df["param2"].iloc[0], cur)] if kind == "sweep2" else [])
        rows = [[f"{r['value']:g}"] + ([f"{r['value2']:g}"] if kind == "sweep2" else [])
                + [_ecc(r), _per_cost(r), _benefit(r)] for _, r in df.iterrows()]
        cap = None
    show(table(f"{name}: {kind} ({years} years per point; {SE})", head + tail, rows, caption=cap))


def _print_tornado(name: str, df: pd.DataFrame, years: int, cur: str = DEFAULT) -> None:
    units = {"ecc_per_cost": f"ECC per cost, {per_cost_unit(cur)}", "ecc_kw": "ECC, kW", "net_benefit":
             f"net benefit, {cur}/yr"}
    for metric, label in units.items():
        m = df[df["metric"] == metric]
        if not len(m):
            continue
        rows = [[short(r["param"], cur), f"{r['low']:g} / {r['high']:g}", pm(r["at_low"], r.get("at_low_se")),
                 pm(r["at_high"], r.get("at_high_se")), num(r["swing"])] for _, r in m.iterrows()]
        base = m.iloc[0]
        show(table(f"{name}: tornado of {label} ({years} years; {SE})",
                   ["parameter", "low / high", "at low", "at high", "swing"], rows,
                   caption=f"base case {pm(base['base'], base.get('base_se'))}"))
