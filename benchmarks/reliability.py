"""Benchmark: the sequential Monte Carlo engine on RBTS (against the bare-numpy referee and assetra) and on
Beijing (before and after the engine change, and to a 5 % CoV).

Run from the repository root: ``python benchmarks/reliability.py [--rbts-years 20000] [--assetra-years 2000]
[--beijing-years 12] [--before 513560f] [--no-write]``.

(a) RBTS, HL-I copper plate, one process (and IEEE RTS-79, 32 units, the same way against the referee run on
the same system). Sample years per second of ``assess`` (workers=1) against the
referee ``../shared/bench/hl1_referee.py`` (bare numpy: each unit's chronology of a chunk of years drawn in bulk,
a difference array and a cumulative sum over every hour; its own timing, start-up excluded) on the same number
of years, alternating the two ``--rounds`` times (the machine is shared: the best round of each is reported,
with every round's ratio). Goal: >= 1x, aim 2x. Then assetra (if importable) in one run of ``--assetra-years``
(its memory grows as years x units x hours) against gplopt on the same years. Every estimate is printed with
its z against the exact 1.0881 h/yr and 9,823 kWh/yr. Wall time to the instance's 5 % CoV.

(b) Beijing (33 buses, 300-charger GPL, OPF), one process: sample years per second of the code at ``--before``
(unpacked with ``git archive``) and of this tree, each in a fresh process on the same years, alternating; wall
time to the 5 % CoV stopping rule for both (workers 1) and for this tree with 2 workers; where the time goes
(cProfile); cost per sample year of the charger-dependent stages against the number of chargers.

Figures go to docs/performance.md between the ``reliability`` markers; other benchmarks keep their sections.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import math
import os
import platform
import pstats
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mc_runs  # noqa: E402
import perfdoc  # noqa: E402

from gplopt.instance import load_instance, with_overrides  # noqa: E402
from gplopt.metrics import MeanEstimate  # noqa: E402
from gplopt.reliability import Execution, SequentialMonteCarlo, assess  # noqa: E402
from gplopt.system import System, build_system  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
REF = json.loads((ROOT / "tests" / "reference" / "rbts_hl1.json").read_text(encoding="utf-8"))
EXACT = REF["reference"]["exact_with_for_from_mttf_mttr"]
LOLE_EXACT = float(EXACT["lole_h_per_yr"])
EENS_EXACT = float(EXACT["eens_mwh_per_yr"]) * 1000.0


def shares(prof: cProfile.Profile, names: dict[str, str], total: str) -> dict[str, float]:
    """Cumulative time of each function (by name) as a share of ``total``'s."""
    cum: dict[str, float] = {}
    for (fname, _, func), (_, _, _, ct, _) in pstats.Stats(prof).stats.items():  # type: ignore[attr-defined]
        if "gplopt" in fname or "highspy" in fname or func == total:
            cum[func] = cum.get(func, 0.0) + ct
    t = cum.get(total, 0.0) or 1.0
    return {label: cum.get(func, 0.0) / t for label, func in names.items()}


def profile(fn: Any) -> cProfile.Profile:
    prof = cProfile.Profile(time.process_time)   # CPU time: the shares hold on a shared machine too
    prof.enable()
    fn()
    prof.disable()
    return prof


# ------------------------------------------------------------------------------------------- assetra
def assetra_mc(system: System, years: int, seed: int, trials: int = 200) -> dict[str, Any]:
    """assetra's own simulation of the same units and load, in runs of ``trials`` sample years (its memory
    grows as trials x units x hours)."""
    try:
        import importlib.metadata

        import xarray as xr
        from assetra.metrics import ExpectedUnservedEnergy, LossOfLoadHours
        from assetra.simulation import ProbabilisticSimulation
        from assetra.system import EnergySystemBuilder
        from assetra.units import DemandUnit, StochasticUnit
    except ImportError as exc:
        return {"available": False, "why": f"not importable ({exc})"}
    version = importlib.metadata.version("assetra")
    hours = system.hours
    start = dt.datetime(2019, 1, 1)
    stamps = np.asarray(xr.date_range(start, freq="1h", periods=hours), dtype="datetime64[ns]")

    def series(x: np.ndarray) -> Any:
        return xr.DataArray(np.asarray(x, float), dims=["time"], coords={"time": stamps})

    t_build = time.perf_counter()
    b = EnergySystemBuilder()
    u = system.units
    for i in range(u.n):
        q = float(u.mttr_h[i] / (u.mttf_h[i] + u.mttr_h[i]))
        b.add_unit(StochasticUnit(i + 1, float(u.capacity_kw[i]), series(np.full(hours, u.capacity_kw[i])),
                                  series(np.full(hours, q))))
    b.add_unit(DemandUnit(u.n + 1, series(system.load_kw)))
    energy_system = b.build()
    t_build = time.perf_counter() - t_build
    np.random.seed(seed)  # assetra draws from numpy's global generator
    lole, eens = [], []
    done = 0
    t0 = time.perf_counter()
    while done < years:
        n = min(trials, years - done)
        sim = ProbabilisticSimulation(start, start + dt.timedelta(hours=hours - 1), n)
        sim.assign_energy_system(energy_system)
        sim.run()
        lole.append(LossOfLoadHours(sim).evaluate() * n)
        eens.append(ExpectedUnservedEnergy(sim).evaluate() * n)
        done += n
    seconds = time.perf_counter() - t0
    return {"available": True, "version": version, "seconds": seconds, "build_seconds": t_build,
            "lole": sum(lole) / years, "eens": sum(eens) / years, "trials": trials}


