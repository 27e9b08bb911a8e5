"""Reports: render a result directory written by ``sweep``, ``paper``, ``design`` or ``screen`` into ``report.md`` and a
self-contained ``report.html`` (figures embedded as PNG). Reports compute nothing: they read result.json and
the CSVs beside it, and draw them.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from gplopt import provenance as prov  # noqa: E402
from gplopt import report_figures as figs  # noqa: E402
from gplopt import report_summary as summ  # noqa: E402
from gplopt.currency import PAPER, RENAMED, per_cost_unit  # noqa: E402
from gplopt.errors import GploptError  # noqa: E402
from gplopt.formatting import num, pm, row_se  # noqa: E402
from gplopt.io import write_bytes_atomic, write_text_atomic  # noqa: E402

METHOD = (
    "Sequential Monte Carlo over sample years of 8,760 hours: two-state chronologies (exponential up and down "
    "times) for the substation, units and every charger; Weibull wind; hourly substation availability "
    "U(0.8, 1.0); PEV sessions from truncated Gaussians, one willingness draw per session. The GPL charges to "
    "its SoC threshold, owners who agreed reduce charging in deficit hours, and V2G discharges willing PEVs "
    "down to the minimum SoC, energy tracked per PEV (docs/method.md, 'Energy-limited V2G'). Hours are screened "
    "by a batched AC power flow; short hours are certified or solved by a LinDistFlow shedding OPF (Pyomo + "
    "HiGHS). ECC: the conventional reference unit that gives the system without V2G the same EENS, found on "
    "common random numbers; its standard error is the bootstrap spread over sample years. Where gplopt reads "
    "the paper differently, docs/method.md ('Readings of the paper') states each reading and its reason.")
VALIDATION = (
    "Power flow: Baran & Wu 33-bus losses 202.68 kW and Vmin 0.9131 pu at bus 18, every voltage within 1e-4 pu "
    "of pandapower. Reliability: RBTS LOLE and EENS within 3 standard errors of the exact 1.0881 h/yr and "
    "9,823 kWh/yr. The certificate never changes an OPF answer. Details: docs/validation.md.")


@dataclass
class Report:
    title: str
    sections: list[tuple[str, str]] = field(default_factory=list)     # (heading, markdown body)
    figures: list[tuple[str, str, bytes]] = field(default_factory=list)  # (name, caption, png)
    notes: list[str] = field(default_factory=list)

    def figure(self, name: str, caption: str, fig: Any) -> None:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        self.figures.append((name, caption, buf.getvalue()))


def _table_md(df: pd.DataFrame, cols: dict[str, str]) -> str:
    """A Markdown table of ``cols`` (column -> header with unit); ``(col, se_col)`` pairs are not merged here:
    callers pass preformatted ``value ± s.e.`` columns."""
    cols = {c: h for c, h in cols.items() if c in df.columns}
    head = "| " + " | ".join(cols.values()) + " |\n|" + "---|" * len(cols) + "\n"
    rows = ["| " + " | ".join(v if isinstance(v, str) else num(v) for v in r) + " |"
            for _, r in df[list(cols)].iterrows()]
    return head + "\n".join(rows) + "\n"


def _with_se(df: pd.DataFrame) -> pd.DataFrame:
    """Preformatted ``value ± s.e.`` columns for the estimates a table shows."""
    out = df.copy()
    specs = (("ecc", "ecc_kw", "ecc_se_kw", "ci_low_kw", "ci_high_kw"),
             ("per_cost", "ecc_per_cost", "ecc_per_cost_se", "ecc_per_cost_ci_low", "ecc_per_cost_ci_high"),
             ("benefit", "net_benefit", "net_benefit_se", "net_benefit_ci_low", "net_benefit_ci_high"))
    for name, col, se, lo, hi in specs:
        if {col, lo, hi} <= set(df.columns) or (col in df.columns and se in df.columns):
            out[name] = [pm(r[col], row_se(r, se, lo, hi)) for _, r in df.iterrows()]
    for name, col, se in (("eens_with", "eens_with_kwh", "eens_with_se"), ("v2g", "v2g_kwh", "v2g_se")):
        if {col, se} <= set(df.columns):
            out[name] = [pm(r[col], r[se]) for _, r in df.iterrows()]
    if {"d_ecc_kw", "d_ecc_se_kw", "d_ecc_ci_low_kw", "d_ecc_ci_high_kw"} <= set(df.columns):
        out["d_ecc"] = [_paired_cell(r) for _, r in df.iterrows()]
    return out


def _paired_cell(r: pd.Series) -> str:
    """The paired difference to the previous point: value ± s.e. [90 % CI] (gplopt/paired.py)."""
    if pd.isna(r["d_ecc_kw"]):
        return "–"
    if pd.isna(r["d_ecc_se_kw"]):
        return num(r["d_ecc_kw"])
    return f"{pm(r['d_ecc_kw'], r['d_ecc_se_kw'])} [{num(r['d_ecc_ci_low_kw'])}, {num(r['d_ecc_ci_high_kw'])}]"


def point_cols(cur: str) -> dict[str, str]:
    """The columns every study table shows, money in the result's currency ``cur``."""
    return {"ecc": "ECC (kW)", "d_ecc": "ECC - previous point, paired (kW, 90 % CI)",
            "per_cost": f"ECC per cost ({per_cost_unit(cur)})", "benefit": f"net benefit ({cur}/yr)",
            "cost_per_kw": f"GPL cost ({cur}/kW/yr)"}
