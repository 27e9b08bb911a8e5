"""The ``screen`` kind of report (a result directory written by ``gplopt screen --out``): the ranking of feeders
by ECC per cost as a table and a figure with ± 1 standard error bars, and the Summary's answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from gplopt.currency import DEFAULT, per_cost_unit
from gplopt.formatting import num, pm
from gplopt.report_figures import BAND, THOUSANDS


def _ok(res: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in res["ranking"] if r.get("status") == "ok"]


def _name(r: dict[str, Any]) -> str:
    return Path(str(r["file"])).stem


def answer(res: dict[str, Any]) -> tuple[str, str]:
    """The Summary's answer and comparison with storage."""
    ok = _ok(res)
    failed = len(res["ranking"]) - len(ok)
    tail = f" {failed} feeder(s) failed and are listed unranked." if failed else ""
    if not ok:
        return f"no feeder could be evaluated.{tail}", "not available: no feeder was evaluated."
    top, cur = ok[0], res.get("currency") or DEFAULT
    group = [top]
    for r in ok[:-1]:
        if r.get("vs_next") != "indistinguishable":
            break
        group.append(ok[len(group)])
    ans = (f"{_name(top)} ranks first: ECC {pm(top['ecc_kw'], top['ecc_se_kw'])} kW, "
           f"{pm(top['ecc_per_cost'], top['ecc_per_cost_se'])} kW per million {cur}/yr, with the lot at bus "
           f"{top['lot_bus']} ({top['lot']}).")
    if len(group) > 1:
        ans += (f" It is statistically indistinguishable (within {res.get('z_distinct', 1.96):g} standard errors, "
                f"neighbour by neighbour) from {', '.join(_name(r) for r in group[1:])}.")
    else:
        ans += " It is distinct from the next feeder."
    g, s = top.get("cost_per_kw"), top.get("storage_cost_per_kw")
    if g is None or s is None or not top["ecc_kw"] > 0:
        comp = "the top feeder's lot has no measurable ECC, so no cost per kW can be compared."
    else:
        comp = (f"on {_name(top)} the lot costs {num(g, 0)} {cur} per kW of ECC per year, conventional storage "
                f"{num(s, 0)} {cur}/kW/yr: the lot is {'cheaper' if g < s else 'dearer'} per kW of capacity.")
    return ans + tail, comp


def screen_sections(rep: Any, res: dict[str, Any]) -> None:
    """Add the ranking figure and table (and the placement rule) to a Report."""
    from gplopt.report import _table_md

    ok, cur = _ok(res), res.get("currency") or DEFAULT
    if ok:
        rep.figure("screen_ranking", f"Feeders by ECC per cost ({BAND})", _figure(ok, cur))
    df = pd.DataFrame(res["ranking"])
    df["name"] = [_name(r) for r in res["ranking"]]
    df["rank_s"] = ["–" if r.get("rank") is None else str(r["rank"]) for r in res["ranking"]]
    df["lot_s"] = [f"{r.get('lot_bus')} ({r.get('lot')})" if r.get("status") == "ok" else r.get("status", "")
                   for r in res["ranking"]]
    df["ecc"] = [pm(r["ecc_kw"], r.get("ecc_se_kw")) if r.get("status") == "ok" else "–" for r in res["ranking"]]
    df["per_cost"] = [pm(r["ecc_per_cost"], r.get("ecc_per_cost_se")) if r.get("status") == "ok" else "–"
                      for r in res["ranking"]]
    df["vs"] = [f"{r['vs_next']} (z {num(r['z_next'], 1)})" if r.get("vs_next") else "" for r in res["ranking"]]
    body = _table_md(df, {"rank_s": "rank", "name": "feeder", "lot_s": "lot bus (how)", "ecc": "ECC (kW)",
                          "per_cost": f"ECC per cost ({per_cost_unit(cur)})", "vs": "vs next"})
    body += ("\nAll estimates: value ± standard error. 'vs next': the gap to the next feeder in standard errors "
             f"(added in quadrature); under {res.get('z_distinct', 1.96):g} the two are statistically "
             "indistinguishable.\n\n")
    body += f"Lot placement rule: {res.get('placement_rule', 'not recorded')}.\n"
    rep.sections.append(("Ranking of feeders", body))


def _figure(ok: list[dict[str, Any]], cur: str) -> Any:
    fig, ax = plt.subplots(figsize=(7.4, 0.45 * len(ok) + 1.6))
    names = [_name(r) for r in ok][::-1]
    vals = [float(r["ecc_per_cost"]) for r in ok][::-1]
    errs = [float(r.get("ecc_per_cost_se") or 0.0) for r in ok][::-1]
    ax.barh(names, vals, xerr=errs, color="#4c72b0", capsize=3)
    ax.set_xlabel(f"ECC per cost (kW per million {cur}/yr)")
    ax.set_title("Feeders ranked by the lot's ECC per cost")
    ax.xaxis.set_major_formatter(THOUSANDS)
    ax.grid(alpha=0.3, axis="x")
    return fig