# -------------------------------------------------------------------------------------------- output
def z(est: MeanEstimate | tuple[float, float], exact: float) -> str:
    m, s = (est.mean, est.stderr) if isinstance(est, MeanEstimate) else est
    return f"{(m - exact) / s:+.2f}" if s > 0 and math.isfinite(s) else "n/a"


def write_section(text: str) -> None:
    perfdoc.write_section("reliability", text)


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                             check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def est(d: dict[str, float], scale: float = 1.0) -> MeanEstimate:
    return MeanEstimate(d["mean"] * scale, d["stderr"] * scale)


# ------------------------------------------------------------------------------------------------- RBTS
def rbts_section(args: argparse.Namespace) -> list[str]:
    n, seed = args.rbts_years, args.seed
    inst = load_instance(ROOT / "instances" / "rbts.json")
    rbts = build_system(inst, base_dir=ROOT / "instances")
    assess(rbts, SequentialMonteCarlo(years=20, seed=seed + 1))   # warm-up (imports, caches)
    rounds = []
    for _ in range(args.rounds):
        ref = mc_runs.referee(n, seed)
        ours = assess(rbts, SequentialMonteCarlo.from_instance(inst, years=n, seed=seed))
        rounds.append((ref, ours))
    ours = min((o for _, o in rounds), key=lambda r: r.seconds)
    rate = n / ours.seconds
    lines = [f"**RBTS** (HL-I copper plate, 11 units, 8,736 h), {n:,} sample years, seed {seed}, one process, "
             f"{args.rounds} alternating rounds (best of each reported).", "",
             "| | time | sample years/s | LOLE h/yr (z) | EENS kWh/yr (z) |", "|---|---|---|---|---|",
             f"| gplopt `assess`, workers=1 | {ours.seconds:.2f} s | {rate:,.0f} | {ours.lole_h_per_year} "
             f"({z(ours.lole_h_per_year, LOLE_EXACT)}) | {ours.eens_kwh_per_year} "
             f"({z(ours.eens_kwh_per_year, EENS_EXACT)}) |"]
    print(f"RBTS {n} years: gplopt {rate:,.0f} years/s, LOLE {ours.lole_h_per_year}, EENS {ours.eens_kwh_per_year}")
    ratio_txt = "referee absent"
    if rounds[0][0] is not None:
        refs = [r for r, _ in rounds if r is not None]
        best = min(refs, key=lambda r: r["seconds"])
        lole, eens = est(best["lole_h_per_year"]), est(best["eens_mwh_per_year"], 1000.0)
        lines.append(f"| referee `hl1_referee.py` (bare numpy, chunks of 500 years) | {best['seconds']:.2f} s | "
                     f"{best['years_per_s']:,.0f} | {lole} ({z(lole, LOLE_EXACT)}) | {eens} ({z(eens, EENS_EXACT)}) |")
        per_round = [f"{(n / o.seconds) / r['years_per_s']:.1f}x" for r, o in rounds if r is not None]
        ratio = rate / best["years_per_s"]
        ratio_txt = (f"gplopt / referee: **{ratio:.1f}x** (best against best; rounds: {', '.join(per_round)}; "
                     f"goal >= 1x, aim 2x: {'met' if ratio >= 2 else 'goal met' if ratio >= 1 else '**not met**'})")
        print("  " + ratio_txt)
    lines += assetra_rows(rbts, args)
    lines += [f"| exact (capacity outage table) | | | {LOLE_EXACT:.4f} | {EENS_EXACT:,.0f} |", "", f"- {ratio_txt}."]
    prof = profile(lambda: assess(rbts, SequentialMonteCarlo.from_instance(inst, years=min(n, 5000), seed=seed)))
    sh = shares(prof, {"draws": "uniforms", "chronology": "down_intervals", "events": "_events", "run": "_run"},
                "assess")
    lines.append(f"- Where gplopt's time goes (cProfile, {min(n, 5000):,} years): Philox draws {sh['draws']:.0%}, "
                 f"chronologies from the draws {sh['chronology']:.0%}, merging the years' outage events "
                 f"{sh['events']:.0%} (draws and chronologies included), the whole event-based evaluation "
                 f"{sh['run']:.0%}; the rest is `assess` (stopping rule, per-year records).")
    cov = mc_runs.to_cov(ROOT, "rbts", 1)
    lines.append(f"- Wall time to CoV {cov['target_cov']:.0%} on EENS (instance stopping rule, fresh process, start-up "
                 f"included): **{cov['wall']:.1f} s** ({cov['assess']:.2f} s in `assess`), {cov['years']:,} years, "
                 f"EENS {cov['eens'][0]:,.0f} ± {cov['eens'][1]:,.0f} kWh/yr, stopped by {cov['stopped_by']}.")
    print("  " + lines[-1])
    return lines


