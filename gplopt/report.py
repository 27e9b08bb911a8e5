"""Reports: render a result directory written by ``sweep``, ``paper`` or ``design`` into ``report.md`` and a
self-contained ``report.html`` (figures embedded as PNG). Reports compute nothing: they read result.json and
the CSVs beside it, and draw them.
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from gplopt.errors import GploptError  # noqa: E402
from gplopt.io import write_bytes_atomic, write_text_atomic  # noqa: E402

METHOD = (
    "Sequential Monte Carlo over sample years of 8,760 hours: two-state chronologies (exponential up and down "
    "times) for the substation, units and every charger; Weibull wind; hourly substation availability "
    "U(0.8, 1.0); PEV sessions from truncated Gaussians, one willingness draw per session. The GPL charges to "
    "its SoC threshold, owners who agreed reduce charging in deficit hours, and V2G discharges willing PEVs "
    "down to the minimum SoC, energy tracked per PEV. Hours are screened by a batched AC power flow; short "
    "hours are certified or solved by a LinDistFlow shedding OPF (Pyomo + HiGHS). ECC: the conventional "
    "reference unit that gives the system without V2G the same EENS, found on common random numbers; its "
    "confidence interval is a bootstrap over sample years.")
VALIDATION = (
    "Power flow: Baran & Wu 33-bus losses 202.68 kW and Vmin 0.9131 pu at bus 18, every voltage within 1e-4 pu "
    "of pandapower. Reliability: RBTS LOLE and EENS within 3 standard errors of the exact 1.0881 h/yr and "
    "9,823 kWh/yr. The certificate never changes an OPF answer. Details: docs/validation.md.")
LABELS = {"gpl.discharge_kw": "discharge rating (kW)", "gpl.soc_threshold": "SoC threshold",
          "incentive.price_cny_per_kwh": "incentive grade (CNY/kWh)", "gpl.n_chargers": "chargers"}


@dataclass
class Report:
    title: str
    sections: list[tuple[str, str]] = field(default_factory=list)     # (heading, markdown body)
    figures: list[tuple[str, str, bytes]] = field(default_factory=list)  # (name, caption, png)

    def figure(self, name: str, caption: str, fig: Any) -> None:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        self.figures.append((name, caption, buf.getvalue()))


def _table_md(df: pd.DataFrame, cols: list[str], fmt: str = "{:.4g}") -> str:
    cols = [c for c in cols if c in df.columns]
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    rows = []
    for _, r in df[cols].iterrows():
        rows.append("| " + " | ".join(fmt.format(v) if isinstance(v, float) else str(v) for v in r) + " |")
    return head + "\n".join(rows) + "\n"


def _band(ax: Any, x: Any, y: Any, lo: Any, hi: Any, label: str) -> None:
    ax.plot(x, y, "o-", label=label)
    ax.fill_between(x, lo, hi, alpha=0.25)


def _ecc_figure(rep: Report, df: pd.DataFrame, xcol: str, xlabel: str, name: str, title: str) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    _band(ax, df[xcol], df["ecc_kw"], df["ci_low_kw"], df["ci_high_kw"], "ECC (90% CI)")
    if "paper_ecc_kw" in df and df["paper_ecc_kw"].notna().any():
        ax.plot(df[xcol], df["paper_ecc_kw"], "s--", color="grey", label="paper")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("ECC (kW)")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    rep.figure(name, title, fig)


def _grade_figure(rep: Report, df: pd.DataFrame, xcol: str) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    _band(ax, df[xcol], df["ecc_kw"], df["ci_low_kw"], df["ci_high_kw"], "ECC (90% CI)")
    ax.set_xlabel("incentive grade (CNY/kWh)")
    ax.set_ylabel("ECC (kW)")
    ax2 = ax.twinx()
    ax2.plot(df[xcol], df["cost_per_kw_cny"], "s--", color="tab:red", label="cost per kW of ECC")
    ax2.set_ylabel("CNY per kW of ECC per year", color="tab:red")
    ax.set_title("ECC and cost per kW vs incentive grade (Fig. 6)")
    ax.grid(alpha=0.3)
    rep.figure("grade", "ECC and cost per kW of ECC vs incentive grade", fig)
    fig, ax = plt.subplots(figsize=(6, 3.2))
    _band(ax, df[xcol], df["ecc_per_cost"], df["ecc_per_cost_ci_low"], df["ecc_per_cost_ci_high"],
          "ECC per cost (90% CI)")
    ax.set_xlabel("incentive grade (CNY/kWh)")
    ax.set_ylabel("kW per million CNY/yr")
    ax.grid(alpha=0.3)
    ax.set_title("ECC per yuan vs incentive grade")
    rep.figure("ecc_per_cost", "ECC per cost vs incentive grade", fig)


def _ledger(rep: Report, row: pd.Series, label: str) -> None:
    keys = [k for k in row.index if k.startswith(("utility_", "operator_", "owners_"))]
    if not keys:
        return
    flows = {
        "utility": {k[8:]: row[k] for k in keys if k.startswith("utility_") and k != "utility_net"},
        "operator": {k[9:]: row[k] for k in keys if k.startswith("operator_") and k != "operator_net"},
        "owners": {"v2g_income": row.get("owners_v2g_income", 0.0),
                   "load_reduction_income": row.get("owners_load_reduction_income", 0.0)},
    }
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ticks = []
    for y, (who, items) in enumerate(flows.items()):
        left_pos = left_neg = 0.0
        for name, v in items.items():
            v = float(v)
            start = left_pos if v >= 0 else left_neg
            ax.barh(y, v, left=start, label=f"{who}: {name}")
            if v >= 0:
                left_pos += v
            else:
                left_neg += v
        ticks.append(who)
    ax.set_yticks(range(len(ticks)), ticks)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("CNY per year")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    ax.set_title(f"Stakeholder ledger ({label})")
    rep.figure("ledger", f"Annual money flows ({label})", fig)
    body = (f"- Grid utility: avoided storage {row.get('utility_avoided_storage', 0):,.0f}, V2G payments "
            f"{row.get('utility_v2g_payments', 0):,.0f}, load-reduction payments "
            f"{row.get('utility_load_reduction_payments', 0):,.0f} → net {row.get('utility_net', 0):,.0f} CNY/yr\n"
            f"- Charging-facility operator: chargers {row.get('operator_charger_cost', 0):,.0f}, charging margin "
            f"{row.get('operator_charging_margin', 0):,.0f} → net {row.get('operator_net', 0):,.0f} CNY/yr\n"
            f"- EV owners: {row.get('owners_total', 0):,.0f} CNY/yr in all, "
            f"{row.get('owners_income_per_participating_owner', 0):,.0f} CNY per participating owner "
            f"({row.get('owners_v2g_income_per_v2g_owner', 0):,.0f} per V2G owner)\n")
    rep.sections.append((f"Stakeholder ledger ({label})", body))


def _common(rep: Report, d: Path) -> None:
    if (d / "per_year.csv").exists():
        py = pd.read_csv(d / "per_year.csv")
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.hist(py["ens_kwh"] / 1000.0, bins=min(30, max(5, len(py) // 2)), color="tab:blue", alpha=0.8)
        ax.set_xlabel("annual energy not supplied (MWh)")
        ax.set_ylabel("sample years")
        ax.set_title("Distribution of annual ENS (base case)")
        rep.figure("ens_distribution", "Distribution of annual ENS over sample years", fig)
    if (d / "worst_day.csv").exists():
        wd = pd.read_csv(d / "worst_day.csv")
        fig, ax = plt.subplots(figsize=(7, 3.6))
        ax.plot(wd["hour"], (wd["regular_load_kw"] + wd["gpl_charging_kw"]) / 1000, "k-", label="demand")
        ax.plot(wd["hour"], wd["supply_kw"] / 1000, "b-", label="available supply")
        ax.bar(wd["hour"], wd["v2g_kw"] / 1000, color="tab:green", alpha=0.7, label="V2G")
        ax.bar(wd["hour"], wd["shed_kw"] / 1000, bottom=wd["v2g_kw"] / 1000, color="tab:red", alpha=0.6,
               label="shed")
        ax.set_xlabel("hour of day")
        ax.set_ylabel("MW")
        ax.legend(fontsize=8)
        ax.set_title("Worst event day (base case)")
        rep.figure("worst_day", "The worst event day: demand, supply, V2G and shedding by hour", fig)


def build_report(result_dir: str | Path) -> Report:
    d = Path(result_dir)
    if not (d / "result.json").is_file():
        raise GploptError(f"report {d}: must be a result directory written by sweep, paper or design "
                          "(result.json), got none")
    try:
        res = json.loads((d / "result.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise GploptError(f"report {d}/result.json: must be valid JSON, got {exc.msg}") from None
    kind = res.get("kind", "?")
    rep = Report(title=f"gplopt report: {res.get('instance', '')} ({kind})")
    intro = (f"Result kind **{kind}**, seed {res.get('seed')}, {res.get('years')} sample years per point "
             f"(common random numbers across points).\n")
    rep.sections.append(("Summary", intro))
    if kind == "paper":
        t4 = pd.DataFrame(res["table4"])
        rep.sections.append(("Table 4: EENS with and without V2G", _table_md(
            t4, ["strategy", "eens_kwh_per_year", "eens_se", "economic_benefit_cny", "paper_eens",
                 "paper_benefit_cny"], "{:,.1f}") + "\nThe paper prints its EENS as 'kWh'; on its own data "
            "they can only be MWh/yr (docs/validation.md).\n"))
        for name, xl, title in (("table5", "discharge rating (kW)", "ECC vs discharge rating (Table 5)"),
                                ("table6", "SoC threshold", "ECC vs SoC threshold (Table 6)")):
            df = pd.DataFrame(res[name])
            _ecc_figure(rep, df, "value", xl, name, title)
            rep.sections.append((title, _table_md(df, ["value", "ecc_kw", "ci_low_kw", "ci_high_kw",
                                                       "paper_ecc_kw", "ecc_per_cost"])))
        f6 = pd.DataFrame(res["fig6"])
        _grade_figure(rep, f6, "value")
        rep.sections.append(("Fig. 6: ECC and cost per kW vs incentive grade", _table_md(
            f6, ["value", "ecc_kw", "ci_low_kw", "ci_high_kw", "ecc_per_cost", "cost_per_kw_cny",
                 "storage_cost_per_kw_cny"])))
        base = pd.DataFrame(res["table5"])
        base = base[base["value"] == 3.5]
        if len(base):
            _ledger(rep, base.iloc[0], "paper base point")
    elif kind in ("sweep", "sweep2", "phases"):
        df = pd.DataFrame(res["points"])
        if kind == "sweep":
            p = res.get("param") or df["param"].iloc[0]
            _ecc_figure(rep, df, "value", LABELS.get(p, p), "sweep_ecc", f"ECC vs {p}")
            fig, ax = plt.subplots(figsize=(6, 3.4))
            _band(ax, df["value"], df["ecc_per_cost"], df["ecc_per_cost_ci_low"], df["ecc_per_cost_ci_high"],
                  "ECC per cost")
            ax.set_xlabel(LABELS.get(p, p))
            ax.set_ylabel("kW per million CNY/yr")
            ax.grid(alpha=0.3)
            rep.figure("sweep_ecc_per_cost", f"ECC per cost vs {p}", fig)
            rep.sections.append((f"Sweep of {p}", _table_md(df, [
                "value", "ecc_kw", "ci_low_kw", "ci_high_kw", "ecc_per_cost", "net_benefit_cny",
                "eens_with_kwh", "eens_without_kwh", "v2g_kwh"])))
        elif kind == "sweep2":
            pv = df.pivot(index="value", columns="value2", values="ecc_per_cost")
            fig, ax = plt.subplots(figsize=(6, 4))
            im = ax.imshow(pv.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
            ax.set_xticks(range(len(pv.columns)), [f"{v:g}" for v in pv.columns])
            ax.set_yticks(range(len(pv.index)), [f"{v:g}" for v in pv.index])
            ax.set_xlabel(res.get("param2"))
            ax.set_ylabel(res.get("param"))
            fig.colorbar(im, label="ECC per cost (kW per MCNY/yr)")
            rep.figure("sweep2", "Two-way sweep: ECC per cost", fig)
            rep.sections.append(("Two-way sweep", _table_md(df, ["value", "value2", "ecc_kw", "ecc_per_cost",
                                                                  "net_benefit_cny"])))
        else:
            fig, ax = plt.subplots(figsize=(7, 3.6))
            _band(ax, df["year"], df["ecc_kw"], df["ci_low_kw"], df["ci_high_kw"], "ECC")
            ax.set_xlabel("planning year")
            ax.set_ylabel("ECC (kW)")
            for _, r in df.iterrows():
                ax.annotate(str(r["phase"]).split(":")[0], (r["year"], r["ecc_kw"]), fontsize=7)
            ax.grid(alpha=0.3)
            rep.figure("phases", "ECC along the EV-uptake S-curve by development phase", fig)
            rep.sections.append(("Phase scenario", _table_md(df, ["year", "uptake", "phase", "ecc_kw",
                                                                   "ecc_per_cost", "net_benefit_cny"])))
        _ledger(rep, df.iloc[len(df) // 2], "middle point")
    elif kind == "tornado":
        df = pd.DataFrame(res["points"])
        m = df[df["metric"] == "ecc_per_cost"].sort_values("swing")
        fig, ax = plt.subplots(figsize=(7, 3.8))
        base = float(m["base"].iloc[0]) if len(m) else 0.0
        for k, (_, r) in enumerate(m.iterrows()):
            ax.barh(k, r["at_low"] - base, left=base, color="tab:blue")
            ax.barh(k, r["at_high"] - base, left=base, color="tab:orange")
        ax.set_yticks(range(len(m)), [f"{p} ({lo:g}/{hi:g})" for p, lo, hi in zip(m["param"], m["low"], m["high"],
                                                                                  strict=True)])
        ax.axvline(base, color="black", lw=0.8)
        ax.set_xlabel("ECC per cost (kW per million CNY/yr); blue = low, orange = high")
        rep.figure("tornado", "Tornado: ECC per cost at each parameter's low and high value", fig)
        rep.sections.append(("Tornado", _table_md(df, ["metric", "param", "low", "high", "base", "at_low",
                                                         "at_high", "swing"])))
    elif kind == "design":
        tr = pd.DataFrame(res.get("trace", []))
        if len(tr):
            fig, ax = plt.subplots(figsize=(6, 3.2))
            ax.plot(tr["evaluations"], tr["incumbent_value"], "o-")
            ax.set_xlabel("evaluations")
            ax.set_ylabel("incumbent objective")
            ax.set_title("Design convergence")
            ax.grid(alpha=0.3)
            rep.figure("convergence", "Best objective found vs evaluations", fig)
        ev = pd.read_csv(d / "evaluations.csv") if (d / "evaluations.csv").exists() else pd.DataFrame()
        pf = pd.DataFrame(res.get("pareto", []))
        if len(ev):
            fig, ax = plt.subplots(figsize=(6, 3.6))
            ax.scatter(ev["annual_cost_cny"] / 1e6, ev["ecc_kw"], s=12, alpha=0.5, label="evaluated")
            if len(pf):
                pf = pf.sort_values("annual_cost_cny")
                ax.plot(pf["annual_cost_cny"] / 1e6, pf["ecc_kw"], "r.-", label="Pareto front")
            ax.set_xlabel("annual cost (million CNY)")
            ax.set_ylabel("ECC (kW)")
            ax.legend()
            rep.figure("pareto", "ECC vs annual cost: evaluated designs and the Pareto front", fig)
        b = res["best"]
        rep.sections.append(("Recommended design", "\n".join(f"- {k}: {v:.4g}" if isinstance(v, float)
                                                              else f"- {k}: {v}" for k, v in b.items()) + "\n"))
    else:
        raise GploptError(f"report {d}/result.json: kind must be paper, sweep, sweep2, tornado, phases or "
                          f"design, got {kind!r}")
    _common(rep, d)
    notes = res.get("notes") or []
    if notes:
        rep.sections.append(("Key assumptions of the instance", "\n".join(f"- {n}" for n in notes) + "\n"))
    rep.sections.append(("Method in brief", METHOD + "\n"))
    rep.sections.append(("Validation status", VALIDATION + "\n"))
    return rep


def render(result_dir: str | Path, out_dir: str | Path) -> tuple[Path, Path]:
    """Write report.md (+ PNG files) and a self-contained report.html into ``out_dir``."""
    rep = build_report(result_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md = [f"# {rep.title}\n"]
    body_html = [f"<h1>{html.escape(rep.title)}</h1>"]
    figs_md, figs_html = [], []
    for name, caption, png in rep.figures:
        write_bytes_atomic(out / f"{name}.png", png)
        figs_md.append(f"![{caption}]({name}.png)\n\n*{caption}*\n")
        b64 = base64.b64encode(png).decode()
        figs_html.append(f'<figure><img src="data:image/png;base64,{b64}" alt="{html.escape(caption)}">'
                         f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    heading, body = rep.sections[0]
    md.append(f"## {heading}\n\n{body}\n")
    body_html.append(f"<h2>{html.escape(heading)}</h2>{_md_to_html(body)}")
    md.append("## Figures\n\n" + "\n".join(figs_md))
    body_html.append("<h2>Figures</h2><div class='figs'>" + "".join(figs_html) + "</div>")
    for heading, body in rep.sections[1:]:
        md.append(f"## {heading}\n\n{body}\n")
        body_html.append(f"<h2>{html.escape(heading)}</h2>{_md_to_html(body)}")
    write_text_atomic(out / "report.md", "\n".join(md))
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(rep.title)}</title>"
            "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
            "table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ccc;padding:2px 6px}"
            ".figs{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;max-width:540px}"
            "img{max-width:100%}figcaption{font-size:.8em;color:#555}</style></head><body>"
            + "".join(body_html) + "</body></html>")
    write_text_atomic(out / "report.html", page)
    return out / "report.md", out / "report.html"


def _md_to_html(text: str) -> str:
    """The small Markdown subset the report writes: tables, bullet lists, paragraphs, **bold**."""
    import re

    out, lines = [], text.strip().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                if not set(lines[i]) <= set("|-: "):
                    rows.append([html.escape(c.strip()) for c in lines[i].strip("|").split("|")])
                i += 1
            head = "".join(f"<th>{c}</th>" for c in rows[0])
            body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows[1:])
            out.append(f"<table><tr>{head}</tr>{body}</table>")
            continue
        if line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{html.escape(lines[i][2:])}</li>")
                i += 1
            out.append("<ul>" + "".join(items) + "</ul>")
            continue
        if line.strip():
            out.append(f"<p>{html.escape(line)}</p>")
        i += 1
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", "".join(out))