SE_NOTE = ("\nAll estimates: value ± standard error. Paired differences: ECC minus the previous row's, on the "
           "same sample years (common random numbers), with the paired bootstrap's s.e. and 90 % CI.\n")


def _paper(rep: Report, res: dict[str, Any]) -> None:
    cur = summ.currency(res)
    t4 = pd.DataFrame(res["table4"])
    t4["eens"] = [pm(r["eens_kwh_per_year"], r["eens_se"], 1e-3) for _, r in t4.iterrows()]
    rep.sections.append(("Table 4: EENS with and without V2G", _table_md(t4, {
        "strategy": "strategy", "eens": "EENS (MWh/yr)", "paper_eens": "paper ('kWh')",
        "economic_benefit": f"benefit E_G ({cur}/yr)", "paper_benefit": f"paper ({PAPER}/yr)"}) + SE_NOTE +
        "The paper prints its EENS as 'kWh'; on its own data they can only be MWh/yr (docs/validation.md).\n"))
    if res.get("table4_by_cause"):
        _causes(rep, pd.DataFrame(res["table4_by_cause"]))
    for name, xl, title in (("table5", "discharge rating (kW)", "ECC vs discharge rating (Table 5)"),
                            ("table6", "SoC threshold", "ECC vs SoC threshold (Table 6)")):
        df = _with_se(pd.DataFrame(res[name]))
        rep.figure(name, title, figs.ecc_curve(df, "value", xl, title))
        rep.sections.append((title, _table_md(df, {"value": xl, **point_cols(cur), "paper_ecc_kw": "paper ECC (kW)"})
                             + SE_NOTE))
    f6 = _with_se(pd.DataFrame(res["fig6"]))
    rep.figure("grade", "ECC and cost per kW of ECC vs incentive grade", figs.grade(f6, cur))
    rep.figure("ecc_per_cost", "ECC per cost vs incentive grade",
               figs.per_cost_curve(f6, "value", f"incentive grade ({cur}/kWh)", "ECC per cost vs incentive grade",
                                   cur))
    rep.sections.append(("Fig. 6: ECC and cost per kW vs incentive grade", _table_md(f6, {
        "value": f"grade ({cur}/kWh)", **point_cols(cur), "storage_cost_per_kw": f"storage ({cur}/kW/yr)"}) + SE_NOTE))
    base = pd.DataFrame(res["table5"])
    base = base[base["value"] == 3.5]
    if len(base):
        _ledger(rep, base.iloc[0], "paper base point", cur)


