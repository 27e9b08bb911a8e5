"""What each command prints on a terminal (its --json output is separate), in the conventions of cli_format:
``value ± standard error``, thousands separators, units in headers, 80 columns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gplopt.cli_format import SE, num, pm, row_se, show, table

SHORT = {"incentive.price_cny_per_kwh": "grade CNY/kWh", "gpl.discharge_kw": "discharge kW",
         "gpl.soc_threshold": "SoC threshold", "gpl.n_chargers": "chargers", "gpl.v2g_min_soc": "V2G floor SoC",
         "economics.storage_hours": "storage hours", "gpl.charge_kw": "charge kW"}


def short(p: Any) -> str:
    return SHORT.get(str(p), str(p).split(".")[-1])


def validate(summary: dict[str, Any]) -> None:
    s = summary
    rows = [["buses / branches", f"{s['buses']} / {s['branches']}" + (" (copper plate)" if s["copper_plate"]
                                                                      else "")],
            ["hours", num(s["hours"])], ["peak load", f"{num(s['peak_kw'])} kW"],
            ["annual energy", f"{num(s['annual_energy_mwh'])} MWh"], ["load factor", num(s["load_factor"], 3)],
            ["installed units", f"{num(s['installed_kw'])} kW"]]
    show(table(f"{s['name']}: valid (schema {s['schema_version']})", ["", ""], rows, header=False))
    show(table("units", ["id", "type", "bus", "kW", "MTTF h", "MTTR h"],
               [[u["id"], u["type"], str(u["bus"]), num(u["capacity_kw"]), num(u["mttf_h"]), num(u["mttr_h"])]
                for u in s["units"]]))
    g = s["gpl"]
    if g is not None:
        show(table("parking lot (GPL)", ["", ""], [
            ["bus", str(g["bus"])], ["chargers", num(g["n_chargers"])],
            ["charge / discharge", f"{num(g['charge_kw'])} / {num(g['discharge_kw'])} kW per charger"],
            ["battery", f"{num(g['battery_kwh'])} kWh per PEV"],
            ["SoC threshold / V2G floor", f"{g['soc_threshold']:.0%} / {g['v2g_min_soc']:.0%}"],
            ["participation V2G / load red.", f"{g['participation_v2g']:.0%} / "
                                              f"{g['participation_load_reduction']:.0%}"],
            ["incentive", f"{num(g['incentive_cny_per_kwh'])} CNY/kWh"],
            ["charger cost", f"{num(g['charger_cost_cny_per_year'])} CNY/yr per charger"]], header=False))


def evaluate(name: str, res: Any) -> None:
    rows = [[label, pm(est.mean, est.stderr), unit] for label, est, unit in (
        ("EENS", res.eens_kwh_per_year, "kWh/yr"), ("LOLE", res.lole_h_per_year, "h/yr"),
        ("LOLF", res.lolf_per_year, "events/yr"), ("EDNS", res.edns_kw, "kW"),
        ("V2G energy", res.v2g_kwh_per_year, "kWh/yr"),
        ("load reduction", res.load_reduction_kwh_per_year, "kWh/yr"))]
    cap = (f"{res.years} sample years (stopped by {res.stopped_by}), CoV {res.eens_kwh_per_year.cov:.3f}; "
           f"OPF solves {num(res.opf_solves)}, failed hours {res.opf_failed_hours}, certified hours "
           f"{num(res.hours_certified)}; {res.seconds:.1f} s")
    show(table(f"{name}: reliability ({SE})", ["metric", "value ± s.e.", "unit"], rows, caption=cap))


def ecc(name: str, cv: Any, eco: Any) -> None:
    se = float(np.std(cv.boot_values, ddof=1)) if cv.boot_values.size > 1 else float("nan")
    m = cv.metric.upper()
    rows = [[m, pm(cv.value_kw, se), "kW"],
            ["EENS without", pm(cv.eens_base.mean, cv.eens_base.stderr), "kWh/yr"],
            ["EENS with", pm(cv.eens_with.mean, cv.eens_with.stderr), "kWh/yr"],
            ["V2G energy", pm(cv.v2g_kwh_per_year.mean, cv.v2g_kwh_per_year.stderr), "kWh/yr"],
            ["avoided storage S_PE+S_m", num(eco.storage_capex_annual_cny + eco.storage_om_annual_cny), "CNY/yr"],
            ["V2G payments E_V2G", pm(eco.v2g_payments_cny, eco.v2g_payments_stderr_cny), "CNY/yr"],
            ["charger cost", num(eco.charger_cost_cny), "CNY/yr"],
            ["net benefit E_G", pm(eco.net_benefit_cny, eco.net_benefit_sd), "CNY/yr"],
            [f"{m} per cost", pm(eco.ecc_per_cost, eco.ecc_per_cost_sd), "kW per MCNY/yr"],
            ["cost per kW: GPL", num(eco.cost_per_kw_cny), "CNY/kW/yr"],
            ["cost per kW: storage", num(eco.storage_cost_per_kw_cny), "CNY/kW/yr"]]
    probes = ", ".join(f"{num(p.capacity_kw)} kW ({p.rel_gap:+.1%})" for p in cv.probes)
    cap = f"{cv.years} sample years; probes {probes}" + (f"\n{cv.note}" if cv.note else "")
    show(table(f"{name}: {m} of {cv.resource} ({SE})", ["", "value ± s.e.", "unit"], rows, caption=cap))


def paper(frames: dict[str, pd.DataFrame], years: int) -> None:
    t4 = frames["table4"]
    show(table(f"Table 4: EENS with and without V2G ({years} years; {SE})",
               ["strategy", "EENS MWh/yr", "paper", "benefit CNY/yr", "paper"],
               [[str(r["strategy"]), pm(r["eens_kwh_per_year"], r["eens_se"], 1e-3), num(r["paper_eens"]),
                 num(r["economic_benefit_cny"], 0), num(r["paper_benefit_cny"], 0)] for _, r in t4.iterrows()],
               caption="The paper prints EENS as 'kWh'; on its own data it can only be MWh/yr (docs/validation.md)"))
    for name, label in (("table5", "discharge kW"), ("table6", "SoC threshold"), ("fig6", "grade CNY/kWh")):
        df = frames[name]
        rows = [[f"{r['value']:g}", pm(r["ecc_kw"], row_se(r, "ecc_se_kw", "ci_low_kw", "ci_high_kw")),
                 num(r.get("paper_ecc_kw")),
                 pm(r["ecc_per_cost"], row_se(r, "ecc_per_cost_se", "ecc_per_cost_ci_low", "ecc_per_cost_ci_high")),
                 num(r["cost_per_kw_cny"], 0)] for _, r in df.iterrows()]
        show(table(f"{name} ({SE})", [label, "ECC kW", "paper kW", "ECC/cost kW/MCNY", "cost CNY/kW/yr"], rows))


def sweep(name: str, kind: str, df: pd.DataFrame, years: int) -> None:
    if kind == "tornado":
        _tornado(name, df, years)
        return

    def ecc(r: Any) -> str:
        return pm(r["ecc_kw"], row_se(r, "ecc_se_kw", "ci_low_kw", "ci_high_kw"))

    def per_cost(r: Any) -> str:
        return pm(r["ecc_per_cost"], row_se(r, "ecc_per_cost_se", "ecc_per_cost_ci_low", "ecc_per_cost_ci_high"))

    def benefit(r: Any) -> str:
        return pm(r["net_benefit_cny"], row_se(r, "net_benefit_se", "net_benefit_ci_low", "net_benefit_ci_high"))

    tail = ["ECC kW", "ECC/cost kW/MCNY", "net benefit CNY/yr"]
    if kind == "phases":
        head = ["year", "uptake", "phase", "chargers"]
        rows = [[str(r["year"]), f"{r['uptake']:.0%}", str(r["phase"]).split(":")[0].replace("Phase ", ""),
                 num(int(r["n_chargers"])) if "n_chargers" in r else "–", ecc(r), per_cost(r), benefit(r)]
                for _, r in df.iterrows()]
        cap = "; ".join(dict.fromkeys(str(p) for p in df["phase"]))
    else:
        head = [short(df["param"].iloc[0])] + ([short(df["param2"].iloc[0])] if kind == "sweep2" else [])
        rows = [[f"{r['value']:g}"] + ([f"{r['value2']:g}"] if kind == "sweep2" else [])
                + [ecc(r), per_cost(r), benefit(r)] for _, r in df.iterrows()]
        cap = None
    show(table(f"{name}: {kind} ({years} years per point; {SE})", head + tail, rows, caption=cap))


def _tornado(name: str, df: pd.DataFrame, years: int) -> None:
    units = {"ecc_per_cost": "ECC per cost, kW per MCNY/yr", "ecc_kw": "ECC, kW", "net_benefit_cny":
             "net benefit, CNY/yr"}
    for metric, label in units.items():
        m = df[df["metric"] == metric]
        if not len(m):
            continue
        rows = [[short(r["param"]), f"{r['low']:g} / {r['high']:g}", pm(r["at_low"], r.get("at_low_se")),
                 pm(r["at_high"], r.get("at_high_se")), num(r["swing"])] for _, r in m.iterrows()]
        base = m.iloc[0]
        show(table(f"{name}: tornado of {label} ({years} years; {SE})",
                   ["parameter", "low / high", "at low", "at high", "swing"], rows,
                   caption=f"base case {pm(base['base'], base.get('base_se'))}"))


def design(name: str, res: Any) -> None:
    b = res.best
    from gplopt.design.loop import ecc_se_kw

    d = b.design
    rows = [["incentive grade", f"{d.price_cny_per_kwh:g} CNY/kWh"], ["chargers", num(d.n_chargers)],
            ["discharge rating", f"{d.discharge_kw:g} kW"], ["SoC threshold", f"{d.soc_threshold:.0%}"],
            ["ECC", f"{pm(b.ecc_kw, ecc_se_kw(b))} kW ({b.years} fresh years)"],
            ["annual cost", f"{num(b.annual_cost_cny, 0)} CNY/yr"],
            ["ECC per cost", f"{pm(b.ecc_per_cost, b.ecc_per_cost_sd)} kW per MCNY/yr"],
            ["net benefit E_G", f"{pm(b.net_benefit_cny, b.net_benefit_sd)} CNY/yr"]]
    c = res.comparison
    if c.get("gpl_cost_per_kw") is not None:
        rows.append(["cost per kW: GPL / storage", f"{num(c['gpl_cost_per_kw'], 0)} / "
                                                   f"{num(c['storage_cost_per_kw'], 0)} CNY/kW/yr"])
    show(table(f"{name}: recommended design ({SE})", ["", ""], rows, header=False,
               caption=f"{len(res.evaluations)} evaluations of a {num(res.lattice_size)}-design lattice, "
                       f"stopped by {res.stopped_by}. {res.budget_note}."))
    show(_verdict(c))
    for x in res.bounds:
        hint = f"; widen it with {x.widen}" if x.widen else " (its physical limit)"
        show(f"[yellow]warning:[/] {x.name} = {x.value:g} is at the {x.edge} edge of its search range{hint}")
    for v in res.dropped:
        show(f"note: left out of the lattice: {v}")
    pf = sorted(res.pareto, key=lambda e: e.annual_cost_cny)
    show(table(f"Pareto front: ECC vs annual cost ({len(pf)} designs, search years)",
               ["grade", "chargers", "disch. kW", "SoC", "ECC kW", "cost CNY/yr"],
               [[f"{e.design.price_cny_per_kwh:g}", num(e.design.n_chargers), f"{e.design.discharge_kw:g}",
                 f"{e.design.soc_threshold:.0%}", pm(e.ecc_kw, ecc_se_kw(e)), num(e.annual_cost_cny, 0)]
                for e in pf]))


def _verdict(c: dict[str, Any]) -> str:
    g, s = c.get("gpl_cost_per_kw"), c.get("storage_cost_per_kw")
    if g is None:
        return "next: the recommended design gives no capacity value; conventional storage is the alternative."
    if g < s:
        return (f"next: the GPL provides capacity at {g / s:.0%} of the cost of conventional storage "
                f"({num(g, 0)} vs {num(s, 0)} CNY/kW/yr); take this design to detailed study.")
    return (f"next: conventional storage is cheaper per kW ({num(s, 0)} vs {num(g, 0)} CNY/kW/yr); the GPL "
            "pays only if its other benefits cover the gap.")