def rts79_section(args: argparse.Namespace) -> list[str]:
    """IEEE RTS-79 at HL-I (32 units): the referee on the same system (its data file written from the instance)
    and gplopt on the same number of years, alternating; estimates against the exact capacity outage table."""
    from gplopt.copt import exact_indices, unit_table

    n, seed = args.rbts_years, args.seed
    inst = load_instance(ROOT / "instances" / "ieee_rts79.json")
    rts = build_system(inst, base_dir=ROOT / "instances")
    u = rts.units
    lole_x, eens_x = exact_indices(unit_table(u.capacity_kw, u.mttf_h, u.mttr_h), rts.load_kw)
    assess(rts, SequentialMonteCarlo(years=20, seed=seed + 1))
    with mc_runs.temp_dir() as tmp:
        data = Path(tmp) / "rts79.json"
        units = zip(u.capacity_kw.tolist(), u.mttf_h.tolist(), u.mttr_h.tolist(), strict=True)
        rows = [{"capacity_mw": c / 1000.0, "mttf_h": f, "mttr_h": r} for c, f, r in units]
        data.write_text(json.dumps({"units": rows, "load": {"mw": (rts.load_kw / 1000.0).tolist()}}))
        rounds = [(mc_runs.referee(n, seed, data), assess(rts, SequentialMonteCarlo(years=n, seed=seed)))
                  for _ in range(args.rounds)]
    ours = min((o for _, o in rounds), key=lambda r: r.seconds)
    lines = [f"**IEEE RTS-79** (HL-I copper plate, 32 units, 3,405 MW, 2,850 MW peak, 8,736 h), {n:,} sample years, "
             f"seed {seed}, one process, {args.rounds} alternating rounds.", "",
             "| | time | sample years/s | LOLE h/yr (z) | EENS MWh/yr (z) |", "|---|---|---|---|---|",
             f"| gplopt `assess`, workers=1 | {ours.seconds:.2f} s | {n / ours.seconds:,.0f} | "
             f"{ours.lole_h_per_year} ({z(ours.lole_h_per_year, lole_x)}) | "
             f"{ours.eens_kwh_per_year.mean / 1000:,.1f}±{ours.eens_kwh_per_year.stderr / 1000:,.1f} "
             f"({z(ours.eens_kwh_per_year, eens_x)}) |"]
    refs = [r for r, _ in rounds if r is not None]
    if refs:
        best = min(refs, key=lambda r: r["seconds"])
        lole, eens = est(best["lole_h_per_year"]), est(best["eens_mwh_per_year"], 1000.0)
        lines.append(f"| referee `hl1_referee.py` on the same system | {best['seconds']:.2f} s | "
                     f"{best['years_per_s']:,.0f} | {lole} ({z(lole, lole_x)}) | {eens.mean / 1000:,.1f}±"
                     f"{eens.stderr / 1000:,.1f} ({z(eens, eens_x)}) |")
    lines += [f"| exact (capacity outage table; published 9.3942 h/yr, 1,176 MWh/yr) | | | {lole_x:.4f} | "
              f"{eens_x / 1000:,.1f} |", ""]
    if refs:
        per_round = [f"{(n / o.seconds) / r['years_per_s']:.1f}x" for r, o in rounds if r is not None]
        ratio = (n / ours.seconds) / best["years_per_s"]
        lines.append(f"- gplopt / referee: **{ratio:.1f}x** (best against best; rounds: {', '.join(per_round)}; "
                     f"goal >= 1x on any system of tens of units: {'met' if ratio >= 1 else '**not met**'}).")
        print("  RTS-79 " + lines[-1])
    return lines


