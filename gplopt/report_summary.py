"""The parts of a report a reader sees first and last: reading and checking result.json, the executive Summary
(question, answer with its standard error, comparison with storage, the three assumptions that matter most),
the instance's assumptions as data, and the Provenance section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from gplopt.currency import DEFAULT, rename_keys
from gplopt.errors import GploptError
from gplopt.formatting import num, pm, row_se

KINDS = ("paper", "sweep", "sweep2", "tornado", "phases", "design", "screen")
REQUIRED: dict[str, dict[str, tuple[str, ...]]] = {
    "paper": {"table4": ("strategy", "eens_kwh_per_year", "eens_se"),
              "table5": ("value", "ecc_kw", "ci_low_kw", "ci_high_kw", "ecc_per_cost"),
              "table6": ("value", "ecc_kw", "ci_low_kw", "ci_high_kw", "ecc_per_cost"),
              "fig6": ("value", "ecc_kw", "ci_low_kw", "ci_high_kw", "ecc_per_cost", "cost_per_kw")},
    "sweep": {"points": ("param", "value", "ecc_kw", "ci_low_kw", "ci_high_kw", "ecc_per_cost",
                         "ecc_per_cost_ci_low", "ecc_per_cost_ci_high", "net_benefit")},
    "sweep2": {"points": ("value", "value2", "ecc_kw", "ecc_per_cost", "net_benefit")},
    "phases": {"points": ("year", "uptake", "phase", "ecc_kw", "ci_low_kw", "ci_high_kw", "ecc_per_cost")},
    "tornado": {"points": ("param", "low", "high", "metric", "base", "at_low", "at_high", "swing")},
    "design": {},
    "screen": {"ranking": ("rank", "file", "feeder", "status")},
}
QUESTIONS = {
    "paper": "How much conventional generating capacity does the parking lot's V2G replace (ECC), and how does "
             "that depend on the discharge rating, the SoC threshold and the incentive grade?",
    "sweep": "How do the parking lot's capacity value (ECC) and its cost-effectiveness change with {param}?",
    "sweep2": "How does the parking lot's ECC per cost change with {param} and {param2} together?",
    "tornado": "Which assumptions move the parking lot's capacity value per {cur} the most?",
    "phases": "How does the parking lot's capacity value grow as EV uptake follows its S-curve?",
    "screen": "On which feeders is a parking lot worth the most capacity per {cur} (ECC per cost), and which "
              "differences between feeders are real rather than Monte Carlo noise?",
    "design": "Which parking-lot design (incentive grade, chargers, discharge rating, SoC threshold) gives the "
              "most capacity value per {cur}?",
}


def bad(d: Path, rule: str, got: str) -> GploptError:
    return GploptError(f"report {d}/result.json: must be {rule}, got {got}")


def read_result(d: Path) -> dict[str, Any]:
    """result.json as a dict whose tables have the columns a report needs, or one clear error."""
    p = d / "result.json"
    if not p.is_file():
        raise GploptError(f"report {d}: must be a result directory written by sweep, paper, design or screen "
                          "(result.json), got none")
    try:
        res = json.loads(p.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise bad(d, "UTF-8 text", f"byte 0x{exc.object[exc.start]:02x} at offset {exc.start}") from None
    except (json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise bad(d, "valid JSON", getattr(exc, "msg", type(exc).__name__)) from None
    if not isinstance(res, dict):
        raise bad(d, "a JSON object", f"a JSON {type(res).__name__}")
    try:
        res = rename_keys(res, notice=False)     # written before the currency-neutral names: read as today's
    except GploptError as exc:
        raise bad(d, "one name per field", str(exc)) from None
    kind = res.get("kind")
    if kind not in KINDS:
        raise bad(d, f"of kind {', '.join(KINDS)}", f"kind {kind!r}")
    for key, cols in REQUIRED[kind].items():
        rows = res.get(key)
        if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
            raise bad(d, f"a non-empty list of records under {key!r}", "none" if rows is None else repr(rows)[:60])
        missing = [c for c in cols if c not in rows[0]]
        if missing:
            raise bad(d, f"records under {key!r} with {', '.join(missing)}", f"keys {sorted(rows[0])[:8]}")
    if kind == "design":
        b = res.get("best")
        need = ("price_per_kwh", "n_chargers", "discharge_kw", "soc_threshold", "ecc_kw", "annual_cost",
                "ecc_per_cost")
        if not isinstance(b, dict) or any(k not in b for k in need):
            raise bad(d, f"a 'best' record with {', '.join(need)}", repr(b)[:60])
    return res


# ------------------------------------------------------------------------------------------ summary
def currency(res: dict[str, Any]) -> str:
    """The currency of a result's money (results written before it was recorded: the default)."""
    return str(res.get("currency") or DEFAULT)