def _causes(rep: Report, df: pd.DataFrame) -> None:
    """Table 4 by cause: EENS without and with V2G and the paired reduction, per cause (gplopt.causes)."""
    df = df.copy()
    for col, se in (("eens_no_v2g", "eens_no_v2g_se"), ("eens_v2g", "eens_v2g_se"), ("reduction", "reduction_se")):
        df[col] = [pm(r[f"{col}_kwh"], r[se], 1e-3) for _, r in df.iterrows()]
    df["cause"] = df["cause"].str.replace("_", " ")
    df["pct"] = [num(x) if x == x and x is not None else "–" for x in df["reduction_pct_of_cause"]]
    df["v2g"] = [num(x / 1e3) for x in df["v2g_kwh"]]
    rep.sections.append(("Table 4 by cause: what V2G reduces", _table_md(df, {
        "cause": "cause", "eens_no_v2g": "EENS no V2G (MWh/yr)", "eens_v2g": "EENS V2G (MWh/yr)",
        "reduction": "reduction, paired (MWh/yr)", "pct": "% of the cause's EENS", "v2g": "V2G (MWh/yr)"}) +
        SE_NOTE + "Causes and the attribution rule: docs/method.md section 11. V2G 'no shortfall' is V2G "
        "delivered in hours it left with no shedding.\n"))


