"""Benchmark: the daily-peak-load control variate (``simulation.control_variate``) on RBTS (HL-I copper plate).

Run from the repository root: ``python benchmarks/variance.py [--years 20000] [--seed 2021] [--rounds 3]
[--no-write]``.

(a) Variance ratio: ``assess`` of ``--years`` sample years with and without the control variate (alternating,
``--rounds`` times, best of each), the variance ratio var(X) / var(z) of EENS and LOLE, both estimates with
their z against the exact 1.0881 h/yr and 9,823 kWh/yr, and what computing the control costs.

(b) Time to CoV 5 % on EENS, one process, start-up excluded (the instance's stopping rule, min_years 10): the
plain run stops by the instance's rule; the control-variate run takes the first year count at which the
cross-fitted estimate's CoV is <= 5 % (:func:`gplopt.control_variate.cv_cov_by_years`, on the same years), and
is timed running exactly that many years with the control. The stopping rule of ``evaluate`` stays on the plain
estimate (the control variate is reported beside it), so (b) is what a stopping rule on the control-variate
estimate would give.

Figures go to docs/performance.md between the ``variance`` markers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import perfdoc  # noqa: E402

from gplopt.control_variate import control_means, cv_cov_by_years  # noqa: E402
from gplopt.instance import load_instance  # noqa: E402
from gplopt.metrics import MeanEstimate, stopping_year  # noqa: E402
from gplopt.reliability import Execution, ReliabilityResult, SequentialMonteCarlo, assess  # noqa: E402
from gplopt.system import System, build_system  # noqa: E402

REF = json.loads((ROOT / "tests" / "reference" / "rbts_hl1.json").read_text(encoding="utf-8"))
EXACT = REF["reference"]["exact_with_for_from_mttf_mttr"]
LOLE_EXACT = float(EXACT["lole_h_per_yr"])
EENS_EXACT = float(EXACT["eens_mwh_per_yr"]) * 1000.0


def z(e: MeanEstimate, exact: float) -> str:
    return f"{(e.mean - exact) / e.stderr:+.2f}"


def timed(system: System, mc: SequentialMonteCarlo, ex: Execution, rounds: int) -> tuple[float, ReliabilityResult]:
    best, res = float("inf"), None
    for _ in range(rounds):
        t0 = time.perf_counter()
        res = assess(system, mc, execution=ex)
        best = min(best, time.perf_counter() - t0)
    assert res is not None
    return best, res


def ratio_section(system: System, args: argparse.Namespace, ex: Execution) -> tuple[list[str], ReliabilityResult]:
    n = args.years
    plain_t, cv_t = float("inf"), float("inf")
    plain = res = None
    for _ in range(args.rounds):        # alternating, best of each
        t, plain = timed(system, SequentialMonteCarlo(years=n, seed=args.seed), ex, 1)
        plain_t = min(plain_t, t)
        t, res = timed(system, SequentialMonteCarlo(years=n, seed=args.seed, control_variate=True), ex, 1)
        cv_t = min(cv_t, t)
    assert plain is not None and res is not None and res.control_variate is not None
    cv = res.control_variate
    e, lo = cv.eens_kwh_per_year, cv.lole_h_per_year
    print(f"  {n} years: plain {plain_t:.2f} s, with control {cv_t:.2f} s; ratios EENS {e.variance_ratio:.2f}, "
          f"LOLE {lo.variance_ratio:.2f}")
    lines = [f"**RBTS**, {n:,} sample years, seed {args.seed}, one process, {args.rounds} alternating rounds (best "
             "of each).", "",
             "| | EENS kWh/yr (z) | LOLE h/yr (z) | time |", "|---|---|---|---|",
             f"| plain | {res.eens_kwh_per_year} ({z(res.eens_kwh_per_year, EENS_EXACT)}) | {res.lole_h_per_year} "
             f"({z(res.lole_h_per_year, LOLE_EXACT)}) | {plain_t:.2f} s |",
             f"| control variate (daily-peak load) | {e.estimate} ({z(e.estimate, EENS_EXACT)}) | {lo.estimate} "
             f"({z(lo.estimate, LOLE_EXACT)}) | {cv_t:.2f} s |",
             f"| exact (capacity outage table) | {EENS_EXACT:,.0f} | {LOLE_EXACT:.4f} | |", "",
             f"- Variance ratio var(X) / var(z): **EENS {e.variance_ratio:.2f}, LOLE {lo.variance_ratio:.2f}** "
             f"(beta {e.beta:.3f} and {lo.beta:.3f}); the control's exact mean {e.control_exact:,.0f} kWh/yr and "
             f"{lo.control_exact:.3f} h/yr, its sample mean {e.control_mean:,.0f} and {lo.control_mean:.3f}.",
             f"- Cost of the control (its per-hour arithmetic on the risky hours, the outage table, the estimate): "
             f"{cv_t:.2f} s against {plain_t:.2f} s for the plain run of the same years ({cv_t / plain_t - 1:+.0%}; "
             "best of the rounds, on a shared machine differences of a few tens of per cent are noise)."]
    return lines, res


def cov_section(system: System, res: ReliabilityResult, args: argparse.Namespace, ex: Execution) -> list[str]:
    s = system.settings.simulation
    x = np.array([r.ens_kwh for r in res.per_year])
    c = np.array([r.control[0] for r in res.per_year])
    cov = cv_cov_by_years(x, c, control_means(system)[0])
    ok = np.flatnonzero((np.arange(1, x.size + 1) >= s.min_years) & (cov <= s.target_cov))
    if not ok.size:
        return [f"- The control-variate estimate did not reach CoV {s.target_cov:.0%} within {x.size:,} years."]
    n_cv = int(ok[0] + 1)
    decided = stopping_year(x, s.target_cov, s.min_years, x.size)
    t_plain, plain = timed(system, SequentialMonteCarlo.from_settings(s, seed=args.seed, max_years=args.years), ex,
                           args.rounds)
    assert decided is None or plain.years == decided[0]
    t_cv, cvr = timed(system, SequentialMonteCarlo(years=n_cv, seed=args.seed, control_variate=True), ex,
                      args.rounds)
    assert cvr.control_variate is not None
    e = cvr.control_variate.eens_kwh_per_year.estimate
    print(f"  to CoV 5 %: plain {plain.years} years {t_plain:.2f} s; control variate {n_cv} years {t_cv:.2f} s")
    return [f"- Time to CoV {s.target_cov:.0%} on EENS (one process, start-up excluded, best of {args.rounds}): "
            f"plain **{t_plain:.2f} s**, {plain.years:,} years, EENS {plain.eens_kwh_per_year} kWh/yr "
            f"(z {z(plain.eens_kwh_per_year, EENS_EXACT)}); with the control variate **{t_cv:.2f} s**, "
            f"{n_cv:,} years, EENS {e} kWh/yr (z {z(e, EENS_EXACT)}): **{t_plain / t_cv:.1f}x** less time. The "
            "stopping rule of `evaluate` stays on the plain estimate; this is what a rule on the control-variate "
            "estimate gives (its CoV checked year by year on the same years)."]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="print only, leave docs/performance.md alone")
    args = ap.parse_args()
    load = os.getloadavg()
    p = ROOT / "instances" / "rbts.json"
    system = build_system(load_instance(p), base_dir=p.parent)
    ex = Execution(batch_years=system.settings.simulation.batch_years)
    assess(system, SequentialMonteCarlo(years=20, seed=1, control_variate=True), execution=ex)   # warm-up
    lines, res = ratio_section(system, args, ex)
    lines += cov_section(system, res, args, ex)
    load_end = os.getloadavg()
    if args.no_write:
        return
    now = dt.datetime.now(dt.UTC)
    head: list[Any] = [
        "## Variance reduction: a control variate for copper-plate HL-I", "",
        f"`python benchmarks/variance.py` on {now:%Y-%m-%d at %H:%M} UTC ({platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}); 1-minute load "
        f"{load[0]:.1f} at the start, {load_end[0]:.1f} at the end. Method: docs/method.md section 7.1.", ""]
    perfdoc.write_section("variance", "\n".join(head + lines))
    print("updated docs/performance.md")


if __name__ == "__main__":
    main()