def summary(res: dict[str, Any]) -> str:
    kind = res["kind"]
    q = QUESTIONS[kind].format(param=res.get("param") or "the swept parameter", param2=res.get("param2") or "",
                               cur=currency(res))
    answer, compare = _answer(res)
    lines = [f"**Question.** {q}", "", f"**Answer.** {_cap(answer)}", "",
             f"**Compared with storage.** {_cap(compare)}", "",
             "**The three assumptions that matter most:**", *[f"- {a}" for a in _top_assumptions(res)], "",
             "Uncertainty: every estimate is given as value ± standard error" + _years(res)]
    return "\n".join(lines) + "\n"


def _years(res: dict[str, Any]) -> str:
    if res["kind"] == "screen":
        seed = "each feeder's own seed" if res.get("seed") is None else f"seed {res.get('seed')}"
        return f" over {res.get('years')} sample years per feeder ({seed})."
    if res["kind"] == "design":
        return (f" (seed {res.get('seed')}; {res.get('years')} sample years per search evaluation, the same at "
                f"every design; the recommendation confirmed on {res['best'].get('years')} fresh sample years).")
    return (f" over {res.get('years')} sample years per point (seed {res.get('seed')}, the same sample years at "
            "every point).")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _ecc(r: Any) -> str:
    return f"{pm(r['ecc_kw'], row_se(r, 'ecc_se_kw', 'ci_low_kw', 'ci_high_kw'))} kW"


def _compare_row(r: Any, cur: str) -> str:
    g, s = r.get("cost_per_kw"), r.get("storage_cost_per_kw")
    if g is None or s is None or s != s:
        return "not recorded in this result."
    verdict = "cheaper" if g < s else "dearer"
    return (f"the parking lot costs {num(g, 0)} {cur} per kW of ECC per year, conventional storage "
            f"{num(s, 0)} {cur}/kW/yr: the GPL is {verdict} per kW of capacity.")