def _points(rep: Report, res: dict[str, Any]) -> None:
    kind, cur = res["kind"], summ.currency(res)
    df = _with_se(pd.DataFrame(res["points"]))
    if kind == "sweep":
        p = res.get("param") or df["param"].iloc[0]
        xl = figs.label(p, cur)
        rep.figure("sweep_ecc", f"ECC vs {p}", figs.ecc_curve(df, "value", xl, f"ECC vs {xl}"))
        rep.figure("sweep_ecc_per_cost", f"ECC per cost vs {p}", figs.per_cost_curve(
            df, "value", xl, f"ECC per cost vs {xl}", cur))
        rep.sections.append((f"Sweep of {p}", _table_md(df, {"value": xl, **point_cols(cur),
                                                             "eens_with": "EENS with V2G (kWh/yr)"}) + SE_NOTE))
    elif kind == "sweep2":
        pv = df.pivot(index="value", columns="value2", values="ecc_per_cost")
        rep.figure("sweep2", "Two-way sweep: ECC per cost", figs.heatmap(
            pv, figs.label(res.get("param2"), cur), figs.label(res.get("param"), cur), cur))
        rep.sections.append(("Two-way sweep", _table_md(df, {"value": figs.label(res.get("param"), cur),
                                                              "value2": figs.label(res.get("param2"), cur),
                                                              **point_cols(cur)}) + SE_NOTE))
    else:
        rep.figure("phases", "ECC along the EV-uptake S-curve by development phase", figs.phases(df))
        df["uptake_pct"] = [f"{u:.0%}" for u in df["uptake"]]
        rep.sections.append(("Phase scenario", _table_md(df, {"year": "year", "uptake_pct": "EV uptake",
                                                               "phase": "phase", **point_cols(cur)}) + SE_NOTE))
    _ledger(rep, df.iloc[len(df) // 2], "middle point", cur)


def _tornado(rep: Report, res: dict[str, Any]) -> None:
    df = pd.DataFrame(res["points"])
    m = df[df["metric"] == "ecc_per_cost"].sort_values("swing")
    rep.figure("tornado", "Tornado: ECC per cost at each parameter's low and high value",
               figs.tornado(m, f"ECC per cost (kW per million {summ.currency(res)}/yr)", summ.currency(res)))
    for col in ("base", "at_low", "at_high"):
        df[f"{col}_pm"] = [pm(r[col], r.get(f"{col}_se")) for _, r in df.iterrows()]
    df["param"] = [figs.label(p, summ.currency(res)) for p in df["param"]]
    note = "" if "at_low_se" in df else ("\nStandard errors were not recorded by the gplopt that wrote this "
                                         "result; re-run the tornado to get them.\n")
    rep.sections.append(("Tornado", _table_md(df, {"metric": "metric", "param": "parameter", "low": "low",
                                                   "high": "high", "base_pm": "base", "at_low_pm": "at low",
                                                   "at_high_pm": "at high", "swing": "swing"}) + SE_NOTE + note))


def _design(rep: Report, res: dict[str, Any], d: Path) -> None:
    cur = summ.currency(res)
    ev = pd.read_csv(d / "evaluations.csv") if (d / "evaluations.csv").exists() else pd.DataFrame()
    ev = ev.rename(columns=RENAMED)         # written before the currency-neutral names
    tr = pd.DataFrame(res.get("trace", []))
    if len(tr):
        sd_col = "net_benefit_sd" if res.get("objective") == "net_benefit" else "ecc_per_cost_sd"
        rep.figure("convergence", "Best objective found vs evaluations", figs.convergence(
            tr, _incumbent_sd(tr, ev, sd_col), f"net benefit ({cur}/yr)" if sd_col == "net_benefit_sd"
            else f"ECC per cost ({per_cost_unit(cur)})"))
    if len(ev):
        rep.figure("pareto", "ECC vs annual cost: evaluated designs and the Pareto front",
                   figs.pareto(ev, pd.DataFrame(res.get("pareto", [])), cur))
    b = res["best"]
    se = b.get("ecc_se_kw", row_se(b, "", "ci_low", "ci_high"))
    rows = [("incentive grade", f"{b['price_per_kwh']:g} {cur}/kWh"), ("chargers", num(b["n_chargers"])),
            ("discharge rating", f"{b['discharge_kw']:g} kW"), ("SoC threshold", f"{b['soc_threshold']:.0%}"),
            ("ECC", f"{pm(b['ecc_kw'], se)} kW on {b.get('years')} fresh sample years"),
            ("annual cost", f"{num(b['annual_cost'], 0)} {cur}/yr"),
            ("ECC per cost", f"{pm(b['ecc_per_cost'], b.get('ecc_per_cost_sd'))} kW per million {cur}/yr"),
            ("net benefit E_G", f"{num(b.get('net_benefit'), 0)} {cur}/yr")]
    if b.get("siting"):
        rows.insert(1, ("siting (lot@bus x chargers)", b["siting"]))
    body = "\n".join(f"- {k}: {v}" for k, v in rows) + "\n"
    for lot, r in (b.get("per_lot") or {}).items():   # siting: each lot's own ECC and the joint ECC
        body += (f"- ECC of {'all lots jointly' if lot == 'gpls' else 'lot ' + lot}: "
                 f"{pm(r['value_kw'], r['se_kw'])} kW (90 % CI {num(r['ci_low_kw'], 1)}-{num(r['ci_high_kw'], 1)})\n")
    for x in res.get("bounds", []):
        body += f"- warning: {x['name']} is at the {x['edge']} edge of its range{'; widen with ' + x['widen'] if x['widen'] else ''}\n"  # noqa: E501
    if res.get("budget_note"):
        body += f"\n{res['budget_note']}.\n"
    rep.sections.append(("Recommended design", body))


def _incumbent_sd(tr: pd.DataFrame, ev: pd.DataFrame, col: str) -> list[float]:
    keys = ("price_per_kwh", "n_chargers", "discharge_kw", "soc_threshold")
    out = []
    for _, t in tr.iterrows():
        inc = t["incumbent"] if isinstance(t.get("incumbent"), dict) else {}
        seen = ev.iloc[: int(t["evaluations"])] if len(ev) and col in ev else pd.DataFrame()
        hit = seen[[all(abs(float(r[k]) - float(inc.get(k, -1))) < 1e-9 for k in keys) for _, r in seen.iterrows()]] \
            if len(seen) and all(k in seen for k in keys) else seen.iloc[0:0]
        out.append(float(hit[col].iloc[-1]) if len(hit) else float("nan"))
    return out


def _ledger(rep: Report, row: pd.Series, label: str, cur: str) -> None:
    if not any(str(k).startswith(("utility_", "operator_", "owners_")) for k in row.index):
        return
    rep.figure("ledger", f"Annual money flows ({label})", figs.ledger(row, label, cur))
    body = (f"- Grid utility: avoided storage {num(row.get('utility_avoided_storage', 0), 0)}, V2G payments "
            f"{num(row.get('utility_v2g_payments', 0), 0)}, load-reduction payments "
            f"{num(row.get('utility_load_reduction_payments', 0), 0)} → net {num(row.get('utility_net', 0), 0)} "
            f"{cur}/yr\n- Charging-facility operator: chargers {num(row.get('operator_charger_cost', 0), 0)}, "
            f"charging margin {num(row.get('operator_charging_margin', 0), 0)} → net "
            f"{num(row.get('operator_net', 0), 0)} {cur}/yr\n"
            f"- EV owners: {num(row.get('owners_total', 0), 0)} {cur}/yr "
            f"in all, {num(row.get('owners_income_per_participating_owner', 0), 0)} {cur} per participating owner "
            f"({num(row.get('owners_v2g_income_per_v2g_owner', 0), 0)} per V2G owner)\n")
    rep.sections.append((f"Stakeholder ledger ({label})", body))


def _common(rep: Report, d: Path) -> None:
    if (d / "per_year.csv").exists():
        py = pd.read_csv(d / "per_year.csv")
        fig = figs.ens_histogram(py)
        if fig is not None:
            rep.figure("ens_distribution", "Distribution of annual ENS over sample years", fig)
        else:
            rep.notes.append(f"No histogram of annual ENS: {len(py)} sample years are too few to show a "
                             f"distribution (it is drawn from {figs.MIN_HIST_YEARS}).")
    if (d / "worst_day.csv").exists():
        wd = pd.read_csv(d / "worst_day.csv")
        rep.figure("worst_day", f"The worst event day ({figs.day_label(wd)}): demand, supply, shedding, V2G "
                   "and reduced charging by hour", figs.worst_day(wd))


def build_report(result_dir: str | Path) -> Report:
    d = Path(result_dir)
    res = summ.read_result(d)
    kind = res["kind"]
    rep = Report(title=f"gplopt report: {res.get('instance', '')} ({kind})")
    rep.sections.append(("Summary", summ.summary(res)))
    try:
        if kind == "paper":
            _paper(rep, res)
        elif kind in ("sweep", "sweep2", "phases"):
            _points(rep, res)
        elif kind == "tornado":
            _tornado(rep, res)
        elif kind == "screen":
            from gplopt.report_screen import screen_sections

            screen_sections(rep, res)
        else:
            _design(rep, res, d)
        _common(rep, d)
    except (KeyError, ValueError, TypeError, IndexError, pd.errors.ParserError) as exc:
        raise GploptError(f"report {d}: result files must be as gplopt writes them, got "
                          f"{type(exc).__name__}: {str(exc)[:80]}") from None
    finally:
        plt.close("all")
    if rep.notes:
        rep.sections.append(("Notes", "\n".join(f"- {n}" for n in rep.notes) + "\n"))
    rep.sections.append(("Key assumptions of the instance", summ.assumptions(res)))
    rep.sections.append(("Method in brief", METHOD + "\n"))
    rep.sections.append(("Validation status", VALIDATION + "\n"))
    rep.sections.append(("Provenance", summ.provenance(res, prov.provenance_of_report())))
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
            ".figs{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0;max-width:740px}"
            "img{max-width:100%}figcaption{font-size:.9em;color:#444}code{font-size:.9em;word-break:break-all}"
            "</style></head><body>"
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
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", "".join(out))
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