def assetra_rows(rbts: System, args: argparse.Namespace) -> list[str]:
    na = args.assetra_years
    ext = assetra_mc(rbts, na, args.seed, trials=na)
    if not ext["available"]:
        print(f"  assetra: {ext['why']}")
        return [f"| assetra: {ext['why']} | | | | |"]
    ours = assess(rbts, SequentialMonteCarlo(years=na, seed=args.seed), execution=Execution(batch_years=250))
    r_ext, r_ours = na / ext["seconds"], na / ours.seconds
    print(f"  assetra {na} years: {r_ext:,.0f} years/s; gplopt on the same years {r_ours:,.0f} ({r_ours / r_ext:.1f}x)")
    return [f"| assetra {ext['version']} (one run of {na:,} years; gplopt on the same years: {ours.seconds:.2f} s, "
            f"{r_ours:,.0f}/s, **{r_ours / r_ext:.1f}x**) | {ext['seconds']:.2f} s | {r_ext:,.0f} | "
            f"{ext['lole']:.4f} | {ext['eens']:,.0f} |"]


# ---------------------------------------------------------------------------------------------- Beijing
def beijing_section(args: argparse.Namespace) -> list[str]:
    ny, seed = args.beijing_years, args.seed
    lines = [f"**Beijing** (33 buses, 300-charger GPL, LinDistFlow shedding OPF on HiGHS), seed {seed}, one "
             "process, fresh processes alternating before/after.", "",
             "| | sample years/s | to CoV 5 % (wall, start-up included) |", "|---|---|---|"]
    with mc_runs.temp_dir() as tmp:
        before = mc_runs.unpack(args.before, Path(tmp)) if args.before else None
        runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
        for _ in range(args.rounds):
            if before is not None:
                runs["before"].append(mc_runs.beijing_years(before, ny, seed))
            runs["after"].append(mc_runs.beijing_years(ROOT, ny, seed))
        cov = {"after 1": mc_runs.to_cov(ROOT, "beijing", 1), "after 2": mc_runs.to_cov(ROOT, "beijing", 2)}
        if before is not None:
            cov["before 1"] = mc_runs.to_cov(before, "beijing", 1)
    rate = {k: max(r["years"] / r["seconds"] for r in v) for k, v in runs.items() if v}
    cpu_rate = {k: max(r["years"] / r["cpu"] for r in v) for k, v in runs.items() if v}
    for k in ("before", "after"):
        if k in rate:
            c = cov[f"{k} 1"]
            lines.append(f"| {k} ({args.before if k == 'before' else git_commit()}) | {rate[k]:.2f} | "
                         f"{c['wall']:.1f} s, {c['years']} years, EENS {c['eens'][0]:,.0f} ± {c['eens'][1]:,.0f} |")
    c2 = cov["after 2"]
    lines.append(f"| after, 2 workers | | {c2['wall']:.1f} s, {c2['years']} years (same numbers) |")
    lines.append("")
    if "before" in rate:
        ratios = [f"{(a['years'] / a['seconds']) / (b['years'] / b['seconds']):.2f}x"
                  for a, b in zip(runs["after"], runs["before"], strict=True)]
        lines.append(f"- after / before: **{rate['after'] / rate['before']:.2f}x** sample years/s ({ny} years, best "
                     f"of {args.rounds}; rounds {', '.join(ratios)}; goal 5x: "
                     f"{'met' if rate['after'] >= 5 * rate['before'] else '**not met**'}); in CPU time (the "
                     f"process's own, which other jobs on the machine disturb less): "
                     f"**{cpu_rate['after'] / cpu_rate['before']:.2f}x** ({cpu_rate['before']:.2f} -> "
                     f"{cpu_rate['after']:.2f} sample years per CPU second; OPF solves "
                     f"{runs['before'][0]['opf_solves']} -> {runs['after'][0]['opf_solves']}). Time to CoV 5 %: "
                     f"{cov['before 1']['wall']:.1f} s -> {cov['after 1']['wall']:.1f} s.")
        print("  " + lines[-1])
    lines += beijing_profile(seed) + charger_scaling(seed)
    return lines