def _answer(res: dict[str, Any]) -> tuple[str, str]:
    kind, cur = res["kind"], currency(res)
    if kind == "screen":
        from gplopt.report_screen import answer

        return answer(res)
    if kind == "design":
        b, c = res["best"], res.get("comparison") or {}
        se = b.get("ecc_se_kw", row_se(b, "", "ci_low", "ci_high"))
        where = f"lots {b['siting']} ({b['n_chargers']} chargers in all)" if b.get("siting") else \
            f"{b['n_chargers']} chargers"
        ans = (f"recommended: incentive {b['price_per_kwh']:g} {cur}/kWh, {where}, "
               f"{b['discharge_kw']:g} kW discharge, SoC threshold {b['soc_threshold']:.0%}: ECC "
               f"{pm(b['ecc_kw'], se)} kW, {pm(b['ecc_per_cost'], b.get('ecc_per_cost_sd'))} kW per million "
               f"{cur}/yr, annual cost {num(b['annual_cost'], 0)} {cur}/yr.")
        for x in res.get("bounds", []):
            ans += (f" {x['name']} is at the {x['edge']} edge of its search range: the optimum may lie beyond it"
                    + (f" (re-run with {x['widen']})." if x.get("widen") else "."))
        row = {"cost_per_kw": c.get("gpl_cost_per_kw"), "storage_cost_per_kw": c.get("storage_cost_per_kw")}
        return ans, _compare_row(row, cur)
    if kind == "tornado":
        m = pd.DataFrame(res["points"])
        m = m[m["metric"] == "ecc_per_cost"].sort_values("swing", ascending=False)
        from gplopt.report_figures import label

        top = ", ".join(f"{label(p, cur)} (swing {num(s)})"
                        for p, s in zip(m["param"][:3], m["swing"][:3], strict=False))
        base = m.iloc[0] if len(m) else None
        b = f"base case {pm(base['base'], base.get('base_se'))} kW per million {cur}/yr; " if base is not None else ""
        return f"{b}largest swings: {top}.", ("a tornado does not price capacity; the paper and sweep reports "
                                             "give the GPL's and storage's cost per kW.")
    df = pd.DataFrame(res["points"] if "points" in res else res["table5"])
    if kind == "paper":
        t4 = {r["strategy"]: r for r in res["table4"]}
        base = df[df["value"] == 3.5]
        r = base.iloc[0] if len(base) else df.iloc[len(df) // 2]
        eens = "; ".join(f"EENS {k} {pm(v['eens_kwh_per_year'], v['eens_se'], 1e-3)} MWh/yr" for k, v in t4.items())
        return f"at the paper's base point the GPL's ECC is {_ecc(r)}; {eens}.", _compare_row(r, cur)
    best = df.loc[df["ecc_per_cost"].astype(float).idxmax()]
    if kind == "phases":
        first, last = df.iloc[0], df.iloc[-1]
        return (f"ECC grows from {_ecc(first)} in {first['year']} to {_ecc(last)} in {last['year']}; ECC per cost "
                f"peaks in {best['year']}."), _compare_row(last, cur)
    at = f"{best['value']:g}" + (f", {best['value2']:g}" if kind == "sweep2" else "")
    return (f"ECC per cost is highest at {at}: {pm(best['ecc_per_cost'], row_se(best, 'ecc_per_cost_se', 'ecc_per_cost_ci_low', 'ecc_per_cost_ci_high'))} "  # noqa: E501
            f"kW per million {cur}/yr with ECC {_ecc(best)}."), _compare_row(best, cur)


def _top_assumptions(res: dict[str, Any]) -> list[str]:
    a = res.get("assumptions") or {}
    lot = (a.get("lots") or [{}])[0]
    s = a.get("storage") or {}
    cur = currency(res)
    part = f"curve '{lot['participation']}'" if lot.get("participation") else "the instance's curve"
    out = [f"Owner participation: {part} (an assumed curve unless replaced by survey data); "
           "ECC scales with the share of owners who agree to V2G.",
           "Conventional storage cost: " + (f"{num(s['power_cost_per_kw'])} {cur}/kW + {num(s['energy_cost_per_kwh'])} "
                                            f"{cur}/kWh for {num(s['hours'])} h, {num(s['life_years'])} years"
                                            if s else "the instance's economics block") +
           "; it sets the avoided cost and the comparison above.",
           "Main supply reliability: " + _supply(a) + "; most unserved energy comes from it."]
    return out


def _supply(a: dict[str, Any]) -> str:
    units = a.get("units") or []
    grid = [u for u in units if u.get("type") == "external_grid"]
    if not grid:
        return "the instance's main supply (see the assumptions below)"
    u = grid[0]
    return f"{u['id']} {num(u['capacity_kw'])} kW at bus {u['bus']}"


# ------------------------------------------------------------------------------------------ assumptions
def assumptions(res: dict[str, Any]) -> str:
    a = res.get("assumptions")
    cur = currency(res)
    parts = []
    if a:
        rows = ["| lot bus | chargers | charge / discharge (kW) | battery (kWh) | SoC threshold / floor | "
                f"incentive ({cur}/kWh) |", "|---|---|---|---|---|---|"]
        for lot in a.get("lots", []):
            rows.append(f"| {lot['bus']} | {num(lot['n_chargers'])} | {num(lot['charge_kw'])} / "
                        f"{num(lot['discharge_kw'])} | {num(lot.get('battery_kwh'))} ({lot['ev_type']}) | "
                        f"{lot['soc_threshold']:.0%} / {lot['v2g_min_soc']:.0%} | {num(a['incentive_per_kwh'])} |")
        if a.get("lots"):
            parts.append("\n".join(rows) + "\n")
        s = a.get("storage", {})
        if s:
            parts.append(f"Avoided storage: {num(s['power_cost_per_kw'])} {cur}/kW and {num(s['energy_cost_per_kwh'])} "
                         f"{cur}/kWh, {num(s['hours'])} h of energy per kW, {num(s['life_years'])}-year life, O&M "
                         f"{num(s['om_per_kwh_year'])} {cur}/kWh/yr. Units: " + ", ".join(
                             f"{u['id']} {num(u['capacity_kw'])} kW at bus {u['bus']}" for u in a.get("units", []))
                         + ".\n")
    notes = res.get("notes") or []
    if notes:
        parts.append("\n".join(f"- {n}" for n in notes) + "\n")
    return "\n".join(parts) if parts else "Not recorded in this result directory.\n"


# ------------------------------------------------------------------------------------------ provenance
def provenance(res: dict[str, Any], rendered_by: dict[str, Any]) -> str:
    p = res.get("provenance")
    rows = ["| item | value |", "|---|---|"]
    if p:
        rows += [f"| gplopt version | {p['gplopt_version']} |", f"| command line | `{p['command_line']}` |",
                 f"| instance | {p['instance_name']}, sha256 {p['instance_sha256']} |",
                 f"| seed, sample years | {p['seed']}, {p['years']} |", f"| date | {p['date_utc']} |"]
        rows += [f"| model {m['kind']} | {m['name']}: {m['path']} (sha256 {m.get('sha256', '?')[:16]}…) |"
                 for m in p.get("model_files", [])]
    else:
        rows += ["| result produced by | not recorded (written before gplopt recorded provenance) |",
                 f"| seed, sample years | {res.get('seed')}, {res.get('years')} |"]
    rows += [f"| report rendered by | gplopt {rendered_by['gplopt_version']}, `{rendered_by['command_line']}`, "
             f"{rendered_by['date_utc']} |"]
    return "\n".join(rows) + "\n"
