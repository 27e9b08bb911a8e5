"""Markdown tables of the GPL paper's Tables 4-6 and Fig. 6 from two `gplopt paper` result directories side by
side (e.g. instances/beijing.json and instances/beijing_calibrated.json), with the paired differences between
adjacent points (gplopt/paired.py) that every trend claim in docs/validation.md rests on.

Run from the project root: ``python tools/paper_compare.py DIR_A DIR_B``; prints Markdown on stdout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from gplopt.cli_format import num, pm

TABLES = (("table5", "discharge rating (kW)"), ("table6", "SoC threshold"), ("fig6", "incentive grade (CNY/kWh)"))


def _load(d: str) -> dict[str, Any]:
    return dict(json.loads((Path(d) / "result.json").read_text()))


def _diff(r: dict[str, Any]) -> str:
    d = r.get("d_ecc_kw")
    if d is None or d != d:
        return "–"
    sig = "" if not (r["d_ecc_ci_low_kw"] > 0 or r["d_ecc_ci_high_kw"] < 0) else " *"
    return f"{pm(d, r['d_ecc_se_kw'])} [{num(r['d_ecc_ci_low_kw'])}, {num(r['d_ecc_ci_high_kw'])}]{sig}"


def table4(res: list[dict[str, Any]]) -> str:
    out = ["| strategy | " + " | ".join(f"EENS {r['instance']} (MWh/yr)" for r in res) + " | paper |",
           "|---|" + "---|" * (len(res) + 1)]
    for k, row in enumerate(res[0]["table4"]):
        cells = [pm(r["table4"][k]["eens_kwh_per_year"], r["table4"][k]["eens_se"], 1e-3) for r in res]
        out.append(f"| {row['strategy']} | " + " | ".join(cells) + f" | {num(row['paper_eens'])} |")
    return "\n".join(out) + "\n"


def sweep_table(res: list[dict[str, Any]], name: str, label: str) -> str:
    head = [label] + [f"{h} {r['instance']}" for r in res for h in ("ECC (kW)", "ΔECC paired (kW) [90 % CI]")]
    paper = name != "fig6"
    out = ["| " + " | ".join(head + (["paper ECC (kW)"] if paper else [])) + " |", "|" + "---|" * (len(head) + paper)]
    for k, row in enumerate(res[0][name]):
        cells = []
        for r in res:
            p = r[name][k]
            cells += [pm(p["ecc_kw"], p["ecc_se_kw"]), _diff(p)]
        tail = [num(row.get("paper_ecc_kw"))] if paper else []
        out.append("| " + " | ".join([num(row["value"]), *cells, *tail]) + " |")
    return "\n".join(out) + "\n"


def main(dirs: list[str]) -> None:
    res = [_load(d) for d in dirs]
    years = ", ".join(f"{r['instance']}: {r['years']} years, seed {r['seed']}" for r in res)
    print(f"Sample years: {years} (the same years at every point of a column: common random numbers).\n")
    print("**Table 4: EENS without and with V2G** (value ± s.e.)\n")
    print(table4(res))
    for name, label in TABLES:
        print(f"**{name}: ECC vs {label}** (value ± s.e.; Δ = this point minus the previous one on the same "
              "years, paired-bootstrap s.e. and 90 % CI; * = CI excludes 0)\n")
        print(sweep_table(res, name, label))


if __name__ == "__main__":
    main(sys.argv[1:])