def beijing_profile(seed: int) -> list[str]:
    inst = load_instance(ROOT / "instances" / "beijing.json")
    bj = build_system(inst, base_dir=ROOT / "instances")
    assess(bj, SequentialMonteCarlo.from_instance(inst, years=1, seed=seed + 1))
    prof = profile(lambda: assess(bj, SequentialMonteCarlo.from_instance(inst, years=6, seed=seed)))
    sh = shares(prof, {"sampling": "sample_year", "fleet": "simulate_fleet", "inputs": "hour_inputs",
                       "bound": "safe_hours", "certificate": "certificate", "far": "certificate_far",
                       "screen": "screen", "opf": "solve"}, "assess")
    cert = sh["bound"] + sh["certificate"] + sh["far"]
    other = 1 - sh["sampling"] - sh["inputs"] - cert - sh["screen"] - sh["opf"]
    return [f"- Where the time goes now (cProfile in CPU time, 6 years): drawing the year (`sample_year`) "
            f"{sh['sampling']:.0%}; hour inputs {sh['inputs']:.0%}; the GPL's hourly simulation "
            f"(`simulate_fleet`, in the hour inputs and again on the days the cause split re-simulates) "
            f"{sh['fleet']:.0%}; LinDistFlow certificate {cert:.0%} (its bound "
            f"{sh['bound']:.0%}, the proportional split {sh['certificate']:.0%}, the far-first split "
            f"{sh['far']:.0%}); AC screen {sh['screen']:.0%}; shedding OPF solves {sh['opf']:.0%}; "
            f"other {other:.0%}."]


def charger_scaling(seed: int) -> list[str]:
    """Milliseconds per sample year of drawing (``sample_fleet``) and of simulating (``simulate_fleet``) the GPL
    against the number of chargers, and the cost per charger (flat = linear growth)."""
    from gplopt.fleet import simulate_fleet
    from gplopt.sampling import sample_fleet

    inst = load_instance(ROOT / "instances" / "beijing.json")
    cells = []
    for n in (150, 300, 600, 1200, 2400):
        s = build_system(with_overrides(inst, {"gpl.n_chargers": n}), base_dir=ROOT / "instances")
        assert s.fleet is not None
        margin = np.full(s.hours, 1e4) - s.load_kw
        draw = sim = 0.0
        for y in range(3):
            t0 = time.perf_counter()
            cup, sess = sample_fleet(s.fleet, seed, y, s.hours)
            t1 = time.perf_counter()
            simulate_fleet(s.fleet, sess, cup, margin)
            draw, sim = draw + t1 - t0, sim + time.perf_counter() - t1
        draw, sim = draw / 3 * 1e3, sim / 3 * 1e3
        cells.append(f"{n:,}: {draw + sim:.0f} ms (draws {draw:.0f}, simulation {sim:.0f}; "
                     f"{(draw + sim) / n * 1e3:.0f} µs per charger)")
    print("  chargers: " + "; ".join(cells))
    return ["- GPL cost per sample year (one process) by number of chargers: " + "; ".join(cells) + "."]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rbts-years", type=int, default=20000)
    ap.add_argument("--assetra-years", type=int, default=2000)
    ap.add_argument("--beijing-years", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--before", default="513560f", help="git revision of the engine before the change")
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("--no-write", action="store_true", help="print only, leave docs/performance.md alone")
    args = ap.parse_args()
    load = os.getloadavg()
    rbts = rbts_section(args) + [""] + rts79_section(args)
    bj = beijing_section(args)
    load_end = os.getloadavg()
    if args.no_write:
        return
    now = dt.datetime.now(dt.UTC)
    head = ["## Reliability: sequential Monte Carlo", "",
            f"`python benchmarks/reliability.py` on {now:%Y-%m-%d at %H:%M} UTC, code at commit {git_commit()} "
            f"({platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"numpy {np.__version__}). 1-minute load average {load[0]:.1f} at the start and {load_end[0]:.1f} at the "
            f"end on {os.cpu_count()} CPUs ("
            + ("quiet" if max(load[0], load_end[0]) < 1.5
               else "shared with other work, so absolute rates are low and noisy")
            + "); ratios are measured in the same run, alternating.", ""]
    write_section("\n".join(head + rbts + [""] + bj))
    print(f"updated {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
