"""Benchmark: branch outages and customer indices on an RBTS Bus 2 sized case (issue 14).

Run from the repository root: ``python benchmarks/distribution.py [--years 2000] [--dense-years 20]
[--rounds 2] [--no-write]``.

The case (built here, ``rbts_bus2_sized``): an 11 kV substation bus feeding 4 feeders with 22 load points
(7, 2, 6, 7) on 36 branches (14 main sections and 22 laterals, one per load point), two normally-open ties
(F1-F2, F3-F4), main sections without their own device except the feeder head (a fault trips the feeder
breaker, sectioning 1 h), fused laterals; lines 0.065 failures/km/yr, 5 h repair, lateral transformer failures
folded into the lateral (0.015/yr, 200 h); RBTS-like customer counts; no lot, a firm grid. Its
structure follows Allan et al. (1991) in size and switching, not their exact data (docs/distribution.md).

Sample years per second of ``assess`` (workers 1, fixed years, start-up excluded by a warm-up run) on the
event-driven path, against the same engine's dense path (every hour of every year through the hourly
adequacy, then the same branch overlay) in the same run, alternating ``--rounds`` times; the peer relsad's
figure (0.28 sample-years/s, hourly steps, one process, measured on this machine for the issue) is quoted here;
``benchmarks/relsad_compare.py`` runs relsad itself (Python 3.10 venv) and gplopt in the same run. Figures go
to docs/performance.md between the ``distribution`` markers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import perfdoc  # noqa: E402

from gplopt import distribution  # noqa: E402
from gplopt.instance import instance_from_data  # noqa: E402
from gplopt.reliability import Execution, ReliabilityResult, SequentialMonteCarlo, assess  # noqa: E402
from gplopt.system import System, build_system  # noqa: E402

RELSAD_YEARS_PER_S = 0.28
FEEDERS = ((7, 4), (2, 2), (6, 4), (7, 4))          # (load points, main sections) per feeder
LP_KW = (535.0, 535.0, 535.0, 566.0, 566.0, 454.0, 454.0, 1000.0, 1150.0, 535.0, 535.0, 535.0, 566.0, 566.0,
         454.0, 454.0, 450.0, 450.0, 450.0, 566.0, 566.0, 454.0)
LP_CUSTOMERS = (210, 210, 210, 1, 1, 10, 10, 1, 1, 210, 210, 200, 1, 1, 10, 10, 1, 1, 1, 200, 200, 1)
LENGTHS = (0.60, 0.75, 0.80)


def rbts_bus2_sized() -> dict[str, Any]:
    buses: list[dict[str, Any]] = [{"id": 1, "p_kw": 0.0, "customers": 0}]
    branches: list[dict[str, Any]] = []
    lp, ends = 0, []

    def add(frm: int, kw: float = 0.0, customers: int = 0, **br: Any) -> int:
        bid = len(buses) + 1
        buses.append({"id": bid, "p_kw": kw, "q_kvar": 0.3 * kw, "customers": customers})
        branches.append({"id": len(branches) + 1, "from_bus": frm, "to_bus": bid, "r_ohm": 0.1, "x_ohm": 0.1,
                         "rating_kva": 10000.0, **br})
        return bid

    for n_lp, n_main in FEEDERS:
        node, per = 1, -(-n_lp // n_main)
        for m in range(n_main):
            length = LENGTHS[(lp + m) % 3]
            node = add(node, length_km=length, failure_rate_per_km_year=0.065, repair_h=5.0,
                       protection="device" if m == 0 else "none")
            for _ in range(min(per, n_lp - m * per)):
                length = LENGTHS[lp % 3]
                add(node, LP_KW[lp], LP_CUSTOMERS[lp], mttf_h=8760.0 / (0.065 * length + 0.015),
                    mttr_h=(0.065 * length * 5.0 + 0.015 * 200.0) / (0.065 * length + 0.015))
                lp += 1
        ends.append(node)
    for a, b in ((ends[0], ends[1]), (ends[2], ends[3])):
        branches.append({"id": len(branches) + 1, "from_bus": a, "to_bus": b, "r_ohm": 0.1, "x_ohm": 0.1,
                         "normally_open": True, "rating_kva": 10000.0})
    peak = sum(LP_KW)
    return {"name": "rbts_bus2_sized", "network": {"base_kv": 11.0, "buses": buses, "branches": branches,
                                                     "sectioning_h": 1.0},
            "units": [{"id": "grid", "type": "external_grid", "bus": 1, "capacity_kw": 40000.0, "mttf_h": 1e12,
                       "mttr_h": 1.0}],
            "load": {"shape": "ieee_rts79", "peak_kw": peak}}


def timed(system: System, years: int, seed: int) -> tuple[float, ReliabilityResult]:
    t0 = time.perf_counter()
    res = assess(system, SequentialMonteCarlo(seed=seed, years=years), execution=Execution(workers=1, batch_years=64))
    return years / (time.perf_counter() - t0), res


def dense_rate(system: System, years: int, seed: int) -> float:
    fast = distribution._fast
    distribution._fast = lambda s: False          # every hour through the hourly adequacy
    distribution._CACHE.clear()
    try:
        return timed(system, years, seed)[0]
    finally:
        distribution._fast = fast
        distribution._CACHE.clear()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=2000)
    ap.add_argument("--dense-years", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    load = os.getloadavg()
    system = build_system(instance_from_data(rbts_bus2_sized()))
    timed(system, 2, args.seed)        # warm-up: imports, the all-up year, the OPF model
    ev, dense, res = [], [], None
    for _ in range(args.rounds):
        rate, res = timed(system, args.years, args.seed)
        ev.append(rate)
        dense.append(dense_rate(system, args.dense_years, args.seed))
        timed(system, 2, args.seed)
    load_end = os.getloadavg()
    assert res is not None and res.customer is not None
    ci = res.customer
    lines = [f"round {i + 1}: event-driven {a:,.0f} years/s, dense {b:.2f} years/s, ratio {a / b:,.0f}x"
             for i, (a, b) in enumerate(zip(ev, dense, strict=True))]
    best = max(ev)
    quiet = "quiet" if max(load[0], load_end[0]) < 1.5 else "shared, so rates are low and noisy"
    text = "\n".join([
        "## Distribution reliability: branch outages and customer indices (issue 14)", "",
        f"`python benchmarks/distribution.py` on {dt.datetime.now(dt.UTC):%Y-%m-%d at %H:%M} UTC, commit "
        f"{subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()}"
        f"; 1-minute load average {load[0]:.1f} at the start and {load_end[0]:.1f} at the end on "
        f"{os.cpu_count()} CPUs ({quiet}).",
        "",
        f"RBTS Bus 2 sized case (4 feeders, 36 branches, 22 load points, 2 ties, no lot), one process, "
        f"{args.years:,} sample years per round:", "",
        *[f"- {x}" for x in lines],
        f"- best event-driven rate **{best:,.0f} sample years/s**: {best / RELSAD_YEARS_PER_S:,.0f}x relsad's "
        f"0.28 years/s (quoted from the issue; relsad itself, in its own venv, is timed in the same run as gplopt by "
        f"`benchmarks/relsad_compare.py`: the `relsad` section below); the goal is >= 28 years/s (100x).",
        f"- indices on those years: SAIFI {ci.saifi}, SAIDI {ci.saidi_h} h, CAIDI {ci.caidi_h} h, "
        f"ASAI {ci.asai}, ENS {res.eens_kwh_per_year} kWh/yr (mean±s.e.).", "",
        "What relsad models and gplopt covers: disconnectors and breakers (here: a device per branch or none, "
        "trip of the nearest upstream device), sectioning time, normally-open tie lines with restoration after "
        "sectioning, EV parks and batteries supporting islands (here: lots and local units in cut-off islands); "
        "relsad steps every hour and draws every component every step, gplopt draws each branch's outage "
        "chronology in bulk and looks only at hours with an outage or a shortfall.",
    ])
    print(text)
    if not args.no_write:
        perfdoc.write_section("distribution", text)


if __name__ == "__main__":
    main()
