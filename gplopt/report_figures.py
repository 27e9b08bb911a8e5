"""The report's figures, drawn from result tables (no computation beyond unit changes). Every estimate is drawn
with a band or error bars of ± 1 standard error (the reports' one convention); axes carry units and
thousands separators; fonts are sized for a 100 % zoom of the HTML report."""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from gplopt.formatting import row_se  # noqa: E402

plt.rcParams.update({"font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "legend.fontsize": 9,
                     "xtick.labelsize": 10, "ytick.labelsize": 10, "figure.dpi": 100})
BAND = "± 1 standard error"
MIN_HIST_YEARS = 20            # below this, a histogram shows noise rather than a distribution
LABELS = {"gpl.discharge_kw": "discharge rating (kW)", "gpl.soc_threshold": "SoC threshold",
          "incentive.price_per_kwh": "incentive grade ({cur}/kWh)", "gpl.n_chargers": "chargers",
          "gpl.v2g_min_soc": "V2G floor SoC", "economics.storage_hours": "storage hours (h)"}
THOUSANDS = FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:,.3g}")


def label(p: Any, cur: str) -> str:
    """An axis label for a parameter path; money in the result's currency ``cur``."""
    return LABELS.get(str(p), str(p)).format(cur=cur)


def _axes(ax: Any, xlabel: str, ylabel: str, title: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.yaxis.set_major_formatter(THOUSANDS)
    ax.grid(alpha=0.3)


def ses(df: pd.DataFrame, se: str, lo: str, hi: str) -> np.ndarray:
    return np.array([row_se(r, se, lo, hi) for _, r in df.iterrows()], float)


def band(ax: Any, x: Any, y: Any, se: np.ndarray, name: str) -> None:
    y = np.asarray(y, float)
    ax.plot(x, y, "o-", label=name)
    if np.isfinite(se).any():
        ax.fill_between(x, y - se, y + se, alpha=0.25, label=BAND)


def ecc_curve(df: pd.DataFrame, xcol: str, xlabel: str, title: str) -> Any:
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    band(ax, df[xcol], df["ecc_kw"], ses(df, "ecc_se_kw", "ci_low_kw", "ci_high_kw"), "ECC")
    if "paper_ecc_kw" in df and df["paper_ecc_kw"].notna().any():
        ax.plot(df[xcol], df["paper_ecc_kw"], "s--", color="grey", label="paper")
    _axes(ax, xlabel, "ECC (kW)", title)
    ax.legend()
    return fig


def per_cost_curve(df: pd.DataFrame, xcol: str, xlabel: str, title: str, cur: str) -> Any:
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    band(ax, df[xcol], df["ecc_per_cost"], ses(df, "ecc_per_cost_se", "ecc_per_cost_ci_low",
                                               "ecc_per_cost_ci_high"), "ECC per cost")
    _axes(ax, xlabel, f"ECC per cost (kW per million {cur}/yr)", title)
    ax.legend()
    return fig


def grade(df: pd.DataFrame, cur: str) -> Any:
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    se = ses(df, "ecc_se_kw", "ci_low_kw", "ci_high_kw")
    band(ax, df["value"], df["ecc_kw"], se, "ECC")
    _axes(ax, f"incentive grade ({cur}/kWh)", "ECC (kW)", "ECC and cost per kW vs incentive grade")
    ax2 = ax.twinx()
    # cost per kW = annual cost / ECC: its relative s.e. is ECC's (the cost is known)
    rel = se / df["ecc_kw"].to_numpy(float)
    ax2.errorbar(df["value"], df["cost_per_kw"], yerr=df["cost_per_kw"].to_numpy(float) * rel, fmt="s--",
                 color="tab:red", capsize=3, label="GPL cost per kW of ECC")
    ax2.set_ylabel(f"cost ({cur} per kW per year)", color="tab:red")
    ax2.yaxis.set_major_formatter(THOUSANDS)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper center", bbox_to_anchor=(0.5, -0.18),
              ncols=3, frameon=False)
    return fig


def ledger(row: pd.Series, where: str, cur: str) -> Any:
    """One labelled bar per money flow, coloured by stakeholder, with its value written beside it."""
    flows = [("utility", "avoided storage", row.get("utility_avoided_storage", 0.0)),
             ("utility", "V2G payments", row.get("utility_v2g_payments", 0.0)),
             ("utility", "load-reduction payments", row.get("utility_load_reduction_payments", 0.0)),
             ("operator", "charger cost", row.get("operator_charger_cost", 0.0)),
             ("operator", "charging margin", row.get("operator_charging_margin", 0.0)),
             ("EV owners", "V2G income", row.get("owners_v2g_income", 0.0)),
             ("EV owners", "load-reduction income", row.get("owners_load_reduction_income", 0.0))]
    if row.get("owners_battery_wear", 0.0):   # only when the lot names a battery wear model
        flows.append(("EV owners", "battery wear", row.get("owners_battery_wear", 0.0)))
    colors = {"utility": "tab:blue", "operator": "tab:orange", "EV owners": "tab:green"}
    fig, ax = plt.subplots(figsize=(7.2, 3.9))
    vals = [float(v) for _, _, v in flows]
    y = np.arange(len(flows))[::-1]
    ax.barh(y, vals, color=[colors[w] for w, _, _ in flows])
    ax.set_yticks(y, [f"{w}: {n}" for w, n, _ in flows])
    span = max(abs(v) for v in vals) or 1.0
    for yy, v in zip(y, vals, strict=True):
        ax.text(v + (0.01 if v >= 0 else -0.01) * span, yy, f"{v:,.0f}", va="center",
                ha="left" if v >= 0 else "right", fontsize=9)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlim(min(0, min(vals)) - 0.35 * span, max(0, max(vals)) + 0.35 * span)
    ax.xaxis.set_major_formatter(THOUSANDS)
    ax.set_xlabel(f"{cur} per year (+ received, − paid)")
    ax.set_title(f"Stakeholder ledger ({where})")
    ax.grid(axis="x", alpha=0.3)
    return fig


def tornado(m: pd.DataFrame, xlabel: str, cur: str) -> Any:
    """Bars from the base case to each parameter's low and high value, ± 1 s.e. error bars on every end."""
    fig, ax = plt.subplots(figsize=(7.2, 0.55 * len(m) + 2.0))
    base = float(m["base"].iloc[0]) if len(m) else 0.0
    base_se = m["base_se"].iloc[0] if "base_se" in m else float("nan")
    for k, (_, r) in enumerate(m.iterrows()):
        for col, color, name in (("at_low", "tab:blue", "at low value"), ("at_high", "tab:orange",
                                                                            "at high value")):
            se = r.get(f"{col}_se", float("nan"))
            ax.barh(k, r[col] - base, left=base, color=color, label=name if k == 0 else None,
                    xerr=se if se == se else None, error_kw={"ecolor": "black", "capsize": 3, "lw": 1})
    ax.set_yticks(range(len(m)), [f"{label(p, cur)}: {lo:g} / {hi:g}" for p, lo, hi in
                                  zip(m["param"], m["low"], m["high"], strict=True)])
    ax.axvline(base, color="black", lw=0.8)
    if base_se == base_se and base_se is not None:
        ax.axvspan(base - base_se, base + base_se, color="grey", alpha=0.2, label=f"base case {BAND}")
    ax.xaxis.set_major_formatter(THOUSANDS)
    ax.set_xlabel(xlabel)
    ax.set_title("Tornado: each parameter at its low and high value")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=3, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return fig


def ens_histogram(py: pd.DataFrame) -> Any | None:
    """Annual ENS over sample years (None when there are too few years to show a distribution)."""
    if len(py) < MIN_HIST_YEARS:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    ax.hist(py["ens_kwh"] / 1000.0, bins=min(30, max(8, len(py) // 3)), color="tab:blue", alpha=0.8)
    _axes(ax, "annual energy not supplied (MWh)", "sample years", f"Annual ENS over {len(py)} sample years")
    return fig


def day_label(wd: pd.DataFrame) -> str:
    if "day_of_year" not in wd or "sample_year" not in wd:
        return "date not recorded"
    day = int(wd["day_of_year"].iloc[0])
    date = _dt.date(2001, 1, 1) + _dt.timedelta(days=day - 1)   # a non-leap calendar year of 365 days
    return f"{date.day} {date:%B} (day {day}) of sample year {int(wd['sample_year'].iloc[0])}"


def worst_day(wd: pd.DataFrame) -> Any:
    """Demand, available supply and shedding (MW) above; V2G and load reduction (kW) below, same hours."""
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(8.4, 5.2), sharex=True, height_ratios=[3, 2])
    h = wd["hour"]
    ax.plot(h, (wd["regular_load_kw"] + wd["gpl_charging_kw"]) / 1000, "k-", lw=2, label="demand")
    ax.plot(h, wd["supply_kw"] / 1000, "b-", lw=2, label="available supply")
    ax.bar(h, wd["shed_kw"] / 1000, color="tab:red", alpha=0.6, label="load shed")
    ax.set_ylabel("MW")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    ax.set_title(f"Worst event day: {day_label(wd)}")
    bx.bar(h, wd["v2g_kw"], color="tab:green", label="V2G discharge")
    if "load_reduction_kw" in wd:
        bx.bar(h, wd["load_reduction_kw"], bottom=wd["v2g_kw"], color="tab:olive", alpha=0.7,
               label="charging reduced")
    bx.set_ylabel("kW")
    bx.yaxis.set_major_formatter(THOUSANDS)
    bx.set_xlabel("hour of day")
    bx.set_xticks(range(0, 24, 3))
    bx.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    bx.grid(alpha=0.3)
    return fig


def pareto(ev: pd.DataFrame, pf: pd.DataFrame, cur: str) -> Any:
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    se = (ev["ecc_per_cost_sd"] * ev["annual_cost"] / 1e6) if "ecc_per_cost_sd" in ev else None
    ax.errorbar(ev["annual_cost"] / 1e6, ev["ecc_kw"], yerr=se, fmt="o", ms=4, alpha=0.5, capsize=2,
                label=f"evaluated ({BAND})")
    if len(pf):
        pf = pf.sort_values("annual_cost")
        ax.plot(pf["annual_cost"] / 1e6, pf["ecc_kw"], "r.-", label="Pareto front")
    _axes(ax, f"annual cost (million {cur} per year)", "ECC (kW)", "ECC vs annual cost of the evaluated designs")
    ax.legend()
    return fig


def convergence(tr: pd.DataFrame, sd: list[float], ylabel: str) -> Any:
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    y = tr["incumbent_value"].to_numpy(float)
    e = np.array(sd, float)
    ax.errorbar(tr["evaluations"], y, yerr=np.where(np.isfinite(e), e, 0.0), fmt="o-", capsize=3,
                label=f"best so far ({BAND})")
    _axes(ax, "evaluations", ylabel, "Design search: best objective found so far")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
    return fig


def heatmap(pv: pd.DataFrame, xlabel: str, ylabel: str, cur: str) -> Any:
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    im = ax.imshow(pv.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(pv.columns)), [f"{v:g}" for v in pv.columns])
    ax.set_yticks(range(len(pv.index)), [f"{v:g}" for v in pv.index])
    for (i, j), v in np.ndenumerate(pv.to_numpy()):
        if math.isfinite(v):
            ax.text(j, i, f"{v:,.0f}", ha="center", va="center", color="white", fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title("Two-way sweep: ECC per cost")
    fig.colorbar(im, label=f"ECC per cost (kW per million {cur}/yr)")
    return fig


def phases(df: pd.DataFrame) -> Any:
    fig, ax = plt.subplots(figsize=(7.2, 3.8))
    band(ax, df["year"], df["ecc_kw"], ses(df, "ecc_se_kw", "ci_low_kw", "ci_high_kw"), "ECC")
    for _, r in df.iterrows():
        ax.annotate(str(r["phase"]).split(":")[0], (r["year"], r["ecc_kw"]), fontsize=9,
                    textcoords="offset points", xytext=(0, 8), ha="center")
    _axes(ax, "planning year", "ECC (kW)", "ECC along the EV-uptake S-curve")
    ax.legend(loc="upper left")
    return fig
